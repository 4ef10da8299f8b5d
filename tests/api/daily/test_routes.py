"""The team API, endpoint by endpoint: success shapes field by field, and every failure."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import bearer, new_token
from vidroom.state import AppState

PIN = re.compile(r"^\d{6}$")


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code


@pytest.fixture
async def owner(state: AppState) -> str:
    return await new_token(state, "owner@example.com")


@pytest.fixture
async def team(client: httpx.AsyncClient, owner: str) -> str:
    response = await client.post("/domains/claim", json={"domain": "acme"}, headers=bearer(owner))
    assert response.status_code == 200, response.text
    return "acme"


async def join(client: httpx.AsyncClient, state: AppState, team: str, email: str) -> str:
    """A member of ``team`` through its invite token, with a developer token."""
    from vidroom.accounts import service as accounts
    from vidroom.teams import service as teams

    async with state.db.uow() as uow:
        found = await teams.get(uow.session, team)
        user = await accounts.get_or_create_user(uow.session, email)
        await teams.join_by_invite(uow.session, user, found.invite_token)
    return await new_token(state, email)


# --- auth --------------------------------------------------------------------------------------


AUTH_CASES = [
    ("GET", "/domains/by-name/acme", None),
    ("POST", "/domains/claim", {"domain": "other"}),
    ("POST", "/domains/by-name/acme/room", {"name": "r"}),
    ("POST", "/domains/by-name/acme/room/r", {"privacy": "public"}),
    ("DELETE", "/domains/by-name/acme/room/r", None),
    ("DELETE", "/domains/by-name/acme/user/owner@example.com", None),
    ("POST", "/domains/by-name/acme/meetings", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), AUTH_CASES)
@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "token_missing"),
        ({"Authorization": "Bearer nope"}, "token_invalid"),
        ({"Authorization": "Bearer "}, "token_invalid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "token_invalid"),
        ({"Authorization": "Bearer " + "x" * 5000}, "token_invalid"),
    ],
)
async def test_every_route_needs_a_valid_token(
    client: httpx.AsyncClient,
    team: str,
    method: str,
    path: str,
    body: object,
    headers: dict[str, str],
    code: str,
) -> None:
    response = await client.request(method, path, json=body, headers=headers)
    assert_error(response, 401, code)


async def test_revoked_token_is_refused(
    client: httpx.AsyncClient, state: AppState, owner: str, team: str
) -> None:
    from vidroom.accounts import service as accounts

    async with state.db.uow() as uow:
        user = await accounts.get_or_create_user(uow.session, "owner@example.com")
        tokens = await accounts.list_developer_tokens(uow.session, user)
        await accounts.revoke_developer_token(uow.session, user, tokens[0].id)
    response = await client.get("/domains/by-name/acme", headers=bearer(owner))
    assert_error(response, 401, "token_revoked")


# --- claim -------------------------------------------------------------------------------------


async def test_claim_returns_the_team(client: httpx.AsyncClient, owner: str) -> None:
    response = await client.post("/domains/claim", json={"domain": "team-1"}, headers=bearer(owner))
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "team-1"
    assert re.fullmatch(r"http://testserver/invite\?tk=[A-Za-z0-9]{12}", body["teamInviteLink"])
    assert body["rooms"] == []
    assert body["users"] == {"owner@example.com": {"email": "owner@example.com", "role": "owner"}}


async def test_claim_accepts_name_and_no_content_type(
    client: httpx.AsyncClient, owner: str
) -> None:
    response = await client.post(
        "/domains/claim",
        content=b'{"name": "team_2", "unknown": [1, 2]}',
        headers={**bearer(owner), "Content-Type": ""},
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "team_2"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "team_name_required"),
        ({"domain": ""}, 400, "team_name_required"),
        ({"domain": "has space"}, 400, "team_name_invalid"),
        ({"domain": "dot.team"}, 400, "team_name_invalid"),
        ({"domain": "ünïcode"}, 400, "team_name_invalid"),
        ({"domain": "<script>"}, 400, "team_name_invalid"),
        ({"domain": "a" * 35}, 400, "team_name_too_long"),
        ({"domain": 123}, 400, "invalid"),
        ({"domain": ["acme"]}, 400, "invalid"),
        ({"domain": None, "name": None}, 400, "team_name_required"),
        ({"domain": "static"}, 409, "team_name_reserved"),
        ({"domain": "acme"}, 409, "team_name_taken"),
        ({"domain": "ACME"}, 409, "team_name_taken"),
    ],
)
async def test_claim_refuses_bad_names(
    client: httpx.AsyncClient, owner: str, team: str, body: object, status: int, code: str
) -> None:
    response = await client.post("/domains/claim", json=body, headers=bearer(owner))
    assert_error(response, status, code)


@pytest.mark.parametrize(
    "raw",
    [b'{"domain": ', b"[1, 2]", b'"acme"', b"\xff\xfe", b"null", b"{" * 10000 + b"}" * 10000],
)
async def test_malformed_json(client: httpx.AsyncClient, owner: str, raw: bytes) -> None:
    response = await client.post(
        "/domains/claim",
        content=raw,
        headers={**bearer(owner), "Content-Type": "application/json"},
    )
    assert_error(response, 400, "malformed_json")


async def test_oversized_body(client: httpx.AsyncClient, owner: str) -> None:
    big = b'{"domain": "' + b"a" * 2_000_000 + b'"}'
    response = await client.post("/domains/claim", content=big, headers=bearer(owner))
    assert_error(response, 413, "body_too_large")


# --- team info ----------------------------------------------------------------------------------


async def test_team_info_shape(
    client: httpx.AsyncClient, state: AppState, owner: str, team: str
) -> None:
    from vidroom.accounts import service as accounts

    member = await join(client, state, team, "Member@Example.com")
    async with state.db.uow() as uow:
        user = await accounts.get_or_create_user(uow.session, "member@example.com")
        await accounts.update_profile(
            uow.session, user, name="Mem Ber", avatar_url="https://img.example.com/m.png"
        )
    await client.post("/domains/by-name/acme/room", json={"name": "room-a"}, headers=bearer(owner))
    for token in (owner, member):
        response = await client.get("/domains/by-name/acme", headers=bearer(token))
        assert response.status_code == 200
        body = response.json()
        assert body["name"] == "acme"
        assert body["teamInviteLink"].startswith("http://testserver/invite?tk=")
        assert [r["name"] for r in body["rooms"]] == ["room-a"]
        room = body["rooms"][0]
        assert PIN.match(room["dialInPIN"])
        assert room["privacy"] == "org"
        assert room["url"] == "http://testserver/acme/room-a"
        assert body["users"] == {
            "owner@example.com": {"email": "owner@example.com", "role": "owner"},
            "member@example.com": {
                "email": "member@example.com",
                "role": "member",
                "name": "Mem Ber",
                "avatarSrc": "https://img.example.com/m.png",
            },
        }


async def test_team_lookup_is_case_insensitive(
    client: httpx.AsyncClient, owner: str, team: str
) -> None:
    response = await client.get("/domains/by-name/AcMe", headers=bearer(owner))
    assert response.status_code == 200
    assert response.json()["name"] == "acme"


async def test_only_members_see_a_team(
    client: httpx.AsyncClient, state: AppState, team: str
) -> None:
    stranger = await new_token(state, "stranger@example.com")
    response = await client.get("/domains/by-name/acme", headers=bearer(stranger))
    assert_error(response, 403, "not_a_member")
    response = await client.get("/domains/by-name/nope", headers=bearer(stranger))
    assert_error(response, 404, "team_not_found")
    response = await client.get("/domains/by-name/" + "a" * 300, headers=bearer(stranger))
    assert_error(response, 404, "team_not_found")


# --- rooms --------------------------------------------------------------------------------------


async def test_create_room(client: httpx.AsyncClient, owner: str, team: str) -> None:
    response = await client.post(
        "/domains/by-name/acme/room", json={"name": "room-a"}, headers=bearer(owner)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "room-a"
    assert PIN.match(body["dialInPIN"])
    assert body["privacy"] == "org"
    response = await client.post(
        "/domains/by-name/acme/room",
        json={"name": "room-b", "privacy": "public"},
        headers=bearer(owner),
    )
    assert response.json()["privacy"] == "public"
    assert response.json()["dialInPIN"] != body["dialInPIN"]


async def test_members_may_create_rooms(
    client: httpx.AsyncClient, state: AppState, team: str
) -> None:
    member = await join(client, state, team, "member@example.com")
    response = await client.post(
        "/domains/by-name/acme/room", json={"name": "standup"}, headers=bearer(member)
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid"),
        ({"name": ""}, 400, "room_name_required"),
        ({"name": "a b"}, 400, "room_name_invalid"),
        ({"name": "a/b"}, 400, "room_name_invalid"),
        ({"name": "../etc"}, 400, "room_name_invalid"),
        ({"name": "x" * 32}, 400, "room_name_too_long"),  # 4 + 32 > 35
        ({"name": 42}, 400, "invalid"),
        ({"name": "ok", "privacy": "secret"}, 400, "invalid"),
        ({"name": "ok", "privacy": 1}, 400, "invalid"),
        ({"name": "room-a"}, 409, "room_name_taken"),
        ({"name": "ROOM-A"}, 409, "room_name_taken"),
    ],
)
async def test_create_room_refuses(
    client: httpx.AsyncClient, owner: str, team: str, body: object, status: int, code: str
) -> None:
    await client.post("/domains/by-name/acme/room", json={"name": "room-a"}, headers=bearer(owner))
    response = await client.post("/domains/by-name/acme/room", json=body, headers=bearer(owner))
    assert_error(response, status, code)


async def test_room_name_length_limit_is_inclusive(
    client: httpx.AsyncClient, owner: str, team: str
) -> None:
    response = await client.post(
        "/domains/by-name/acme/room", json={"name": "x" * 31}, headers=bearer(owner)
    )
    assert response.status_code == 200  # 4 + 31 == 35


async def test_room_in_unknown_team_or_foreign_team(
    client: httpx.AsyncClient, state: AppState, team: str
) -> None:
    other = await new_token(state, "other@example.com")
    await client.post("/domains/claim", json={"domain": "other"}, headers=bearer(other))
    response = await client.post(
        "/domains/by-name/acme/room", json={"name": "sneaky"}, headers=bearer(other)
    )
    assert_error(response, 403, "not_a_member")
    response = await client.post(
        "/domains/by-name/ghost/room", json={"name": "r"}, headers=bearer(other)
    )
    assert_error(response, 404, "team_not_found")


async def test_change_privacy(
    client: httpx.AsyncClient, state: AppState, owner: str, team: str
) -> None:
    await client.post("/domains/by-name/acme/room", json={"name": "r1"}, headers=bearer(owner))
    response = await client.post(
        "/domains/by-name/acme/room/r1", json={"privacy": "private"}, headers=bearer(owner)
    )
    assert response.status_code == 200
    assert response.json() == {"updated": True}
    info = (await client.get("/domains/by-name/acme", headers=bearer(owner))).json()
    assert info["rooms"][0]["privacy"] == "private"

    member = await join(client, state, team, "member@example.com")
    cases = [
        (owner, "/domains/by-name/acme/room/r1", {"privacy": "everyone"}, 400, "invalid"),
        (owner, "/domains/by-name/acme/room/r1", {}, 400, "invalid"),
        (owner, "/domains/by-name/acme/room/nope", {"privacy": "org"}, 404, "room_not_found"),
        (member, "/domains/by-name/acme/room/r1", {"privacy": "public"}, 403, "not_an_owner"),
    ]
    for token, path, body, status, code in cases:
        assert_error(await client.post(path, json=body, headers=bearer(token)), status, code)


async def test_delete_room(
    client: httpx.AsyncClient, state: AppState, owner: str, team: str
) -> None:
    await client.post("/domains/by-name/acme/room", json={"name": "r1"}, headers=bearer(owner))
    member = await join(client, state, team, "member@example.com")
    response = await client.delete("/domains/by-name/acme/room/r1", headers=bearer(member))
    assert_error(response, 403, "not_an_owner")
    response = await client.delete("/domains/by-name/acme/room/r1", headers=bearer(owner))
    assert response.status_code == 200
    assert response.json() == {"deleted": True}
    response = await client.delete("/domains/by-name/acme/room/r1", headers=bearer(owner))
    assert_error(response, 404, "room_not_found")
    info = (await client.get("/domains/by-name/acme", headers=bearer(owner))).json()
    assert info["rooms"] == []
    # the name is free again, with a new PIN allocation
    response = await client.post(
        "/domains/by-name/acme/room", json={"name": "r1"}, headers=bearer(owner)
    )
    assert response.status_code == 200


# --- members ------------------------------------------------------------------------------------


async def test_remove_member(
    client: httpx.AsyncClient, state: AppState, owner: str, team: str
) -> None:
    member = await join(client, state, team, "member@example.com")
    assert (await client.get("/domains/by-name/acme", headers=bearer(member))).status_code == 200
    response = await client.delete(
        "/domains/by-name/acme/user/Member@Example.com", headers=bearer(owner)
    )
    assert response.status_code == 200
    assert response.json() == {"deleted": True}
    response = await client.get("/domains/by-name/acme", headers=bearer(member))
    assert_error(response, 403, "not_a_member")
    info = (await client.get("/domains/by-name/acme", headers=bearer(owner))).json()
    assert list(info["users"]) == ["owner@example.com"]


async def test_remove_member_failures(
    client: httpx.AsyncClient, state: AppState, owner: str, team: str
) -> None:
    member = await join(client, state, team, "member@example.com")
    await join(client, state, team, "third@example.com")
    cases = [
        (owner, "owner@example.com", 409, "last_owner"),
        (owner, "ghost@example.com", 404, "member_not_found"),
        (owner, "not-an-email", 404, "member_not_found"),
        (member, "third@example.com", 403, "not_an_owner"),
        (member, "owner@example.com", 403, "not_an_owner"),
    ]
    for token, email, status, code in cases:
        response = await client.delete(f"/domains/by-name/acme/user/{email}", headers=bearer(token))
        assert_error(response, status, code)
    # a member may leave by themselves
    response = await client.delete(
        "/domains/by-name/acme/user/member@example.com", headers=bearer(member)
    )
    assert response.json() == {"deleted": True}


async def test_an_owner_can_be_removed_while_another_remains(
    client: httpx.AsyncClient, state: AppState, owner: str, team: str
) -> None:
    from vidroom.accounts import service as accounts
    from vidroom.teams import service as teams
    from vidroom.teams.models import Role

    second = await join(client, state, team, "second@example.com")
    async with state.db.uow() as uow:
        found = await teams.get(uow.session, team)
        actor = await accounts.get_or_create_user(uow.session, "owner@example.com")
        await teams.set_role(uow.session, found, actor, "second@example.com", Role.owner)
    response = await client.delete(
        "/domains/by-name/acme/user/owner@example.com", headers=bearer(second)
    )
    assert response.json() == {"deleted": True}
    info = (await client.get("/domains/by-name/acme", headers=bearer(second))).json()
    assert info["users"] == {"second@example.com": {"email": "second@example.com", "role": "owner"}}


# --- routing -------------------------------------------------------------------------------------


async def test_unknown_team_api_route_uses_the_error_shape(
    client: httpx.AsyncClient, owner: str
) -> None:
    response = await client.get("/domains/whatever", headers=bearer(owner))
    assert_error(response, 404)
    response = await client.put("/domains/claim", headers=bearer(owner))
    assert_error(response, 405)


async def test_openapi_documents_every_team_route(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    expected = {
        ("post", "/domains/claim"),
        ("get", "/domains/by-name/{team}"),
        ("post", "/domains/by-name/{team}/room"),
        ("post", "/domains/by-name/{team}/room/{room}"),
        ("delete", "/domains/by-name/{team}/room/{room}"),
        ("delete", "/domains/by-name/{team}/user/{email}"),
        ("post", "/domains/by-name/{team}/meetings"),
    }
    for method, path in expected:
        operation = paths[path][method]
        assert operation["summary"]
        assert "200" in operation["responses"]
        assert "401" in operation["responses"]
    assert paths["/domains/by-name/{team}/room"]["post"]["requestBody"]
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
