"""A real uvicorn server in the test's event loop (so tests can tune the realtime service and
reach its bus), and an ActionCable client speaking over a real websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.api.eyeson.conftest import TeamKey
from tests.conftest import free_port
from vidroom.api.eyeson.realtime.config import Realtime, RealtimeConfig
from vidroom.app import create_app
from vidroom.settings import Settings
from vidroom.state import AppState

PROTOCOLS = ["actioncable-v1-json", "actioncable-unsupported"]
ROOM = json.dumps({"channel": "RoomChannel"})
USER = json.dumps({"channel": "UserChannel"})
TIMEOUT = 5.0


@dataclass
class RtServer:
    port: int
    state: AppState
    realtime: Realtime
    http: httpx.AsyncClient

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/rt"

    async def room(self, key: TeamKey, user: str, room_id: str = "r1", **extra: str) -> Any:
        """``POST /rooms`` as ``user``: the room response."""
        data = {"id": room_id, "user[name]": user, "user[id]": user, **extra}
        response = await self.http.post("/rooms", data=data, headers=key.auth)
        assert response.status_code == 201, response.text
        return response.json()

    async def participant(self, access_key: str, **kwargs: Any) -> Cable:
        return await Cable.open(f"{self.ws}?access_key={access_key}", **kwargs)

    async def observer(self, key: TeamKey, room_id: str = "r1") -> Cable:
        """A Meeting Observer (API key in ``Authorization``), subscribed: its first
        ``room_update`` is in ``cable.first``."""
        cable = await Cable.open(f"{self.ws}?room_id={room_id}", additional_headers=key.auth)
        assert await cable.frame() == {"type": "welcome"}
        assert (await cable.subscribe())["type"] == "confirm_subscription"
        cable.first = await cable.message("room_update")
        return cable


FAST = RealtimeConfig(ping_seconds=0.3, presence_seconds=0.5, close_seconds=1)


@asynccontextmanager
async def serving(
    settings: Settings, state: AppState, port: int, **options: Any
) -> AsyncIterator[Realtime]:
    """uvicorn serving the app on ``port`` in this event loop, with a fast realtime service."""
    app = create_app(settings, state)
    realtime = Realtime(FAST)
    app.state.realtime = realtime
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=5,
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped")
            await asyncio.sleep(0.01)
        yield realtime
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def rt_server(settings: Settings, state: AppState) -> AsyncIterator[RtServer]:
    port = free_port()
    async with (
        serving(settings, state, port) as realtime,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        yield RtServer(port, state, realtime, http)


@dataclass
class Cable:
    """An ActionCable client: frames in arrival order, pings counted and skipped."""

    conn: ClientConnection
    pings: list[int] = field(default_factory=list)
    first: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def open(cls, url: str, protocols: list[str] | None = None, **kwargs: Any) -> Cable:
        offered: Any = PROTOCOLS if protocols is None else protocols
        return cls(await connect(url, subprotocols=offered, open_timeout=TIMEOUT, **kwargs))

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.conn.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def frame(self, wait: float = TIMEOUT) -> dict[str, Any]:
        """The next frame that is not a ping."""
        async with asyncio.timeout(wait):
            while True:
                decoded: dict[str, Any] = json.loads(await self.conn.recv())
                if decoded.get("type") == "ping":
                    self.pings.append(decoded["message"])
                    continue
                return decoded

    async def ping(self, wait: float = TIMEOUT) -> int:
        """The next ping's time (other frames are skipped)."""
        async with asyncio.timeout(wait):
            while True:
                decoded = json.loads(await self.conn.recv())
                if decoded.get("type") == "ping":
                    stamp: int = decoded["message"]
                    assert isinstance(stamp, int)
                    return stamp

    async def message(self, kind: str, wait: float = TIMEOUT) -> dict[str, Any]:
        """The next event message of type ``kind`` (other frames are skipped)."""
        async with asyncio.timeout(wait):
            while True:
                frame = await self.frame(wait)
                message = frame.get("message")
                if isinstance(message, dict) and message.get("type") == kind:
                    assert frame["identifier"] == ROOM
                    return message

    async def subscribe(self, identifier: str = ROOM) -> dict[str, Any]:
        """Subscribe and return the confirmation frame."""
        await self.send({"command": "subscribe", "identifier": identifier})
        return await self.frame()

    async def joined(self) -> dict[str, Any]:
        """welcome, RoomChannel + UserChannel confirmed: the ``room_setup`` content."""
        assert await self.frame() == {"type": "welcome"}
        confirm = await self.subscribe(ROOM)
        assert confirm == {"identifier": ROOM, "type": "confirm_subscription"}
        setup = await self.frame()
        assert setup["message"]["type"] == "room_setup"
        assert await self.subscribe(USER) == {
            "identifier": USER,
            "type": "confirm_subscription",
        }
        content: dict[str, Any] = setup["message"]["content"]
        return content

    async def act(self, data: dict[str, Any], identifier: str = ROOM) -> None:
        await self.send({"command": "message", "identifier": identifier, "data": json.dumps(data)})

    async def closed(self, wait: float = TIMEOUT) -> None:
        """Wait for the server to close the socket (frames before it are discarded)."""
        async with asyncio.timeout(wait):
            try:
                while True:
                    await self.conn.recv()
            except ConnectionClosed:
                return

    async def close(self) -> None:
        await self.conn.close()
