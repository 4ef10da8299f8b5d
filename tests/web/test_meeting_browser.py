"""The meeting client on ``links.gui`` in a real Chromium against a real server: preview with
the fake camera, chat between two people over /rt, keyboard use, phone width, and (once the
media server and SEPP signalling are wired) two people seeing the composite.

Needs Debian's chromium at /usr/bin/chromium (Playwright's own browsers are never downloaded).
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    async_playwright,
    expect,
)

from tests.conftest import LiveServer, unavailable

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
TIMEOUT_MS = 10_000
MEDIA_TIMEOUT_MS = 20_000


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        unavailable("chromium not installed")
    return CHROMIUM


def write_voice(path: Path, seconds: float = 2.0, rate: int = 48000) -> Path:
    """A speech-like WAV for the fake microphone: voiced syllables (a 130-210 Hz glide with
    harmonics, 190 ms on, 60 ms off) at about -20 dBFS. Chromium's own fake microphone only
    beeps for 20 ms every 500 ms, which is not speaking; a steady tone could be taken for
    noise by the browser's noise suppression."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 170 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6))
    syllables = ((t % 0.25) < 0.19).astype(np.float64)
    samples = (voiced * syllables * 0.12 * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


@pytest.fixture
async def browser(chromium: Path, tmp_path: Path) -> AsyncIterator[Browser]:
    voice = write_voice(tmp_path / "voice.wav")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium),
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={voice}"],
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Person:
    """One participant's browser page, watching the console for errors and CSP violations."""

    name: str
    page: Page
    gui: str
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(message.text)

    @property
    def room(self) -> Locator:
        return self.page.locator("[data-room]")

    @property
    def members(self) -> Locator:
        return self.page.locator("[data-members]")

    @property
    def chat_log(self) -> Locator:
        return self.page.locator("[data-chat-log]")

    async def open(self) -> None:
        await self.page.goto(self.gui)
        await expect(self.room).to_be_visible()
        await expect(self.page.get_by_role("button", name="Join the meeting")).to_be_enabled()

    async def say(self, text: str) -> None:
        box = self.page.get_by_label("Message")
        if not await box.is_visible():
            await self.page.get_by_role("button", name="Show chat").click()
        await box.fill(text)
        await box.press("Enter")

    async def playing(self, selector: str) -> dict[str, Any]:
        """Wait until the video plays (has a size, time advances); its size and times."""
        video = self.page.locator(selector)
        await expect(video).to_be_visible()
        await self.page.wait_for_function(
            "s => { const v = document.querySelector(s); return v && v.videoWidth > 0; }",
            arg=selector,
            timeout=MEDIA_TIMEOUT_MS,
        )
        before = await video.evaluate("v => v.currentTime")
        await asyncio.sleep(1.5)
        after: dict[str, Any] = await video.evaluate(
            "v => ({width: v.videoWidth, height: v.videoHeight, time: v.currentTime})"
        )
        after["before"] = before
        return after


async def meeting_for(server: LiveServer, names: list[str]) -> list[str]:
    """One meeting, one participant per name (the meeting API through an API key): their
    ``links.gui``."""
    await asyncio.to_thread(server.cli, "teams", "create", "acme", "--owner", "o@example.com")
    out = await asyncio.to_thread(server.cli, "apikeys", "create", "--team", "acme")
    key = out.strip().splitlines()[-1]
    links = []
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": key}) as api:
        for name in names:
            response = await api.post(
                "/rooms", data={"id": "standup", "name": "Daily standup", "user[name]": name}
            )
            assert response.status_code == 201, response.text
            links.append(response.json()["links"]["gui"])
    return links


async def people(
    browser: Browser, server: LiveServer, names: list[str], *, width: int = 1100
) -> list[Person]:
    found = []
    for name, gui in zip(names, await meeting_for(server, names), strict=True):
        context = await browser.new_context(viewport={"width": width, "height": 844})
        context.set_default_timeout(TIMEOUT_MS)
        found.append(Person(name, await context.new_page(), gui))
    return found


async def test_the_page_previews_the_camera_and_carries_chat_between_two_people(
    browser: Browser, live_server: LiveServer
) -> None:
    alice, bob = await people(browser, live_server, ["Alice", "Bob"])
    await alice.open()
    preview = await alice.playing("[data-preview]")
    assert preview["width"] > 0, preview
    assert preview["time"] > preview["before"], preview
    cameras = alice.page.get_by_label("Camera", exact=True).locator("option")
    assert await cameras.count() >= 1
    microphones = alice.page.get_by_label("Microphone", exact=True).locator("option")
    assert await microphones.count() >= 1
    await expect(alice.page.locator("[data-stage-fallback]")).to_be_hidden()
    await expect(alice.members).to_contain_text("Alice")

    await bob.open()
    await expect(bob.members).to_contain_text("Alice")  # online: her page is connected
    await expect(bob.members).to_contain_text("Bob (you)")

    await alice.say("Hello from Alice")
    await expect(bob.chat_log).to_contain_text("Alice")
    await expect(bob.chat_log).to_contain_text("Hello from Alice")
    await expect(alice.chat_log).to_contain_text("Alice (you)")
    await bob.say("<b>Hi</b> Alice")
    await expect(alice.chat_log.locator("li").last).to_contain_text("<b>Hi</b> Alice")
    assert await alice.chat_log.locator("b").count() == 0  # text, never markup

    for person in (alice, bob):
        assert person.problems == [], person.problems
        assert person.gui.split("?", 1)[1] not in await person.page.content()


async def test_the_page_works_by_keyboard_at_phone_width(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    (alice,) = await people(browser, live_server, ["Alice"], width=390)
    page = alice.page
    await alice.open()
    await alice.playing("[data-preview]")

    # the controls come in reading order, each reachable with Tab
    order = []
    await page.locator("#camera-select").focus()
    for _ in range(6):
        order.append(await page.evaluate("document.activeElement.textContent.trim()"))
        await page.keyboard.press("Tab")
    assert order[2:6] == [
        "Mute microphone",
        "Turn camera off",
        "Join the meeting",
        "Show chat",
    ], order

    mute = page.get_by_role("button", name="Mute microphone")
    await mute.focus()
    await page.keyboard.press("Space")
    await expect(mute).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_role("status")).to_have_text("Microphone muted.")
    assert (
        await page.evaluate(
            "document.querySelector('[data-preview]').srcObject.getAudioTracks()[0].enabled"
        )
        is False
    )
    await page.keyboard.press("Enter")
    await expect(mute).to_have_attribute("aria-pressed", "false")

    # chat is folded behind a toggle at phone width
    toggle = page.get_by_role("button", name="Show chat")
    await expect(page.get_by_label("Message")).to_be_hidden()
    await toggle.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Hide chat")).to_have_attribute(
        "aria-expanded", "true"
    )
    await page.keyboard.press("Tab")
    await page.keyboard.type("typed, not clicked")
    await page.keyboard.press("Enter")
    await expect(alice.chat_log).to_contain_text("typed, not clicked")

    # one column, the video first, nothing wider than the screen
    video = await page.locator("[data-preview]").bounding_box()
    chat = await page.locator("[data-chat]").bounding_box()
    assert video
    assert chat
    assert video["y"] + video["height"] <= chat["y"]
    assert video["width"] <= 390
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.screenshot(path=str(tmp_path / "meeting-390.png"), full_page=True)
    assert alice.problems == [], alice.problems


async def test_two_people_meet_see_the_composite_chat_and_leave(
    browser: Browser, live_server: LiveServer
) -> None:
    alice, bob = await people(browser, live_server, ["Alice", "Bob"])
    for person in (alice, bob):
        await person.open()
        await person.page.get_by_role("button", name="Join the meeting").click()
    for person in (alice, bob):
        await expect(person.page.get_by_role("status")).to_have_text(
            "You are in the meeting.", timeout=MEDIA_TIMEOUT_MS
        )
        composite = await person.playing("[data-composite]")
        assert composite["width"] > 0, composite
        assert composite["time"] > composite["before"], composite
        await expect(person.members).to_contain_text("Alice", timeout=MEDIA_TIMEOUT_MS)
        await expect(person.members).to_contain_text("Bob", timeout=MEDIA_TIMEOUT_MS)

    await bob.say("Can you see me?")
    await expect(alice.chat_log).to_contain_text("Can you see me?")

    # both fake microphones talk: voice_activity lights the speaking dots in the people list
    for person in (alice, bob):
        speaking = person.members.locator(".members__item--speaking")
        for name in ("Alice", "Bob"):
            await expect(speaking.filter(has_text=name)).to_have_count(1, timeout=MEDIA_TIMEOUT_MS)
    mic = alice.page.get_by_role("button", name="Mute microphone")
    await mic.click()  # a muted microphone sends silence: Alice stops speaking
    speaking = bob.members.locator(".members__item--speaking")
    await expect(speaking.filter(has_text="Alice")).to_have_count(0, timeout=MEDIA_TIMEOUT_MS)
    await expect(speaking.filter(has_text="Bob")).to_have_count(1)

    camera = alice.page.get_by_role("button", name="Turn camera off")
    await camera.click()
    await expect(camera).to_have_attribute("aria-pressed", "true")

    await bob.page.get_by_role("button", name="Leave").click()
    await expect(bob.page.get_by_role("heading", name="You left the meeting")).to_be_visible()
    await expect(alice.members).not_to_contain_text("Bob", timeout=MEDIA_TIMEOUT_MS)
    await expect(alice.members).to_contain_text("Alice")
    for person in (alice, bob):
        assert [p for p in person.problems if "WebSocket" not in p] == [], person.problems
