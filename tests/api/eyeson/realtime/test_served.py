"""``/rt`` as deployed: the real ``vidroom serve`` process with its default timing, and the
same code behind TLS (``links.websocket`` is an https URL that clients turn into wss)."""

from __future__ import annotations

import ssl
import time
from dataclasses import replace
from pathlib import Path

import httpx

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import PROTOCOLS, Cable, serving
from tests.certs import self_signed
from tests.conftest import LiveServer, free_port
from vidroom.settings import Settings
from vidroom.state import AppState


def websocket_url(link: str) -> str:
    """What the JS and Go clients do with ``links.websocket``."""
    return link.replace("https://", "wss://", 1).replace("http://", "ws://", 1)


async def test_the_served_application(live_server: LiveServer) -> None:
    live_server.cli("teams", "create", "acme", "--owner", "a@example.com")
    api_key = live_server.cli("apikeys", "create", "--team", "acme").splitlines()[-1]
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        created = await http.post(
            "/rooms",
            data={"id": "r1", "user[name]": "Alice"},
            headers={"Authorization": api_key},
        )
        assert created.status_code == 201
        room = created.json()
        assert room["links"]["websocket"].startswith(f"{live_server.url}/rt?access_key=")

        cable = await Cable.open(websocket_url(room["links"]["websocket"]))
        content = await cable.joined()
        assert content["ready"] is True
        observer = await Cable.open(
            websocket_url(f"{live_server.url}/rt?room_id=r1"), protocols=[*PROTOCOLS, api_key]
        )
        assert await observer.frame() == {"type": "welcome"}
        assert (await observer.subscribe())["type"] == "confirm_subscription"
        assert (await observer.message("room_update"))["content"]["id"] == "r1"

        await http.post(
            f"/rooms/{room['access_key']}/messages", data={"type": "chat", "content": "hello"}
        )
        for listener in (cable, observer):
            assert (await listener.message("chat"))["content"] == "hello"
        # Rails' heartbeat: a ping every 3 s
        assert abs(await cable.ping(wait=4) - time.time()) < 5

        assert (await http.delete(f"/rooms/{room['access_key']}")).status_code == 204
        ended = {"type": "disconnect", "reason": "meeting_ended", "reconnect": False}
        assert await cable.frame() == ended
        await cable.closed()
        assert (await observer.message("room_update"))["content"]["shutdown"] is True
        assert await observer.frame() == ended
        await observer.closed()


async def test_behind_tls(
    settings: Settings, state: AppState, acme: TeamKey, tmp_path: Path
) -> None:
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    secure = settings.model_copy(update={"public_url": base})
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    async with (
        serving(
            secure,
            replace(state, settings=secure),
            port,
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
        ),
        httpx.AsyncClient(base_url=base, verify=trust) as http,
    ):
        created = await http.post(
            "/rooms", data={"id": "r1", "user[name]": "Alice"}, headers=acme.auth
        )
        room = created.json()
        link = room["links"]["websocket"]
        assert link == f"{base}/rt?access_key={room['access_key']}"
        cable = await Cable.open(websocket_url(link), ssl=trust)
        content = await cable.joined()
        assert content["links"]["websocket"] == link
        assert content["signaling"]["options"]["endpoint"].startswith("wss://")
        await cable.close()
