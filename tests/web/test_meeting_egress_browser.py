"""Recording, snapshots and live broadcasts on the meeting page, in a real Chromium against a real
server (and, for the live state, a real nginx-rtmp): the indicator a second participant sees
while the first records, pauses and stops; the snapshot button's link; the controls the room's
options hide; the broadcast form's checks and the API's error in words.

Needs Debian's chromium at /usr/bin/chromium (Playwright's own browsers are never downloaded).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import SECRET, LiveServer, free_port
from tests.rtmp import RtmpServer
from tests.web import test_meeting_browser as meeting_browser
from tests.web.test_meeting_browser import MEDIA_TIMEOUT_MS, TIMEOUT_MS, Person

# the page's JavaScript has nothing database-specific (the backends' tests run on both)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

chromium = meeting_browser.chromium
browser = meeting_browser.browser


async def room_people(
    browser: Browser, server: LiveServer, names: list[str], extra: dict[str, str] | None = None
) -> list[Person]:
    """One meeting (room ``standup``, ``extra`` fields on its first start), a page per name."""
    await asyncio.to_thread(server.cli, "teams", "create", "acme", "--owner", "o@example.com")
    out = await asyncio.to_thread(server.cli, "apikeys", "create", "--team", "acme")
    key = out.strip().splitlines()[-1]
    found = []
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": key}) as api:
        for name in names:
            data = {"id": "standup", "name": "Daily standup", "user[name]": name, **(extra or {})}
            response = await api.post("/rooms", data=data)
            assert response.status_code == 201, response.text
            context = await browser.new_context(viewport={"width": 1100, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            page = await context.new_page()
            found.append(Person(name, page, response.json()["links"]["gui"]))
    return found


async def in_call(person: Person) -> None:
    await person.open()
    await person.page.get_by_role("button", name="Join the meeting").click()
    await expect(person.page.get_by_role("status")).to_have_text(
        "You are in the meeting.", timeout=MEDIA_TIMEOUT_MS
    )
    await person.playing("[data-composite]")


def no_problems(person: Person, expected: str = "WebSocket") -> None:
    """No console errors but ``expected`` ones (a refused request logs its status)."""
    left = [p for p in person.problems if "WebSocket" not in p and expected not in p]
    assert left == [], person.problems


async def owner_deletes_on_the_dashboard(browser: Browser, server: LiveServer) -> None:
    """The team's owner (o@example.com, given a password) logs in, finds the recording and the
    snapshot on the dashboard's media page, and deletes both (confirming): the files are gone."""
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "vidroom", "users", "set-password", "--email", "o@example.com",
         "--password-stdin"],
        env=server.env, input=b"correct horse battery\n", check=True, timeout=60,
    )  # fmt: skip
    media = Path(server.env["VIDROOM_DATA_DIR"]) / "media"
    assert len([p for p in media.rglob("*.*") if p.suffix in (".mp4", ".png")]) == 2
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(f"{server.url}/login")
    form = page.locator('form[action="/login"]')
    await form.get_by_label("Email").fill("o@example.com")
    await form.get_by_label("Password").fill("correct horse battery")
    await form.get_by_role("button", name="Log in").click()
    await page.get_by_role("link", name="Recordings and snapshots of acme").click()
    await expect(page.locator("[data-recordings] > li")).to_have_count(1)
    await expect(page.locator("[data-snapshots] > li")).to_have_count(1)
    await expect(page.locator("[data-recordings]")).to_contain_text("Ready")
    await page.get_by_role("button", name="Delete the recording").click()
    await expect(page.get_by_text("The recording was deleted.")).to_be_visible()
    await expect(page.get_by_text("No recordings.")).to_be_visible()
    await page.get_by_role("button", name="Delete the snapshot").click()
    await expect(page.get_by_text("No snapshots.")).to_be_visible()
    assert [p for p in media.rglob("*.*") if p.suffix in (".mp4", ".png")] == []
    await context.close()


async def test_the_second_participant_sees_recording_paused_and_stopped(
    browser: Browser, live_server: LiveServer
) -> None:
    alice, bob = await room_people(browser, live_server, ["Alice", "Bob"])
    await in_call(alice)
    await in_call(bob)
    a, b = alice.page, bob.page
    indicator = b.locator("[data-rec-indicator]")
    await expect(indicator).to_be_hidden()

    await a.get_by_role("button", name="Start recording").focus()
    await a.keyboard.press("Enter")  # by keyboard: the focus moves on to Pause, not lost
    await expect(indicator).to_have_text("Recording", timeout=MEDIA_TIMEOUT_MS)
    await expect(a.get_by_role("button", name="Pause recording")).to_be_focused()
    await expect(indicator).to_have_attribute("aria-live", "polite")
    await expect(b.get_by_role("button", name="Stop recording")).to_be_visible()
    await expect(a.get_by_role("button", name="Start recording")).to_be_hidden()

    await a.get_by_role("button", name="Pause recording").click()
    await expect(indicator).to_have_text("Recording paused")
    await expect(b.get_by_role("button", name="Resume recording")).to_be_visible()
    await b.get_by_role("button", name="Resume recording").click()
    await expect(a.locator("[data-rec-indicator]")).to_have_text("Recording")

    await asyncio.sleep(1.0)  # a second of video in the file
    await a.get_by_role("button", name="Stop recording").click()
    await expect(indicator).to_be_hidden(timeout=MEDIA_TIMEOUT_MS)
    await expect(b.get_by_role("button", name="Start recording")).to_be_visible()

    # once the file is ready, its signed download link is offered, and it is an MP4
    link = b.get_by_role("link", name="Download the recording")
    await expect(link).to_be_visible(timeout=MEDIA_TIMEOUT_MS)
    href = await link.get_attribute("href")
    assert href
    async with httpx.AsyncClient() as http:
        got = await http.get(href)
    assert got.status_code == 200, got.text[:200]
    assert got.content[4:8] == b"ftyp", got.content[:16]

    # the snapshot button: both pages get a link to the PNG
    await b.get_by_role("button", name="Take a snapshot").click()
    for person in (alice, bob):
        shot = person.page.locator("[data-snapshots] a")
        await expect(shot).to_have_count(1, timeout=MEDIA_TIMEOUT_MS)
    href = await a.locator("[data-snapshots] a").get_attribute("href")
    assert href
    async with httpx.AsyncClient() as http:
        got = await http.get(href)
    assert got.status_code == 200
    assert got.content.startswith(b"\x89PNG\r\n\x1a\n")
    for person in (alice, bob):
        no_problems(person)

    await owner_deletes_on_the_dashboard(browser, live_server)
    async with httpx.AsyncClient() as http:
        assert (await http.get(href)).status_code == 404


async def test_the_controls_are_hidden_when_the_options_say_so(
    browser: Browser, live_server: LiveServer
) -> None:
    extra = {"options[recording_available]": "false", "options[broadcast_available]": "false"}
    (alice,) = await room_people(browser, live_server, ["Alice"], extra)
    await alice.open()
    page = alice.page
    await expect(page.get_by_role("button", name="Take a snapshot")).to_be_visible()
    await expect(page.get_by_role("button", name="Start recording")).to_be_hidden()
    await expect(page.get_by_role("button", name="Start broadcast")).to_be_hidden()
    await expect(page.locator("#bcast-url")).to_be_hidden()
    no_problems(alice)


async def test_the_broadcast_form_checks_its_input_and_shows_the_apis_error(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    (alice,) = await room_people(browser, live_server, ["Alice"])
    await alice.open()
    page = alice.page
    error = page.locator("[data-egress-error]")
    start = page.get_by_role("button", name="Start broadcast")
    await expect(page.get_by_label("Stream key")).to_have_attribute("type", "password")

    # nobody is in the call yet: the API refuses (406), the page says why
    await page.get_by_role("button", name="Start recording").click()
    await expect(error).to_have_text("The recording could not start: nobody is in the call yet.")
    await page.get_by_role("button", name="Take a snapshot").click()
    await expect(error).to_have_text(
        "The snapshot could not be taken: nobody is in the call yet: no snapshot."
    )
    await expect(page.locator("[data-rec-indicator]")).to_be_hidden()

    await start.click()
    await expect(error).to_have_text("Enter the ingest URL (rtmp:// or rtmps://).")
    await page.get_by_label("Ingest URL").fill("https://live.example.com/app")
    await start.click()
    await expect(error).to_have_text("The ingest URL must start with rtmp:// or rtmps://.")
    await page.get_by_label("Ingest URL").fill("rtmp://127.0.0.1/live")
    await start.click()
    await expect(error).to_have_text("Enter the stream key.")
    await expect(page.get_by_label("Stream key")).to_be_focused()

    # valid in form, refused by the API (a loopback ingest): its reason, in words
    await page.get_by_label("Stream key").fill("s3cret-key")
    await page.locator("#bcast-player").fill("ftp://example.com/")
    await start.click()
    await expect(error).to_have_text("The player URL must start with http:// or https://.")
    await page.locator("#bcast-player").fill("")
    await start.click()
    await expect(error).to_contain_text("The broadcast could not start: refused: 127.0.0.1")
    await expect(start).to_be_enabled()
    assert "s3cret-key" not in await page.locator("body").inner_text()
    await page.locator("[data-egress]").screenshot(path=str(tmp_path / "egress-panel.png"))
    no_problems(alice, expected="Failed to load resource: the server responded with a status of 40")


STREAM_URLS = """async () => {
  const m = await import("/static/meeting/egress.js");
  return [
    m.streamUrl("rtmp://ingest.example.com/live", "abc"),
    m.streamUrl("rtmp://ingest.example.com/live/", " abc "),
    m.streamUrl("rtmp://ingest.example.com/live/abc", "abc"),
    m.streamUrl("rtmp://ingest.example.com/live/abc", ""),
    m.broadcastProblem("rtmp://ingest.example.com/live/abc", "", ""),
    m.broadcastProblem("rtmp://ingest.example.com", "abc", ""),
    m.broadcastProblem("rtmp://ingest.example.com/live", "a b", ""),
    m.recordingState({duration: null, paused: false}),
    m.recordingState({duration: null, paused: true}),
    m.recordingState({duration: 12, paused: false}),
    m.recordingState(null),
    m.errorText("The recording could not start", {status: 405, message: "x"}),
    m.errorText("The snapshot could not be taken", {status: 406, message: "nobody in the call"}),
  ];
}"""


async def test_the_stream_key_joins_the_ingest_url_once(
    browser: Browser, live_server: LiveServer
) -> None:
    (alice,) = await room_people(browser, live_server, ["Alice"])
    await alice.open()
    assert await alice.page.evaluate(STREAM_URLS) == [
        "rtmp://ingest.example.com/live/abc",
        "rtmp://ingest.example.com/live/abc",
        "rtmp://ingest.example.com/live/abc",
        "rtmp://ingest.example.com/live/abc",
        "",
        "The ingest URL needs an application path, such as rtmp://host/live.",
        "The stream key must not contain spaces.",
        "recording",
        "paused",
        "off",
        "off",
        "The recording could not start: it is turned off for this meeting.",
        "The snapshot could not be taken: nobody in the call.",
    ]


@pytest.fixture
def rtmp(tmp_path: Path) -> Iterator[RtmpServer]:
    if not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx not installed")
    with RtmpServer(tmp_path / "rtmp") as server:
        yield server


@pytest.fixture
def private_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """A server that may broadcast to loopback (the test's nginx-rtmp)."""
    port = free_port()
    env = {
        **os.environ,
        "VIDROOM_ENV": "test",
        "VIDROOM_DATA_DIR": str(tmp_path / "live-data"),
        "VIDROOM_DATABASE_URL": database_url,
        "VIDROOM_HOST": "127.0.0.1",
        "VIDROOM_PORT": str(port),
        "VIDROOM_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "VIDROOM_SECRET_KEY": SECRET,
        "VIDROOM_LOG_LEVEL": "warning",
        "VIDROOM_MEDIA_WORKERS": "1",
        "VIDROOM_OUTBOUND_ALLOW_PRIVATE": "true",
    }
    server = LiveServer(env=env, port=port, log_path=tmp_path / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_a_broadcast_goes_live_on_nginx_rtmp_and_stops(
    browser: Browser, private_server: LiveServer, rtmp: RtmpServer
) -> None:
    alice, bob = await room_people(browser, private_server, ["Alice", "Bob"])
    await in_call(alice)
    await bob.open()
    page = alice.page
    ingest = rtmp.url("key").rsplit("/", 1)[0]
    await page.get_by_label("Ingest URL").fill(ingest)
    await page.get_by_label("Stream key").fill("key")
    await page.locator("#bcast-player").fill("https://example.com/watch")
    await page.get_by_role("button", name="Start broadcast").click()
    for person in (alice, bob):
        state = person.page.locator("[data-bcast-state]")
        await expect(state).to_have_text("Broadcasting live", timeout=MEDIA_TIMEOUT_MS)
    await expect(page.get_by_label("Stream key")).to_have_value("")
    await asyncio.sleep(1.0)
    assert rtmp.recorded("key").stat().st_size > 0

    # the ingest goes away and comes back: reconnecting, then live again
    await asyncio.to_thread(rtmp.stop)
    state = bob.page.locator("[data-bcast-state]")
    await expect(state).to_have_text("Broadcast reconnecting…", timeout=MEDIA_TIMEOUT_MS)
    await asyncio.to_thread(rtmp.start)
    await expect(state).to_have_text("Broadcasting live", timeout=MEDIA_TIMEOUT_MS)

    player = bob.page.locator("#bcast-edit-player")
    await expect(player).to_have_value("https://example.com/watch")
    await player.fill("https://example.com/other")
    await bob.page.get_by_role("button", name="Save player URL").click()
    await expect(bob.page.locator("[data-egress-status]")).to_have_text("The player URL was saved.")

    await bob.page.get_by_role("button", name="Stop broadcast").click()
    for person in (alice, bob):
        await expect(person.page.get_by_role("button", name="Start broadcast")).to_be_visible(
            timeout=MEDIA_TIMEOUT_MS
        )
        await expect(person.page.locator("[data-bcast-state]")).to_be_hidden()
    no_problems(alice)
    no_problems(bob)
