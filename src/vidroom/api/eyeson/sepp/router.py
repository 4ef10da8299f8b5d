"""The signalling websocket ``/call`` (eyeson-sepp.md §1.3, §6.1).

The upgrade is refused with an HTTP status and ``{"error": ...}`` when the socket cannot carry a
call: 401 no, malformed, forged or expired ``auth_token`` (``?auth_token=`` or
``Authorization: Bearer``), or one naming no participant of the meeting; 410 the meeting is over;
503 no media server. Otherwise it is accepted without a subprotocol, and every refusal from then
on is a ``call_rejected`` with SEPP's codes.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import jwt
from fastapi import APIRouter, WebSocket
from fastapi.responses import JSONResponse
from starlette.websockets import WebSocketDisconnect

from vidroom.api.eyeson.sepp.hub import Hub
from vidroom.api.eyeson.sepp.session import Session
from vidroom.kit import signaling_token
from vidroom.meetings import live
from vidroom.state import AppState

log = logging.getLogger(__name__)

router = APIRouter(tags=["meeting API"])

MAX_TOKEN = 4096


@dataclass(frozen=True)
class Admitted:
    meeting_id: str
    participant_id: str
    client_id: str


class Denied(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def token_of(websocket: WebSocket) -> str | None:
    header = (websocket.headers.get("authorization") or "").strip()
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return websocket.query_params.get("auth_token") or None


async def authorise(state: AppState, token: str | None) -> Admitted:
    if token is None:
        raise Denied(401, "auth_token is required")
    if len(token) > MAX_TOKEN:
        raise Denied(401, "invalid auth_token")
    try:
        claims = signaling_token.verify(state.settings.ensure_secret_key(), token)
    except jwt.ExpiredSignatureError:
        raise Denied(401, "expired auth_token") from None
    except jwt.InvalidTokenError:
        raise Denied(401, "invalid auth_token") from None
    async with state.db.uow() as uow:
        meeting = await live.meeting_by_id(uow.session, claims.conf_id)
        participant = (
            await live.participant_by_client(uow.session, meeting.id, claims.client_id)
            if meeting is not None
            else None
        )
        if meeting is None or participant is None:
            raise Denied(401, "the auth_token names no participant of a meeting")
        if meeting.ended_at is not None:
            raise Denied(410, "the meeting is over")
        return Admitted(meeting.id, participant.id, participant.client_id)


async def deny(websocket: WebSocket, status: int, message: str) -> None:
    try:
        await websocket.send_denial_response(JSONResponse({"error": message}, status_code=status))
    except RuntimeError:  # the server cannot send an HTTP response to an upgrade
        await websocket.close(1008)


@router.websocket("/call")
async def call(websocket: WebSocket) -> None:
    """SEPP media signalling: one participant's call (``call_start`` with an SDP offer)."""
    state: AppState = websocket.app.state.vidroom
    hub = getattr(websocket.app.state, "sepp", None)
    try:
        if not isinstance(hub, Hub):
            raise Denied(503, "media signalling is not available")
        admitted = await authorise(state, token_of(websocket))
    except Denied as denied:
        log.info("sepp: refused a socket (%d: %s)", denied.status, denied.message)
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
            await deny(websocket, denied.status, denied.message)
        return
    try:
        await websocket.accept()
    except (WebSocketDisconnect, OSError, RuntimeError):
        return  # the client left during the handshake
    session = Session(
        websocket,
        hub,
        state.bus,
        meeting_id=admitted.meeting_id,
        participant_id=admitted.participant_id,
        client_id=admitted.client_id,
    )
    await session.serve()
