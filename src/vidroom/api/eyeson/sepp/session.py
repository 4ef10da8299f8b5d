"""One signalling socket: a participant's call from ``call_start`` to its end.

Three jobs run while the socket is open: the reader (client messages, handled in order), the
writer (a bounded queue; a client that lets it fill up is dropped) and the meeting's events from
the bus (meeting end, kick). Whatever ends first ends the others; the call is then cleaned up on
every path: media peer closed, presence off, the others told.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import Any

from starlette.websockets import WebSocket

from vidroom.api.eyeson.sepp import protocol
from vidroom.api.eyeson.sepp.hub import Call, Hub, Recording
from vidroom.api.eyeson.sepp.signals import Signals
from vidroom.events import catalogue as ev
from vidroom.events.bus import EventBus, Subscription, meeting_topic
from vidroom.kit.socket_writer import SocketWriter
from vidroom.kit.token_bucket import TokenBucket

log = logging.getLogger(__name__)


class Session:
    def __init__(
        self,
        websocket: WebSocket,
        hub: Hub,
        bus: EventBus,
        *,
        meeting_id: str,
        participant_id: str,
        client_id: str,
    ) -> None:
        self.websocket = websocket
        self.hub = hub
        self.bus = bus
        self.config = hub.config
        self.meeting_id = meeting_id
        self.participant_id = participant_id
        self.client_id = client_id
        self.label = f"participant {participant_id}"
        self.call: Call | None = None
        self.reserved = False  # holds the participant's reservation in the hub
        self.writer = SocketWriter(
            websocket,
            queue=self.config.send_queue,
            close_seconds=self.config.close_seconds,
            log=log,
            label=f"sepp {self.label}",
            unit="messages",
        )
        self._bad_frames = 0
        self._bucket = TokenBucket(self.config.messages_per_second)
        self.signals = Signals(self)

    # --- sending (the hub's Line) ------------------------------------------------------------

    def send(self, kind: str, data: dict[str, Any]) -> bool:
        if self.writer.closing:
            return False
        return self.writer.send(self._envelope(kind, data))

    def finish(self, kind: str, data: dict[str, Any]) -> None:
        """Send a last message, then close the socket."""
        if not self.writer.closing:
            self.writer.finish(self._envelope(kind, data))

    def _envelope(self, kind: str, data: dict[str, Any]) -> str:
        return protocol.envelope(kind, data, conf_id=self.meeting_id, client_id=self.client_id)

    def reject(self, code: int, reason: str) -> None:
        log.info("sepp %s: call rejected (%d: %s)", self.label, code, reason)
        self.finish("call_rejected", {"reject_code": code})

    def terminate(self, code: int) -> None:
        """End the call (``call_terminated``), or refuse it when there is none yet."""
        if self.call is None:
            self.reject(code, "ended before the call started")
            return
        log.info("sepp %s: call terminated (%d)", self.label, code)
        self.finish("call_terminated", {"call_id": self.call.call_id, "term_code": code})

    def release_call(self) -> None:
        self.call = None
        self.writer.abort("the call was resumed on another socket")

    @property
    def closing(self) -> bool:
        return self.writer.closing

    # --- running -----------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run until the client leaves or the call ends; cleans up on every path."""
        subscription = self.bus.subscribe(meeting_topic(self.meeting_id), self.config.bus_queue)
        try:
            await self.writer.run(
                self._read,
                functools.partial(self._pump, subscription),
                self._start_deadline,
                self._keep_present,
            )
        finally:
            subscription.close()
            try:
                await self._end_call()
            except Exception:
                log.exception("sepp %s: cleaning up the call failed", self.label)
            await self.writer.close(1000 if self.writer.closing else 1011)

    async def _end_call(self) -> None:
        call = self.call
        if call is not None and self.hub.call_of(self.meeting_id, self.participant_id) is call:
            if self.writer.client_gone and not self.writer.closing:
                self.hub.drop(call)  # the client may come back with call_resume
            else:
                await self.hub.end_call(call)
        elif self.reserved:  # the join did not finish: its peer may exist
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.config.media_seconds):
                    await self.hub.media.leave(self.meeting_id, self.participant_id)
            self.hub.release(self.meeting_id, self.participant_id)
            if call is not None:
                await self.hub.offline(self.participant_id)
            await self.hub.close_if_empty(self.meeting_id)
        self.reserved = False

    async def _pump(self, subscription: Subscription) -> None:
        while True:
            event = await subscription.get()
            if isinstance(event, ev.RecordingChanged):
                # every call of the meeting is told (the hub tells each change once)
                active = event.type in ("recording.started", "recording.resumed")
                self.hub.set_recording(self.meeting_id, Recording(active=active, enabled=True))
                continue
            if isinstance(event, ev.MeetingEnded) or (
                isinstance(event, ev.ParticipantChanged)
                and event.kicked
                and event.participant_id == self.participant_id
            ):
                # a normal exit for a call; no call to be had for a socket still waiting
                if self.call is not None:
                    self.terminate(protocol.OK)
                else:
                    self.reject(protocol.GONE, event.type)

    async def _start_deadline(self) -> None:
        await asyncio.sleep(self.config.start_seconds)
        if self.call is None and not self.reserved:
            self.reject(protocol.BAD_REQUEST, "no call_start")
        await asyncio.Event().wait()  # the writer closes the socket

    async def _keep_present(self) -> None:
        """A call is presence: refresh it so the meeting supervisor does not lapse it."""
        while True:
            await asyncio.sleep(self.config.presence_seconds)
            if self.call is not None:
                try:
                    await self.signals.present()
                except Exception:
                    log.exception("sepp %s: could not refresh the presence", self.label)

    # --- reading -----------------------------------------------------------------------------

    async def _read(self) -> None:
        while not self.writer.dropped:
            message = await self.writer.receive()
            if message is None:
                return
            if self.writer.closing:
                continue
            text = message.get("text")
            if text is None:
                self.bad("binary frame (SEPP uses text frames)")
                continue
            if not self._within_rate():
                self.bad("too many messages")
                continue
            try:
                envelope = protocol.parse(text, max_size=self.config.max_frame)
            except protocol.EnvelopeError as exc:
                self.bad(str(exc))
                continue
            if envelope.sender not in (None, "", self.client_id) or envelope.to not in (
                None,
                "",
                self.meeting_id,
            ):
                self.bad("from/to do not match the auth token")
                continue
            try:
                await self.signals.handle(envelope)
            except Exception:
                log.exception("sepp %s: handling %s failed", self.label, envelope.type)

    def bad(self, reason: str) -> None:
        """A malformed message: refuses a call not started yet; tolerated a few times in one."""
        log.info("sepp %s: bad message: %s", self.label, reason)
        if self.call is None:
            self.reject(protocol.BAD_REQUEST, reason)
            return
        self._bad_frames += 1
        if self._bad_frames > self.config.max_bad_frames:
            self.terminate(protocol.BAD_REQUEST)

    def _within_rate(self) -> bool:
        return self._bucket.take()
