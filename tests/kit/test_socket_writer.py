"""SocketWriter over a real websocket: a tiny Starlette app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from tests.api.eyeson.sepp.conftest import serving_app
from tests.conftest import free_port
from vidroom.kit.socket_writer import SocketWriter

log = logging.getLogger(__name__)

Scenario = Callable[[WebSocket], Awaitable[Any]]
TIMEOUT = 5.0


@asynccontextmanager
async def serving(scenario: Scenario) -> AsyncIterator[tuple[int, asyncio.Future[Any]]]:
    """uvicorn serving ``/ws`` in this event loop: each socket is accepted and handed to
    ``scenario``, whose result (or error) lands in the yielded future."""
    outcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            result = await scenario(websocket)
        except Exception as exc:
            outcome.set_exception(exc)
            raise
        outcome.set_result(result)

    port = free_port()
    async with serving_app(Starlette(routes=[WebSocketRoute("/ws", endpoint)]), port):
        yield port, outcome


def writer_for(websocket: WebSocket, *, queue: int, close_seconds: float = 1.0) -> SocketWriter:
    return SocketWriter(websocket, queue=queue, close_seconds=close_seconds, log=log, label="test")


def count_closes(websocket: WebSocket) -> list[int]:
    """The codes of the closing handshakes started on ``websocket``, as they start."""
    codes: list[int] = []
    close = websocket.close

    async def counted(code: int = 1000, reason: str | None = None) -> None:
        codes.append(code)
        await close(code, reason)

    websocket.close = counted  # type: ignore[method-assign]
    return codes


async def test_frames_are_written_in_order_then_closed() -> None:
    async def scenario(websocket: WebSocket) -> tuple[bool, bool, list[int]]:
        closes = count_closes(websocket)
        writer = writer_for(websocket, queue=1000)
        assert all(writer.send(str(n)) for n in range(300))
        writer.finish("bye")
        late = writer.send("late")
        await writer.run()  # ends once the close is sent
        await writer.close(1011)  # closed already: nothing more
        return late, writer.dropped, closes

    async with serving(scenario) as (port, outcome):
        async with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=TIMEOUT) as client:
            received = [frame async for frame in client]
            assert client.close_code == 1000
        assert await asyncio.wait_for(outcome, TIMEOUT) == (False, False, [1000])
    assert received == [str(n) for n in range(300)] + ["bye"]


async def test_a_full_queue_drops_the_client_without_a_close_frame(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=__name__)

    async def scenario(websocket: WebSocket) -> tuple[list[bool], bool, bool, list[int]]:
        closes = count_closes(websocket)
        writer = writer_for(websocket, queue=4)
        sent = [writer.send(str(n)) for n in range(6)]  # nothing drains in between
        closing = writer.closing
        async with asyncio.timeout(1):
            await writer.run()  # ends at once: the client is dropped
        await writer.close(1000)  # a dropped client is not waited for
        return sent, closing, writer.dropped, closes

    async with serving(scenario) as (port, outcome):
        async with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=TIMEOUT) as client:
            received: list[str | bytes] = []
            with pytest.raises(ConnectionClosedError) as closed:
                async with asyncio.timeout(TIMEOUT):
                    received += [frame async for frame in client]
            assert closed.value.rcvd is None  # no close frame: the connection just ends
            assert client.close_code == 1006
        sent, closing, dropped, closes = await asyncio.wait_for(outcome, TIMEOUT)
    assert sent == [True] * 4 + [False] * 2
    assert closing
    assert dropped
    assert closes == []
    assert received == ["0", "1", "2", "3"][: len(received)]  # what got out, in order
    drops = [r.getMessage() for r in caplog.records if "dropping the client" in r.getMessage()]
    assert drops == ["test: dropping the client: too slow: 4 frames waiting"]  # logged once


async def test_the_client_leaving_ends_the_run_without_a_close() -> None:
    async def scenario(websocket: WebSocket) -> tuple[list[str], bool, list[int]]:
        closes = count_closes(websocket)
        writer = writer_for(websocket, queue=8)
        texts: list[str] = []

        async def read() -> None:
            while (message := await writer.receive()) is not None:
                texts.append(message["text"])

        async with asyncio.timeout(TIMEOUT):
            await writer.run(read)
        await writer.close(1011)  # the client is gone: nothing to close
        return texts, writer.client_gone, closes

    async with serving(scenario) as (port, outcome):
        async with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=TIMEOUT) as client:
            await client.send("a")
            await client.send("b")
        assert await asyncio.wait_for(outcome, TIMEOUT) == (["a", "b"], True, [])


async def stuck_peer(port: int) -> socket.socket:
    """A client that completes the handshake, then never reads again (nor answers a close)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    request = (
        "GET /ws HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    response = b""
    while not response.endswith(b"\r\n\r\n"):  # byte by byte: no frame is read
        response += await loop.sock_recv(sock, 1)
    assert response.startswith(b"HTTP/1.1 101")
    return sock


async def test_close_is_bounded_and_idempotent_against_a_stuck_peer() -> None:
    async def scenario(websocket: WebSocket) -> tuple[int, float, float, list[int]]:
        closes = count_closes(websocket)
        writer = writer_for(websocket, queue=1000, close_seconds=0.3)
        running = asyncio.create_task(writer.run())
        frame = "x" * 65536
        for _ in range(400):  # 26 MB: far more than the socket buffers hold
            writer.send(frame)
        stalled = -1
        while writer.pending != stalled:  # until the writer is stuck in a send
            stalled = writer.pending
            await asyncio.sleep(0.2)
        started = time.monotonic()
        await writer.close(1000)
        first = time.monotonic() - started
        started = time.monotonic()
        await writer.close(1000)
        second = time.monotonic() - started
        writer.abort("the test is over")
        await running
        return stalled, first, second, closes

    async with serving(scenario) as (port, outcome):
        peer = await stuck_peer(port)
        try:
            stalled, first, second, closes = await asyncio.wait_for(outcome, 15)
        finally:
            peer.close()
    assert stalled > 0
    assert 0.25 <= first < 1.5  # close_seconds, not forever
    assert second < 0.05
    assert closes == [1000]  # one closing handshake: the second close did not try again
