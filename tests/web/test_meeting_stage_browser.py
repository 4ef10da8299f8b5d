"""The meeting page's stage in a real Chromium against a real server: axe-core finds no serious
or critical violations in the lobby or the call; in the call the composite fills the viewport
(1440x900 and 390x844), the toolbar's shortcuts toggle the microphone, the camera and the chat,
the toolbar hides when idle and comes back on a mouse move, and the side panel sits beside the
stage on a wide screen and over it on a phone.

Screenshots are saved under tests/artifacts/ (git-ignored; the path is printed).
The page's JavaScript has nothing database-specific: SQLite only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import LiveServer, unavailable
from tests.web.test_meeting_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MEDIA_TIMEOUT_MS,
    TIMEOUT_MS,
    Person,
    meeting_for,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SERIOUS = {"serious", "critical"}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        unavailable("chromium not installed")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


async def person(browser: Browser, server: LiveServer, width: int, height: int) -> Person:
    (gui,) = await meeting_for(server, ["Alice"])
    context = await browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    return Person("Alice", await context.new_page(), gui)


async def join(alice: Person) -> None:
    await alice.open()
    await alice.page.get_by_role("button", name="Join the meeting").click()
    await expect(alice.page.get_by_role("status")).to_have_text(
        "You are in the meeting.", timeout=MEDIA_TIMEOUT_MS
    )
    await alice.playing("[data-composite]")


async def serious_violations(page: Page) -> list[str]:
    results = await Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


async def box(page: Page, selector: str) -> dict[str, float]:
    found = await page.locator(selector).bounding_box()
    assert found is not None, selector
    return {"x": found["x"], "y": found["y"], "width": found["width"], "height": found["height"]}


def fills(found: dict[str, float], width: int, height: int) -> bool:
    return (
        abs(found["x"]) <= 1
        and abs(found["y"]) <= 1
        and abs(found["width"] - width) <= 1
        and abs(found["height"] - height) <= 1
    )


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    await page.screenshot(path=str(path))
    print(f"screenshot: {path}")


def problems(alice: Person) -> list[str]:
    return [p for p in alice.problems if "WebSocket" not in p]


async def test_axe_finds_no_serious_violations_in_the_lobby_or_the_call(
    browser: Browser, live_server: LiveServer
) -> None:
    alice = await person(browser, live_server, 1440, 900)
    await alice.open()
    assert await serious_violations(alice.page) == []
    await join(alice)
    assert await serious_violations(alice.page) == []
    await alice.page.keyboard.press("c")  # the side panel open, with its forms
    await expect(alice.page.get_by_label("Message")).to_be_focused()
    assert await serious_violations(alice.page) == []
    assert problems(alice) == [], alice.problems


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844), (360, 640), (3840, 2160)])
async def test_the_composite_fills_the_viewport_and_the_panel_opens_beside_or_over_it(
    browser: Browser, live_server: LiveServer, width: int, height: int
) -> None:
    alice = await person(browser, live_server, width, height)
    page = alice.page
    await alice.open()
    lobby = await box(page, "[data-preview]")
    assert lobby["width"] < width  # the lobby keeps its card
    await join(alice)
    await page.mouse.move(width / 2, height / 2)
    stage = await box(page, "[data-composite]")
    assert fills(stage, width, height), stage
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    toolbar = await box(page, "[data-controls]")
    assert toolbar["x"] >= 0, toolbar
    assert toolbar["x"] + toolbar["width"] <= width, toolbar
    assert toolbar["y"] + toolbar["height"] <= height, toolbar
    await expect(page.locator(".site-header")).to_be_hidden()  # no page chrome in the call
    await screenshot(page, f"call-{width}x{height}.png")

    chat = page.locator("[data-tool=chat]")
    await chat.click()
    await expect(chat).to_have_attribute("aria-expanded", "true")
    await expect(page.get_by_label("Message")).to_be_focused()
    side = await box(page, "[data-side]")
    beside = await box(page, "[data-composite]")
    if width > 700:  # beside the stage, which shrinks to make room
        assert beside["x"] + beside["width"] <= side["x"] + 1, (beside, side)
        assert side["x"] + side["width"] <= width + 1
        assert beside["height"] == pytest.approx(height, abs=1)
    else:  # over the stage, which stays as it was; what is behind the panel is inert
        assert fills(side, width, height), side
        assert fills(beside, width, height), beside
        assert await page.locator(".room__main").evaluate("e => e.inert") is True
        await page.locator("[data-side-close]").focus()  # the panel's first control
        await page.keyboard.press("Shift+Tab")  # not on to the toolbar under the panel
        assert await page.evaluate("!document.activeElement.closest('.room__main')")
        await page.get_by_label("Message").focus()
    await screenshot(page, f"call-panel-{width}x{height}.png")
    await page.keyboard.press("Escape")
    await expect(page.locator("[data-side]")).to_be_hidden()
    await expect(chat).to_have_attribute("aria-expanded", "false")
    await expect(chat).to_be_focused()  # back where it was
    assert fills(await box(page, "[data-composite]"), width, height)
    assert problems(alice) == [], alice.problems


async def opacity(page: Page) -> float:
    value: Any = await page.locator("[data-controls]").evaluate("e => getComputedStyle(e).opacity")
    return float(value)


async def test_the_shortcuts_toggle_mute_camera_and_chat_and_the_toolbar_hides_when_idle(
    browser: Browser, live_server: LiveServer
) -> None:
    alice = await person(browser, live_server, 1280, 800)
    page = alice.page
    await join(alice)
    mic = page.locator("[data-mic]")
    camera = page.locator("[data-camera-toggle]")
    await page.evaluate("document.activeElement.blur()")  # the keyboard on the page, not a button
    await page.keyboard.press("m")
    await expect(mic).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_role("status")).to_have_text("Microphone muted.")
    audio = "document.querySelector('[data-preview]').srcObject.getAudioTracks()[0].enabled"
    assert await page.evaluate(audio) is False
    await page.keyboard.press("Shift+M")  # the same key either case
    await expect(mic).to_have_attribute("aria-pressed", "false")
    await page.keyboard.press("v")
    await expect(camera).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_role("status")).to_have_text("Camera off.")
    await page.keyboard.press("Control+v")  # a modifier: not a shortcut
    await expect(camera).to_have_attribute("aria-pressed", "true")

    await page.keyboard.press("c")
    message = page.get_by_label("Message")
    await expect(message).to_be_focused()
    await page.keyboard.type("mvc")  # typed, not shortcuts
    await expect(message).to_have_value("mvc")
    await expect(mic).to_have_attribute("aria-pressed", "false")
    await expect(camera).to_have_attribute("aria-pressed", "true")
    await page.keyboard.press("Escape")
    await expect(message).to_be_hidden()
    # a host's record and layout buttons open their parts of the panel
    await page.keyboard.press("r")
    await expect(page.get_by_role("button", name="Start recording")).to_be_focused()
    await expect(page.locator("[data-tool=record]")).to_have_attribute("aria-expanded", "true")
    await page.keyboard.press("Escape")
    await expect(page.locator("[data-tool=chat]")).to_be_focused()  # where R was pressed
    await page.keyboard.press("l")
    await expect(page.get_by_label("Layout", exact=True)).to_be_focused()
    await page.get_by_role("button", name="Close the panel").click()
    await expect(page.locator("[data-tool=chat]")).to_be_focused()  # where L was pressed

    # idle: no pointer or keyboard for ~3 s and the focus outside the toolbar hides it
    await expect(page.locator("[data-tool=chat]")).to_be_focused()  # Escape brought it back
    await page.evaluate("document.activeElement.blur()")
    await page.mouse.move(200, 200)
    assert await opacity(page) == 1
    await expect(page.locator("[data-controls]")).to_have_attribute(
        "data-idle", "true", timeout=5000
    )
    await asyncio.sleep(0.5)  # the fade
    assert await opacity(page) == 0
    await page.mouse.move(300, 300)
    await expect(page.locator("[data-controls]")).to_have_attribute("data-idle", "false")
    await asyncio.sleep(0.5)
    assert await opacity(page) == 1
    # never hidden while the keyboard's focus is in it; the arrows move along it
    await page.keyboard.press("v")
    await camera.focus()
    await page.keyboard.press("ArrowLeft")
    await expect(mic).to_be_focused()
    await page.keyboard.press("ArrowLeft")  # round to the end
    await expect(page.locator("[data-leave]")).to_be_focused()
    await page.keyboard.press("ArrowRight")
    await expect(mic).to_be_focused()
    await page.mouse.move(5, 5)  # the mouse leaves the toolbar
    await asyncio.sleep(3.5)
    await expect(page.locator("[data-controls]")).to_have_attribute("data-idle", "false")
    assert await opacity(page) == 1
    assert problems(alice) == [], alice.problems


async def test_the_chat_button_counts_messages_while_the_panel_is_closed(
    browser: Browser, live_server: LiveServer
) -> None:
    alice_gui, bob_gui = await meeting_for(live_server, ["Alice", "Bob"])
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    alice = Person("Alice", await context.new_page(), alice_gui)
    await join(alice)
    page = alice.page
    chat = page.locator("[data-tool=chat]")
    count = page.locator("[data-chat-count]")
    await expect(count).to_be_hidden()
    bob_key = bob_gui.split("?", 1)[1]
    async with httpx.AsyncClient(base_url=live_server.url) as api:
        for text in ("one", "two"):
            sent = await api.post(
                f"/rooms/{bob_key}/messages", data={"type": "chat", "content": text}
            )
            assert sent.status_code == 201, sent.text
            await expect(page.locator("[data-chat-log]")).to_contain_text(text)
    await expect(count).to_have_text("2")
    await expect(count).to_be_visible()
    await expect(chat).to_have_attribute("aria-label", "Chat (2 new)")
    await chat.click()  # read: no longer new
    await expect(count).to_be_hidden()
    await expect(chat).to_have_attribute("aria-label", "Chat")
    assert problems(alice) == [], alice.problems
