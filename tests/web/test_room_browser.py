"""A team room's page in a real Chromium against a real server: a logged-in member and an
anonymous visitor enter a public room from ``/<team>/<room>``, meet in the call (the composite
plays), and the team API's history lists the member's email; a private room sends the anonymous
visitor to log in, saying why.

Needs Debian's chromium at /usr/bin/chromium (Playwright's own browsers are never downloaded).
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import LiveServer, bearer
from tests.web import test_meeting_browser as meeting_browser
from tests.web.test_meeting_browser import MEDIA_TIMEOUT_MS, TIMEOUT_MS, Person

pytestmark = pytest.mark.browser

# the meeting page's browser tests launch Chromium (fake camera and microphone): so do these
chromium = meeting_browser.chromium
browser = meeting_browser.browser

PASSWORD = "correct horse battery"
EMAIL = "mo@example.com"


async def person(launched: Browser, name: str) -> Person:
    context = await launched.new_context(viewport={"width": 1100, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    return Person(name, await context.new_page(), gui="")


async def team_with_rooms(server: LiveServer) -> str:
    """Team acme owned by the (signed-up) member, a public and a private room; the member's
    developer token."""
    await asyncio.to_thread(server.cli, "teams", "create", "acme", "--owner", EMAIL)
    out = await asyncio.to_thread(server.cli, "tokens", "create", "--email", EMAIL)
    token = out.strip().splitlines()[-1]
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(token)) as api:
        for name, privacy in [("lobby", "public"), ("board", "private")]:
            created = await api.post(
                "/domains/by-name/acme/room", json={"name": name, "privacy": privacy}
            )
            assert created.status_code == 200, created.text
    return token


async def enter_and_join(someone: Person, url: str, name: str | None = None) -> None:
    """The room page's form, then the meeting page's lobby: into the call."""
    page = someone.page
    await page.goto(url)
    if name is not None:
        await page.get_by_label("Your name").fill(name)
    await page.get_by_role("button", name="Enter the room").click()
    await expect(page).to_have_url(re.compile(r"/join\?[A-Za-z0-9_-]+$"))
    await expect(someone.room).to_be_visible()
    join = page.get_by_role("button", name="Join the meeting")
    await expect(join).to_be_enabled()
    await join.click()


async def test_a_member_and_an_anonymous_visitor_meet_in_a_team_room(
    browser: Browser, live_server: LiveServer
) -> None:
    base = live_server.url
    mo = await person(browser, "Mo Member")
    await mo.page.goto(f"{base}/signup")
    form = mo.page.locator('form[action="/signup"]')
    await form.get_by_label("Email").fill(EMAIL)
    await form.get_by_label("Display name").fill("Mo Member")
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Create account").click()
    await expect(mo.page).to_have_url(re.compile(r"/dashboard"))
    token = await team_with_rooms(live_server)

    # an anonymous visitor of the private room is sent to log in, and told why
    gus = await person(browser, "Gus")
    await gus.page.goto(f"{base}/acme/board")
    await expect(gus.page).to_have_url(re.compile(r"/login\?next=%2Facme%2Fboard$"))
    await expect(gus.page.get_by_role("status")).to_contain_text(
        "only owners of team acme may join it"
    )

    # the member from the dashboard's link, the visitor with a name they type
    await mo.page.goto(f"{base}/dashboard")
    await mo.page.get_by_role("link", name="lobby").first.click()
    await expect(mo.page).to_have_url(f"{base}/acme/lobby")
    await expect(mo.page.get_by_label("Your name")).to_have_value("Mo Member")
    await enter_and_join(mo, mo.page.url)
    await enter_and_join(gus, f"{base}/acme/lobby", "Gus")
    for someone in (mo, gus):
        await expect(someone.page.get_by_role("status")).to_have_text(
            "You are in the meeting.", timeout=MEDIA_TIMEOUT_MS
        )
        composite = await someone.playing("[data-composite]")
        assert composite["width"] > 0, composite
        assert composite["time"] > composite["before"], composite
        await expect(someone.members).to_contain_text("Mo Member", timeout=MEDIA_TIMEOUT_MS)
        await expect(someone.members).to_contain_text("Gus", timeout=MEDIA_TIMEOUT_MS)

    async with httpx.AsyncClient(base_url=base, headers=bearer(token)) as api:
        history = await api.post("/domains/by-name/acme/meetings", json={"room": "lobby"})
    assert history.status_code == 200, history.text
    (meeting,) = history.json()["meetings"]
    assert meeting["domain"] == "acme"
    assert meeting["room"] == "lobby"
    assert sorted(p["email"] for p in meeting["participants"]) == sorted([EMAIL, "guest"])
    assert all(p["mtgLeave"] is None for p in meeting["participants"])

    for someone in (mo, gus):
        assert [p for p in someone.problems if "WebSocket" not in p] == [], someone.problems
