"""The whole server SIGKILLed 5 s into a recording: ``vidroom serve`` in a subprocess, two real
aiortc participants, the server process killed (no shutdown handler runs; its media workers
exit once their socket to it closes). Restarted on the same data dir and database, its startup
repair finishes the recording: listed, finished, with its real duration, and a download that
plays to its last fragment."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import av
import httpx
import pytest

from tests.client.conftest import GREEN, RED, colour_share
from tests.conftest import LiveServer
from tests.media.recordings import probe
from tests.recordings.test_recording_api import both_shown
from vidroom.client import Participant
from vidroom.media.testing import ColorVideoTrack, ToneAudioTrack

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

WORKER_PID = re.compile(r'^vidroom_media_worker_pid\{worker="\d+"\} (\S+)$', re.M)


async def team_key(server: LiveServer) -> str:
    """A team ``acme`` and an API key of it (through the CLI, as an operator would)."""
    await asyncio.to_thread(server.cli, "teams", "create", "acme", "--owner", "o@example.com")
    out = await asyncio.to_thread(server.cli, "apikeys", "create", "--team", "acme")
    return out.strip().splitlines()[-1]


async def worker_pids(http: httpx.AsyncClient) -> list[int]:
    text = (await http.get("/metrics")).text
    return [int(float(pid)) for pid in WORKER_PID.findall(text)]


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie awaiting its reaper is not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = re.search(r"^State:\s+(\w)", status, re.M)
    return state is not None and state.group(1) not in ("Z", "X")


async def gone(pids: list[int], within: float) -> list[int]:
    """Wait up to ``within`` seconds for every process to end; those still alive."""
    deadline = time.monotonic() + within
    while True:
        left = [p for p in pids if alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("workers_too", [False, True], ids=["server", "server-and-workers"])
async def test_a_killed_server_leaves_a_finished_recording(
    live_server: LiveServer, tmp_path: Path, workers_too: bool
) -> None:
    """``workers_too``: the media workers are SIGKILLed with the server (as a crash of the
    machine or the OOM killer would), so the file ends in a torn fragment the repair cuts off;
    otherwise each worker sees its socket close and exits of its own accord."""
    key = await team_key(live_server)
    rooms = {}
    async with httpx.AsyncClient(base_url=live_server.url, headers={"Authorization": key}) as api:
        for name in ("alice", "bob"):
            response = await api.post(
                "/rooms", data={"id": "r1", "user[id]": name, "user[name]": name}
            )
            assert response.status_code == 201, response.text
            rooms[name] = response.json()
    ak = rooms["alice"]["access_key"]
    people = []
    try:
        for name, rgb, tone in (("alice", RED, 440), ("bob", GREEN, 1000)):
            people.append(
                await Participant.join(
                    live_server.url,
                    access_key=rooms[name]["access_key"],
                    name=name,
                    video=ColorVideoTrack(rgb, size=(320, 240)),
                    audio=ToneAudioTrack(tone),
                    ice_servers=[],
                )
            )
        await both_shown(people[0])
        async with httpx.AsyncClient(base_url=live_server.url) as http:
            pids = await worker_pids(http)
            assert len(pids) == 1, pids
            assert all(alive(p) for p in pids), pids
            response = await http.post(f"/rooms/{ak}/recording")
            assert response.status_code == 201, response.text
            started = time.monotonic()
            await asyncio.sleep(5)
            if workers_too:
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
            live_server.kill()  # SIGKILL: no lifespan shutdown, no recording stopped
            recorded = time.monotonic() - started
        # its media worker notices its socket closed and exits: nothing is left running
        assert await gone(pids, within=10) == [], pids
    finally:
        for person in people:
            await person.leave()

    live_server.start()  # the same data dir and database; the lifespan repairs
    async with httpx.AsyncClient(base_url=live_server.url, headers={"Authorization": key}) as api:
        listed = await api.get("/rooms/r1/recordings")
        assert listed.status_code == 200, listed.text
        recordings = listed.json()
        assert len(recordings) == 1, recordings
        recording = recordings[0]
        assert recording["user"]["id"] == "alice"
        download = recording["links"]["download"]
        assert download is not None, recording  # finished and ready at once
        assert recording["duration"] is not None
        # a worker exiting of its own accord closes its last fragment; a worker killed loses
        # the fragment it was writing (a fragment a second; ``duration`` is rounded)
        lowest = recorded - (2.0 if workers_too else 1.0)
        assert lowest <= recording["duration"] <= recorded + 1.0, (recording, recorded)
        assert (await api.get(f"/rooms/{ak}")).json()["recording"] is None
        again = await api.get(f"/recordings/{recording['id']}")
        assert again.json()["duration"] == recording["duration"]
        got = await api.get(download)
    assert got.status_code == 200
    assert got.headers["content-type"] == "video/mp4"
    path = tmp_path / "after-server-kill.mp4"
    path.write_bytes(got.content)
    found = probe(str(path))
    assert found.errors == 0
    assert lowest <= found.video_span <= recorded + 1.0, (found.video_span, recorded)
    assert abs(found.video_span - recording["duration"]) <= 0.6
    # decodes to the last fragment: both tiles still there in the last pictures
    last = av.VideoFrame.from_ndarray(found.pictures[-1][1], format="rgb24")
    assert found.pictures[-1][0] >= found.video_times[-1] - 0.5
    assert colour_share(last, RED) > 0.02
    assert colour_share(last, GREEN) > 0.02
    assert found.audio.size > 0
