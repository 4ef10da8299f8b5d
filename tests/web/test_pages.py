"""The browser pages through the ASGI app: accounts, CSRF, invite links, the dashboard, rooms."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import bearer
from vidroom.accounts import service as accounts
from vidroom.app import create_app
from vidroom.errors import VidroomError
from vidroom.rooms import service as rooms
from vidroom.settings import Settings
from vidroom.state import AppState
from vidroom.teams import service as teams
from vidroom.teams.names import RESERVED_TEAM_NAMES
from vidroom.web.routes import router

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET_INPUT = re.compile(r'id="secret" type="text" readonly value="([^"]+)"')

ClientFactory = Callable[[], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def new_client(settings: Settings, state: AppState) -> AsyncIterator[ClientFactory]:
    """More browsers (each its own cookie jar) on the same app and database."""
    app = create_app(settings, state)
    async with AsyncExitStack() as stack:

        async def make() -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            return await stack.enter_async_context(client)

        yield make


# --- helpers ------------------------------------------------------------------------------------


async def csrf(client: httpx.AsyncClient) -> str:
    token = client.cookies.get("vidroom_csrf")
    if token is None:
        page = await client.get("/signup")
        match = CSRF_INPUT.search(page.text)
        assert match, page.text
        token = match.group(1)
        assert client.cookies.get("vidroom_csrf") == token
    return token


async def post(
    client: httpx.AsyncClient, path: str, data: dict[str, str] | None = None, **kwargs: object
) -> httpx.Response:
    fields = {"csrf_token": await csrf(client), **(data or {})}
    return await client.post(path, data=fields, **kwargs)  # type: ignore[arg-type]


async def signup(
    client: httpx.AsyncClient, email: str, *, name: str = "", next_path: str | None = None
) -> httpx.Response:
    data = {"email": email, "password": PASSWORD, "name": name}
    if next_path is not None:
        data["next"] = next_path
    response = await post(client, "/signup", data)
    assert response.status_code == 303, response.text
    return response


async def login(
    client: httpx.AsyncClient, email: str, *, next_path: str | None = None
) -> httpx.Response:
    data = {"email": email, "password": PASSWORD}
    if next_path is not None:
        data["next"] = next_path
    return await post(client, "/login", data)


async def create_team(client: httpx.AsyncClient, name: str) -> None:
    response = await post(client, "/dashboard/teams", {"name": name})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/dashboard#team-{name}"


async def create_room(client: httpx.AsyncClient, team: str, name: str, privacy: str) -> None:
    response = await post(
        client, f"/dashboard/teams/{team}/rooms", {"name": name, "privacy": privacy}
    )
    assert response.status_code == 303, response.text


async def invite_token(state: AppState, team: str) -> str:
    async with state.db.uow() as uow:
        return (await teams.get(uow.session, team)).invite_token


async def role_in(state: AppState, team: str, email: str) -> str | None:
    async with state.db.uow() as uow:
        found = await teams.get(uow.session, team)
        for membership, user in await teams.members(uow.session, found):
            if user.email == email:
                return membership.role
    return None


async def follow(client: httpx.AsyncClient, response: httpx.Response) -> httpx.Response:
    """GET the redirect's target (one hop)."""
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"])


def cookie_header(response: httpx.Response, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """``client``, logged in as owner@example.com, owning team acme with three rooms."""
    await signup(client, "owner@example.com", name="Olive Owner")
    await create_team(client, "acme")
    await create_room(client, "acme", "lobby", "public")
    await create_room(client, "acme", "standup", "org")
    await create_room(client, "acme", "board", "private")
    return client


@pytest.fixture
async def member(
    owner: httpx.AsyncClient, new_client: ClientFactory, state: AppState
) -> httpx.AsyncClient:
    """Another browser, logged in as member@example.com, a member of acme."""
    client = await new_client()
    token = await invite_token(state, "acme")
    await signup(client, "member@example.com", next_path=f"/invite?tk={token}")
    joined = await client.get(f"/invite?tk={token}")
    assert joined.status_code == 303
    assert await role_in(state, "acme", "member@example.com") == "member"
    return client


# --- home, sign-up, log-in, log-out -------------------------------------------------------------


async def test_home_redirects_by_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    await signup(client, "ann@example.com")
    response = await client.get("/")
    assert response.headers["location"] == "/dashboard"


async def test_signup_sets_a_session_cookie_and_shows_the_dashboard(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await signup(client, "Ann@Example.com", name="Ann")
    assert response.headers["location"] == "/dashboard"
    cookie = cookie_header(response, "vidroom_session").lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    assert f"max-age={settings.session_days * 86400}" in cookie
    assert "secure" not in cookie  # http:// base URL
    page = await client.get("/dashboard")
    assert page.status_code == 200
    assert "ann@example.com" in page.text
    assert "You are not in a team yet" in page.text


async def test_csrf_cookie_is_http_only_and_matches_the_forms(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    cookie = cookie_header(page, "vidroom_csrf").lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    tokens = set(CSRF_INPUT.findall(page.text))
    assert tokens == {client.cookies["vidroom_csrf"]}
    # once set, it is kept
    again = await client.get("/signup")
    assert "vidroom_csrf" not in again.headers.get("set-cookie", "")
    assert set(CSRF_INPUT.findall(again.text)) == tokens


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    await signup(client, "ann@example.com")
    old_session = client.cookies["vidroom_session"]
    response = await post(client, "/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "vidroom_session" not in client.cookies
    page = await client.get("/login")
    assert "You are logged out." in page.text
    response = await client.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fdashboard"
    # the old cookie is dead on the server too
    client.cookies.set("vidroom_session", old_session)
    assert (await client.get("/dashboard")).status_code == 303


async def test_login_after_logout(client: httpx.AsyncClient) -> None:
    await signup(client, "ann@example.com")
    await post(client, "/logout")
    response = await login(client, "ANN@example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    assert (await client.get("/dashboard")).status_code == 200


async def test_wrong_password_is_refused(client: httpx.AsyncClient) -> None:
    await signup(client, "ann@example.com")
    await post(client, "/logout")
    response = await post(
        client, "/login", {"email": "ann@example.com", "password": "not-the-password"}
    )
    assert response.status_code == 401
    assert "wrong email or password" in response.text
    assert "not-the-password" not in response.text
    assert 'value="ann@example.com"' in response.text  # the email is kept for a retry
    assert "vidroom_session" not in client.cookies
    unknown = await post(client, "/login", {"email": "nobody@example.com", "password": PASSWORD})
    assert unknown.status_code == 401
    assert "wrong email or password" in unknown.text


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"email": "ann@example.com", "password": "short"}, 400, "at least 8 characters"),
        ({"email": "not an email", "password": PASSWORD}, 400, "invalid email address"),
        ({"email": "taken@example.com", "password": PASSWORD}, 409, "log in instead"),
    ],
)
async def test_signup_failures_are_shown_on_the_page(
    client: httpx.AsyncClient, fields: dict[str, str], status: int, message: str
) -> None:
    other = {"email": "taken@example.com", "password": PASSWORD}
    assert (await post(client, "/signup", other)).status_code == 303
    await post(client, "/logout")
    response = await post(client, "/signup", fields)
    assert response.status_code == status
    assert message in response.text
    assert 'role="alert"' in response.text
    assert fields["password"] not in response.text


# --- CSRF and origin ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["missing", "mismatch", "no-cookie"])
async def test_forms_without_a_matching_csrf_token_are_refused(
    client: httpx.AsyncClient, state: AppState, case: str
) -> None:
    await signup(client, "ann@example.com")
    fields = {"name": "acme"}
    if case == "mismatch":
        fields["csrf_token"] = "x" * 43
    elif case == "no-cookie":
        fields["csrf_token"] = client.cookies["vidroom_csrf"]
        client.cookies.delete("vidroom_csrf")
    response = await client.post("/dashboard/teams", data=fields)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "security token" in response.text
    async with state.db.uow() as uow:
        with pytest.raises(VidroomError):
            await teams.get(uow.session, "acme")


async def test_login_form_needs_csrf_too(client: httpx.AsyncClient) -> None:
    await csrf(client)
    response = await client.post("/login", data={"email": "a@example.com", "password": PASSWORD})
    assert response.status_code == 403


async def test_a_foreign_origin_is_refused(client: httpx.AsyncClient) -> None:
    await signup(client, "ann@example.com")
    refused = await post(
        client, "/dashboard/teams", {"name": "acme"}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert "another site" in refused.text
    null = await post(client, "/dashboard/teams", {"name": "acme"}, headers={"Origin": "null"})
    assert null.status_code == 403
    same = await post(
        client, "/dashboard/teams", {"name": "acme"}, headers={"Origin": "http://testserver"}
    )
    assert same.status_code == 303


async def test_the_public_url_origin_is_accepted_behind_a_proxy(
    client: httpx.AsyncClient,
) -> None:
    """A reverse proxy may pass its upstream Host; the configured public URL is still us."""
    await signup(client, "ann@example.com")
    response = await post(
        client,
        "/dashboard/teams",
        {"name": "acme"},
        headers={"Host": "127.0.0.1:8080", "Origin": "http://testserver"},
    )
    assert response.status_code == 303
    refused = await post(
        client,
        "/dashboard/teams",
        {"name": "acme2"},
        headers={"Host": "127.0.0.1:8080", "Origin": "http://127.0.0.2:8080"},
    )
    assert refused.status_code == 403


async def test_an_oversized_form_is_refused(client: httpx.AsyncClient) -> None:
    token = await csrf(client)
    big = {"csrf_token": token, "email": "a@example.com", "password": "p" * 70_000}
    response = await client.post("/signup", data=big)
    assert response.status_code == 413
    assert "Form too large" in response.text
    # without a Content-Length (chunked), the limit holds while reading

    async def chunks() -> AsyncIterator[bytes]:
        yield f"csrf_token={token}&email=a%40example.com&password=".encode()
        for _ in range(20):
            yield b"p" * 4096

    chunked = await client.post(
        "/signup",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 413
    assert "vidroom_session" not in client.cookies


# --- open redirects ----------------------------------------------------------------------------


HOSTILE_NEXT = [
    "//evil.com",
    "https://evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "http:/evil.com",
    "javascript:alert(1)",
    "/%0d%0aSet-Cookie:x=1".replace("%0d%0a", "\r\n"),
    "evil.com/path",
]


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
async def test_hostile_next_values_are_ignored(client: httpx.AsyncClient, hostile: str) -> None:
    page = await client.get("/login", params={"next": hostile})
    assert page.status_code == 200
    assert 'name="next" value=""' in page.text
    response = await signup(client, "ann@example.com", next_path=hostile)
    assert response.headers["location"] == "/dashboard"
    await post(client, "/logout")
    response = await login(client, "ann@example.com", next_path=hostile)
    assert response.headers["location"] == "/dashboard"
    # already logged in: the log-in page forwards, still only to local paths
    forward = await client.get("/login", params={"next": hostile})
    assert forward.headers["location"] == "/dashboard"


async def test_a_local_next_is_followed(client: httpx.AsyncClient) -> None:
    response = await signup(client, "ann@example.com", next_path="/acme/standup?x=1")
    assert response.headers["location"] == "/acme/standup?x=1"


# --- invite links ------------------------------------------------------------------------------


async def test_anonymous_invite_offers_sign_up_and_log_in(
    owner: httpx.AsyncClient, new_client: ClientFactory, state: AppState
) -> None:
    token = await invite_token(state, "acme")
    guest = await new_client()
    page = await guest.get(f"/invite?tk={token}")
    assert page.status_code == 200
    assert "Join team" in page.text
    assert "acme" in page.text
    assert 'action="/signup"' in page.text
    assert 'action="/login"' in page.text
    assert page.text.count(f'name="next" value="/invite?tk={token}"') == 2

    response = await signup(guest, "new@example.com", next_path=f"/invite?tk={token}")
    assert response.headers["location"] == f"/invite?tk={token}"
    joined = await follow(guest, response)
    assert joined.headers["location"] == "/dashboard#team-acme"
    dashboard = await follow(guest, joined)
    assert "You joined acme." in dashboard.text
    assert 'id="team-acme"' in dashboard.text
    assert "You are a member" in dashboard.text
    assert "standup" in dashboard.text
    assert "Olive Owner" in dashboard.text  # the members list
    assert await role_in(state, "acme", "new@example.com") == "member"
    # the notice is shown once
    assert "You joined acme." not in (await guest.get("/dashboard")).text


async def test_anonymous_invite_with_an_existing_account_logs_in_and_joins(
    owner: httpx.AsyncClient, new_client: ClientFactory, state: AppState
) -> None:
    guest = await new_client()
    await signup(guest, "old@example.com")
    await post(guest, "/logout")
    token = await invite_token(state, "acme")
    response = await login(guest, "old@example.com", next_path=f"/invite?tk={token}")
    assert response.status_code == 303
    joined = await follow(guest, response)
    dashboard = await follow(guest, joined)
    assert "You joined acme." in dashboard.text
    assert await role_in(state, "acme", "old@example.com") == "member"


async def test_failed_login_from_an_invite_stays_on_the_invite_page(
    owner: httpx.AsyncClient, new_client: ClientFactory, state: AppState
) -> None:
    guest = await new_client()
    token = await invite_token(state, "acme")
    response = await post(
        guest,
        "/login",
        {"email": "who@example.com", "password": "wrong-password", "next": f"/invite?tk={token}"},
    )
    assert response.status_code == 401
    assert "Join team" in response.text
    assert "wrong email or password" in response.text
    assert await role_in(state, "acme", "who@example.com") is None


async def test_logged_in_invite_joins_directly(
    owner: httpx.AsyncClient, new_client: ClientFactory, state: AppState
) -> None:
    other = await new_client()
    await signup(other, "other@example.com")
    await create_team(other, "globex")
    response = await other.get(f"/invite?tk={await invite_token(state, 'acme')}")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard#team-acme"
    dashboard = await follow(other, response)
    assert "You joined acme." in dashboard.text
    assert 'id="team-acme"' in dashboard.text
    assert 'id="team-globex"' in dashboard.text
    # opening it again is harmless
    again = await other.get(f"/invite?tk={await invite_token(state, 'acme')}")
    assert "already a member" in (await follow(other, again)).text
    assert await role_in(state, "acme", "other@example.com") == "member"


@pytest.mark.parametrize("token", ["", "short", "x" * 12, "x" * 200])
async def test_an_invalid_invite_is_a_clear_404(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get("/invite", params={"tk": token})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "invite link is not valid" in response.text


async def test_a_rotated_invite_link_no_longer_works(
    owner: httpx.AsyncClient, new_client: ClientFactory, state: AppState
) -> None:
    old = await invite_token(state, "acme")
    response = await post(owner, "/dashboard/teams/acme/invite")
    assert response.status_code == 303
    assert "old one no longer works" in (await follow(owner, response)).text
    new = await invite_token(state, "acme")
    assert new != old
    assert f"/invite?tk={new}" in (await owner.get("/dashboard")).text

    guest = await new_client()
    assert (await guest.get(f"/invite?tk={old}")).status_code == 404
    await signup(guest, "late@example.com")
    assert (await guest.get(f"/invite?tk={old}")).status_code == 404
    assert await role_in(state, "acme", "late@example.com") is None
    assert (await guest.get(f"/invite?tk={new}")).status_code == 303
    assert await role_in(state, "acme", "late@example.com") == "member"


# --- the dashboard -----------------------------------------------------------------------------


async def test_dashboard_needs_a_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fdashboard"
    action = await post(client, "/dashboard/teams", {"name": "acme"})
    assert action.status_code == 303
    assert action.headers["location"].startswith("/login")


async def test_owner_dashboard_lists_rooms_members_and_links(
    owner: httpx.AsyncClient, member: httpx.AsyncClient, state: AppState
) -> None:
    page = await owner.get("/dashboard")
    text = page.text
    token = await invite_token(state, "acme")
    assert f'value="http://testserver/invite?tk={token}"' in text
    assert 'data-copy="invite-acme"' in text
    for room, privacy in [("lobby", "public"), ("standup", "org"), ("board", "private")]:
        assert f"http://testserver/acme/{room}" in text
        assert f'action="/dashboard/teams/acme/rooms/{room}/delete"' in text
        assert f'<option value="{privacy}" selected>' in text
    pins = re.findall(r'<code class="pin">(\d{6})</code>', text)
    assert len(pins) == 3
    assert len(set(pins)) == 3
    assert "member@example.com" in text
    assert "Create API key" in text
    assert "Replace invite link" in text


async def test_members_see_no_owner_controls(member: httpx.AsyncClient) -> None:
    text = (await member.get("/dashboard")).text
    assert "You are a member" in text
    assert "/invite?tk=" in text  # members may pass the link on
    assert "Create room" in text  # members may create rooms
    assert "Replace invite link" not in text
    assert "Create API key" not in text
    assert "/delete" not in text
    assert "Leave team" in text


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/dashboard/teams/acme/rooms/standup/delete", {}),
        ("/dashboard/teams/acme/rooms/standup/privacy", {"privacy": "public"}),
        ("/dashboard/teams/acme/invite", {}),
        ("/dashboard/teams/acme/api-keys", {"label": "x"}),
        ("/dashboard/teams/acme/members/remove", {"email": "owner@example.com"}),
    ],
)
async def test_owner_only_actions_are_refused_for_members(
    member: httpx.AsyncClient, state: AppState, path: str, fields: dict[str, str]
) -> None:
    before = await invite_token(state, "acme")
    response = await post(member, path, fields)
    assert response.status_code == 403
    assert "only owners" in response.text
    section = re.search(r'<section[^>]*id="team-acme".*?</section>', response.text, re.S)
    assert section  # shown inline, in the team's own section
    assert 'role="alert"' in section.group(0)
    assert "only owners" in section.group(0)
    assert await invite_token(state, "acme") == before
    async with state.db.uow() as uow:
        team = await teams.get(uow.session, "acme")
        room = await rooms.get(uow.session, team, "standup")
        assert room.privacy == "org"
        owner_user = await accounts.get_or_create_user(uow.session, "owner@example.com")
        assert await teams.list_api_keys(uow.session, team, owner_user) == []
    assert await role_in(state, "acme", "owner@example.com") == "owner"


async def test_members_may_create_rooms(member: httpx.AsyncClient) -> None:
    await create_room(member, "acme", "team-chat", "public")
    assert "http://testserver/acme/team-chat" in (await member.get("/dashboard")).text


async def test_strangers_get_an_inline_error_not_a_500(
    owner: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    stranger = await new_client()
    await signup(stranger, "stranger@example.com")
    response = await post(stranger, "/dashboard/teams/acme/rooms", {"name": "mine"})
    assert response.status_code == 403
    assert "not a member" in response.text
    missing = await post(stranger, "/dashboard/teams/nope/invite")
    assert missing.status_code == 404
    assert "no team named" in missing.text


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("static", 409, "reserved"),
        ("acme", 409, "taken"),
        ("bad name!", 400, "only letters"),
        ("", 400, "required"),
    ],
)
async def test_team_creation_failures_are_inline(
    owner: httpx.AsyncClient, name: str, status: int, message: str
) -> None:
    response = await post(owner, "/dashboard/teams", {"name": name})
    assert response.status_code == status
    assert message in response.text
    assert 'id="new-team"' in response.text


async def test_room_creation_failure_keeps_the_typed_name(owner: httpx.AsyncClient) -> None:
    response = await post(owner, "/dashboard/teams/acme/rooms", {"name": "standup"})
    assert response.status_code == 409
    assert "has a room named" in response.text
    bad = await post(owner, "/dashboard/teams/acme/rooms", {"name": "no spaces", "privacy": "x"})
    assert bad.status_code == 400
    assert 'value="no spaces"' in bad.text


async def test_owner_changes_privacy_and_deletes_rooms(
    owner: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    response = await post(
        owner, "/dashboard/teams/acme/rooms/standup/privacy", {"privacy": "public"}
    )
    assert response.status_code == 303
    assert "standup is now public" in (await follow(owner, response)).text
    anonymous = await new_client()
    assert (await anonymous.get("/acme/standup")).status_code == 200

    response = await post(owner, "/dashboard/teams/acme/rooms/standup/delete")
    assert response.status_code == 303
    assert "Room standup deleted." in (await follow(owner, response)).text
    assert (await anonymous.get("/acme/standup")).status_code == 404
    wrong = await post(owner, "/dashboard/teams/acme/rooms/lobby/privacy", {"privacy": "secret"})
    assert wrong.status_code == 400
    assert "privacy must be one of" in wrong.text


async def test_owner_removes_a_member_and_the_last_owner_stays(
    owner: httpx.AsyncClient, member: httpx.AsyncClient, state: AppState
) -> None:
    response = await post(
        owner, "/dashboard/teams/acme/members/remove", {"email": "member@example.com"}
    )
    assert response.status_code == 303
    assert "member@example.com was removed from acme." in (await follow(owner, response)).text
    assert await role_in(state, "acme", "member@example.com") is None
    assert 'id="team-acme"' not in (await member.get("/dashboard")).text
    assert (await member.get("/acme/standup")).status_code == 403

    last = await post(owner, "/dashboard/teams/acme/members/remove", {"email": "owner@example.com"})
    assert last.status_code == 409
    assert "last owner" in last.text


async def test_members_may_leave(member: httpx.AsyncClient, state: AppState) -> None:
    response = await post(
        member, "/dashboard/teams/acme/members/remove", {"email": "member@example.com"}
    )
    assert response.status_code == 303
    assert "You left acme." in (await follow(member, response)).text
    assert await role_in(state, "acme", "member@example.com") is None


async def test_developer_token_from_the_dashboard_works_until_revoked(
    owner: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await post(owner, "/dashboard/tokens", {"label": "ci script"})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    assert "shown only" in created.text
    match = SECRET_INPUT.search(created.text)
    assert match
    token = match.group(1)
    assert len(token) == 40

    api = await owner.get("/domains/by-name/acme", headers=bearer(token))
    assert api.status_code == 200, api.text
    assert api.json()["name"] == "acme"

    dashboard = (await owner.get("/dashboard")).text
    assert token not in dashboard  # listed by prefix only
    assert f"<code>{token[:6]}…</code>" in dashboard
    assert "ci script" in dashboard
    token_id = re.search(r'action="/dashboard/tokens/([0-9a-f]{24})/revoke"', dashboard)
    assert token_id

    revoked = await post(owner, f"/dashboard/tokens/{token_id.group(1)}/revoke")
    assert revoked.status_code == 303
    page = (await follow(owner, revoked)).text
    assert "revoked" in page
    assert (await owner.get("/domains/by-name/acme", headers=bearer(token))).status_code == 401
    assert token not in caplog.text
    assert PASSWORD not in caplog.text


async def test_api_keys_are_shown_once_and_can_be_revoked(
    owner: httpx.AsyncClient, state: AppState
) -> None:
    created = await post(owner, "/dashboard/teams/acme/api-keys", {"label": "website"})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    match = SECRET_INPUT.search(created.text)
    assert match
    key = match.group(1)
    async with state.db.uow() as uow:
        team, _ = await teams.team_for_api_key(uow.session, key)
        assert team.name == "acme"
    dashboard = (await owner.get("/dashboard")).text
    assert key not in dashboard
    assert "website" in dashboard
    key_id = re.search(r'action="/dashboard/teams/acme/api-keys/([0-9a-f]{24})/revoke"', dashboard)
    assert key_id
    assert (
        await post(owner, f"/dashboard/teams/acme/api-keys/{key_id.group(1)}/revoke")
    ).status_code == 303
    async with state.db.uow() as uow:
        with pytest.raises(VidroomError):
            await teams.team_for_api_key(uow.session, key)
    missing = await post(owner, "/dashboard/teams/acme/api-keys/000000000000000000000000/revoke")
    assert missing.status_code == 404


async def test_profile_update_and_escaping(owner: httpx.AsyncClient) -> None:
    response = await post(
        owner,
        "/dashboard/profile",
        {"name": "<script>alert(1)</script>", "avatar_url": "https://example.com/a.png"},
    )
    assert response.status_code == 303
    page = (await follow(owner, response)).text
    assert "Your profile is saved." in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'src="https://example.com/a.png"' in page
    bad = await post(owner, "/dashboard/profile", {"name": "Olive", "avatar_url": "ftp://x"})
    assert bad.status_code == 400
    assert "http(s) URL" in bad.text
    assert 'value="ftp://x"' in bad.text  # what was typed stays in the form


async def test_a_forged_notice_cookie_is_ignored(owner: httpx.AsyncClient) -> None:
    owner.cookies.set("vidroom_notice", "SGFja2Vk.0000")
    assert "Hacked" not in (await owner.get("/dashboard")).text


# --- room pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("room", "anonymous", "stranger", "member_status", "owner_status"),
    [
        ("lobby", 200, 200, 200, 200),
        ("standup", 303, 403, 200, 200),
        ("board", 303, 403, 403, 200),
    ],
)
async def test_room_page_privacy(
    owner: httpx.AsyncClient,
    member: httpx.AsyncClient,
    new_client: ClientFactory,
    room: str,
    anonymous: int,
    stranger: int,
    member_status: int,
    owner_status: int,
) -> None:
    nobody = await new_client()
    outsider = await new_client()
    await signup(outsider, "outsider@example.com")
    results = {
        "anonymous": await nobody.get(f"/acme/{room}"),
        "stranger": await outsider.get(f"/acme/{room}"),
        "member": await member.get(f"/acme/{room}"),
        "owner": await owner.get(f"/acme/{room}"),
    }
    expected = {
        "anonymous": anonymous,
        "stranger": stranger,
        "member": member_status,
        "owner": owner_status,
    }
    assert {k: r.status_code for k, r in results.items()} == expected
    for response in results.values():
        if response.status_code == 200:
            assert room in response.text
            assert re.search(r'<code class="pin">\d{6}</code>', response.text)
            assert f'<form method="post" action="/acme/{room}"' in response.text
        elif response.status_code == 303:
            location = urlsplit(response.headers["location"])
            assert location.path == "/login"
            assert parse_qs(location.query) == {"next": [f"/acme/{room}"]}
        else:
            assert "You may not enter" in response.text


async def test_room_names_are_case_insensitive_and_unknown_rooms_404(
    owner: httpx.AsyncClient,
) -> None:
    assert (await owner.get("/ACME/Lobby")).status_code == 200
    for path in ["/acme/nope", "/nope/lobby"]:
        response = await owner.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "no room" in response.text.lower()


async def test_after_login_the_room_page_opens(
    owner: httpx.AsyncClient, member: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    guest = await new_client()
    refused = await guest.get("/acme/standup")
    next_path = parse_qs(urlsplit(refused.headers["location"]).query)["next"][0]
    response = await login(guest, "member@example.com", next_path=next_path)
    assert response.headers["location"] == "/acme/standup"
    assert (await follow(guest, response)).status_code == 200


# --- headers and routing -----------------------------------------------------------------------


async def test_security_headers_on_every_page(owner: httpx.AsyncClient) -> None:
    responses = [
        await owner.get("/dashboard"),
        await owner.get("/acme/lobby"),
        await owner.get("/acme/missing"),
        await owner.get("/invite?tk=nope"),
        await owner.get("/"),
        await post(owner, "/dashboard/teams", {"name": "acme"}),
        await owner.post("/logout", data={"csrf_token": "wrong"}),
    ]
    await post(owner, "/logout")
    responses += [await owner.get("/login"), await owner.get("/signup")]
    for response in responses:
        headers = response.headers
        assert headers["content-security-policy"] == (
            "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'"
        ), response.url
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        if response.status_code != 303:
            assert headers["content-type"].startswith("text/html")
            # the CSP forbids inline code: the pages carry none
            assert "<script>" not in response.text
            assert " style=" not in response.text
            assert " onclick=" not in response.text


async def test_the_room_route_shadows_nothing(client: httpx.AsyncClient) -> None:
    last = router.routes[-1]
    assert getattr(last, "path", "") == "/{team:vidroom_team}/{room:vidroom_room}"
    css = await client.get("/static/style.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    js = await client.get("/static/app.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    assert (await client.get("/static/nope.css")).status_code == 404
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert (await client.get("/docs/oauth2-redirect")).status_code == 200
    openapi = await client.get("/openapi.json")
    assert openapi.status_code == 200
    paths = list(openapi.json()["paths"])
    assert not any(p.startswith(("/login", "/dashboard")) for p in paths)
    # every API path starts with a reserved name, which the room route never matches
    first_segments = {p.strip("/").split("/")[0].lower() for p in paths}
    assert first_segments <= RESERVED_TEAM_NAMES, first_segments - RESERVED_TEAM_NAMES
    assert (await client.get("/health")).json() == {"status": "ok"}
    # a team API path answers as the team API, not as a room page
    claim = await client.get("/domains/claim")
    assert claim.status_code == 405
    assert claim.headers["content-type"].startswith("application/json")
