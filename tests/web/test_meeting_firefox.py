"""The meeting client on ``links.gui`` in a real Firefox (Debian's firefox-esr, headless, over
Marionette: see firefox.py) against a real server: the fake camera previews, the device pickers
fill, chat crosses between a Firefox page and a Chromium page, and a Firefox person joins the
call (call_start with Firefox's own offer) and sees the composite play.

One Firefox serves the whole module (its start is the slow part); each test leaves it on
about:blank.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from tests.conftest import LiveServer, unavailable
from tests.web.firefox import Firefox, launched
from tests.web.test_meeting_browser import CHROMIUM, CHROMIUM_ARGS, meeting_for

pytestmark = pytest.mark.browser

TIMEOUT = 10.0
MEDIA_TIMEOUT = 20.0

# Installed in the loaded page before joining: the messages of websockets opened from then on
# (the SEPP call on /call) both ways, the peer connections (for getStats) and uncaught errors
# (errors before it are in Firefox's console, see Firefox.problems). Subclasses, so the page's
# own `new WebSocket(...)`, `WebSocket.OPEN` and `new RTCPeerConnection(...)` work unchanged.
WATCH = """
if (!window.__watch) {
  const watch = { sent: [], received: [], errors: [], peers: [] };
  window.__watch = watch;
  const NativePeer = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeer {
    constructor(...args) {
      super(...args);
      watch.peers.push(this);
    }
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => watch.received.push(String(event.data)));
    }
    send(data) {
      watch.sent.push(String(data));
      return super.send(data);
    }
  };
  window.addEventListener("error", (event) => watch.errors.push(String(event.message)));
  window.addEventListener("unhandledrejection", (event) =>
    watch.errors.push("unhandled rejection: " + String(event.reason)));
}
"""

# The call's inbound video: its codec and how many frames Firefox decoded.
INBOUND_VIDEO = """
const done = arguments[arguments.length - 1];
const peer = window.__watch.peers[window.__watch.peers.length - 1];
peer.getStats().then((report) => {
  const found = { codec: "", frames: 0 };
  report.forEach((entry) => {
    if (entry.type === "inbound-rtp" && entry.kind === "video") {
      found.frames += entry.framesDecoded || 0;
      const codec = entry.codecId && report.get(entry.codecId);
      found.codec = codec ? codec.mimeType : found.codec;
    }
  });
  done(found);
}, (error) => done({ codec: "", frames: 0, error: String(error) }));
"""
PLAYING = "const v = document.querySelector(arguments[0]); return Boolean(v && v.videoWidth > 0);"
VIDEO_STATE = """
const v = document.querySelector(arguments[0]);
return {width: v.videoWidth, height: v.videoHeight, time: v.currentTime, paused: v.paused};
"""
VISIBLE = (
    "const e = document.querySelector(arguments[0]); return Boolean(e && e.checkVisibility());"
)


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: the browser is under test here, not the database (the server's behaviour
    on PostgreSQL is covered by the Chromium tests and the API tests)."""
    target = tmp_path / "vidroom.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture(scope="module")
def firefox_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Firefox]:
    with launched(tmp_path_factory.mktemp("firefox")) as firefox:
        yield firefox


@pytest.fixture
def firefox(firefox_browser: Firefox) -> Iterator[Firefox]:
    firefox_browser.clear_console()
    yield firefox_browser
    firefox_browser.reset()


def links(server: LiveServer, names: list[str]) -> list[str]:
    return asyncio.run(meeting_for(server, names))


def open_meeting(firefox: Firefox, gui: str) -> None:
    firefox.open(gui)
    firefox.wait_for(VISIBLE, "[data-room]", what="the meeting page")
    firefox.run(WATCH)
    firefox.wait_for(
        "return !document.querySelector('[data-join]').disabled;", what="Join to be enabled"
    )


def playing(firefox: Firefox, selector: str) -> dict[str, Any]:
    """Wait until the video plays (has a size, its time advances); its size and times."""
    firefox.wait_for(PLAYING, selector, timeout=MEDIA_TIMEOUT, what=f"{selector} to play")
    before = firefox.run(VIDEO_STATE, selector)
    time.sleep(1.5)
    after: dict[str, Any] = firefox.run(VIDEO_STATE, selector)
    after["before"] = before["time"]
    return after


def say(firefox: Firefox, text: str) -> None:
    if not firefox.run(VISIBLE, "[data-chat-input]"):
        firefox.click("[data-chat-toggle]")
    firefox.fill("[data-chat-input]", text)
    firefox.click("[data-chat-form] button[type=submit]")


def sepp(firefox: Firefox, direction: str) -> list[dict[str, Any]]:
    """The SEPP envelopes ``sent`` or ``received`` so far (realtime frames left out)."""
    found = []
    for text in firefox.run("return window.__watch[arguments[0]];", direction):
        try:
            message = json.loads(text)
        except ValueError:
            continue
        if isinstance(message, dict) and "msg_id" in message:
            found.append(message)
    return found


def video_codecs(sdp: str) -> list[str]:
    """The codec names of the offer's video section, in preference order."""
    video = sdp.split("m=video", 1)[1].split("\nm=", 1)[0] if "m=video" in sdp else ""
    return re.findall(r"a=rtpmap:\d+ ([\w-]+)/", video)


def problems(firefox: Firefox, origin: str) -> list[str]:
    found: list[str] = firefox.problems(origin)
    if firefox.run("return Boolean(window.__watch);"):
        found += firefox.run("return window.__watch.errors;")
    return found


def realtime_frames(page: Page) -> list[str]:
    """Every /rt frame the page receives from now on (to wait until it is subscribed: chat
    sent before that is not replayed)."""
    frames: list[str] = []

    def watch(socket: Any) -> None:
        socket.on(
            "framereceived",
            lambda data: frames.append(data if isinstance(data, str) else data.decode("latin-1")),
        )

    page.on("websocket", watch)
    return frames


def wait_subscribed(page: Page, frames: list[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not any('"room_setup"' in frame for frame in frames):
        assert time.monotonic() < deadline, f"no room_setup on /rt: {frames[-5:]}"
        page.wait_for_timeout(100)


def chromium_problems(page: Page) -> list[str]:
    found: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    return found


def test_firefox_previews_lists_devices_and_chats_with_chromium(
    firefox: Firefox, live_server: LiveServer
) -> None:
    if not CHROMIUM.exists():
        unavailable("chromium not installed")
    alice_gui, bob_gui = links(live_server, ["Alice", "Bob"])

    open_meeting(firefox, alice_gui)
    preview = playing(firefox, "[data-preview]")
    assert preview["width"] > 0, preview
    assert preview["time"] > preview["before"], preview
    assert firefox.run("return document.querySelector('[data-preview]').srcObject.active;")
    for select, noun in (("[data-camera]", "camera"), ("[data-microphone]", "microphone")):
        options = firefox.run(
            "return Array.from(document.querySelectorAll(arguments[0] + ' option'),"
            " o => ({value: o.value, label: o.textContent}));",
            select,
        )
        assert options, f"no {noun} listed"
        assert all(option["value"] for option in options), options  # real devices, not "none"
        assert firefox.run("return document.querySelector(arguments[0]).disabled;", select) is False
    # picking a device (Firefox's fake devices: one of each) reopens it by its exact id
    for select, said in (
        ("[data-camera]", "Camera changed."),
        ("[data-microphone]", "Microphone changed."),
    ):
        firefox.run(
            "const s = document.querySelector(arguments[0]);"
            "s.value = s.options[s.options.length - 1].value;"
            "s.dispatchEvent(new Event('change'));",
            select,
        )
        firefox.wait_for_text("[data-status]", said)
    preview = playing(firefox, "[data-preview]")
    assert preview["time"] > preview["before"], preview
    assert not firefox.run(VISIBLE, "[data-error]"), firefox.text("[data-error]")
    assert not firefox.run(VISIBLE, "[data-stage-fallback]")
    firefox.wait_for_text("[data-members]", "Alice")

    # the microphone toggle mutes the track itself
    firefox.click("[data-preview-mic]")
    firefox.wait_for_text("[data-status]", "Microphone muted.")
    assert (
        firefox.run(
            "return document.querySelector('[data-preview]').srcObject.getAudioTracks()[0].enabled;"
        )
        is False
    )
    firefox.click("[data-preview-mic]")
    firefox.wait_for_text("[data-status]", "Microphone on.")

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            bob = chromium.new_page(viewport={"width": 1100, "height": 844})
            bob.set_default_timeout(TIMEOUT * 1000)
            bob_problems = chromium_problems(bob)
            bob_frames = realtime_frames(bob)
            bob.goto(bob_gui)
            expect(bob.get_by_role("button", name="Join the meeting")).to_be_enabled()
            expect(bob.locator("[data-members]")).to_contain_text("Alice")
            wait_subscribed(bob, bob_frames)

            say(firefox, "Hello from Firefox")
            expect(bob.locator("[data-chat-log]")).to_contain_text("Hello from Firefox")
            expect(bob.locator("[data-chat-log]")).to_contain_text("Alice")
            firefox.wait_for_text("[data-chat-log]", "Alice (you)")

            box = bob.get_by_label("Message")
            if not box.is_visible():
                bob.get_by_role("button", name="Show chat").click()
            box.fill("<b>Hi</b> Firefox")
            box.press("Enter")
            firefox.wait_for_text("[data-chat-log] li:last-child", "<b>Hi</b> Firefox")
            firefox.wait_for_text("[data-chat-log] li:last-child", "Bob")
            assert firefox.run("return document.querySelectorAll('[data-chat-log] b').length;") == 0
            assert bob_problems == [], bob_problems
        finally:
            chromium.close()

    assert problems(firefox, live_server.url) == []
    assert alice_gui.split("?", 1)[1] not in firefox.run(
        "return document.documentElement.outerHTML;"
    )


def test_firefox_joins_and_plays_the_composite(firefox: Firefox, live_server: LiveServer) -> None:
    (gui,) = links(live_server, ["Alice"])
    open_meeting(firefox, gui)
    firefox.wait_for(PLAYING, "[data-preview]", timeout=MEDIA_TIMEOUT, what="the preview")
    firefox.click("[data-join]")

    # call_start carries Firefox's own (non-trickle) offer
    starts = firefox.wait_for(
        "return window.__watch.sent.filter(t => t.includes('\"call_start\"'));",
        timeout=TIMEOUT,
        what="call_start",
    )
    start = json.loads(starts[0])
    offer = start["data"]["sdp"]
    assert offer["type"] == "offer"
    assert start["data"]["display_name"] == "Alice"
    codecs = video_codecs(offer["sdp"])
    print(f"Firefox offers video codecs: {codecs}")
    assert "VP8" in codecs, codecs
    assert "a=eyeson-sepp-messaging" in offer["sdp"]
    assert "a=candidate:" in offer["sdp"]  # gathered before sending

    # the server answers; the page says so, or shows why it did not
    answer = firefox.wait_for(
        'return window.__watch.received.find(t => /"call_(accepted|rejected)"/.test(t));',
        timeout=MEDIA_TIMEOUT,
        what="call_accepted or call_rejected",
    )
    reply = json.loads(answer)
    assert reply["type"] == "call_accepted", (
        f"the server refused Firefox's call: {reply['data']} (Firefox offered video {codecs}); "
        f"the page says {firefox.text('[data-left-title]')!r}"
    )
    firefox.wait_for_text("[data-status]", "You are in the meeting.", timeout=MEDIA_TIMEOUT)

    composite = playing(firefox, "[data-composite]")
    assert composite["width"] > 0, composite
    assert composite["time"] > composite["before"], composite
    firefox.wait_for_text("[data-members]", "Alice", timeout=MEDIA_TIMEOUT)
    received = firefox.run_async(INBOUND_VIDEO)
    print(f"Firefox decodes the composite: {received}")
    assert received["frames"] > 0, received

    firefox.click("[data-leave]")
    firefox.wait_for_text("[data-left-title]", "You left the meeting")
    assert [p for p in problems(firefox, live_server.url) if "WebSocket" not in p] == []


def test_video_codecs_reads_the_offers_video_section() -> None:
    """The offer parser on a Firefox-shaped SDP (no browser needed)."""
    sdp = (
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 109\r\na=rtpmap:109 opus/48000/2\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 120 124 121\r\na=rtpmap:120 VP8/90000\r\n"
        "a=rtpmap:124 rtx/90000\r\na=rtpmap:121 VP9/90000\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    )
    assert video_codecs(sdp) == ["VP8", "rtx", "VP9"]
