"""The meeting page's client in real Chromium against a real server, where it can go wrong: a
browser that blocks autoplay (the "Click to start video and sound" button), a call the server
refuses for want of a codec (406), and a screen-share picker that is cancelled or a share the
browser ends. Plus the modules' static rules, for every module the page loads.

The browser tests run on SQLite only: the page's JavaScript has nothing database-specific.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.conftest import LiveServer, unavailable
from tests.web.test_meeting_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MEDIA_TIMEOUT_MS,
    Person,
    people,
)
from vidroom.web.render import TEMPLATES_DIR

STATIC = TEMPLATES_DIR.parent / "static" / "meeting"

# Chromium lets a page that captures the camera or microphone play sound unasked, so this person
# denies both (as in the browser's prompt), then joins as soon as Join is enabled: a script's
# click() is no user activation, so the page starts playing the composite without a gesture, as
# after a reload. It says on the console when the start button shows. (Playwright's own
# evaluations count as gestures: the test makes none until then.)
#
# Chromium's own policy also lets media play once the page has had *any* user activation, and
# Playwright's evaluations (expect polling) count as such, so whether a later play() succeeds
# would race the test. The script therefore also holds the policy still: play() is refused
# (NotAllowedError, as Chromium refuses it) until the person really clicks the start button.
BLOCKED_AUTOPLAY = """
navigator.mediaDevices.getUserMedia = async () => {
  throw new DOMException("Permission denied", "NotAllowedError");
};
let startClicked = false;
document.addEventListener("click", (event) => {
  if (event.isTrusted && event.target.closest && event.target.closest("[data-start-playing]")) {
    startClicked = true;
  }
}, true);
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (!startClicked) {
    return Promise.reject(new DOMException("play() needs a user gesture", "NotAllowedError"));
  }
  return play.call(this);
};
window.addEventListener("load", () => {
  // a browser that blocks play() blocks the autoplay attribute too (the same policy); without
  // this, the test browser's own autoplay could start the video behind the simulation's back
  document.querySelectorAll("video[autoplay]").forEach((video) => { video.autoplay = false; });
  const watch = setInterval(() => {
    const join = document.querySelector("[data-join]");
    if (join && !join.disabled && document.querySelector("[data-room]").dataset.part === "lobby") {
      join.click();
    }
    const start = document.querySelector("[data-start-playing]");
    if (start && !start.hidden) {
      clearInterval(watch);
      const composite = document.querySelector("[data-composite]");
      console.info("start button shown; composite paused: " + composite.paused);
    }
  }, 100);
});
"""

# the browser offers VP9 video only: the server needs H.264 or VP8 and refuses the call
OFFER_VP9_ONLY = """
const createOffer = RTCPeerConnection.prototype.createOffer;
RTCPeerConnection.prototype.createOffer = function (...args) {
  const codecs = RTCRtpReceiver.getCapabilities("video").codecs;
  const vp9 = codecs.filter((codec) => codec.mimeType === "video/VP9");
  for (const transceiver of this.getTransceivers()) {
    if (transceiver.receiver.track.kind === "video") {
      transceiver.setCodecPreferences(vp9);
    }
  }
  return createOffer.apply(this, args);
};
"""

# the first picker is cancelled (NotAllowedError, as when the person closes it); the second
# shares a canvas, kept as window.__screen so the test can end it as the browser's own
# "Stop sharing" does
SCREEN_PICKER = """
let picked = 0;
navigator.mediaDevices.getDisplayMedia = async () => {
  picked += 1;
  if (picked === 1) {
    throw new DOMException("Permission denied by user", "NotAllowedError");
  }
  const canvas = document.createElement("canvas");
  canvas.width = 320;
  canvas.height = 180;
  const paint = canvas.getContext("2d");
  let frame = 0;
  setInterval(() => {
    frame += 1;
    paint.fillStyle = frame % 2 ? "#246" : "#642";
    paint.fillRect(0, 0, 320, 180);
  }, 100);
  const stream = canvas.captureStream(10);
  window.__screen = stream.getVideoTracks()[0];
  return stream;
};
"""

# the page's JavaScript has nothing database-specific
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        unavailable("chromium not installed")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*CHROMIUM_ARGS, "--autoplay-policy=document-user-activation-required"],
        )
        try:
            yield launched
        finally:
            await launched.close()


async def alice(browser: Browser, server: LiveServer, script: str) -> Person:
    (person,) = await people(browser, server, ["Alice"])
    await person.page.add_init_script(script)
    return person


async def in_the_call(person: Person) -> None:
    await expect(person.page.get_by_role("status")).to_have_text(
        "You are in the meeting.", timeout=MEDIA_TIMEOUT_MS
    )


def serious(person: Person) -> list[str]:
    return [p for p in person.problems if "WebSocket" not in p]


@pytest.mark.browser
@sqlite_only
async def test_a_blocked_autoplay_offers_a_button_that_starts_the_composite(
    browser: Browser, live_server: LiveServer
) -> None:
    person = await alice(browser, live_server, BLOCKED_AUTOPLAY)
    page = person.page
    shown = "start button shown; composite paused: true"
    async with page.expect_console_message(
        lambda message: message.text.startswith("start button"), timeout=MEDIA_TIMEOUT_MS
    ) as message:
        await page.goto(person.gui)
    assert (await message.value).text == shown
    start = page.get_by_role("button", name="Click to start video and sound")
    await expect(start).to_be_visible()
    await expect(start).to_be_focused()  # reachable by keyboard, and where the keyboard is
    await in_the_call(person)

    await start.click()
    await expect(start).to_be_hidden()
    composite = await person.playing("[data-composite]")
    assert composite["time"] > composite["before"], composite
    await expect(page.get_by_role("button", name="Mute microphone")).to_be_focused()
    assert serious(person) == [], person.problems


@pytest.mark.browser
@sqlite_only
async def test_a_browser_without_a_usable_codec_is_told_why(
    browser: Browser, live_server: LiveServer
) -> None:
    person = await alice(browser, live_server, OFFER_VP9_ONLY)
    await person.open()
    await person.page.get_by_role("button", name="Join the meeting").click()
    why = (
        "Your browser offers no video or audio format this server supports "
        "(it needs H.264 or VP8 video and Opus audio)."
    )
    await expect(person.page.locator("[data-left-title]")).to_have_text(
        why, timeout=MEDIA_TIMEOUT_MS
    )
    await expect(person.page.get_by_role("alert")).to_have_text(why)
    await expect(person.page.get_by_role("button", name="Join again")).to_be_visible()
    assert serious(person) == [], person.problems


@pytest.mark.browser
@sqlite_only
async def test_a_cancelled_screen_share_keeps_the_call_and_a_share_ends_with_its_track(
    browser: Browser, live_server: LiveServer
) -> None:
    person = await alice(browser, live_server, SCREEN_PICKER)
    page = person.page
    await person.open()
    await page.get_by_role("button", name="Join the meeting").click()
    await in_the_call(person)
    status = page.get_by_role("status")
    share = page.get_by_role("button", name="Share screen")

    await share.click()  # the picker is cancelled
    await expect(status).to_have_text("Screen sharing was cancelled.")
    await expect(share).to_have_attribute("aria-pressed", "false")
    await expect(page.get_by_role("button", name="Leave")).to_be_visible()
    composite = await person.playing("[data-composite]")
    assert composite["time"] > composite["before"], composite

    await share.click()  # shared
    await expect(status).to_have_text("You are sharing your screen.")
    await expect(share).to_have_attribute("aria-pressed", "true")

    # the browser's own "Stop sharing" ends the screen track
    await page.evaluate("window.__screen.dispatchEvent(new Event('ended'))")
    await expect(status).to_have_text("You stopped sharing your screen.")
    await expect(share).to_have_attribute("aria-pressed", "false")
    assert await page.evaluate("window.__screen.readyState") == "ended"  # stopped, not leaked
    await expect(page.get_by_role("button", name="Leave")).to_be_visible()
    assert serious(person) == [], person.problems


MODULES = sorted(path.name for path in STATIC.glob("*.js"))


@sqlite_only
@pytest.mark.parametrize("module", MODULES)
async def test_every_module_is_served_as_javascript(client: httpx.AsyncClient, module: str) -> None:
    response = await client.get(f"/static/meeting/{module}")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]


@pytest.mark.parametrize("module", MODULES)
def test_every_module_is_small_and_never_logs(module: str) -> None:
    """What test_meeting_page.py checks for its list of modules, for every module there is."""
    source = (STATIC / module).read_text()
    assert len(source.splitlines()) <= 400, module
    for banned in ("console.", "eval(", "innerHTML"):
        assert banned not in source, (module, banned)


def test_the_modules_import_only_modules_that_exist() -> None:
    for module in STATIC.glob("*.js"):
        for line in module.read_text().splitlines():
            if line.startswith("import ") and ' from "./' in line:
                target = line.split(' from "./', 1)[1].split('"', 1)[0]
                assert (STATIC / target).is_file(), (module.name, target)
