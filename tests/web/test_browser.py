"""The pages in a real Chromium against a real server: invite links, membership, phone width.

Needs Debian's chromium at /usr/bin/chromium (Playwright's own browsers are never downloaded).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.conftest import LiveServer, bearer, unavailable

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
TIMEOUT_MS = 10_000


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        unavailable("chromium not installed")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


class Person:
    """One browser profile (its own cookies), watching the console for CSP violations."""

    def __init__(self, context: BrowserContext, page: Page, base: str) -> None:
        self.context = context
        self.page = page
        self.base = base
        self.csp_violations: list[str] = []
        page.on("console", self._console)

    def _console(self, message: object) -> None:
        text = getattr(message, "text", "")
        if "Content Security Policy" in text:
            self.csp_violations.append(text)

    async def goto(self, path_or_url: str) -> None:
        url = path_or_url if path_or_url.startswith("http") else self.base + path_or_url
        await self.page.goto(url)

    async def sign_up(self, email: str, name: str = "") -> None:
        """Fill the sign-up form on the current page (the sign-up page or an invite page)."""
        form = self.page.locator('form[action="/signup"]')
        await form.get_by_label("Email").fill(email)
        if name:
            await form.get_by_label("Display name").fill(name)
        await form.get_by_label("Password").fill(PASSWORD)
        await form.get_by_role("button", name="Create account").click()


async def person(browser: Browser, server: LiveServer, *, width: int = 1024) -> Person:
    context = await browser.new_context(viewport={"width": width, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    return Person(context, await context.new_page(), server.url)


async def make_team(
    server: LiveServer, name: str, owner: str, rooms: list[tuple[str, str]]
) -> tuple[str, str]:
    """A team made by the operator's CLI, rooms through the team API: (invite link, token)."""
    out = await asyncio.to_thread(server.cli, "teams", "create", name, "--owner", owner)
    found = re.search(r"invite link: (\S+)", out)
    assert found, out
    token_out = await asyncio.to_thread(server.cli, "tokens", "create", "--email", owner)
    token = token_out.strip().splitlines()[-1]
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(token)) as api:
        for room, privacy in rooms:
            response = await api.post(
                f"/domains/by-name/{name}/room", json={"name": room, "privacy": privacy}
            )
            assert response.status_code == 200, response.text
    return found.group(1), token


async def test_a_new_person_signs_up_through_an_invite_link(
    browser: Browser, live_server: LiveServer
) -> None:
    invite, _ = await make_team(
        live_server, "acme", "owner@example.com", [("standup", "org"), ("lobby", "public")]
    )
    nina = await person(browser, live_server)
    await nina.goto(invite)
    await expect(nina.page.get_by_role("heading", name="Join team acme")).to_be_visible()
    await nina.sign_up("nina@example.com", name="Nina")

    await nina.page.wait_for_url(re.compile(r"/dashboard"))
    await expect(nina.page.get_by_role("status")).to_have_text("You joined acme.")
    team = nina.page.locator("#team-acme")
    await expect(team.get_by_role("heading", name="acme", exact=True)).to_be_visible()
    await expect(team).to_contain_text("You are a member")
    await expect(team.get_by_role("link", name="standup", exact=True)).to_be_visible()
    await expect(team.get_by_role("link", name="lobby", exact=True)).to_be_visible()
    await expect(team).to_contain_text("owner@example.com")
    await expect(team).to_contain_text("Nina")
    # a member may enter the team's org room
    await team.get_by_role("link", name="standup", exact=True).click()
    await expect(nina.page.get_by_role("heading", name="standup")).to_be_visible()
    await expect(nina.page.locator("code.pin")).to_have_text(re.compile(r"^\d{6}$"))
    assert nina.csp_violations == []


async def test_a_logged_in_person_joins_a_second_team_directly(
    browser: Browser, live_server: LiveServer
) -> None:
    first, _ = await make_team(live_server, "acme", "a@example.com", [("standup", "org")])
    second, _ = await make_team(live_server, "globex", "g@example.com", [("planning", "org")])
    sam = await person(browser, live_server)
    await sam.goto(first)
    await sam.sign_up("sam@example.com")
    await sam.page.wait_for_url(re.compile(r"/dashboard"))
    await expect(sam.page.locator("#team-acme")).to_be_visible()

    await sam.goto(second)  # no form this time: added and sent to the dashboard
    await sam.page.wait_for_url(re.compile(r"/dashboard"))
    await expect(sam.page.get_by_role("status")).to_have_text("You joined globex.")
    await expect(sam.page.locator("#team-acme")).to_contain_text("standup")
    await expect(sam.page.locator("#team-globex")).to_contain_text("planning")
    await expect(sam.page.locator("#team-globex")).to_contain_text("You are a member")
    assert sam.csp_violations == []


async def test_a_removed_member_loses_access(browser: Browser, live_server: LiveServer) -> None:
    invite, owner_token = await make_team(
        live_server, "acme", "owner@example.com", [("standup", "org")]
    )
    max_ = await person(browser, live_server)
    await max_.goto(invite)
    await max_.sign_up("max@example.com")
    await max_.page.wait_for_url(re.compile(r"/dashboard"))
    await expect(max_.page.locator("#team-acme")).to_be_visible()
    await max_.goto("/acme/standup")
    await expect(max_.page.get_by_role("heading", name="standup")).to_be_visible()

    async with httpx.AsyncClient(base_url=live_server.url, headers=bearer(owner_token)) as api:
        removed = await api.delete("/domains/by-name/acme/user/max@example.com")
        assert removed.status_code == 200, removed.text

    await max_.goto("/dashboard")
    await expect(max_.page.get_by_role("heading", name="Your teams")).to_be_visible()
    await expect(max_.page.locator("#team-acme")).to_have_count(0)
    await expect(max_.page.get_by_text("You are not in a team yet")).to_be_visible()
    response = await max_.page.goto(f"{live_server.url}/acme/standup")
    assert response is not None
    assert response.status == 403
    await expect(max_.page.get_by_role("heading", name="You may not enter")).to_be_visible()
    assert max_.csp_violations == []


async def test_the_owner_dashboard_on_a_phone(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    olivia = await person(browser, live_server, width=390)
    await olivia.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server.url
    )
    page = olivia.page
    await olivia.goto("/signup")
    await page.keyboard.press("Tab")  # the first stop skips the header
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await olivia.sign_up("olivia.longer-address@example-company.com", name="Olivia Owner")
    await page.wait_for_url(re.compile(r"/dashboard"))

    # a team, by keyboard: type the name and press Enter
    await page.get_by_label("Team name").fill("acme-design")
    await page.get_by_label("Team name").press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Team acme-design created.")
    team = page.locator("#team-acme-design")
    for room, privacy in [("weekly-review", "public"), ("standup", "org"), ("board", "private")]:
        await team.get_by_label("New room").fill(room)
        await team.get_by_label("Who may enter").select_option(privacy)
        await team.get_by_role("button", name="Create room").click()
        await expect(page.get_by_role("status")).to_have_text(f"Room {room} created.")

    # an API key: shown once, then back to the dashboard
    await team.get_by_label("Label for a new API key").fill("website")
    await team.get_by_role("button", name="Create API key").click()
    await expect(page.get_by_role("heading", name="New API key for acme-design")).to_be_visible()
    await expect(page.get_by_role("textbox", name="API key")).to_have_value(
        re.compile(r"^[A-Za-z0-9]{24}$")
    )
    await page.get_by_role("link", name="Back to the dashboard").click()

    # deleting asks first
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await team.get_by_role("button", name="Delete room board").click()
    await expect(page.get_by_role("status")).to_have_text("Room board deleted.")

    # the copy button puts the invite link on the clipboard
    await team.get_by_role("button", name="Copy").first.click()
    await expect(team.get_by_role("button", name="Copied")).to_be_visible()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"{live_server.url}/invite?tk=")

    shot = tmp_path / "dashboard-390.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    overflow = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], overflow
    # nothing sticks out of its card either (which the page-wide check would not see)
    sticking_out = await page.evaluate(
        """[...document.querySelectorAll('.card *')].filter(el => {
            const card = el.closest('.card').getBoundingClientRect();
            const box = el.getBoundingClientRect();
            return box.width > 1 && box.right > card.right + 0.5;
        }).map(el => el.outerHTML.slice(0, 80))"""
    )
    assert sticking_out == []
    assert olivia.csp_violations == []
