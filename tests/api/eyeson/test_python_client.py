"""The PyPI package ``eyeson`` (0.0.6), unchanged, pointed at a running vidroom."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from eyeson.eyeson import EyesonClient

from tests.conftest import LiveServer


@pytest.fixture
def receiver() -> Iterator[str]:
    """A real HTTP endpoint for the webhook (deliveries are checked in the webhook tests)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def test_the_official_python_client(live_server: LiveServer, receiver: str) -> None:
    live_server.kill()
    live_server.env["VIDROOM_WEBHOOKS_ALLOW_PRIVATE"] = "1"
    live_server.start()
    live_server.cli("teams", "create", "acme", "--owner", "owner@example.com")
    api_key = live_server.cli("apikeys", "create", "--team", "acme").splitlines()[-1]

    # create_room requires 201 (it crashes otherwise), and uses the room id "room1"
    client = EyesonClient.create_room("alice", api_key, base_url=live_server.url)
    details = client.room_details
    assert details["room"]["id"] == "room1"
    assert details["user"]["id"] == "alice"
    assert details["options"]["sfu_mode"] == "disabled"

    room = client.get_room_details()
    assert room["access_key"] == client.access_key
    assert room["ready"] is True

    assert client.broadcast_message("hello from python") == ""  # 201, no body

    client.authenticate(api_key)
    rooms = client.get_rooms()
    assert [r["id"] for r in rooms] == ["room1"]

    assert client.get_webhooks() is None
    client.create_webhook(receiver)  # the client sends no `types`: all of them
    hook = client.get_webhooks()
    assert hook["url"] == receiver
    assert "room_update" in hook["types"]

    # `register_guest` is a classmethod bound to the hosted service's URL; its instance method
    # `join_guest` takes the base URL like every other call.
    link = urlparse(details["links"]["guest_join"])
    assert link.path == "/join"
    token = parse_qs(link.query)["guest"][0]
    guest = EyesonClient(base_url=live_server.url)
    joined = json.loads(guest.join_guest(token))
    assert joined["user"]["guest"] is True
    assert joined["user"]["name"] == "Guest"
    guest.access_key = joined["access_key"]
    assert guest.get_room_details()["room"]["id"] == "room1"
