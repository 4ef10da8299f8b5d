"""The media wire on its own: the codec, and two Connections over a real socket pair."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest

from vidroom.media.contract import Answer, MediaError, Member, RoomSpec, Tile, WorkerStats
from vidroom.media.wire import Connection, decode, encode


def test_contract_types_come_back_as_themselves() -> None:
    members = [Member("p1", "c1", "Ada", video_muted=True), Member("p2", "c2", "Bob")]
    tiles = [Tile("c1", 0, 0, 640, 480)]
    message = [2, "layout_changed", ["m1", members, tiles, RoomSpec("m1", widescreen=True)]]
    assert decode(encode(message)[4:]) == message
    stats = WorkerStats(0, 42, 1.5, 1, 2, 3, 4, 0.5)
    assert decode(encode([1, 7, True, stats])[4:]) == [1, 7, True, stats]


def test_only_contract_types_and_plain_data_cross() -> None:
    class Other:
        pass

    with pytest.raises(TypeError):
        encode([0, 1, "x", [Other()]])
    forged = encode([0, 1, "x", [{"__dc": "Popen", "f": {}}]])
    with pytest.raises(ValueError, match="unknown media contract type"):
        decode(forged[4:])
    with pytest.raises(ValueError, match="non-empty list"):
        decode(encode([])[4:])  # not a message


async def _pair(handler: Any = None, notified: Any = None) -> tuple[Connection, Connection]:
    left, right = socket.socketpair()
    r1, w1 = await asyncio.open_unix_connection(sock=left)
    r2, w2 = await asyncio.open_unix_connection(sock=right)
    caller = Connection(r1, w1, name="caller", notified=notified)
    callee = Connection(r2, w2, handler=handler, name="callee")
    caller.start()
    callee.start()
    return caller, callee


@pytest.fixture
async def ends() -> AsyncIterator[list[Connection]]:
    made: list[Connection] = []
    yield made
    for connection in made:
        await connection.close()


async def test_calls_results_errors_and_timeouts_cross_intact(ends: list[Connection]) -> None:
    async def handler(method: str, args: list[Any]) -> Any:
        if method == "join":
            return Answer(call_id="call-1", sdp=args[0])
        if method == "refuse":
            raise MediaError(406, "no usable codec")
        if method == "crash":
            raise RuntimeError("boom")
        if method == "slow":
            await asyncio.sleep(5)
        return None

    caller, callee = await _pair(handler)
    ends.extend([caller, callee])
    assert await caller.call("join", "v=0\r\n") == Answer("call-1", "v=0\r\n")
    with pytest.raises(MediaError) as refused:
        await caller.call("refuse")
    assert (refused.value.code, refused.value.reason) == (406, "no usable codec")
    with pytest.raises(MediaError) as crashed:
        await caller.call("crash")
    assert crashed.value.code == 500
    with pytest.raises(MediaError) as late:
        await caller.call("slow", within=0.2)
    assert late.value.code == 503
    assert await caller.call("other") is None  # the connection still works after all that


async def test_notifications_arrive_in_order_and_may_call_back(ends: list[Connection]) -> None:
    seen: list[Any] = []

    async def handler(method: str, args: list[Any]) -> Any:
        return args[0] * 2

    caller: Connection | None = None

    async def note(method: str, args: list[Any]) -> None:
        assert caller is not None
        # a handler that calls over the same connection does not block its reader
        seen.append((method, args[0], await callee_back.call("double", args[0])))

    left, right = socket.socketpair()
    r1, w1 = await asyncio.open_unix_connection(sock=left)
    r2, w2 = await asyncio.open_unix_connection(sock=right)
    caller = Connection(r1, w1, name="api", notified=note)
    callee_back = caller
    worker = Connection(r2, w2, handler=None, name="worker")
    ends.extend([caller, worker])
    # the worker's side serves calls too
    worker.handler = handler
    caller.handler = handler
    caller.start()
    worker.start()
    for i in range(20):
        await worker.notify("tick", i)
    for _ in range(100):
        if len(seen) == 20:
            break
        await asyncio.sleep(0.02)
    assert [s[1] for s in seen] == list(range(20))
    assert all(s[2] == s[1] * 2 for s in seen)


async def test_pending_calls_fail_when_the_other_side_goes(ends: list[Connection]) -> None:
    async def handler(method: str, args: list[Any]) -> Any:
        await asyncio.sleep(30)

    caller, callee = await _pair(handler)
    ends.extend([caller, callee])
    pending = asyncio.create_task(caller.call("wait", within=10))
    await asyncio.sleep(0.1)
    await callee.close()
    with pytest.raises(MediaError) as gone:
        await pending
    assert gone.value.code == 503
    with pytest.raises(MediaError):
        await caller.call("again")


async def test_a_broken_stream_closes_the_connection(ends: list[Connection]) -> None:
    left, right = socket.socketpair()
    r1, w1 = await asyncio.open_unix_connection(sock=left)
    connection = Connection(r1, w1, name="api")
    ends.append(connection)
    connection.start()
    right.sendall(struct.pack(">I", 2**31) + b"x")  # a frame larger than allowed
    await asyncio.wait_for(connection.wait_closed(), 5)
    right.close()
