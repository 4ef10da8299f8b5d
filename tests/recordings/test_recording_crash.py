"""A media worker SIGKILLed 5 s into a recording: the recording is repaired from what reached
the disk (every complete fragment), listed as finished with its real duration, and downloads a
file that plays to its last fragment. Retention deletes old recordings and snapshots."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import timedelta

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.sepp.conftest import SeppServer
from tests.client.conftest import GREEN, RED
from tests.media.recordings import probe
from tests.recordings.test_recording_api import both_shown, join
from vidroom.kit.clock import utc_now
from vidroom.media.pool import WorkerPool
from vidroom.meetings import live
from vidroom.recordings.models import Recording
from vidroom.recordings.retention import RetentionJob
from vidroom.snapshots.models import Snapshot
from vidroom.storage.media_store import store_for


async def test_a_worker_killed_mid_recording_leaves_a_finished_recording(
    media_server: SeppServer, acme: TeamKey
) -> None:
    pool = media_server.media
    assert isinstance(pool, WorkerPool)
    alice, ak = await join(media_server, acme, "alice", RED, 440)
    bob, _ = await join(media_server, acme, "bob", GREEN, 1000)
    http = media_server.http
    try:
        await both_shown(alice)
        assert (await http.post(f"/rooms/{ak}/recording")).status_code == 201
        started = time.monotonic()
        await asyncio.sleep(5)
        meeting_id = (await http.get(f"/rooms/{ak}")).json()["signaling"]["options"]["conf_id"]
        index = pool.worker_of(meeting_id)
        assert index is not None
        pid = pool.worker_pids()[index]
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed_after = time.monotonic() - started
        async with asyncio.timeout(40):
            while True:
                listed = (await http.get("/rooms/r1/recordings", headers=acme.auth)).json()
                if listed and listed[0]["links"]["download"]:
                    break
                await asyncio.sleep(0.3)
        recording = listed[0]
        # what reached the disk: all but about the last second (a fragment a second)
        assert killed_after - 2.5 <= recording["duration"] <= killed_after + 1
        got = await http.get(recording["links"]["download"])
        assert got.status_code == 200
        path = media_server.state.settings.data_dir / "after-kill.mp4"
        path.write_bytes(got.content)
        found = probe(str(path))
        assert found.errors == 0
        assert abs(found.video_span - recording["duration"]) <= 1.5
        # the meeting goes on: a new recording can start once the room is back
        assert (await http.get(f"/rooms/{ak}")).json()["recording"] is None
    finally:
        await alice.leave()
        await bob.leave()


async def test_retention_deletes_old_recordings_and_snapshots(
    media_server: SeppServer, acme: TeamKey
) -> None:
    state = media_server.state
    store = store_for(state.settings.media_dir)
    room = await media_server.room(acme, "erin")
    async with state.db.uow() as uow:
        meeting, host = await live.access(uow.session, room["access_key"])
        keys = {
            "old": store.new_key("recordings", "mp4"),
            "new": store.new_key("recordings", "mp4"),
        }
        png = store.new_key("snapshots", "png")
        for key in (*keys.values(), png):
            await store.write(key, b"x" * 100)
        old = utc_now() - timedelta(days=15)
        rows = [
            Recording(meeting_id=meeting.id, team_id=meeting.team_id, participant_id=host.id,
                      storage_key=keys["old"], state="ready", duration=1.0, created_at=old,
                      stopped_at=old),
            Recording(meeting_id=meeting.id, team_id=meeting.team_id, participant_id=host.id,
                      storage_key=keys["new"], state="ready", duration=1.0, stopped_at=utc_now()),
            Snapshot(meeting_id=meeting.id, team_id=meeting.team_id, participant_id=host.id,
                     storage_key=png, size=100, created_at=old),
        ]  # fmt: skip
        uow.session.add_all(rows)
        await uow.session.flush()
        ids = [r.id for r in rows]
    job = RetentionJob(state.db, store, days=state.settings.retention_days)
    assert await job.sweep() == 2
    assert await store.size(keys["old"]) is None
    assert await store.size(png) is None
    assert await store.size(keys["new"]) == 100
    assert (
        await media_server.http.get(f"/recordings/{ids[0]}", headers=acme.auth)
    ).status_code == 404
    assert (
        await media_server.http.get(f"/recordings/{ids[1]}", headers=acme.auth)
    ).status_code == 200
    assert (
        await media_server.http.get(f"/snapshots/{ids[2]}", headers=acme.auth)
    ).status_code == 404
    assert await job.sweep() == 0
