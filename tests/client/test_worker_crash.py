"""A media worker SIGKILLed in the middle of a meeting: every participant is told to rejoin,
lands on a live worker and is back in the composite; the meeting itself never noticed (no
shutdown for observers, nobody left, chat and users intact)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import Cable
from tests.api.eyeson.sepp.conftest import SeppServer
from tests.client.conftest import BLUE, GREEN, RED
from tests.client.test_participant import join, shows
from vidroom.media.pool import WorkerPool

YELLOW = (230, 220, 30)


async def observe(server: SeppServer, key: TeamKey) -> tuple[Cable, list[dict[str, Any]]]:
    """A Meeting Observer on ``/rt`` whose event messages are collected in the background."""
    cable = await Cable.open(
        f"ws://127.0.0.1:{server.port}/rt?room_id=r1", additional_headers=key.auth
    )
    assert await cable.frame() == {"type": "welcome"}
    assert (await cable.subscribe())["type"] == "confirm_subscription"
    return cable, []


async def collect(cable: Cable, into: list[dict[str, Any]]) -> None:
    while True:
        frame = json.loads(await cable.conn.recv())
        message = frame.get("message")
        if isinstance(message, dict):
            into.append(message)


async def test_a_killed_worker_under_a_meeting_of_four(
    media_server: SeppServer, acme: TeamKey
) -> None:
    pool = media_server.media
    assert isinstance(pool, WorkerPool)
    colours = {"alice": RED, "bob": GREEN, "carol": BLUE, "dave": YELLOW}
    people = [await join(media_server, acme, name, rgb) for name, rgb in colours.items()]
    cable, seen = await observe(media_server, acme)
    collector = asyncio.create_task(collect(cable, seen))
    try:
        alice = people[0]
        for p in people:
            await p.wait_for(lambda q: len(q.members) == 4, within=20)
        for rgb in colours.values():
            assert await shows(alice, rgb)
        ak = alice.access_key
        chat = await media_server.http.post(
            f"/rooms/{ak}/messages", data={"type": "chat", "content": "before the crash"}
        )
        assert chat.status_code == 201, chat.text
        users_before = (await media_server.http.get(f"/rooms/{ak}/users")).json()

        index = pool.worker_of(alice.conf_id)
        assert index is not None
        pid = pool.worker_pids()[index]
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        async with asyncio.timeout(10):  # every participant is back within 10 s
            for p in people:
                await p.wait_for(lambda q: q.rejoins == 1 and len(q.members) == 4, within=10)
            for p in people:
                p.drain()
            for rgb in colours.values():
                assert await shows(alice, rgb, seconds=10)
            assert await shows(people[3], RED, seconds=10)
        assert pool.worker_pids()[index] != pid
        assert all(not p.terminated.done() for p in people)

        room = await media_server.http.get(f"/rooms/{ak}")
        assert room.status_code == 200
        assert room.json()["room"]["shutdown"] is False
        assert (await media_server.http.get(f"/rooms/{ak}/users")).json() == users_before
        after = await media_server.http.post(
            f"/rooms/{ak}/messages", data={"type": "chat", "content": "after the crash"}
        )
        assert after.status_code == 201
        await asyncio.sleep(1)
        chats = [m["content"] for m in seen if m["type"] == "chat"]
        assert chats == ["before the crash", "after the crash"]
        shutdowns = [m for m in seen if m["type"] == "room_update" and m["content"]["shutdown"]]
        assert shutdowns == []
        left = [
            m
            for m in seen
            if m["type"] == "participant_update" and m["participant"].get("online") is False
        ]
        assert left == []
    finally:
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)
        await cable.close()
        for p in people:
            await p.leave()
