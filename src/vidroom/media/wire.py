"""The media contract as messages: a framed msgpack connection between the API process and a
media worker (or, later, any transport that carries bytes).

Why msgpack: a well-kept binary serialisation with a C extension, compact and fast for the
small, frequent messages here (SDP strings, member lists, stats every few seconds), with no
schema compilation step; JSON would also do but costs more per message and cannot carry bytes
(snapshots and the like) without base64.

Messages are lists:

- ``[REQUEST, id, method, args]``: call ``method(*args)`` on the other side;
- ``[RESPONSE, id, True, result]`` or ``[RESPONSE, id, False, [code, reason]]``;
- ``[NOTIFY, method, args]``: a one-way report (the :class:`MediaEvents` calls, stats).

Each frame is a 4-byte big-endian length and the msgpack body. The contract's dataclasses
travel as ``{"__dc": name, "f": {...}}`` and come back as the same classes; anything else must
be msgpack-native (None, bool, int, float, str, bytes, list, dict). A :class:`MediaError`
raised by the callee is raised again by the caller with its code and reason; a call that gets
no answer within its timeout raises ``MediaError(503)``, and so does every call pending when
the connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import msgpack

from vidroom.media import contract
from vidroom.media.contract import MediaError

log = logging.getLogger(__name__)

REQUEST, RESPONSE, NOTIFY = 0, 1, 2
MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct(">I")

# the dataclasses that may cross: every one the contract defines
TYPES: dict[str, type[Any]] = {
    name: value
    for name, value in vars(contract).items()
    if isinstance(value, type) and dataclasses.is_dataclass(value)
}


def _default(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if TYPES.get(name) is not type(value):
            raise TypeError(f"{name} is not a media contract type")
        return {
            "__dc": name,
            "f": {f.name: getattr(value, f.name) for f in dataclasses.fields(value)},
        }
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} over the media wire")


def _object_hook(value: dict[Any, Any]) -> object:
    name = value.get("__dc")
    if name is None:
        return value
    cls = TYPES.get(name)
    if cls is None:
        raise ValueError(f"unknown media contract type {name!r}")
    return cls(**value["f"])


def encode(message: list[Any]) -> bytes:
    body: bytes = msgpack.packb(message, default=_default, use_bin_type=True)
    if len(body) > MAX_FRAME:
        raise ValueError("media message too large")
    return _HEADER.pack(len(body)) + body


def decode(body: bytes) -> list[Any]:
    message = msgpack.unpackb(body, object_hook=_object_hook, raw=False, strict_map_key=False)
    if not isinstance(message, list) or not message:
        raise ValueError("a media message is a non-empty list")
    return message


async def read_message(reader: asyncio.StreamReader) -> list[Any] | None:
    """The next message, or None at the end of the stream."""
    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ValueError("media message too large")
    try:
        body = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        return None
    return decode(body)


Handler = Callable[[str, list[Any]], Awaitable[Any]]
Notified = Callable[[str, list[Any]], Awaitable[None] | None]


class Connection:
    """One end of a media wire. ``handler(method, args)`` serves the other side's requests
    (each in its own task); ``notified(method, args)`` gets its notifications, in order, from
    the reading task itself (a coroutine it returns is awaited by one consumer task, in order,
    so a handler may itself make calls over this connection without blocking the reader)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        handler: Handler | None = None,
        notified: Notified | None = None,
        name: str = "media wire",
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.handler = handler
        self.notified = notified
        self.name = name
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._notes: asyncio.Queue[Awaitable[None] | None] = asyncio.Queue()
        self._closed = asyncio.Event()
        self._reading: asyncio.Task[None] | None = None
        self._consuming: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._reading is None:
            self._reading = asyncio.create_task(self._read(), name=f"{self.name} reader")
            self._consuming = asyncio.create_task(self._consume(), name=f"{self.name} events")

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # --- sending -----------------------------------------------------------------------------

    def _write(self, message: list[Any]) -> None:
        if self.closed:
            raise MediaError(503, "the media worker is gone")
        self.writer.write(encode(message))

    async def call(self, method: str, *args: Any, within: float = 10.0) -> Any:
        """Call ``method`` on the other side; its result, or its :class:`MediaError`."""
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            self._write([REQUEST, request_id, method, list(args)])
            async with asyncio.timeout(within):
                await self.writer.drain()
                return await future
        except TimeoutError:
            raise MediaError(503, f"the media worker did not answer {method} in time") from None
        except (ConnectionError, RuntimeError) as exc:
            raise MediaError(503, "the media worker is gone") from exc
        finally:
            self._pending.pop(request_id, None)

    async def notify(self, method: str, *args: Any) -> None:
        """Send a one-way report (dropped once the connection is closed)."""
        if self.closed:
            return
        try:
            self._write([NOTIFY, method, list(args)])
            await self.writer.drain()
        except (ConnectionError, RuntimeError, MediaError):
            pass

    # --- receiving ---------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            while True:
                message = await read_message(self.reader)
                if message is None:
                    break
                self._dispatch(message)
        except (ConnectionError, ValueError, msgpack.UnpackException) as exc:
            if not self.closed:
                log.warning("%s: closing on a broken stream: %s", self.name, exc)
        except asyncio.CancelledError:
            pass
        finally:
            self._shut()

    def _dispatch(self, message: list[Any]) -> None:
        kind = message[0]
        if kind == RESPONSE and len(message) == 4:
            _, request_id, ok, value = message
            future = self._pending.get(request_id)
            if future is None or future.done():
                return
            if ok:
                future.set_result(value)
            else:
                code, reason = value
                future.set_exception(MediaError(int(code), str(reason)))
        elif kind == REQUEST and len(message) == 4:
            _, request_id, method, args = message
            task = asyncio.create_task(self._serve(request_id, str(method), list(args)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif kind == NOTIFY and len(message) == 3 and self.notified is not None:
            result = self.notified(str(message[1]), list(message[2]))
            if result is not None:
                self._notes.put_nowait(result)
        else:
            log.warning("%s: ignoring a malformed message", self.name)

    async def _serve(self, request_id: int, method: str, args: list[Any]) -> None:
        try:
            if self.handler is None:
                raise MediaError(400, "this side takes no calls")
            result = await self.handler(method, args)
            reply = [RESPONSE, request_id, True, result]
        except MediaError as exc:
            reply = [RESPONSE, request_id, False, [exc.code, exc.reason]]
        except Exception:
            log.exception("%s: %s failed", self.name, method)
            reply = [RESPONSE, request_id, False, [500, f"media worker failure in {method}"]]
        if self.closed:
            return
        try:
            self.writer.write(encode(reply))
            await self.writer.drain()
        except (ConnectionError, RuntimeError):
            pass
        except (TypeError, ValueError):
            log.exception("%s: could not send the result of %s", self.name, method)
            self.writer.write(encode([RESPONSE, request_id, False, [500, "unsendable result"]]))

    async def _consume(self) -> None:
        while True:
            note = await self._notes.get()
            if note is None:
                return
            try:
                await note
            except Exception:
                log.exception("%s: an event handler failed", self.name)

    def _shut(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(MediaError(503, "the media worker is gone"))
        self._notes.put_nowait(None)
        with contextlib.suppress(Exception):
            self.writer.close()

    async def close(self) -> None:
        """Close the connection and wait for the reader, the pending events and the served
        calls to finish."""
        self._shut()
        tasks = [t for t in (self._reading, self._consuming) if t is not None]
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*tasks, *self._tasks, return_exceptions=True)
