"""Screen sharing in a real Firefox (Debian's firefox-esr over Marionette, on a virtual X
screen: headless Firefox has no screen to capture). A person in the call clicks "Share
screen": Firefox's own getDisplayMedia captures the screen (the permission prompt is turned
off by the test profile, as for the camera), the screen replaces the camera on the call's video
sender, the server hears ``desktopstreaming`` and makes the sharer the presenter
(``source_update`` with ``dsrc``), and clicking again brings the camera back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.web.firefox import Firefox, launched, until
from tests.web.test_meeting_firefox import (
    MEDIA_TIMEOUT,
    PLAYING,
    TIMEOUT,
    database_url,  # noqa: F401  (SQLite for the server: the browser is under test here)
    links,
    open_meeting,
    playing,
    problems,
    sepp,
)
from tests.web.xvfb import virtual_screen

pytestmark = pytest.mark.browser

SCREEN = (1280, 800)
SCREEN_LABEL = "Primary Monitor"  # Firefox's name for the first X screen

# The call's video sender: what it sends (the track's label) and, from getStats, the size and
# count of the frames it encoded.
OUTBOUND_VIDEO = """
const done = arguments[arguments.length - 1];
const peer = window.__watch.peers[window.__watch.peers.length - 1];
const sender = peer.getSenders().find((s) => s.track && s.track.kind === "video");
peer.getStats().then((report) => {
  const found = { label: sender ? sender.track.label : "", width: 0, height: 0, frames: 0 };
  report.forEach((entry) => {
    if (entry.type === "outbound-rtp" && entry.kind === "video") {
      found.width = entry.frameWidth || found.width;
      found.height = entry.frameHeight || found.height;
      found.frames += entry.framesEncoded || 0;
    }
  });
  done(found);
}, (error) => done({ label: "", width: 0, height: 0, frames: 0, error: String(error) }));
"""


@pytest.fixture(scope="module")
def firefox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Firefox]:
    with (
        virtual_screen(*SCREEN) as display,
        launched(tmp_path_factory.mktemp("firefox-screen"), display=display) as browser,
    ):
        yield browser


def outbound(firefox: Firefox) -> dict[str, Any]:
    found: dict[str, Any] = firefox.run_async(OUTBOUND_VIDEO)
    return found


def sending(firefox: Firefox, label: str, what: str) -> dict[str, Any]:
    """Wait until the video sender sends the track labelled ``label`` and encodes frames."""
    before = outbound(firefox)["frames"]

    def check() -> dict[str, Any] | None:
        now = outbound(firefox)
        return now if now["label"] == label and now["frames"] > before else None

    found: dict[str, Any] = until(check, what, MEDIA_TIMEOUT)
    return found


def shared_by(firefox: Firefox) -> int | None:
    """The ``dsrc`` (who shares a screen, -1 for nobody) of the last ``source_update``."""
    updates = [m for m in sepp(firefox, "received") if m["type"] == "source_update"]
    return updates[-1]["data"]["dsrc"] if updates else None


def signals(firefox: Firefox, kind: str) -> list[bool]:
    return [m["data"]["on"] for m in sepp(firefox, "sent") if m["type"] == kind]


def test_firefox_shares_its_screen_into_the_call_and_back_to_the_camera(
    firefox: Firefox, live_server: LiveServer
) -> None:
    (gui,) = links(live_server, ["Alice"])
    open_meeting(firefox, gui)
    firefox.wait_for(PLAYING, "[data-preview]", timeout=MEDIA_TIMEOUT, what="the preview")
    firefox.click("[data-join]")
    firefox.wait_for_text("[data-status]", "You are in the meeting.", timeout=MEDIA_TIMEOUT)
    playing(firefox, "[data-composite]")
    camera = until(lambda: outbound(firefox)["label"], "a camera on the sender", MEDIA_TIMEOUT)
    before = sending(firefox, camera, "the camera to be sent")
    print(f"Firefox sends its camera: {before}")
    assert camera != SCREEN_LABEL
    share = "[data-share]"
    assert firefox.run("return document.querySelector(arguments[0]).hidden;", share) is False
    until(lambda: shared_by(firefox) == -1, "a source_update with nobody sharing", MEDIA_TIMEOUT)

    firefox.click(share)  # a real click: getDisplayMedia needs the person's gesture
    firefox.wait_for_text("[data-status]", "You are sharing your screen.", timeout=TIMEOUT)
    assert firefox.run("return document.querySelector(arguments[0]).ariaPressed;", share) == "true"
    screen = sending(firefox, SCREEN_LABEL, "the screen to be sent")
    print(f"Firefox sends its screen: {screen}")
    # the screen's shape (Firefox may scale it down to fit its bandwidth estimate)
    assert screen["height"] > 0, screen
    assert abs(screen["width"] / screen["height"] - SCREEN[0] / SCREEN[1]) < 0.02, screen
    assert signals(firefox, "desktopstreaming") == [True]
    until(lambda: shared_by(firefox) == 0, "Alice (src 0) sharing", MEDIA_TIMEOUT)
    composite = playing(firefox, "[data-composite]")
    assert composite["time"] > composite["before"], composite

    firefox.click(share)  # stop: the camera goes back on the same sender
    firefox.wait_for_text("[data-status]", "You stopped sharing your screen.", timeout=TIMEOUT)
    assert firefox.run("return document.querySelector(arguments[0]).ariaPressed;", share) == "false"
    sending(firefox, camera, "the camera to be sent again")
    assert signals(firefox, "desktopstreaming") == [True, False]
    until(lambda: shared_by(firefox) == -1, "the server to end the share", MEDIA_TIMEOUT)

    firefox.click("[data-leave]")
    firefox.wait_for_text("[data-left-title]", "You left the meeting")
    assert [p for p in problems(firefox, live_server.url) if "WebSocket" not in p] == []
