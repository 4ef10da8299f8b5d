"""Installs media signalling into an application.

``app.py`` calls :func:`start_media` in its lifespan and :func:`stop_media` at shutdown, or
builds the media server itself with ``events`` (the media server reports through it) and calls
:func:`install`::

    events = SeppMediaEvents()
    media = MediaSupervisor(events, ice_servers=media_ice_servers(state.settings))
    install(app, state, media, events)

or, as ``app.py`` does, :func:`start_media` builds the media workers (or, with
``VIDROOM_MEDIA_WORKERS=0``, the in-process server) from the settings.

The media server gathers server-reflexive and relay candidates with the same STUN and TURN
servers as the participants (aiortc uses the first STUN URL and the first TURN URL it supports).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from vidroom.api.eyeson.realtime.redaction import redact_websocket_logs
from vidroom.api.eyeson.sepp.config import SeppConfig
from vidroom.api.eyeson.sepp.events import SeppMediaEvents
from vidroom.api.eyeson.sepp.hub import Hub
from vidroom.api.eyeson.sepp.router import router
from vidroom.kit import turn
from vidroom.media.contract import IceServerSpec, MediaControl
from vidroom.media.pool import WorkerPool, default_size
from vidroom.settings import Settings
from vidroom.state import AppState
from vidroom.storage.media_store import store_for

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
    state.playbacks = hub.playbacks
    if not any(getattr(r, "path", None) == "/call" for r in app.router.routes):
        app.include_router(router)
    redact_websocket_logs()
    return hub


def start_media(app: FastAPI, state: AppState, config: SeppConfig | None = None) -> MediaControl:
    """The media server, serving ``/call`` on ``app``: media worker processes
    (``VIDROOM_MEDIA_WORKERS``, default one per core), or with 0 the media server inside this
    process. :func:`stop_media` at shutdown. (The media stack is imported here, not when this
    module is, and in the API process only when it runs media itself.)"""
    settings = state.settings
    events = SeppMediaEvents(store=store_for(settings.media_dir))
    ice = media_ice_servers(settings)
    workers = settings.media_workers
    media: MediaControl
    if workers == 0:
        from vidroom.media.supervisor import MediaSupervisor

        if settings.media_host_addresses:
            _gather_on(settings.media_host_addresses)
        media = MediaSupervisor(events, ice_servers=ice)
    else:
        media = WorkerPool(
            events,
            size=workers if workers is not None else default_size(),
            ice_servers=[
                IceServerSpec(
                    urls=list(s.urls),
                    username=s.username,
                    credential=s.credential,
                )
                for s in ice
            ],
            host_addresses=settings.media_host_addresses,
            heartbeat_timeout=settings.media_heartbeat_seconds,
            log_level=settings.log_level,
        )
    state.media = media  # the room response reads live media state (who presents)
    install(app, state, media, events, config)
    return media


async def start_workers(media: MediaControl) -> None:
    """Start the media worker processes now rather than at the first call (``vidroom serve``
    starts them before it takes requests)."""
    if isinstance(media, WorkerPool):
        await media.start()


def _gather_on(addresses: list[str]) -> None:
    """Make the in-process media server's ICE offer only ``addresses`` as host candidates."""
    import aioice.ice

    ice: Any = aioice.ice
    ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(addresses)


async def stop_media(app: FastAPI) -> None:
    """Shutdown: end dropped calls, close every media room."""
    hub = getattr(app.state, "sepp", None)
    if isinstance(hub, Hub):
        await hub.close()
        close = getattr(hub.media, "close", None)
        if close is not None:
            await close()
