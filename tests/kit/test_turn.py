"""TURN credentials (coturn's shared-secret scheme) and the ICE server list, without a server.

Against a real coturn: tests/test_turn_relay.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from aiortc import RTCIceServer

from vidroom.api.eyeson.sepp.wiring import MEDIA_TURN_LABEL, media_ice_servers
from vidroom.kit import turn
from vidroom.media.supervisor import ice_server
from vidroom.settings import Settings

SECRET = "coturn-static-auth-secret-0123456789"


def configured(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "stun_servers": ["stun:stun.example.com:3478"],
        "turn_servers": ["turn:turn.example.com:3478", "turns:turn.example.com:5349"],
        "turn_secret": SECRET,
        "turn_ttl_seconds": 3600,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_known_answers() -> None:
    """Vectors computed outside Python:
    ``printf %s USERNAME | openssl dgst -sha1 -hmac SECRET -binary | base64``."""
    assert turn.credentials("north-sea-fog", "alice", ttl_seconds=10_000, now=1_699_990_000) == (
        "1700000000:alice",
        "7Nf1UDEVuF5FM+6ssiE+3kFeMuo=",
    )
    assert turn.credentials(
        SECRET, "61fcdca14a23ef000fe41114", ttl_seconds=86400, now=1_700_000_000.9
    ) == ("1700086400:61fcdca14a23ef000fe41114", "RSSzmIxhwqK2+ALA6h3Q9n+mhSc=")


def test_password_is_the_hmac_of_the_username() -> None:
    username, password = turn.credentials(SECRET, "bob", ttl_seconds=60)
    expected = hmac.new(SECRET.encode(), username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(password) == expected
    # another secret, label or expiry gives another password
    assert turn.credentials("other-secret-0123456789", "bob", ttl_seconds=60)[1] != password
    assert turn.credentials(SECRET, "bobby", ttl_seconds=60)[1] != password
    assert turn.credentials(SECRET, "bob", ttl_seconds=61, now=time.time() + 5)[1] != password


def test_expiry_honours_the_ttl() -> None:
    before = int(time.time())
    username, _ = turn.credentials(SECRET, "carol", ttl_seconds=3600)
    after = int(time.time())
    assert before + 3600 <= turn.expiry(username) <= after + 3600
    assert username.endswith(":carol")
    with pytest.raises(ValueError, match="positive"):
        turn.credentials(SECRET, "carol", ttl_seconds=0)
    with pytest.raises(ValueError, match="no TURN secret"):
        turn.credentials("", "carol", ttl_seconds=60)


@pytest.mark.parametrize(
    "label", ["", "a:b", "a b", "ü", "a/b", "a\nb", "a\x00", "x" * 129, "1700000000:x"]
)
def test_labels_that_are_refused(label: str) -> None:
    with pytest.raises(ValueError, match="label"):
        turn.credentials(SECRET, label, ttl_seconds=60)


@pytest.mark.parametrize(
    "label", ["vidroom-media", "61fcdca14a23ef000fe41114", "user@example.com", "a.b_c-d", "x" * 128]
)
def test_labels_that_are_taken(label: str) -> None:
    username, _ = turn.credentials(SECRET, label, ttl_seconds=60)
    assert username.split(":", 1)[1] == label


def test_no_servers_configured() -> None:
    settings = configured(stun_servers=[], turn_servers=[], turn_secret=None)
    assert turn.ice_servers(settings, "alice") == []
    assert media_ice_servers(settings) == []


def test_ice_servers_for_a_participant() -> None:
    settings = configured()
    stun, relay = turn.ice_servers(settings, "alice", now=1_700_000_000)
    assert stun == turn.IceServer(urls=("stun:stun.example.com:3478",))
    assert relay.urls == ("turn:turn.example.com:3478", "turns:turn.example.com:5349")
    assert relay.username == "1700003600:alice"
    assert (
        relay.credential
        == turn.credentials(SECRET, "alice", ttl_seconds=3600, now=1_700_000_000)[1]
    )
    # only STUN, only TURN
    assert turn.ice_servers(configured(turn_servers=[]), "alice") == [stun]
    only_turn = turn.ice_servers(configured(stun_servers=[]), "alice")
    assert [s.urls for s in only_turn] == [relay.urls]


def test_media_server_credential_is_long_lived() -> None:
    (_, relay) = media_ice_servers(configured())
    assert relay.username is not None
    assert relay.username.endswith(f":{MEDIA_TURN_LABEL}")
    assert turn.expiry(relay.username) > time.time() + 5 * 365 * 86400


def test_ice_server_conversion_for_aiortc() -> None:
    stun, relay = turn.ice_servers(configured(), "alice")
    assert ice_server(stun) == RTCIceServer(urls=["stun:stun.example.com:3478"])
    assert ice_server(relay) == RTCIceServer(
        urls=list(relay.urls), username=relay.username, credential=relay.credential
    )
    # the meeting API's shape (password) and a plain mapping (credential)
    as_api = {"urls": ["turn:t.example"], "username": "u", "password": "p"}
    assert ice_server(as_api) == RTCIceServer(urls=["turn:t.example"], username="u", credential="p")
    as_js = {"urls": "turn:t.example", "username": "u", "credential": "p"}
    assert ice_server(as_js) == RTCIceServer(urls=["turn:t.example"], username="u", credential="p")
    assert ice_server("stun:s.example") == RTCIceServer(urls="stun:s.example")
    same = RTCIceServer(urls="stun:s.example")
    assert ice_server(same) is same
    for bad in ({}, {"urls": []}, {"urls": [1]}, {"urls": "turn:t", "username": 5}):
        with pytest.raises(TypeError):
            ice_server(bad)
