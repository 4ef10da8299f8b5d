"""One realtime websocket connection: reads client commands, turns bus events into frames, and
writes them through a bounded queue so that a slow or dead client never blocks anyone else."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from starlette.websockets import WebSocket

from vidroom import errors
from vidroom.api.eyeson.realtime import protocol
from vidroom.api.eyeson.realtime.config import RealtimeConfig
from vidroom.events.bus import EventBus, Subscription
from vidroom.events.catalogue import Event
from vidroom.kit.socket_writer import SocketWriter
from vidroom.kit.token_bucket import TokenBucket

log = logging.getLogger(__name__)

Message = dict[str, Any]


class Disconnect(Exception):
    """End the connection: send ``messages`` (on the room channel), then the ``disconnect``
    frame with ``reason``, then close."""

    def __init__(
        self, reason: str, *, reconnect: bool = False, messages: list[Message] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reconnect = reconnect
        self.messages = messages or []


class Handler(Protocol):
    """What a kind of connection (participant or observer) does with the protocol's events."""

    label: str  # for logs; never a secret
    topic: str  # the bus topic it listens to
    channels: frozenset[str]  # the channels it may subscribe to

    async def subscribed(self, channel: str) -> list[Message]:
        """The messages that follow the confirmation of a subscription to ``channel``."""
        ...

    async def action(self, channel: str, name: str, data: dict[str, Any]) -> None: ...

    async def event(self, event: Event, *, subscribed: bool) -> list[Message]:
        """The messages ``event`` means for this client (sent on its room channel)."""
        ...

    def opened(self) -> None:
        """The connection is admitted (``closed`` follows, whatever happens)."""
        ...

    def background(self) -> list[Callable[[], Awaitable[None]]]:
        """Jobs that run while the connection is open (a ``Disconnect`` ends it)."""
        ...

    async def closed(self) -> None: ...


class Connection:
    def __init__(self, websocket: WebSocket, config: RealtimeConfig, bus: EventBus) -> None:
        self.websocket = websocket
        self.config = config
        self.bus = bus
        self.label = "connection"
        self.subscriptions: dict[str, str] = {}  # identifier (as sent) → channel
        self.writer = SocketWriter(
            websocket,
            queue=config.send_queue,
            close_seconds=config.close_seconds,
            log=log,
            label=f"realtime {self.label}",
        )
        self._lock = asyncio.Lock()  # a subscription's first frames vs. events
        self._bad_frames = 0
        self._bucket = TokenBucket(config.commands_per_second)

    # --- sending ---------------------------------------------------------------------------

    def send(self, frame: str) -> bool:
        """Queue a frame; a client that let too many pile up is disconnected."""
        return self.writer.send(frame)

    def send_room(self, message: Message) -> None:
        for identifier, channel in self.subscriptions.items():
            if channel == protocol.ROOM_CHANNEL:
                self.send(protocol.event(identifier, message))

    def disconnect(self, stop: Disconnect) -> None:
        """Send the closing messages and the ``disconnect`` frame, then close."""
        if self.writer.closing:
            return
        log.info("realtime %s: disconnecting (%s)", self.label, stop.reason)
        for message in stop.messages:
            self.send_room(message)
        self.writer.finish(
            protocol.disconnect(stop.reason, reconnect=stop.reconnect),
            too_slow="too slow to be told to disconnect",
        )

    # --- running ---------------------------------------------------------------------------

    async def serve(self, handler: Handler) -> None:
        """Run until the client leaves or is disconnected; cleans up on every path."""
        self.label = handler.label
        self.writer.label = f"realtime {handler.label}"
        subscription = self.bus.subscribe(handler.topic, self.config.bus_queue)
        handler.opened()
        try:
            self.send(protocol.welcome())
            await self.writer.run(
                functools.partial(self._read, handler),
                self._ping,
                functools.partial(self._pump, subscription, handler),
                *(functools.partial(self._guard, job) for job in handler.background()),
            )
        finally:
            subscription.close()
            await self.writer.close(1011)  # unless it was closed, the client left or is stuck
            try:
                await handler.closed()
            except Exception:
                log.exception("realtime %s: cleaning up failed", self.label)

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.config.ping_seconds)
            self.send(protocol.ping(int(time.time())))

    async def _pump(self, subscription: Subscription, handler: Handler) -> None:
        while True:
            event = await subscription.get()
            if self.writer.closing:
                continue  # the writer is closing the connection
            async with self._lock:
                subscribed = protocol.ROOM_CHANNEL in self.subscriptions.values()
                try:
                    messages = await handler.event(event, subscribed=subscribed)
                except Disconnect as stop:
                    self.disconnect(stop)
                    continue
                except Exception:
                    log.exception("realtime %s: could not relay %s", self.label, event.type)
                    continue
                for message in messages:
                    self.send_room(message)

    async def _guard(self, job: Callable[[], Awaitable[None]]) -> None:
        try:
            await job()
        except Disconnect as stop:
            self.disconnect(stop)
            await asyncio.Event().wait()  # the writer closes the connection

    # --- reading ---------------------------------------------------------------------------

    async def _read(self, handler: Handler) -> None:
        while not self.writer.dropped:
            message = await self.writer.receive()
            if message is None:
                return
            text = message.get("text")
            if text is None:
                raw = message.get("bytes") or b""
                try:
                    text = raw.decode("utf-8") if len(raw) <= self.config.max_frame else ""
                except UnicodeDecodeError:
                    text = ""
            if self.writer.closing:
                continue
            try:
                await self._command(handler, text)
            except Disconnect as stop:
                self.disconnect(stop)
            except Exception:
                log.exception("realtime %s: a command failed", self.label)

    def _bad(self, reason: str) -> None:
        self._bad_frames += 1
        log.info("realtime %s: ignored a frame: %s", self.label, reason)
        if self._bad_frames > self.config.max_bad_frames:
            self.disconnect(Disconnect("invalid_request"))

    def _within_rate(self) -> bool:
        return self._bucket.take()

    async def _command(self, handler: Handler, text: str) -> None:
        if not self._within_rate():
            self._bad("too many commands")
            return
        try:
            command = protocol.parse(text, max_size=self.config.max_frame)
        except protocol.FrameError as exc:
            self._bad(str(exc))
            return
        identifier = command.identifier
        if command.command == "subscribe":
            await self._subscribe(handler, identifier, command.channel)
        elif command.command == "unsubscribe":
            self.subscriptions.pop(identifier, None)
        else:
            await self._act(handler, command)

    async def _subscribe(self, handler: Handler, identifier: str, channel: str | None) -> None:
        if identifier in self.subscriptions:
            log.info("realtime %s: already subscribed to %s", self.label, channel)
            return
        if (
            channel is None
            or channel not in handler.channels
            or len(self.subscriptions) >= self.config.max_subscriptions
        ):
            self.send(protocol.reject(identifier))
            return
        async with self._lock:
            try:
                messages = await handler.subscribed(channel)
            except Disconnect:
                raise
            except Exception:
                log.exception("realtime %s: could not subscribe to %s", self.label, channel)
                self.send(protocol.reject(identifier))
                return
            self.send(protocol.confirm(identifier))
            for message in messages:
                self.send(protocol.event(identifier, message))
            self.subscriptions[identifier] = channel

    async def _act(self, handler: Handler, command: protocol.Command) -> None:
        channel = self.subscriptions.get(command.identifier)
        data = command.data or {}
        name = data.get("action")
        if channel is None:
            self._bad("a message for a channel it is not subscribed to")
            return
        if not isinstance(name, str):
            self._bad("a message without an action")
            return
        try:
            await handler.action(channel, name, data)
        except errors.VidroomError as exc:
            log.info("realtime %s: action %s refused: %s", self.label, name[:40], exc.message)
