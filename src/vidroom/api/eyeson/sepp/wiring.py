"""Installs media signalling into an application.

``app.py`` calls :func:`start_media` in its lifespan and :func:`stop_media` at shutdown, or
builds the media server itself with ``events`` (the media server reports through it) and calls
:func:`install`::

    events = SeppMediaEvents()
    media = MediaSupervisor(events)
    install(app, state, media, events)
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from fastapi import FastAPI

from vidroom.api.eyeson.sepp.config import SeppConfig
from vidroom.api.eyeson.sepp.events import SeppMediaEvents
from vidroom.api.eyeson.sepp.hub import Hub
from vidroom.api.eyeson.sepp.router import router
from vidroom.media.contract import MediaControl

if TYPE_CHECKING:
    from vidroom.media.supervisor import MediaSupervisor
from vidroom.state import AppState

_TOKEN_QUERY = re.compile(r"(auth_token=)[^&\s\"]*", re.IGNORECASE)
_LOGGERS = ("uvicorn.error", "uvicorn.access")


class RedactAuthToken(logging.Filter):
    """``/call?auth_token=`` puts a credential in the request line: keep it out of logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _TOKEN_QUERY.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        if isinstance(record.msg, str) and "auth_token=" in record.msg:
            record.msg = _TOKEN_QUERY.sub(r"\1[redacted]", record.msg)
        return True


_FILTER = RedactAuthToken()


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
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return hub


def start_media(app: FastAPI, state: AppState, config: SeppConfig | None = None) -> MediaSupervisor:
    """The embedded media server, serving ``/call`` on ``app``; ``await media.close()`` at
    shutdown. (The media stack is imported here, not when this module is.)"""
    from vidroom.media.supervisor import MediaSupervisor

    events = SeppMediaEvents()
    media = MediaSupervisor(events)
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
