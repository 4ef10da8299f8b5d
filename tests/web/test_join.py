"""The meeting page, /join: the meeting API's ``links.gui`` and ``links.guest_join``."""

from __future__ import annotations

import html
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.eyeson.conftest import TeamKey, make_team_key
from vidroom.app import create_app
from vidroom.meetings import live
from vidroom.settings import Settings
from vidroom.state import AppState

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
GUEST_INPUT = re.compile(r'name="guest" value="([^"]+)"')
CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'"
)


@pytest.fixture
async def acme(state: AppState) -> TeamKey:
    return await make_team_key(state, "acme")


async def start(
    client: httpx.AsyncClient,
    team: TeamKey,
    user: str = "Alice",
    *,
    room: str = "standup",
    name: str = "Daily standup",
    **options: str,
) -> dict[str, Any]:
    data = {"id": room, "name": name, "user[name]": user}
    data |= {f"options[{k}]": v for k, v in options.items()}
    response = await client.post("/rooms", data=data, headers=team.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def local(link: str) -> str:
    """A link of the room response as a path on the test app."""
    parts = urlsplit(link)
    assert parts.netloc == "testserver"
    return f"{parts.path}?{parts.query}"


async def guest_form(client: httpx.AsyncClient, meeting: dict[str, Any]) -> str:
    """Open the guest link; the form's CSRF token."""
    page = await client.get(local(meeting["links"]["guest_join"]))
    assert page.status_code == 200, page.text
    match = CSRF_INPUT.search(page.text)
    assert match, page.text
    return match.group(1)


async def join_as_guest(
    client: httpx.AsyncClient, meeting: dict[str, Any], name: str
) -> httpx.Response:
    token = await guest_form(client, meeting)
    guest = meeting["room"]["guest_token"]
    return await client.post("/join", data={"csrf_token": token, "guest": guest, "name": name})


def assert_page(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    headers = response.headers
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == CSP
    assert headers["x-frame-options"] == "DENY"
    if status != 303:
        assert headers["content-type"].startswith("text/html")
        assert '<meta name="referrer" content="no-referrer">' in response.text
        assert "<script>" not in response.text
        assert " style=" not in response.text


# --- a participant's view ------------------------------------------------------------------------


async def test_the_host_sees_the_meeting_and_its_participants(
    client: httpx.AsyncClient, acme: TeamKey, state: AppState
) -> None:
    alice = await start(client, acme, "Alice", name="Daily <standup>")
    bob = await start(client, acme, "Bob")
    assert bob["access_key"] != alice["access_key"]

    page = await client.get(local(alice["links"]["gui"]))
    assert_page(page, 200)
    text = page.text
    assert "Daily &lt;standup&gt;" in text
    assert "<standup>" not in text
    assert re.search(r"<dt>You</dt><dd><span class=\"name\">Alice</span></dd>", text)
    people = text.split("data-participants", 1)[1]
    assert people.index("Alice") < people.index("Bob")
    assert people.count('<li class="item') == 2
    assert "(you)" in people.split("Bob")[0]
    assert "badge--guest" not in text
    assert "offline" in people
    assert "dot--online" not in people
    assert ">Ready<" in text  # no media server yet: a new meeting is ready at once
    # the stage is the meeting client's (static/meeting/main.js); without JS a note says so
    assert "data-stage-fallback" in text
    assert '<script type="module" src="/static/meeting/main.js' in text
    assert text.count("<video") == 2  # the camera preview and the composite
    assert "<audio" not in text  # the composite's <video> plays the audio
    assert 'data-copy="guest-link"' in text
    assert f"/join?guest={alice['room']['guest_token']}" in text
    # the key is the page's URL and nowhere in it
    assert alice["access_key"] not in text

    async with state.db.uow() as uow:
        meeting, participant = await live.access(uow.session, bob["access_key"])
        meeting.ready = False
        await live.set_online(uow, participant, True)
    page = await client.get(local(alice["links"]["gui"]))
    assert "Getting ready" in page.text
    assert ">Ready<" not in page.text
    assert page.text.count("dot--online") == 1
    assert page.text.split("dot--online", 1)[1].index("Bob") < 100


async def test_unknown_keys_get_a_404_page(client: httpx.AsyncClient, acme: TeamKey) -> None:
    meeting = await start(client, acme)
    key = meeting["access_key"]
    for query in [
        "",
        "?",
        "?nope",
        f"?{key}x",
        f"?{key[:-1]}",
        "?" + "k" * 5000,
        "?%00%ff",
        "?a=b",
    ]:
        response = await client.get(f"/join{query}")
        assert_page(response, 404)
        assert "Meeting not found" in response.text
        assert "nope" not in response.text
        assert key not in response.text


async def test_an_ended_meeting_gets_a_410_page(client: httpx.AsyncClient, acme: TeamKey) -> None:
    meeting = await start(client, acme)
    token = await guest_form(client, meeting)
    assert (await client.delete(f"/rooms/{meeting['access_key']}")).status_code == 204
    for path in [local(meeting["links"]["gui"]), local(meeting["links"]["guest_join"])]:
        response = await client.get(path)
        assert_page(response, 410)
        assert "The meeting has ended" in response.text
    guest = meeting["room"]["guest_token"]
    posted = await client.post("/join", data={"csrf_token": token, "guest": guest, "name": "G"})
    assert_page(posted, 410)
    assert "has ended" in posted.text


# --- guests --------------------------------------------------------------------------------------


async def test_a_guest_joins_by_name_and_is_listed_as_a_guest(
    client: httpx.AsyncClient, acme: TeamKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    meeting = await start(client, acme, "Alice")
    form = await client.get(local(meeting["links"]["guest_join"]))
    assert_page(form, 200)
    assert "Daily standup" in form.text
    assert GUEST_INPUT.search(form.text).group(1) == meeting["room"]["guest_token"]  # type: ignore[union-attr]
    assert 'maxlength="200"' in form.text
    assert "required" in form.text
    assert 'action="/join"' in form.text

    joined = await join_as_guest(client, meeting, "  Gina <Guest>  ")
    assert_page(joined, 303)
    location = joined.headers["location"]
    assert location.startswith("/join?")
    new_key = location.removeprefix("/join?")
    assert new_key
    assert new_key != meeting["access_key"]

    page = await client.get(location)
    assert_page(page, 200)
    assert '<span class="name">Gina &lt;Guest&gt;</span> <span class="badge badge--guest">' in (
        page.text
    )
    assert new_key not in page.text

    host = await client.get(local(meeting["links"]["gui"]))
    people = host.text.split("data-participants", 1)[1]
    gina = people.split("Gina &lt;Guest&gt;", 1)[1].split("</li>", 1)[0]
    assert "badge--guest" in gina
    assert "badge--guest" not in people.split("Gina")[0]

    users = await client.get("/rooms/standup/users", headers=acme.auth)
    by_name = {u["name"]: u for u in users.json()}
    assert by_name["Gina <Guest>"]["guest"] is True
    assert by_name["Alice"]["guest"] is False
    # the same key works with the meeting API
    api = await client.get(f"/rooms/{new_key}")
    assert api.json()["user"]["guest"] is True
    # the server's logs (not the test client's) saw the pages, but no key
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("vidroom"))
    assert "GET /join 200" in logged
    for key in (meeting["access_key"], new_key, meeting["room"]["guest_token"]):
        assert key not in logged


async def test_a_locked_meeting_refuses_guests_with_423(
    client: httpx.AsyncClient, acme: TeamKey
) -> None:
    meeting = await start(client, acme, lock_available="true")
    token = await guest_form(client, meeting)
    locked = await client.post(f"/rooms/{meeting['access_key']}/lock")
    assert locked.status_code == 201, locked.text
    form = await client.get(local(meeting["links"]["guest_join"]))
    assert_page(form, 423)
    assert "the meeting is locked" in form.text.lower()
    guest = meeting["room"]["guest_token"]
    posted = await client.post("/join", data={"csrf_token": token, "guest": guest, "name": "G"})
    assert_page(posted, 423)
    assert "The meeting is locked" in posted.text
    # participants already in see the lock
    page = await client.get(local(meeting["links"]["gui"]))
    assert "Nobody new may join" in page.text


async def test_guests_disabled_gets_405(client: httpx.AsyncClient, acme: TeamKey) -> None:
    open_meeting = await start(client, acme, room="open")
    token = await guest_form(client, open_meeting)
    meeting = await start(client, acme, room="closed", guest_token_available="false")
    form = await client.get(local(meeting["links"]["guest_join"]))
    assert_page(form, 405)
    assert "Guests may not join" in form.text
    guest = meeting["room"]["guest_token"]
    posted = await client.post("/join", data={"csrf_token": token, "guest": guest, "name": "G"})
    assert_page(posted, 405)
    # and the host page offers no guest link
    page = await client.get(local(meeting["links"]["gui"]))
    assert "guest-link" not in page.text
    assert "/join?guest=" not in page.text


async def test_unknown_guest_tokens_get_404(client: httpx.AsyncClient, acme: TeamKey) -> None:
    meeting = await start(client, acme)
    token = await guest_form(client, meeting)
    real = meeting["room"]["guest_token"]
    for guest in ["", "nope", real[:-1] + ("A" if real[-1] != "A" else "B"), "x" * 3000]:
        response = await client.get("/join", params={"guest": guest})
        assert_page(response, 404)
        posted = await client.post("/join", data={"csrf_token": token, "guest": guest, "name": "G"})
        assert_page(posted, 404)
        assert "Meeting not found" in posted.text
    missing = await client.post("/join", data={"csrf_token": token, "name": "G"})
    assert_page(missing, 404)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (None, "Name is required."),
        ("", "Name is required."),
        ("   ", "Name is required."),
        ("x" * 201, "Name has at most 200 characters."),
        ("bad\x07name", "Name contains control characters."),
    ],
)
async def test_a_bad_name_rerenders_the_form_with_400(
    client: httpx.AsyncClient, acme: TeamKey, name: str | None, message: str
) -> None:
    meeting = await start(client, acme)
    token = await guest_form(client, meeting)
    data = {"csrf_token": token, "guest": meeting["room"]["guest_token"]}
    if name is not None:
        data["name"] = name
    response = await client.post("/join", data=data)
    assert_page(response, 400)
    assert message in response.text
    assert 'role="alert"' in response.text
    assert GUEST_INPUT.search(response.text) is not None
    if name and name.strip():
        assert f'value="{html.escape(name)}"' in response.text
    users = await client.get("/rooms/standup/users", headers=acme.auth)
    assert len(users.json()) == 1


async def test_a_200_character_name_is_fine(client: httpx.AsyncClient, acme: TeamKey) -> None:
    meeting = await start(client, acme)
    response = await join_as_guest(client, meeting, "n" * 200)
    assert_page(response, 303)
    page = await client.get(response.headers["location"])
    assert "n" * 200 in page.text


async def test_the_guest_form_needs_its_csrf_token(
    client: httpx.AsyncClient, acme: TeamKey, settings: Settings, state: AppState
) -> None:
    meeting = await start(client, acme)
    token = await guest_form(client, meeting)
    fields = {"guest": meeting["room"]["guest_token"], "name": "Mallory"}
    refused = [
        await client.post("/join", data=fields),
        await client.post("/join", data={**fields, "csrf_token": "x" * 43}),
        await client.post(
            "/join",
            data={**fields, "csrf_token": token},
            headers={"Origin": "https://evil.example"},
        ),
    ]
    for response in refused:
        assert_page(response, 403)
        assert "Request refused" in response.text
    transport = httpx.ASGITransport(app=create_app(settings, state))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        # another browser's token, without its cookie, is no good either
        stolen = await other.post("/join", data={**fields, "csrf_token": token})
        assert_page(stolen, 403)
    users = await client.get("/rooms/standup/users", headers=acme.auth)
    assert [u["name"] for u in users.json()] == ["Alice"]
    assert (await client.post("/join", data={**fields, "csrf_token": token})).status_code == 303
