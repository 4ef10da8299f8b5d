"""A real uvicorn server in the test's event loop serving ``/call`` with a media server, and a
raw SEPP client over a real websocket. ICE runs on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from aiortc import RTCConfiguration, RTCPeerConnection
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.sepp.stub_media import StubMedia
from tests.conftest import free_port
from vidroom.api.eyeson.sepp.config import SeppConfig
from vidroom.api.eyeson.sepp.events import SeppMediaEvents
from vidroom.api.eyeson.sepp.hub import Hub
from vidroom.api.eyeson.sepp.wiring import install, stop_media
from vidroom.app import create_app
from vidroom.media.contract import MediaControl
from vidroom.media.testing import loopback_ice
from vidroom.settings import Settings
from vidroom.state import AppState

TIMEOUT = 10.0
FAST = SeppConfig(presence_seconds=0.5, start_seconds=1.0, close_seconds=1.0, resume_seconds=1.5)

Installer = Callable[[Any, AppState], MediaControl]  # (app, state) → the media server


@pytest.fixture(autouse=True)
def _loopback() -> Iterator[None]:
    with loopback_ice():
        yield


@dataclass
class SeppServer:
    port: int
    app: Any
    state: AppState
    hub: Hub
    media: Any
    http: httpx.AsyncClient

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/call"

    async def room(self, key: TeamKey, user: str, room_id: str = "r1", **extra: str) -> Any:
        """``POST /rooms`` as ``user``, then ``GET /rooms/<ak>`` until ready."""
        data = {"id": room_id, "user[name]": user, "user[id]": user, **extra}
        response = await self.http.post("/rooms", data=data, headers=key.auth)
        assert response.status_code == 201, response.text
        access_key = response.json()["access_key"]
        async with asyncio.timeout(TIMEOUT):
            while True:
                room = (await self.http.get(f"/rooms/{access_key}")).json()
                if room["ready"]:
                    return room
                await asyncio.sleep(0.02)

    async def sock(self, room: Any, **kwargs: Any) -> Sock:
        options = room["signaling"]["options"]
        conn = await connect(
            f"{options['endpoint']}?auth_token={options['auth_token']}",
            open_timeout=TIMEOUT,
            **kwargs,
        )
        return Sock(conn, options["client_id"], options["conf_id"])


def install_stub(app: Any, state: AppState) -> MediaControl:
    events = SeppMediaEvents()
    media = StubMedia(events)
    install(app, state, media, events, FAST)
    return media


async def serve_sepp(
    settings: Settings, state: AppState, installer: Installer
) -> AsyncIterator[SeppServer]:
    port = free_port()
    state.settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    app = create_app(state.settings, state)
    media = installer(app, state)
    hub = app.state.sepp
    async with (
        serving_app(app, port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        yield SeppServer(port, app, state, hub, media, http)


@asynccontextmanager
async def serving_app(app: Any, port: int) -> AsyncIterator[None]:
    """uvicorn serving ``app`` on ``port`` in this event loop."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped")
            await asyncio.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, 30)
        except TimeoutError:
            pytest.fail("the server did not stop within 30 s")


@pytest.fixture
async def sepp(settings: Settings, state: AppState) -> AsyncIterator[SeppServer]:
    """``/call`` with the stub media server."""
    async for server in serve_sepp(settings, state, install_stub):
        try:
            yield server
        finally:
            await asyncio.wait_for(stop_media(server.app), 30)


@dataclass
class Sock:
    """A raw SEPP client: envelopes in arrival order."""

    conn: ClientConnection
    client_id: str
    conf_id: str
    received: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, kind: str, data: Any, **envelope: Any) -> None:
        frame = {
            "type": kind,
            "msg_id": str(uuid.uuid4()),
            "from": self.client_id,
            "to": self.conf_id,
            "data": data,
            **envelope,
        }
        await self.conn.send(json.dumps(frame))

    async def frame(self) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT):
            message: dict[str, Any] = json.loads(await self.conn.recv())
        self.received.append(message)
        return message

    async def expect(self, kind: str) -> dict[str, Any]:
        """The next message of ``kind`` (others before it are skipped)."""
        while True:
            message = await self.frame()
            if message["type"] == kind:
                return message

    async def seen(self, kind: str, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The ``data`` of a message of ``kind`` that satisfies ``predicate``: received already,
        or waited for."""
        for message in self.received:
            if message["type"] == kind and predicate(message["data"]):
                return dict(message["data"])
        while True:
            message = await self.frame()
            if message["type"] == kind and predicate(message["data"]):
                return dict(message["data"])

    async def closed(self) -> None:
        """Reads until the server closes the socket."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                try:
                    await self.frame()
                except ConnectionClosed:
                    return

    async def start(self, sdp: str, **data: Any) -> dict[str, Any]:
        """``call_start``: the answer (``call_accepted``) or refusal (``call_rejected``)."""
        await self.send(
            "call_start",
            {
                "sdp": {"type": "offer", "sdp": sdp},
                "display_name": "Tester",
                "mute_video": False,
                "platform": "web-1.9.6",
                **data,
            },
        )
        while True:
            message = await self.frame()
            if message["type"] in ("call_accepted", "call_rejected"):
                return message


@dataclass
class Offer:
    pc: RTCPeerConnection
    sdp: str


async def make_offer() -> Offer:
    """A browser-like offer: audio, video (receive-only) and the negotiated data channel."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    pc.createDataChannel("data", negotiated=True, id=0)
    await pc.setLocalDescription(await pc.createOffer())
    return Offer(pc, pc.localDescription.sdp)


@pytest.fixture
async def offers() -> AsyncIterator[Callable[[], Any]]:
    made: list[Offer] = []

    async def new() -> Offer:
        offer = await make_offer()
        made.append(offer)
        return offer

    yield new
    for offer in made:
        await offer.pc.close()
