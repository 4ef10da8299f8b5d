"""The websocket route ``/rt``: ActionCable's handshake, then a participant's or an observer's
connection (spec §5.1, §5.2)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from vidroom.api.eyeson.realtime import observer, participant, protocol
from vidroom.api.eyeson.realtime.config import realtime_of
from vidroom.api.eyeson.realtime.connection import Connection, Disconnect, Handler
from vidroom.state import AppState

log = logging.getLogger(__name__)

router = APIRouter(tags=["meeting API"])


def _api_key(websocket: WebSocket, offered: list[str]) -> str | None:
    """The observer's API key: the raw ``Authorization`` header, else a subprotocol value that is
    not ActionCable's, else the ``api_key`` query parameter."""
    header = (websocket.headers.get("authorization") or "").strip()
    if header[:7].lower() == "bearer ":
        header = header[7:].strip()
    if header:
        return header
    if offered:
        return offered[0]
    return websocket.query_params.get("api_key") or None


async def _handler(websocket: WebSocket, state: AppState, offered: list[str]) -> Handler:
    query = websocket.query_params
    access_key = query.get("access_key")
    if access_key:
        app_state = websocket.app.state
        return await participant.authorise(
            state, realtime_of(app_state), access_key, participant.calls_of(app_state)
        )
    room_id = query.get("room_id")
    if room_id:
        return await observer.authorise(state, _api_key(websocket, offered), room_id)
    raise Disconnect("unauthorized")


@router.websocket("/rt")
async def realtime(websocket: WebSocket) -> None:
    """ActionCable (``actioncable-v1-json``): ``?access_key=`` for a participant, ``?room_id=``
    with the API key for a Meeting Observer."""
    state: AppState = websocket.app.state.vidroom
    service = realtime_of(websocket.app.state)
    selected, others = protocol.choose_subprotocol(list(websocket.scope.get("subprotocols", [])))
    try:
        await websocket.accept(subprotocol=selected)
        try:
            handler = await _handler(websocket, state, others)
        except Disconnect as refused:
            await websocket.send_text(protocol.disconnect(refused.reason))
            await websocket.close()
            return
        except Exception:
            log.exception("realtime: could not admit a connection")
            await websocket.send_text(protocol.disconnect("server_restart", reconnect=True))
            await websocket.close(1011)
            return
    except (WebSocketDisconnect, OSError, RuntimeError):
        return  # the client left during the handshake
    await Connection(websocket, service.config, state.bus).serve(handler)
