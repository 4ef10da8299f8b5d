"""The meeting API's rooms: every encoding, every status, every field of the room response."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import jwt
import pytest

from tests.api.eyeson.conftest import TeamKey
from vidroom.state import AppState

TOKEN = re.compile(r"^[A-Za-z0-9]{24}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

ROOM_FIELDS = {
    "access_key", "ready", "locked", "room", "team", "user", "links", "options",
    "presentation", "broadcasts", "recording", "snapshots", "playbacks", "signaling",
}  # fmt: skip
OPTION_FIELDS = {
    "show_names", "show_label", "exit_url", "recording_available", "broadcast_available",
    "layout_available", "layout", "reaction_available", "suggest_guest_names", "lock_available",
    "kick_available", "sfu_mode", "layout_users", "layout_name", "layout_map",
    "voice_activation", "custom_fields", "widescreen", "background_color",
}  # fmt: skip


def check_room_response(body: dict[str, Any], *, guest: bool = False) -> None:
    """Every field the spec lists (the Android SDK rejects a response lacking one)."""
    assert set(body) >= ROOM_FIELDS, ROOM_FIELDS - set(body)
    assert TOKEN.match(body["access_key"])
    assert isinstance(body["ready"], bool)
    assert isinstance(body["locked"], bool)
    room = body["room"]
    assert set(room) >= {"id", "name", "ready", "started_at", "shutdown", "guest_token"}
    assert ISO.match(room["started_at"])
    assert room["shutdown"] is False
    assert TOKEN.match(room["guest_token"])
    assert isinstance(body["team"]["name"], str)
    user = body["user"]
    assert set(user) >= {"id", "room_id", "name", "avatar", "guest", "blocked", "ready"}
    assert user["guest"] is guest
    assert user["room_id"] == room["id"]
    links = body["links"]
    assert links["self"] == f"http://testserver/rooms/{body['access_key']}"
    assert links["gui"].endswith(body["access_key"])
    assert links["guest_join"].endswith(f"guest={room['guest_token']}")
    assert links["websocket"] == f"http://testserver/rt?access_key={body['access_key']}"
    assert set(body["options"]) >= OPTION_FIELDS, OPTION_FIELDS - set(body["options"])
    assert re.fullmatch(r"#[0-9a-f]{6}", body["options"]["background_color"])
    assert body["broadcasts"] == []
    assert body["snapshots"] == []
    assert body["presentation"] is None
    assert body["recording"] is None
    signaling = body["signaling"]
    assert signaling["type"] == "sepp"
    options = signaling["options"]
    assert set(options) >= {
        "client_id", "conf_id", "auth_token", "endpoint", "stun_servers", "turn_servers"
    }  # fmt: skip
    assert isinstance(options["stun_servers"], list)
    assert isinstance(options["turn_servers"], list)
    payload = jwt.decode(options["auth_token"], options={"verify_signature": False})
    assert payload["client_id"] == options["client_id"]
    assert payload["conf_id"] == options["conf_id"]
    assert payload["exp"]
    assert "-" not in options["auth_token"].split(".")[1]
    assert "_" not in options["auth_token"].split(".")[1]


async def start(client: httpx.AsyncClient, key: TeamKey, **params: Any) -> dict[str, Any]:
    params.setdefault("user[name]", "Alice")
    response = await client.post("/rooms", params=params, headers=key.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --- POST /rooms: encodings -------------------------------------------------------------------


async def test_query_string_like_the_python_client(
    client: httpx.AsyncClient, acme: TeamKey
) -> None:
    response = await client.post(
        "/rooms",
        params={
            "user[name]": "alice",
            "user[id]": "alice",
            "id": "room1",
            "options[layout]": "custom",
            "options[sfu_mode]": "disabled",
            "options[cupythostom_fields][virtual_background]": "True",
            "options[custom_fields][virtual_background_allow_guest]": "True",
        },
        headers=acme.auth,
    )
    assert response.status_code == 201
    body = response.json()
    check_room_response(body)
    assert body["room"]["id"] == "room1"
    assert body["user"]["id"] == "alice"
    assert body["user"]["name"] == "alice"
    assert body["options"]["layout"] == "custom"
    assert body["options"]["sfu_mode"] == "disabled"
    assert body["options"]["custom_fields"] == {"virtual_background_allow_guest": "True"}
    assert body["team"] == {"name": "acme"}
    assert body["ready"] is False  # the meeting readies right after it starts


@pytest.mark.parametrize(
    "encoding", ["urlencoded", "multipart", "json_nested", "json_brackets", "query"]
)
async def test_every_encoding(client: httpx.AsyncClient, acme: TeamKey, encoding: str) -> None:
    flat = {
        "id": "standup",
        "name": "Daily standup",
        "user[name]": "Bob",
        "user[avatar]": "https://img.example.com/b.png",
        "options[widescreen]": "true",
        "options[show_names]": "false",
        "options[background_color]": "#AABBCC",
        "options[custom_fields][locale]": "de",
    }
    kwargs: dict[str, Any]
    if encoding == "urlencoded":
        kwargs = {"data": flat}
    elif encoding == "multipart":
        kwargs = {"files": {k: (None, v) for k, v in flat.items()}}
    elif encoding == "json_nested":
        kwargs = {
            "json": {
                "id": "standup",
                "name": "Daily standup",
                "user": {"name": "Bob", "avatar": "https://img.example.com/b.png"},
                "options": {
                    "widescreen": True,
                    "show_names": False,
                    "background_color": "#AABBCC",
                    "custom_fields": {"locale": "de"},
                },
            }
        }
    elif encoding == "json_brackets":
        kwargs = {"json": {**flat, "options[widescreen]": True, "options[show_names]": False}}
    else:
        kwargs = {"params": flat}
    response = await client.post("/rooms", headers=acme.auth, **kwargs)
    assert response.status_code == 201, response.text
    body = response.json()
    check_room_response(body)
    assert body["room"]["id"] == "standup"
    assert body["room"]["name"] == "Daily standup"
    assert body["user"]["name"] == "Bob"
    assert body["user"]["avatar"] == "https://img.example.com/b.png"
    assert body["options"]["widescreen"] is True
    assert body["options"]["show_names"] is False
    assert body["options"]["background_color"] == "#aabbcc"
    assert body["options"]["custom_fields"] == {"locale": "de"}


async def test_json_content_type_with_empty_body_and_query(
    client: httpx.AsyncClient, acme: TeamKey
) -> None:
    response = await client.post(
        "/rooms?user%5Bname%5D=Eve",
        headers={**acme.auth, "Content-Type": "application/json"},
        content=b"",
    )
    assert response.status_code == 201
    assert response.json()["user"]["name"] == "Eve"


async def test_defaults_and_invalid_colour(client: httpx.AsyncClient, acme: TeamKey) -> None:
    body = await start(client, acme, **{"options[background_color]": "red"})
    options = body["options"]
    assert options["background_color"] == "#121212"
    assert options["show_names"] is True
    assert options["lock_available"] is False
    assert options["kick_available"] is True
    assert options["widescreen"] is False
    assert options["sfu_mode"] == "ptp"
    assert options["exit_url"] is None
    assert TOKEN.match(body["room"]["id"]) or re.fullmatch(r"[0-9a-f]{24}", body["room"]["id"])


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "user[name] is required"),
        ({"user[name]": "   "}, "user[name] is required"),
        ({"user[name]": "x" * 201}, "at most 200"),
        ({"user[name]": "a\x00b"}, "NUL"),
        ({"user[name]": "ok", "user[avatar]": "javascript:alert(1)"}, "http(s) URL"),
        ({"user[name]": "ok", "id": "a/b"}, "must not contain '/'"),
        ({"user[name]": "ok", "id": "x" * 201}, "at most 200"),
        ({"user[name]": "ok", "options[widescreen]": "maybe"}, "options[widescreen]"),
        ({"user[name]": "ok", "options[sfu_mode]": "mesh"}, "options[sfu_mode]"),
        ({"user[name]": "ok", "options[exit_url]": "ftp://x"}, "exit_url"),
        ({"user[name]": "ok", "user[id]": "a\x01"}, "control"),
    ],
)
async def test_start_refuses_bad_input(
    client: httpx.AsyncClient, acme: TeamKey, params: dict[str, str], fragment: str
) -> None:
    response = await client.post("/rooms", data=params, headers=acme.auth)
    assert response.status_code == 400, response.text
    assert fragment in response.json()["error"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"user": ', "application/json", 400),
        (b"[1,2]", "application/json", 400),
        (b"user[name]=a", "text/xml", 415),
        (b"\xff\xfe", "application/x-www-form-urlencoded", 400),
        (b"--nope\r\n", "multipart/form-data; boundary=xyz", 400),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "application/json", 400),
    ],
)
async def test_malformed_bodies(
    client: httpx.AsyncClient, acme: TeamKey, content: bytes, content_type: str, status: int
) -> None:
    response = await client.post(
        "/rooms", content=content, headers={**acme.auth, "Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert isinstance(response.json()["error"], str)


async def test_oversized_body(client: httpx.AsyncClient, acme: TeamKey) -> None:
    response = await client.post(
        "/rooms", json={"user": {"name": "a" * 2_000_000}}, headers=acme.auth
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "nope"}, {"Authorization": ""}, {"Authorization": "x" * 500}]
)
async def test_api_key_required(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post("/rooms", data={"user[name]": "a"}, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]
    response = await client.get("/rooms", headers=headers)
    assert response.status_code == 403


async def test_revoked_api_key(client: httpx.AsyncClient, state: AppState, acme: TeamKey) -> None:
    from vidroom.teams import service as teams

    async with state.db.uow() as uow:
        _, key = await teams.team_for_api_key(uow.session, acme.key)
        key.revoked_at = key.created_at
    response = await client.post("/rooms", data={"user[name]": "a"}, headers=acme.auth)
    assert response.status_code == 403


# --- joining -----------------------------------------------------------------------------------


async def test_same_id_joins_the_running_meeting(client: httpx.AsyncClient, acme: TeamKey) -> None:
    first = await start(client, acme, id="standup")
    second = await start(client, acme, id="standup", **{"user[name]": "Bob"})
    assert second["room"]["guest_token"] == first["room"]["guest_token"]
    assert second["access_key"] != first["access_key"]
    assert second["user"]["id"] != first["user"]["id"]
    assert second["room"]["started_at"] == first["room"]["started_at"]
    # options are fixed when the meeting starts
    third = await start(client, acme, id="standup", **{"options[widescreen]": "true"})
    assert third["options"]["widescreen"] is False


async def test_same_user_id_is_one_participant(client: httpx.AsyncClient, acme: TeamKey) -> None:
    first = await start(client, acme, id="r", **{"user[id]": "alice-1"})
    again = await start(client, acme, id="r", **{"user[id]": "alice-1", "user[name]": "Alice 2"})
    assert again["user"]["id"] == first["user"]["id"] == "alice-1"
    assert first["signaling"]["options"]["client_id"] == again["signaling"]["options"]["client_id"]
    users = await client.get("/rooms/r/users", headers=acme.auth)
    assert [u["id"] for u in users.json()] == ["alice-1"]
    # both access keys keep working
    for key in (first["access_key"], again["access_key"]):
        assert (await client.get(f"/rooms/{key}")).status_code == 200


async def test_custom_user_id_has_its_own_client_id(
    client: httpx.AsyncClient, acme: TeamKey
) -> None:
    body = await start(client, acme, **{"user[id]": "custom"})
    client_id = body["signaling"]["options"]["client_id"]
    assert client_id != "custom"
    by_user = await client.get(f"/rooms/{body['access_key']}/users/custom")
    by_client = await client.get(f"/rooms/{body['access_key']}/users/{client_id}@legacy.domain")
    assert by_user.status_code == by_client.status_code == 200
    assert by_user.json() == by_client.json()
    assert set(by_user.json()) == {"id", "name", "avatar", "guest", "joined_at"}
    assert (await client.get(f"/rooms/{body['access_key']}/users/nobody")).status_code == 404


async def test_get_room_becomes_ready(
    client: httpx.AsyncClient, state: AppState, acme: TeamKey
) -> None:
    body = await start(client, acme)
    got = await client.get(f"/rooms/{body['access_key']}", headers={"Authorization": "ignored"})
    assert got.status_code == 200
    ready = got.json()
    check_room_response(ready)
    assert ready["ready"] is True
    assert ready["room"]["ready"] is True
    assert ready["user"]["ready"] is True
    assert ready["access_key"] == body["access_key"]
    assert (await client.get("/rooms/" + "x" * 24)).status_code == 404
    assert (await client.get("/rooms/" + "x" * 5000)).status_code in (404, 414)


async def test_list_running_meetings(
    client: httpx.AsyncClient, acme: TeamKey, globex: TeamKey
) -> None:
    await start(client, acme, id="one")
    await start(client, acme, id="two", name="Second")
    await start(client, globex, id="theirs")
    listed = (await client.get("/rooms", headers=acme.auth)).json()
    assert [(r["id"], r["name"]) for r in listed] == [("one", "one"), ("two", "Second")]
    for room in listed:
        assert set(room) == {"id", "name", "ready", "started_at", "shutdown", "guest_token"}


# --- guests ------------------------------------------------------------------------------------


async def test_guest_join(client: httpx.AsyncClient, acme: TeamKey) -> None:
    host = await start(client, acme, id="r")
    token = host["room"]["guest_token"]
    response = await client.post(f"/guests/{token}", params={"name": "Guest"})
    assert response.status_code == 201
    guest = response.json()
    check_room_response(guest, guest=True)
    assert guest["user"]["name"] == "Guest"
    assert guest["room"]["id"] == "r"
    second = {"name": "G2", "id": "g2", "email": "ignored@example.com"}
    response = await client.post(f"/guests/{token}", data=second)
    assert response.status_code == 201
    assert response.json()["user"]["id"] == "g2"
    assert (await client.post(f"/guests/{token}", data={})).status_code == 400
    assert (await client.post("/guests/" + "y" * 24, data={"name": "x"})).status_code == 404
    assert (await client.post("/guests/short", data={"name": "x"})).status_code == 404


async def test_guests_disabled(client: httpx.AsyncClient, acme: TeamKey) -> None:
    host = await start(client, acme, **{"options[guest_token_available]": "false"})
    response = await client.post(f"/guests/{host['room']['guest_token']}", data={"name": "G"})
    assert response.status_code == 405


async def test_lock(client: httpx.AsyncClient, acme: TeamKey) -> None:
    plain = await start(client, acme, id="plain")
    assert (await client.post(f"/rooms/{plain['access_key']}/lock")).status_code == 403
    host = await start(client, acme, id="lockable", **{"options[lock_available]": "true"})
    ak = host["access_key"]
    assert (await client.post(f"/rooms/{ak}/lock")).status_code == 201
    assert (await client.post(f"/rooms/{ak}/lock")).status_code == 201  # idempotent
    assert (await client.get(f"/rooms/{ak}")).json()["locked"] is True
    guest = await client.post(f"/guests/{host['room']['guest_token']}", data={"name": "late"})
    assert guest.status_code == 423
    response = await client.post(
        "/rooms", data={"id": "lockable", "user[name]": "late host"}, headers=acme.auth
    )
    assert response.status_code == 423


# --- users, kick, messages -----------------------------------------------------------------------


async def test_users_list_and_kick(client: httpx.AsyncClient, acme: TeamKey) -> None:
    host = await start(client, acme, id="r")
    guest = (await client.post(f"/guests/{host['room']['guest_token']}", data={"name": "G"})).json()
    users = (await client.get("/rooms/r/users", headers=acme.auth)).json()
    assert [(u["name"], u["guest"], u["online"]) for u in users] == [
        ("Alice", False, False),
        ("G", True, False),
    ]
    assert set(users[0]) == {"id", "room_id", "name", "avatar", "guest", "online"}
    online = await client.get("/rooms/r/users", params={"online": "true"}, headers=acme.auth)
    assert online.json() == []
    offline = await client.get("/rooms/r/users", params={"online": "false"}, headers=acme.auth)
    assert len(offline.json()) == 2
    bad = await client.get("/rooms/r/users", params={"online": "perhaps"}, headers=acme.auth)
    assert bad.status_code == 400
    assert (await client.get("/rooms/nope/users", headers=acme.auth)).status_code == 404
    kicked = await client.delete(f"/rooms/{host['access_key']}/users/{guest['user']['id']}")
    assert kicked.status_code == 200
    assert (await client.delete(f"/rooms/{host['access_key']}/users/nobody")).status_code == 404


async def test_kick_disabled(client: httpx.AsyncClient, acme: TeamKey) -> None:
    host = await start(client, acme, **{"options[kick_available]": "false"})
    response = await client.delete(f"/rooms/{host['access_key']}/users/{host['user']['id']}")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"type": "chat", "content": "hello"}, 201),
        ({"type": "custom", "content": json.dumps({"x": 1})}, 201),
        ({"type": "chat"}, 400),
        ({"content": "x"}, 400),
        ({"type": "shout", "content": "x"}, 400),
        ({"type": "chat", "content": "x" * 10_001}, 400),
    ],
)
async def test_messages(
    client: httpx.AsyncClient, acme: TeamKey, data: dict[str, str], status: int
) -> None:
    host = await start(client, acme)
    response = await client.post(f"/rooms/{host['access_key']}/messages", data=data)
    assert response.status_code == status, response.text
    if status == 201:
        assert response.content == b""


# --- the end ----------------------------------------------------------------------------------


async def test_end_by_access_key_then_everything_is_gone(
    client: httpx.AsyncClient, acme: TeamKey
) -> None:
    host = await start(client, acme, id="r")
    ak, token = host["access_key"], host["room"]["guest_token"]
    assert (await client.delete(f"/rooms/{ak}")).status_code == 204
    for method, path, data in [
        ("GET", f"/rooms/{ak}", None),
        ("POST", f"/rooms/{ak}/messages", {"type": "chat", "content": "x"}),
        ("POST", f"/rooms/{ak}/lock", None),
        ("GET", f"/rooms/{ak}/users/{host['user']['id']}", None),
        ("DELETE", f"/rooms/{ak}/users/{host['user']['id']}", None),
        ("DELETE", f"/rooms/{ak}", None),
        ("POST", f"/guests/{token}", {"name": "late"}),
    ]:
        response = await client.request(method, path, data=data)
        assert response.status_code == 410, (method, path, response.text)
    assert (await client.get("/rooms", headers=acme.auth)).json() == []
    # the same id starts a new meeting
    again = await start(client, acme, id="r")
    assert again["room"]["guest_token"] != token


async def test_end_by_room_id_with_api_key(
    client: httpx.AsyncClient, acme: TeamKey, globex: TeamKey
) -> None:
    await start(client, acme, id="standup")
    assert (await client.delete("/rooms/standup", headers=globex.auth)).status_code == 404
    assert (await client.delete("/rooms/standup")).status_code == 404
    assert (await client.delete("/rooms/standup", headers=acme.auth)).status_code == 204
    assert (await client.delete("/rooms/standup", headers=acme.auth)).status_code == 404


async def test_cors_preflight_on_the_meeting_api(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/rooms",
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    simple = await client.get("/rooms/x" * 1, headers={"Origin": "https://app.example.org"})
    assert simple.headers["access-control-allow-origin"] == "*"
    team_api = await client.options(
        "/domains/claim",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in team_api.headers
