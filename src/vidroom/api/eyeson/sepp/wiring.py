"""Installs media signalling into an application.

``app.py`` calls :func:`start_media` in its lifespan and :func:`stop_media` at shutdown, or
builds the media server itself with ``events`` (the media server reports through it) and calls
:func:`install`::

    events = SeppMediaEvents()
    media = MediaSupervisor(events, ice_servers=media_ice_servers(state.settings))
    install(app, state, media, events)

The media server gathers server-reflexive and relay candidates with the same STUN and TURN
servers as the participants (aiortc uses the first STUN URL and the first TURN URL it supports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from vidroom.api.eyeson.realtime.redaction import redact_websocket_logs
from vidroom.api.eyeson.sepp.config import SeppConfig
from vidroom.api.eyeson.sepp.events import SeppMediaEvents
from vidroom.api.eyeson.sepp.hub import Hub
from vidroom.api.eyeson.sepp.router import router
from vidroom.kit import turn
from vidroom.media.contract import MediaControl

if TYPE_CHECKING:
    from vidroom.media.supervisor import MediaSupervisor
from vidroom.settings import Settings
from vidroom.state import AppState

# The media server's own TURN credential is minted once, at start, and must stay valid for the
# whole life of the process (coturn refuses a username past its expiry, also when refreshing an
# allocation, and aiortc takes its ICE servers when a peer is created): ten years. Its password
# stays in memory (TURN requests carry only the username and an HMAC keyed by the password), and
# the media server holds the shared secret it is derived from anyway; rotating
# VIDROOM_TURN_SECRET (on coturn and here) and restarting revokes it.
MEDIA_TURN_LABEL = "vidroom-media"
MEDIA_TURN_TTL_SECONDS = 10 * 365 * 86400


def media_ice_servers(settings: Settings) -> list[turn.IceServer]:
    """The ICE servers the media server gathers candidates with: the participants' STUN and
    TURN servers, with a long-lived TURN credential of its own."""
    return turn.ice_servers(settings, MEDIA_TURN_LABEL, ttl_seconds=MEDIA_TURN_TTL_SECONDS)


def install(
    app: FastAPI,
    state: AppState,
    media: MediaControl,
    events: SeppMediaEvents | None = None,
    config: SeppConfig | None = None,
) -> Hub:
    """Serve ``/call`` on ``app`` with ``media``; ``events`` (given to the media server) is bound
    to the hub so that media reports reach the sockets."""
    hub = Hub(state.db, media, config or SeppConfig())
    if events is not None:
        events.bind(hub)
    app.state.sepp = hub
    if not any(getattr(r, "path", None) == "/call" for r in app.router.routes):
        app.include_router(router)
    redact_websocket_logs()
    return hub


def start_media(app: FastAPI, state: AppState, config: SeppConfig | None = None) -> MediaSupervisor:
    """The embedded media server, serving ``/call`` on ``app``; ``await media.close()`` at
    shutdown. (The media stack is imported here, not when this module is.)"""
    from vidroom.media.supervisor import MediaSupervisor

    events = SeppMediaEvents()
    media = MediaSupervisor(events, ice_servers=media_ice_servers(state.settings))
    install(app, state, media, events, config)
    return media


async def stop_media(app: FastAPI) -> None:
    """Shutdown: end dropped calls, close every media room."""
    hub = getattr(app.state, "sepp", None)
    if isinstance(hub, Hub):
        await hub.close()
        close = getattr(hub.media, "close", None)
        if close is not None:
            await close()
