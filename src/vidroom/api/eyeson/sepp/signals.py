"""What a participant's SEPP messages do (eyeson-sepp.md §3.1, §6): start, end and adjust the
call through the media server and the meeting use cases."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vidroom import errors
from vidroom.api.eyeson.sepp import protocol
from vidroom.api.eyeson.sepp.hub import Call
from vidroom.media.contract import MediaError, PeerSpec, RoomSpec
from vidroom.meetings import actions, layout, live

if TYPE_CHECKING:
    from vidroom.api.eyeson.sepp.session import Session

log = logging.getLogger(__name__)

# media server refusals → SEPP reject codes (409 "already in a call" is the web's session_in_use)
_MEDIA_CODES = {409: protocol.SESSION_IN_USE}
_IGNORED = frozenset({"voice_activity", "recording", "memberlist", "source_update", "ack"})


@dataclass(frozen=True)
class _Admission:
    spec: RoomSpec
    name: str


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Signals:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def handle(self, envelope: protocol.Envelope) -> None:
        s = self.session
        kind, data = envelope.type, envelope.data
        if kind == "call_start":
            await self.call_start(data)
            return
        if kind == "call_resume":
            await self.call_resume(data)
            return
        if kind in _IGNORED:
            return
        call = s.call
        if call is None:
            s.bad(f"{kind} before call_start")
            return
        if kind not in (
            "call_terminate",
            "sdp_update",
            "mute_video",
            "desktopstreaming",
            "set_presenter",
            "chat",
        ):
            log.info("sepp %s: ignored the unknown message %r", s.label, kind[:40])
            return
        if data.get("call_id") not in (None, call.call_id):
            s.bad(f"{kind} for another call")
            return
        if kind == "call_terminate":
            # the session ends the call once the goodbye is sent
            s.finish("call_terminated", {"call_id": call.call_id, "term_code": protocol.OK})
        elif kind == "sdp_update":
            await self.sdp_update(call, data)
        elif kind == "mute_video":
            await self.mute_video(call, data)
        elif kind in ("desktopstreaming", "set_presenter"):
            await self.presenter(call, data)
        else:
            await self.chat(data)

    # --- call_start --------------------------------------------------------------------------

    async def call_start(self, data: protocol.Message) -> None:
        s = self.session
        if s.call is not None or s.reserved:
            # one call per client: the running call goes on
            s.send("call_rejected", {"reject_code": protocol.SESSION_IN_USE})
            return
        try:
            offer = protocol.offer_sdp(data)
        except protocol.EnvelopeError as exc:
            s.reject(protocol.BAD_REQUEST, str(exc))
            return
        try:
            admission = await self._admit()
        except Refused as refused:
            s.reject(refused.code, refused.reason)
            return
        if not s.hub.reserve(s.meeting_id, s.participant_id):
            s.reject(protocol.SESSION_IN_USE, "already in a call")
            return
        s.reserved = True
        name = protocol.text(data, "display_name") or admission.name
        platform = protocol.text(data, "platform", 64) or ""
        peer = PeerSpec(s.participant_id, s.client_id, name.strip()[:200] or admission.name)
        try:
            await s.hub.open_room(admission.spec)
            answer = await s.hub.media.join(s.meeting_id, peer, offer)
        except MediaError as exc:
            s.hub.release(s.meeting_id, s.participant_id)
            s.reserved = False
            await s.hub.close_if_empty(s.meeting_id)
            s.reject(_MEDIA_CODES.get(exc.code, exc.code), exc.reason)
            return
        except Exception:
            log.exception("sepp %s: the media server failed to join", s.label)
            s.reject(protocol.UNAVAILABLE, "media server failure")
            return  # the session's cleanup leaves and releases
        call = Call(s.meeting_id, s.participant_id, s.client_id, answer.call_id, platform, s)
        s.call = call
        if protocol.flag(data, "mute_video"):
            with contextlib.suppress(MediaError):
                await s.hub.media.set_video_muted(s.meeting_id, s.participant_id, True)
        sdp = protocol.with_sepp_messaging(answer.sdp)
        if not s.send(
            "call_accepted", {"call_id": call.call_id, "sdp": {"type": "answer", "sdp": sdp}}
        ):
            return  # the session is closing: its cleanup leaves
        s.reserved = False
        s.hub.admit(call)
        try:
            await self.present(online=True)
        except Exception:
            log.exception("sepp %s: could not record the participant as online", s.label)

    async def call_resume(self, data: protocol.Message) -> None:
        """A call whose socket dropped continues on this one: the same peer connection answers
        the client's new offer (``call_resumed``); 410 when the call is gone."""
        s = self.session
        if s.call is not None or s.reserved:
            s.bad("call_resume during a call")
            return
        call_id = protocol.text(data, "call_id", 100)
        try:
            offer = protocol.offer_sdp(data)
        except protocol.EnvelopeError as exc:
            s.reject(protocol.BAD_REQUEST, str(exc))
            return
        try:
            await self._admit()
        except Refused as refused:
            s.reject(refused.code, refused.reason)
            return
        call = s.hub.take_over(s.meeting_id, s.participant_id, call_id or "", s)
        if call is None:
            s.reject(protocol.GONE, "unknown call to resume")
            return
        s.call = call
        try:
            answer = await s.hub.media.renegotiate(s.meeting_id, s.participant_id, offer)
        except MediaError as exc:
            log.info("sepp %s: resume refused: %s", s.label, exc.reason)
            s.terminate(protocol.GONE)
            return
        sdp = protocol.with_sepp_messaging(answer)
        s.send("call_resumed", {"call_id": call.call_id, "sdp": {"type": "answer", "sdp": sdp}})
        s.hub.sync(s.meeting_id)
        s.hub.greet(call)

    async def _admit(self) -> _Admission:
        """Whether the participant may start a call now: 404 unknown, 410 meeting over,
        403 blocked, 607 locked (unless they were in the call before)."""
        s = self.session
        async with s.hub.db.uow() as uow:
            meeting = await live.meeting_by_id(uow.session, s.meeting_id)
            participant = await live.participant_by_id(uow.session, s.participant_id)
            if meeting is None or participant is None:
                raise Refused(protocol.NOT_FOUND, "unknown meeting or participant")
            if meeting.ended_at is not None:
                raise Refused(protocol.GONE, "the meeting is over")
            if participant.blocked:
                raise Refused(protocol.SESSION_IN_USE, "the participant is blocked")
            if meeting.locked and not await live.has_attended(uow.session, participant):
                raise Refused(protocol.MEETING_LOCKED, "the meeting is locked")
            spec = await layout.room_spec(uow.session, meeting)
            return _Admission(spec, participant.name)

    async def present(self, *, online: bool | None = None) -> None:
        s = self.session
        async with s.hub.db.uow() as uow:
            participant = await live.participant_by_id(uow.session, s.participant_id)
            if participant is not None:
                await live.seen(uow, participant, online=online)

    # --- during the call ---------------------------------------------------------------------

    async def sdp_update(self, call: Call, data: protocol.Message) -> None:
        """An offer is renegotiated (answered with ``sdp_update``); answers need nothing: the
        server never offers."""
        sdp = data.get("sdp")
        if isinstance(sdp, dict) and sdp.get("type") == "answer":
            return
        try:
            offer = protocol.offer_sdp(data)
        except protocol.EnvelopeError as exc:
            self.session.bad(str(exc))
            return
        try:
            answer = await self.session.hub.media.renegotiate(
                call.meeting_id, call.participant_id, offer
            )
        except MediaError as exc:
            log.info("sepp %s: renegotiation refused: %s", self.session.label, exc.reason)
            return
        self.session.send(
            "sdp_update",
            {
                "call_id": call.call_id,
                "sdp": {"type": "answer", "sdp": protocol.with_sepp_messaging(answer)},
            },
        )

    def _own(self, data: protocol.Message) -> bool | None:
        """``on`` of a message about the sender itself (``cid``, when given, must be theirs)."""
        on = protocol.flag(data, "on")
        cid = data.get("cid")
        if on is None or cid not in (None, "", self.session.client_id):
            self.session.bad("expected on (bool) and the sender's own cid")
            return None
        return on

    async def mute_video(self, call: Call, data: protocol.Message) -> None:
        on = self._own(data)
        if on is None:
            return
        try:
            await self.session.hub.media.set_video_muted(call.meeting_id, call.participant_id, on)
        except MediaError as exc:
            log.info("sepp %s: mute refused: %s", self.session.label, exc.reason)
        self.session.hub.refresh(call.meeting_id)

    async def presenter(self, call: Call, data: protocol.Message) -> None:
        on = self._own(data)
        if on is None:
            return
        try:
            await self.session.hub.media.set_presenter(
                call.meeting_id, call.participant_id if on else None
            )
        except MediaError as exc:
            log.info("sepp %s: presenting refused: %s", self.session.label, exc.reason)
        self.session.hub.refresh(call.meeting_id)

    async def chat(self, data: protocol.Message) -> None:
        """Legacy SEPP chat: delivered like ``POST /rooms/<ak>/messages`` (through ``/rt``)."""
        s = self.session
        content = data.get("content")
        if not isinstance(content, str):
            s.bad("chat without content")
            return
        try:
            async with s.hub.db.uow() as uow:
                meeting = await live.meeting_by_id(uow.session, s.meeting_id)
                sender = await live.participant_by_id(uow.session, s.participant_id)
                if meeting is None or sender is None or meeting.ended_at is not None:
                    return
                await actions.send_message(uow, meeting, sender, kind="chat", content=content)
        except errors.VidroomError as exc:
            s.bad(exc.message)
