"""The room response's ICE servers: ``signaling.options.stun_servers`` (always an array of URLs)
and ``turn_servers`` (``{urls, username, password}`` with fresh coturn credentials per response,
labelled with the participant's client id)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from tests.api.eyeson.conftest import TeamKey
from vidroom.kit import turn
from vidroom.settings import Settings

SECRET = "coturn-static-auth-secret-0123456789"
STUN = ["stun:stun.example.com:3478", "stun:[2001:db8::1]:3478"]
TURN = ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349?transport=tcp"]
TTL = 600


@pytest.fixture
def ice_configured() -> bool:
    """Overridden by ``@ice`` (a direct parametrisation of this name)."""
    return False


@pytest.fixture
def settings(settings: Settings, ice_configured: bool) -> Settings:
    """The shared settings, with STUN/TURN configured for tests marked ``@ice``."""
    if not ice_configured:
        return settings
    return Settings(  # validated like a real configuration
        **{
            **settings.model_dump(),
            "stun_servers": STUN,
            "turn_servers": TURN,
            "turn_secret": SECRET,
            "turn_ttl_seconds": TTL,
        }
    )


ice = pytest.mark.parametrize("ice_configured", [True], ids=["ice"])


async def start(client: httpx.AsyncClient, key: TeamKey, **params: str) -> dict[str, Any]:
    response = await client.post("/rooms", data={"user[name]": "Alice", **params}, headers=key.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def options_of(body: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = body["signaling"]["options"]
    return options


def check_turn_entry(entry: dict[str, Any], client_id: str, *, now: float) -> None:
    assert set(entry) == {"urls", "username", "password"}
    assert entry["urls"] == TURN
    expiry, label = entry["username"].split(":")
    assert label == client_id
    assert now + TTL - 2 <= int(expiry) <= now + TTL + 2
    digest = hmac.new(SECRET.encode(), entry["username"].encode(), hashlib.sha1).digest()
    assert entry["password"] == base64.b64encode(digest).decode()


async def test_empty_by_default(client: httpx.AsyncClient, acme: TeamKey) -> None:
    body = await start(client, acme)
    options = options_of(body)
    assert options["stun_servers"] == []
    assert options["turn_servers"] == []
    again = (await client.get(f"/rooms/{body['access_key']}")).json()
    assert options_of(again)["stun_servers"] == []
    assert options_of(again)["turn_servers"] == []
    guest = await client.post(f"/guests/{body['room']['guest_token']}", data={"name": "Gus"})
    assert guest.status_code == 201, guest.text
    assert options_of(guest.json())["stun_servers"] == []
    assert options_of(guest.json())["turn_servers"] == []


@ice
async def test_configured_servers(client: httpx.AsyncClient, acme: TeamKey) -> None:
    now = time.time()
    body = await start(client, acme, **{"user[id]": "alice@example.com"})
    options = options_of(body)
    assert options["stun_servers"] == STUN
    assert all(isinstance(url, str) for url in options["stun_servers"])
    [entry] = options["turn_servers"]
    # labelled with the signalling client id (a generated id), not the custom user id
    assert options["client_id"] != body["user"]["id"]
    check_turn_entry(entry, options["client_id"], now=now)
    # the same on GET /rooms/<access_key> (what clients fetch before every reconnect)
    again = options_of((await client.get(f"/rooms/{body['access_key']}")).json())
    assert again["stun_servers"] == STUN
    check_turn_entry(again["turn_servers"][0], options["client_id"], now=time.time())


@ice
async def test_credentials_differ_per_participant(client: httpx.AsyncClient, acme: TeamKey) -> None:
    alice = await start(client, acme, id="standup")
    bob = await start(client, acme, id="standup", **{"user[name]": "Bob"})
    assert alice["room"]["id"] == bob["room"]["id"]
    guest = await client.post(f"/guests/{alice['room']['guest_token']}", data={"name": "Gus"})
    entries = {}
    for body in (alice, bob, guest.json()):
        options = options_of(body)
        check_turn_entry(options["turn_servers"][0], options["client_id"], now=time.time())
        entries[options["client_id"]] = options["turn_servers"][0]
    assert len(entries) == 3
    assert len({e["username"] for e in entries.values()}) == 3
    assert len({e["password"] for e in entries.values()}) == 3


@ice
async def test_fresh_credentials_on_every_response(
    client: httpx.AsyncClient, acme: TeamKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1_900_000_000.0]
    monkeypatch.setattr(turn, "time", SimpleNamespace(time=lambda: clock[0]))
    body = await start(client, acme)
    first = options_of(body)["turn_servers"][0]
    assert turn.expiry(first["username"]) == 1_900_000_000 + TTL
    clock[0] += TTL + 1  # the first credential has expired by now
    later = options_of((await client.get(f"/rooms/{body['access_key']}")).json())
    second = later["turn_servers"][0]
    assert turn.expiry(second["username"]) == 1_900_000_000 + 2 * TTL + 1
    assert second["password"] != first["password"]
    assert second["username"].split(":")[1] == first["username"].split(":")[1]
