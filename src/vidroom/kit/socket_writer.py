"""A websocket's writing side, shared by the long-lived sockets (``/rt``, ``/call``).

Frames go through a bounded queue that one task writes in order, so that the code sending them
never waits for the client. A client that lets the queue fill up is dropped: it is not sent a
close frame (it reads nothing; the server just ends the connection, which the client sees as
1006). A closing handshake never takes longer than ``close_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

Job = Callable[[], Coroutine[Any, Any, object]]

_CLOSE = None  # the queue entry that closes the socket after the frames before it
_GONE = (WebSocketDisconnect, OSError, RuntimeError)  # what a socket raises once it is over


class SocketWriter:
    """The outgoing queue, writer task and close of one accepted websocket.

    ``label`` starts every log line (e.g. ``"sepp participant p1"``; never a secret); ``unit``
    names the frames in them. Log lines go to ``log``, the owner's logger.
    """

    def __init__(
        self,
        websocket: WebSocket,
        *,
        queue: int,
        close_seconds: float,
        log: logging.Logger,
        label: str,
        unit: str = "frames",
    ) -> None:
        self.websocket = websocket
        self.label = label
        self._close_seconds = close_seconds
        self._log = log
        self._unit = unit
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(queue)
        self._stop = asyncio.Event()
        self._closing = False
        self._close_sent = False
        self._aborted = False
        self._client_gone = False

    @property
    def closing(self) -> bool:
        """Nothing more is sent: a last frame is queued, or the client was dropped."""
        return self._closing

    @property
    def client_gone(self) -> bool:
        """The client left (or its socket failed) before it was closed."""
        return self._client_gone

    @property
    def dropped(self) -> bool:
        return self._aborted

    @property
    def pending(self) -> int:
        """Frames waiting to be written."""
        return self._outbox.qsize()

    # --- sending ---------------------------------------------------------------------------

    def send(self, frame: str) -> bool:
        """Queue a frame; a client that let too many pile up is dropped."""
        if self._closing:
            return False
        try:
            self._outbox.put_nowait(frame)
        except asyncio.QueueFull:
            self.abort(f"too slow: {self.pending} {self._unit} waiting")
            return False
        return True

    def finish(self, frame: str, *, too_slow: str = "too slow to be told goodbye") -> None:
        """Send a last frame, then close (1000) once it is written; ``too_slow`` is the reason
        logged when the close does not fit in the queue."""
        if self._closing or not self.send(frame):
            return
        self._closing = True
        try:
            self._outbox.put_nowait(_CLOSE)
        except asyncio.QueueFull:
            self.abort(too_slow)

    def abort(self, reason: str) -> None:
        """Drop the client now, without waiting for it to read anything."""
        if not self._aborted:
            self._log.warning("%s: dropping the client: %s", self.label, reason)
        self._aborted = True
        self._closing = True
        self._stop.set()

    # --- running ---------------------------------------------------------------------------

    async def run(self, *jobs: Job) -> None:
        """Write frames while ``jobs`` run; when one of them ends, the writer ends or the client
        is dropped, cancel the rest (a job that failed is logged)."""
        tasks: list[asyncio.Task[Any]] = []
        try:
            tasks += [asyncio.create_task(self._write()), asyncio.create_task(self._stop.wait())]
            tasks += [asyncio.create_task(job()) for job in jobs]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, Exception):
                    self._log.error("%s: task failed", self.label, exc_info=result)

    async def receive(self) -> Message | None:
        """The client's next message; None once it has left."""
        try:
            message = await self.websocket.receive()
        except _GONE:
            self._client_gone = True
            return None
        if message["type"] == "websocket.disconnect":
            self._client_gone = True
            return None
        return message

    async def close(self, code: int) -> None:
        """Close the socket with ``code`` unless the client left, it was closed already, or the
        client was dropped (a stuck client would only make the handshake wait)."""
        if self._client_gone or self._close_sent or self._aborted:
            return
        await self._close(code)

    async def _close(self, code: int) -> None:
        self._close_sent = True
        with contextlib.suppress(*_GONE, TimeoutError):
            async with asyncio.timeout(self._close_seconds):
                await self.websocket.close(code)

    async def _write(self) -> None:
        while True:
            frame = await self._outbox.get()
            if frame is _CLOSE:
                await self._close(1000)
                return
            try:
                await self.websocket.send({"type": "websocket.send", "text": frame})
            except _GONE:
                self._client_gone = True
                return
