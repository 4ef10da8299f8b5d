"""Joining a team room's meeting from its page, ``/{team}/{room}``: who may, the CSRF-guarded
form, the meeting it joins (the meeting API's, keyed on the room's name), and the history."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from markupsafe import escape

from tests.conftest import bearer, new_token
from tests.web.test_join import assert_page
from tests.web.test_pages import (
    ClientFactory,
    create_room,
    create_team,
    csrf,
    invite_token,
    signup,
)
from vidroom.accounts import service as accounts
from vidroom.app import create_app
from vidroom.meetings import live
from vidroom.meetings.models import Meeting, Participant
from vidroom.settings import Settings
from vidroom.state import AppState
from vidroom.teams import service as teams

NAME_INPUT = re.compile(r'id="join-name" name="name"[^>]*value="([^"]*)"')


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


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Logged in as owner@example.com ("Olive Owner"), owning acme: lobby (public), standup
    (org) and board (private)."""
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
    """Logged in as member@example.com (no display name), a member of acme."""
    client = await new_client()
    token = await invite_token(state, "acme")
    await signup(client, "member@example.com", next_path=f"/invite?tk={token}")
    assert (await client.get(f"/invite?tk={token}")).status_code == 303
    return client


@pytest.fixture
async def anonymous(new_client: ClientFactory) -> httpx.AsyncClient:
    client = await new_client()
    await csrf(client)  # a CSRF cookie, as any page gives
    return client


async def enter(client: httpx.AsyncClient, room: str, name: str | None = None) -> httpx.Response:
    """Post the room page's form (with the client's CSRF token)."""
    data = {"csrf_token": await csrf(client)}
    if name is not None:
        data["name"] = name
    return await client.post(f"/acme/{room}", data=data)


def access_key_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/join?"), location
    return location.removeprefix("/join?")


async def meeting_rows(state: AppState) -> list[tuple[Meeting, list[Participant]]]:
    async with state.db.uow() as uow:
        found = []
        for team_meeting in await live.running_meetings(
            uow.session, await teams.get(uow.session, "acme")
        ):
            found.append((team_meeting, list(await live.participants(uow.session, team_meeting))))
        return found


async def account_id(state: AppState, email: str) -> str:
    async with state.db.uow() as uow:
        return (await accounts.get_or_create_user(uow.session, email)).id


# --- the page -----------------------------------------------------------------------------------


async def test_the_page_offers_the_form_and_a_get_joins_nobody(
    member: httpx.AsyncClient, owner: httpx.AsyncClient, state: AppState
) -> None:
    page = await member.get("/acme/standup")
    assert page.status_code == 200
    assert '<form method="post" action="/acme/standup" class="stack">' in page.text
    assert 'name="csrf_token"' in page.text
    # the name is the account's display name, else the email's local part
    assert NAME_INPUT.search(page.text).group(1) == "member"  # type: ignore[union-attr]
    owned = await owner.get("/acme/standup")
    assert NAME_INPUT.search(owned.text).group(1) == "Olive Owner"  # type: ignore[union-attr]
    assert "Nobody yet" in page.text
    # ?name= (the hosted API's embedding parameter) fills it in, escaped
    named = await member.get("/acme/standup", params={"name": 'Mo "<b>"'})
    assert 'value="Mo &#34;&lt;b&gt;&#34;"' in named.text
    assert "<b>" not in named.text
    # link previews and prefetches are GETs: none of them joined
    assert await meeting_rows(state) == []


async def test_a_member_joins_the_rooms_meeting_under_their_account(
    member: httpx.AsyncClient, state: AppState
) -> None:
    response = await enter(member, "standup", "  Mo Member ")
    assert_page(response, 303)
    key = access_key_of(response)
    page = await member.get(f"/join?{key}")
    assert_page(page, 200)
    assert '<span class="name">Mo Member</span>' in page.text
    assert "badge--guest" not in page.text
    assert "/join?guest=" not in page.text  # team rooms have no guest link
    assert key not in page.text

    ((meeting, people),) = await meeting_rows(state)
    assert meeting.room_key == "standup"
    assert meeting.room_name == "standup"
    assert meeting.room_id is not None
    assert meeting.api_key_id is None
    assert meeting.options["guest_token_available"] is False
    assert meeting.ready  # prepared after the join
    (person,) = people
    member_id = await account_id(state, "member@example.com")
    assert (person.account_id, person.user_id, person.guest) == (member_id, member_id, False)

    # the key is a meeting API access key
    room = await member.get(f"/rooms/{key}")
    assert room.status_code == 200
    assert room.json()["room"]["id"] == "standup"
    # joining again is the same participant, with another key
    again = access_key_of(await enter(member, "standup", "Mo"))
    assert again != key
    ((_, people),) = await meeting_rows(state)
    assert [p.id for p in people] == [person.id]
    page = await member.get("/acme/standup")
    assert "Nobody yet" in page.text  # nobody is online until their page connects


async def test_the_meeting_api_and_the_room_page_share_the_meeting(
    owner: httpx.AsyncClient, member: httpx.AsyncClient, state: AppState
) -> None:
    async with state.db.uow() as uow:
        team = await teams.get(uow.session, "acme")
        _, api_key = await teams.create_api_key(uow.session, team, None)
    started = await owner.post(
        "/rooms",
        data={"id": "standup", "user[name]": "Bot", "options[lock_available]": "true"},
        headers={"Authorization": api_key},
    )
    assert started.status_code == 201, started.text
    ak = started.json()["access_key"]
    key = access_key_of(await enter(member, "standup", "Mo"))
    assert (await member.get(f"/rooms/{key}")).json()["room"]["id"] == started.json()["room"]["id"]
    users = await owner.get("/rooms/standup/users", headers={"Authorization": api_key})
    assert sorted(u["name"] for u in users.json()) == ["Bot", "Mo"]

    assert (await owner.post(f"/rooms/{ak}/lock")).status_code == 201
    locked = await enter(owner, "standup", "Olive")
    assert_page(locked, 423)
    assert "The meeting is locked" in locked.text
    # a member who was in before may come back
    assert access_key_of(await enter(member, "standup", "Mo"))


async def test_an_anonymous_visitor_joins_a_public_room_as_a_guest(
    owner: httpx.AsyncClient, anonymous: httpx.AsyncClient, state: AppState
) -> None:
    page = await anonymous.get("/acme/lobby")
    assert page.status_code == 200
    assert NAME_INPUT.search(page.text).group(1) == ""  # type: ignore[union-attr]
    assert "You join as a guest." in page.text
    key = access_key_of(await enter(anonymous, "lobby", "Gus <Guest>"))
    joined = await anonymous.get(f"/join?{key}")
    assert_page(joined, 200)
    assert '<span class="name">Gus &lt;Guest&gt;</span> <span class="badge badge--guest">' in (
        joined.text
    )
    ((_, people),) = await meeting_rows(state)
    (person,) = people
    assert (person.account_id, person.guest, person.name) == (None, True, "Gus <Guest>")
    # a logged-in member is no guest there
    access_key_of(await enter(owner, "lobby", "Olive"))
    ((_, people),) = await meeting_rows(state)
    assert [p.guest for p in people] == [True, False]


@pytest.mark.parametrize("room", ["standup", "board"])
async def test_anonymous_visitors_of_non_public_rooms_are_sent_to_log_in(
    owner: httpx.AsyncClient, anonymous: httpx.AsyncClient, state: AppState, room: str
) -> None:
    for response in [await anonymous.get(f"/acme/{room}"), await enter(anonymous, room, "Eve")]:
        assert response.status_code == 303
        location = urlsplit(response.headers["location"])
        assert location.path == "/login"
        assert parse_qs(location.query) == {"next": [f"/acme/{room}"]}
    login = await anonymous.get("/login?next=/acme/" + room)
    who = "owners" if room == "board" else "members"
    assert f"The room {room} is not public: only {who} of team acme may join it." in login.text
    assert await meeting_rows(state) == []


async def test_people_who_may_not_enter_get_a_403_page(
    member: httpx.AsyncClient, new_client: ClientFactory, state: AppState
) -> None:
    stranger = await new_client()
    await signup(stranger, "stranger@example.com")
    refused = [
        (await enter(stranger, "standup", "S"), "only members of team acme"),
        (await stranger.get("/acme/standup"), "only members of team acme"),
        (await enter(member, "board", "M"), "only owners of team acme"),
        (await member.get("/acme/board"), "only owners of team acme"),
    ]
    for response, why in refused:
        assert response.status_code == 403
        assert "You may not enter" in response.text
        assert why in response.text
    assert await meeting_rows(state) == []
    # a stranger may join a public room, under their account but as the team's guest
    access_key_of(await enter(stranger, "lobby", "S"))
    ((_, (person,)),) = await meeting_rows(state)
    assert person.guest is True
    assert person.account_id == (await account_id(state, "stranger@example.com"))


@pytest.mark.parametrize("path", ["/acme/nope", "/nope/lobby", "/ACME/" + "x" * 64])
async def test_unknown_teams_and_rooms_get_a_404_page(
    member: httpx.AsyncClient, anonymous: httpx.AsyncClient, path: str
) -> None:
    for client in (member, anonymous):
        shown = await client.get(path)
        posted = await client.post(path, data={"csrf_token": await csrf(client), "name": "X"})
        for response in (shown, posted):
            assert response.status_code == 404
            assert response.headers["content-type"].startswith("text/html")
            assert "No such room" in response.text


async def test_the_form_needs_its_csrf_token(
    member: httpx.AsyncClient, new_client: ClientFactory, state: AppState
) -> None:
    token = await csrf(member)
    other = await new_client()
    refused = [
        await member.post("/acme/standup", data={"name": "Mo"}),
        await member.post("/acme/standup", data={"name": "Mo", "csrf_token": "x" * 43}),
        await member.post(
            "/acme/standup",
            data={"name": "Mo", "csrf_token": token},
            headers={"Origin": "https://evil.example"},
        ),
        # another browser's token, without its cookie
        await other.post("/acme/standup", data={"name": "Mo", "csrf_token": token}),
    ]
    for response in refused:
        assert_page(response, 403)
        assert "Request refused" in response.text
    assert await meeting_rows(state) == []
    oversized = await member.post("/acme/standup", data={"name": "x" * 70_000, "csrf_token": token})
    assert oversized.status_code == 413
    assert await meeting_rows(state) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (None, "Name is required."),
        ("", "Name is required."),
        ("   ", "Name is required."),
        ("x" * 201, "Name has at most 200 characters."),
        ("bad\x07name", "Name contains control characters."),
        ("nul\x00byte", "Name contains control characters."),
        ("line\nbreak", "Name contains control characters."),
    ],
)
async def test_a_bad_name_reshows_the_form_with_400(
    anonymous: httpx.AsyncClient,
    owner: httpx.AsyncClient,
    state: AppState,
    name: str | None,
    message: str,
) -> None:
    response = await enter(anonymous, "lobby", name)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert 'role="alert"' in response.text
    assert '<form method="post" action="/acme/lobby"' in response.text
    shown = NAME_INPUT.search(response.text)
    assert shown is not None
    assert "\x00" not in response.text
    assert "\x07" not in response.text
    assert len(html.unescape(shown.group(1))) <= 200
    assert await meeting_rows(state) == []


async def test_hostile_names_are_text(
    anonymous: httpx.AsyncClient, owner: httpx.AsyncClient
) -> None:
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    key = access_key_of(await enter(anonymous, "lobby", hostile))
    page = await owner.get(f"/join?{key}")
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert str(escape(hostile)) in page.text  # as Jinja escapes
    assert (
        "n" * 200
        in (
            await owner.get(f"/join?{access_key_of(await enter(anonymous, 'lobby', 'n' * 200))}")
        ).text
    )


# --- the team API's history ---------------------------------------------------------------------


async def test_the_history_lists_the_members_email(
    member: httpx.AsyncClient, anonymous: httpx.AsyncClient, state: AppState
) -> None:
    keys = [
        access_key_of(await enter(member, "lobby", "Mo")),
        access_key_of(await enter(anonymous, "lobby", "Gus")),
    ]
    for key in keys:  # what their meeting pages' connections do
        async with state.db.uow() as uow:
            _, participant = await live.access(uow.session, key)
            await live.seen(uow, participant, online=True)
    token = await new_token(state, "member@example.com")
    response = await member.post(
        "/domains/by-name/acme/meetings", json={"room": "lobby"}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    (meeting,) = response.json()["meetings"]
    assert meeting["domain"] == "acme"
    assert meeting["room"] == "lobby"
    assert [p["email"] for p in meeting["participants"]] == ["member@example.com", "guest"]
    assert all(p["mtgLeave"] is None for p in meeting["participants"])
    page = await member.get("/acme/lobby")
    assert "2 people" in page.text
