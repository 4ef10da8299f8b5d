"""The meeting page's live status in real Chromium, in a real meeting with a Python participant:
the connection indicator's figures from the call's own getStats(), toasts for a join, a
recording started and stopped, the lock, a leave and a kick, and the people list's markers
(speaking from voice_activity, our muted microphone, a camera turned off, presenting).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Locator, expect

from tests.client.conftest import RED
from tests.conftest import LiveServer
from tests.web import test_meeting_browser as meeting_browser
from tests.web import test_meeting_page_js as page_js
from tests.web.test_meeting_browser import MEDIA_TIMEOUT_MS, TIMEOUT_MS, Person
from vidroom.client import Participant
from vidroom.media.testing import ColorVideoTrack, ToneAudioTrack

pytestmark = [pytest.mark.browser, page_js.sqlite_only]

chromium = meeting_browser.chromium
browser = meeting_browser.browser

FIGURE = re.compile(r"^(\d+(?:\.\d+)?) ")


async def rooms(server: LiveServer, names: list[str]) -> dict[str, dict[str, object]]:
    """One meeting that may be locked, one room response per name."""
    await asyncio.to_thread(server.cli, "teams", "create", "acme", "--owner", "o@example.com")
    out = await asyncio.to_thread(server.cli, "apikeys", "create", "--team", "acme")
    key = out.strip().splitlines()[-1]
    found = {}
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": key}) as api:
        for name in names:
            response = await api.post(
                "/rooms",
                data={"id": "standup", "user[name]": name, "options[lock_available]": "true"},
            )
            assert response.status_code == 201, response.text
            found[name] = response.json()
    return found


async def figure(details: Locator, name: str) -> float:
    text = await details.locator(f'[data-figure="{name}"]').inner_text()
    found = FIGURE.match(text)
    assert found, (name, text)
    return float(found.group(1))


def toast(person: Person, text: str) -> Locator:
    return person.page.locator("[data-toasts] .toast").filter(has_text=text)


async def test_the_connection_indicator_toasts_and_markers_in_a_real_meeting(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    found = await rooms(live_server, ["Alice", "Carol"])
    context = await browser.new_context(viewport={"width": 1100, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    gui = found["Alice"]["links"]["gui"]  # type: ignore[index]
    alice = Person("Alice", await context.new_page(), str(gui))
    page = alice.page
    await alice.open()
    await page.get_by_role("button", name="Join the meeting").click()
    await expect(page.get_by_role("status")).to_have_text(
        "You are in the meeting.", timeout=MEDIA_TIMEOUT_MS
    )

    # the indicator: a button named by the level, its figures from the call's own stats
    indicator = page.get_by_role("button", name=re.compile(r"^Connection: (good|fair|poor)\."))
    await expect(indicator).to_be_visible(timeout=MEDIA_TIMEOUT_MS)
    await expect(indicator).to_have_attribute("aria-expanded", "false")
    await indicator.click()
    await expect(indicator).to_have_attribute("aria-expanded", "true")
    details = page.locator("#conn-details")
    await expect(details).to_be_visible()
    await page.wait_for_function(
        """() => ["Receiving", "Sending", "Video"].every((name) => {
          const node = document.querySelector(`[data-figure="${name}"]`);
          return node && parseFloat(node.textContent) > 0;
        })""",
        timeout=MEDIA_TIMEOUT_MS,
    )
    receiving = await figure(details, "Receiving")
    sending = await figure(details, "Sending")
    fps = await figure(details, "Video")
    assert 20 < receiving < 20_000, receiving  # kbit/s of the composite and the mix
    assert 5 < sending < 20_000, sending  # the fake camera and microphone
    assert 1 <= fps <= 60, fps
    loss = await details.locator('[data-figure="Packet loss"]').inner_text()
    assert loss.endswith(" %"), loss
    rtt = await details.locator('[data-figure="Round trip"]').inner_text()
    assert re.fullmatch(r"\d+ ms", rtt), rtt  # the selected candidate pair's (loopback: small)
    await expect(page.locator("[data-freeze]")).to_be_hidden()  # frames flow
    await page.screenshot(path=str(tmp_path / "figures.png"))
    await page.keyboard.press("Escape")
    await expect(details).to_be_hidden()
    await expect(indicator).to_be_focused()

    carol_room = found["Carol"]
    carol = await Participant.join(
        live_server.url,
        access_key=str(carol_room["access_key"]),
        name="Carol",
        video=ColorVideoTrack(RED, size=(320, 240)),
        audio=ToneAudioTrack(440, amplitude=0.3),
        ice_servers=[],
    )
    try:
        await expect(toast(alice, "Carol joined the call.")).to_be_visible(timeout=MEDIA_TIMEOUT_MS)
        carol_item = alice.members.locator("li").filter(has_text="Carol")
        # Carol's tone is a voice to the server's voice activity detection
        await expect(carol_item.locator('[data-mark="speaking"]')).to_have_text(
            "speaking", timeout=MEDIA_TIMEOUT_MS
        )
        # her camera off (mute_video → source_update's vsrc): a marker in words
        await carol.mute_video(True)
        await expect(carol_item.locator('[data-mark="camera-off"]')).to_have_text(
            "camera off", timeout=MEDIA_TIMEOUT_MS
        )
        await carol.mute_video(False)
        await expect(carol_item.locator('[data-mark="camera-off"]')).to_have_count(
            0, timeout=MEDIA_TIMEOUT_MS
        )
        # our own microphone muted: marked on our own line
        own = alice.members.locator("li").filter(has_text="(you)")
        mic = page.get_by_role("button", name="Mute microphone")
        await mic.click()
        await expect(mic).to_have_attribute("aria-pressed", "true")
        await expect(own.locator('[data-mark="muted"]')).to_have_text("microphone off")
        await mic.click()
        await expect(own.locator('[data-mark="muted"]')).to_have_count(0)

        base = f"/rooms/{carol_room['access_key']}"
        async with httpx.AsyncClient(base_url=live_server.url) as api:
            # a recording started and stopped by someone else: recording_update, as toasts
            started = await api.post(f"{base}/recording")
            assert started.status_code == 201, started.text
            await expect(toast(alice, "The meeting is being recorded.")).to_be_visible(
                timeout=MEDIA_TIMEOUT_MS
            )
            stopped = await api.delete(f"{base}/recording")
            assert stopped.status_code == 200, stopped.text
            await expect(toast(alice, "The recording has stopped.")).to_be_visible(
                timeout=MEDIA_TIMEOUT_MS
            )
            # Carol presents (her video takes the big spot): marked, then no more
            presented = await api.post(f"{base}/presentation")
            assert presented.status_code == 201, presented.text
            await expect(carol_item.locator('[data-mark="presenting"]')).to_have_text(
                "presenting", timeout=MEDIA_TIMEOUT_MS
            )
            ended = await api.delete(f"{base}/presentation")
            assert ended.status_code == 200, ended.text
            await expect(carol_item.locator('[data-mark="presenting"]')).to_have_count(
                0, timeout=MEDIA_TIMEOUT_MS
            )
            locked = await api.post(f"{base}/lock")
            assert locked.status_code == 201, locked.text
        await expect(toast(alice, "The meeting is now locked")).to_be_visible()
        await page.screenshot(path=str(tmp_path / "status.png"))
    finally:
        await carol.leave()
    await expect(toast(alice, "Carol left the call.")).to_be_visible(timeout=MEDIA_TIMEOUT_MS)
    await expect(alice.members).not_to_contain_text("Carol")

    # a toast goes with its button
    left = toast(alice, "Carol left the call.")
    await left.get_by_role("button", name="Dismiss: Carol left the call.").click()
    await expect(left).to_have_count(0)

    # kicked: the page says so, in the left view and as a toast
    alice_id = found["Alice"]["user"]["id"]  # type: ignore[index]
    async with httpx.AsyncClient(base_url=live_server.url) as api:
        kicked = await api.delete(f"/rooms/{carol_room['access_key']}/users/{alice_id}")
        assert kicked.status_code == 200, kicked.text
    await expect(toast(alice, "You were removed from the meeting.")).to_be_visible(
        timeout=MEDIA_TIMEOUT_MS
    )
    await expect(page.locator("[data-left-title]")).to_have_text(
        "You were removed from the meeting."
    )
    await expect(indicator).to_be_hidden()  # no call, no indicator
    assert [p for p in alice.problems if "WebSocket" not in p] == [], alice.problems
