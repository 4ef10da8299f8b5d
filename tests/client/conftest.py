"""``/call`` served with the real media server (aiortc over 127.0.0.1 ICE)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest

from tests.api.eyeson.conftest import acme  # noqa: F401 - the fixture
from tests.api.eyeson.sepp.conftest import FAST, SeppServer, serve_sepp
from vidroom.api.eyeson.sepp.wiring import start_media, stop_media
from vidroom.media.testing import loopback_ice
from vidroom.settings import Settings
from vidroom.state import AppState

RED = (230, 20, 20)
GREEN = (20, 200, 40)
BLUE = (20, 40, 230)


@pytest.fixture(autouse=True)
def _loopback() -> Iterator[None]:
    with loopback_ice():
        yield


@pytest.fixture
async def media_server(settings: Settings, state: AppState) -> AsyncIterator[SeppServer]:
    """The real media server, wired as ``app.py`` does (``start_media``)."""
    async for server in serve_sepp(settings, state, lambda app, st: start_media(app, st, FAST)):
        try:
            yield server
        finally:
            await asyncio.wait_for(stop_media(server.app), 30)


@pytest.fixture
async def inprocess_media_server(settings: Settings, state: AppState) -> AsyncIterator[SeppServer]:
    """The media server inside the test's process (``VIDROOM_MEDIA_WORKERS=0``), for the few
    tests that look at its peers' internals."""
    state.settings = settings.model_copy(update={"media_workers": 0})
    async for server in serve_sepp(
        state.settings, state, lambda app, st: start_media(app, st, FAST)
    ):
        try:
            yield server
        finally:
            await asyncio.wait_for(stop_media(server.app), 30)


def colour_share(frame: Any, rgb: tuple[int, int, int], tolerance: int = 45) -> float:
    """The share of the frame's pixels within ``tolerance`` of ``rgb`` on every channel."""
    picture = frame.to_ndarray(format="rgb24").astype(np.int16)
    close = np.all(np.abs(picture - np.array(rgb, np.int16)) <= tolerance, axis=2)
    return float(close.mean())
