"""The meeting page's host controls (static/meeting/host.js) in a real Chromium against a real
server and its media worker: the layout picker changes the meeting's options and the tiles of
the picture the other person receives; presenting the screen (Chromium's fake display capture)
puts it in the big spot of a present-* layout; a foreground layer uploaded from the page shows
in the composite and goes again; "mute everyone" mutes the other page's microphone; guests get
no host controls, and the layout picker hides where ``layout_available`` is off.

Whose picture is where is told by colour: the fake cameras send solid blue (a Y4M file), the
fake screen is Chromium's green test pattern, the layer is red, an empty spot is black. The
colours are sampled from the other page's own ``<video>`` of the composite it receives.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import LiveServer
from tests.files.pdfs import BLUE, RED, pdf_of
from tests.web import test_meeting_browser as meeting_browser
from tests.web.test_meeting_browser import (
    CHROMIUM_ARGS,
    MEDIA_TIMEOUT_MS,
    TIMEOUT_MS,
    Person,
    write_voice,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

chromium = meeting_browser.chromium

# the colour at each point (x, y as fractions) of the composite <video>, as RGB
SAMPLE = """
(points) => {
  const v = document.querySelector("[data-composite]");
  if (!v || !v.videoWidth) { return null; }
  const c = document.createElement("canvas");
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const g = c.getContext("2d", { willReadFrequently: true });
  g.drawImage(v, 0, 0);
  return points.map(([x, y]) => Array.from(
    g.getImageData(Math.floor(x * c.width), Math.floor(y * c.height), 1, 1).data).slice(0, 3));
}
"""


def colour(rgb: list[int]) -> str:
    """The name of a sampled colour: black, or the channel that clearly dominates."""
    r, g, b = rgb
    if max(r, g, b) < 45:
        return "black"
    for name, own, others in (("red", r, (g, b)), ("green", g, (r, b)), ("blue", b, (r, g))):
        if own >= 60 and own > 2 * max(others) + 20:
            return name
    return f"other{tuple(rgb)}"


async def colours_become(
    page: Page, points: list[tuple[float, float]], expected: list[str], within: float = 20
) -> None:
    """Wait until the received composite shows ``expected`` at ``points``."""
    seen: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        sampled = await page.evaluate(SAMPLE, [list(p) for p in points])
        if sampled is not None:
            seen = [colour(rgb) for rgb in sampled]
            if seen == expected:
                return
        await asyncio.sleep(0.3)
    raise AssertionError(f"composite colours {seen}, wanted {expected} at {points}")


def blue_y4m(path: Path, width: int = 320, height: int = 240) -> Path:
    """A few frames of solid blue for the fake camera (Y4M, 4:2:0)."""
    quarter = width * height // 4
    planes = bytes([41]) * (4 * quarter) + bytes([240]) * quarter + bytes([110]) * quarter
    frame = b"FRAME\n" + planes
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        out.write(frame * 10)
    return path


@pytest.fixture
async def browser(chromium: Path, tmp_path: Path) -> AsyncIterator[Browser]:
    voice = write_voice(tmp_path / "voice.wav")
    camera = blue_y4m(tmp_path / "blue.y4m")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium),
            args=[
                *CHROMIUM_ARGS,
                f"--use-file-for-fake-audio-capture={voice}",
                f"--use-file-for-fake-video-capture={camera}",
                "--auto-select-desktop-capture-source=Entire screen",
            ],
        )
        try:
            yield launched
        finally:
            await launched.close()


async def api_key(server: LiveServer) -> str:
    await asyncio.to_thread(server.cli, "teams", "create", "acme", "--owner", "o@example.com")
    out = await asyncio.to_thread(server.cli, "apikeys", "create", "--team", "acme")
    return out.strip().splitlines()[-1]


async def page_for(browser: Browser, name: str, gui: str) -> Person:
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    return Person(name, await context.new_page(), gui)


async def hosts(
    browser: Browser, server: LiveServer, names: list[str], extra: dict[str, str] | None = None
) -> list[Person]:
    """One meeting started through the API, a page per (non-guest) participant."""
    key = await api_key(server)
    found = []
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": key}) as api:
        for name in names:
            data = {"id": "standup", "name": "Daily standup", "user[name]": name, **(extra or {})}
            response = await api.post("/rooms", data=data)
            assert response.status_code == 201, response.text
            found.append(await page_for(browser, name, response.json()["links"]["gui"]))
    return found


async def in_call(person: Person) -> None:
    await person.open()
    await person.page.get_by_role("button", name="Join the meeting").click()
    await expect(person.page.get_by_role("status")).to_have_text(
        "You are in the meeting.", timeout=MEDIA_TIMEOUT_MS
    )
    await person.playing("[data-composite]")


def access_key(person: Person) -> str:
    return person.gui.split("?", 1)[1]


async def options_of(server: LiveServer, person: Person) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(f"/rooms/{access_key(person)}")
        assert response.status_code == 200, response.text
        options: dict[str, object] = response.json()["options"]
        return options


def serious(person: Person) -> list[str]:
    return [p for p in person.problems if "WebSocket" not in p]


async def test_the_layout_picker_and_presenting_the_screen_change_the_received_picture(
    browser: Browser, live_server: LiveServer
) -> None:
    alice, bob = await hosts(browser, live_server, ["Alice", "Bob"])
    for person in (alice, bob):
        await in_call(person)
    page = alice.page
    # two cameras: the automatic grid, side by side, the whole canvas blue
    await colours_become(bob.page, [(0.25, 0.1), (0.75, 0.5)], ["blue", "blue"])

    # present-upper-6 without a presenter: the first person big below, the other top left,
    # the rest of the top row empty
    await page.get_by_label("Layout", exact=True).select_option("present-upper-6")
    await page.get_by_label("Show names").uncheck()
    await page.get_by_role("button", name="Apply layout").click()
    await colours_become(bob.page, [(0.5, 0.6), (0.08, 0.1), (0.9, 0.1)], ["blue", "blue", "black"])
    options = await options_of(live_server, bob)
    assert (options["layout_name"], options["show_names"]) == ("present-upper-6", False)
    # options_update reached Bob's page: his picker shows the meeting's layout
    await expect(bob.page.get_by_label("Layout", exact=True)).to_have_value("present-upper-6")
    await expect(bob.page.get_by_label("Show names")).not_to_be_checked()

    # present-lower-3 and Alice presents her screen: the fake screen (green) fills the big
    # spot, Bob's camera the first small spot below
    await page.get_by_label("Layout", exact=True).select_option("present-lower-3")
    await page.get_by_role("button", name="Apply layout").click()
    await expect(bob.page.get_by_label("Layout", exact=True)).to_have_value("present-lower-3")
    await page.get_by_role("button", name="Present my screen").click()
    stop = page.get_by_role("button", name="Stop presenting")
    await expect(stop).to_be_visible(timeout=MEDIA_TIMEOUT_MS)
    await expect(page.get_by_role("button", name="Share screen")).to_have_attribute(
        "aria-pressed", "true"
    )
    big = [(0.1, 0.1), (0.9, 0.1), (0.1, 0.6), (0.9, 0.6)]
    await colours_become(
        bob.page, [*big, (0.17, 0.875), (0.83, 0.875)],
        ["green"] * 4 + ["blue", "black"],
    )  # fmt: skip
    await expect(bob.page.locator("[data-presenter-state]")).to_have_text("Alice is presenting.")

    # stop: back to the cameras, Alice's in the big spot again
    await stop.click()
    await expect(page.get_by_role("button", name="Present my screen")).to_be_focused()
    await expect(page.get_by_role("button", name="Share screen")).to_have_attribute(
        "aria-pressed", "false"
    )
    await colours_become(bob.page, big, ["blue"] * 4)
    for person in (alice, bob):
        assert serious(person) == [], person.problems


def red_corner_png(size: tuple[int, int] = (1280, 960)) -> bytes:
    """A foreground layer: opaque red over the top-left quarter, transparent elsewhere."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((230, 20, 20, 255), (0, 0, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def test_a_foreground_layer_from_the_page_and_muting_everyone(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, bob = await hosts(browser, live_server, ["Alice", "Bob"])
    for person in (alice, bob):
        await in_call(person)
    page = alice.page
    points = [(0.1, 0.1), (0.4, 0.4), (0.75, 0.6)]
    await colours_become(bob.page, points, ["blue"] * 3)

    # a text card and an image at once is refused on the page, before any request
    await page.get_by_label("Card title").fill("Agenda")
    layer = tmp_path / "corner.png"
    layer.write_bytes(red_corner_png())
    await page.get_by_label("Image", exact=True).set_input_files(str(layer))
    await page.get_by_role("button", name="Show layer").click()
    alert = page.locator("[data-host-error]")
    await expect(alert).to_have_text("Choose an image or write a text card, not both.")
    await page.get_by_label("Card title").fill("")

    await page.get_by_label("Over the video").check()
    await page.get_by_role("button", name="Show layer").click()
    await expect(alert).to_be_hidden()
    await colours_become(bob.page, points, ["red", "red", "blue"])
    await page.get_by_role("button", name="Remove layer").click()
    await colours_become(bob.page, points, ["blue"] * 3)

    # a file the server refuses: its own error message, in words
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"this is not a picture")
    await page.get_by_label("Image", exact=True).set_input_files(str(bad))
    await page.get_by_role("button", name="Show layer").click()
    await expect(alert).to_contain_text("The layer could not be shown: ")
    assert "unknown error" not in (await alert.text_content() or "")

    # both fake microphones talk; Alice mutes everyone: Bob's microphone goes off, hers not
    for name in ("Alice", "Bob"):
        speaking = alice.members.locator(".members__item--speaking").filter(has_text=name)
        await expect(speaking).to_have_count(1, timeout=MEDIA_TIMEOUT_MS)
    await page.get_by_role("button", name="Mute everyone").click()
    bob_mic = bob.page.locator("[data-mic]")
    await expect(bob_mic).to_have_attribute("aria-pressed", "true")
    await expect(bob.page.get_by_role("status")).to_have_text(
        "Alice muted everyone. Your microphone is off."
    )
    await expect(page.locator("[data-mic]")).to_have_attribute("aria-pressed", "false")
    speaking = alice.members.locator(".members__item--speaking")
    await expect(speaking.filter(has_text="Bob")).to_have_count(0, timeout=MEDIA_TIMEOUT_MS)
    await expect(speaking.filter(has_text="Alice")).to_have_count(1)
    assert serious(bob) == [], bob.problems
    assert [p for p in serious(alice) if "400" not in p and "415" not in p] == [], alice.problems


async def test_guests_see_no_host_controls_and_the_picker_follows_layout_available(
    browser: Browser, live_server: LiveServer
) -> None:
    extra = {"options[layout_available]": "false"}
    (alice,) = await hosts(browser, live_server, ["Alice"], extra)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        room = (await client.get(f"/rooms/{access_key(alice)}")).json()
        joined = await client.post(f"/guests/{room['room']['guest_token']}", data={"name": "Gus"})
        assert joined.status_code == 201, joined.text
    gus = await page_for(browser, "Gus", joined.json()["links"]["gui"])
    for person in (alice, gus):
        await person.open()
    await expect(alice.page.get_by_role("heading", name="Host controls")).to_be_visible()
    await expect(alice.page.get_by_role("button", name="Mute everyone")).to_be_visible()
    await expect(alice.page.get_by_role("button", name="Present my screen")).to_be_visible()
    await expect(alice.page.get_by_label("Layout", exact=True)).to_be_hidden()
    await expect(gus.page.locator("[data-host]")).to_be_hidden()
    await expect(gus.page.get_by_role("button", name="Mute everyone")).to_have_count(0)
    for person in (alice, gus):
        assert serious(person) == [], person.problems


HOST_JS = """
async () => {
  const m = await import("/static/meeting/host_rules.js");
  const api = await import("/static/meeting/api.js");
  const key = location.search.slice(1);
  const slides = {files: [
    {id: "a", name: "Deck", converted: true, failed: false,
     links: {slides: ["https://x.example/1.png", "javascript:alert(1)", "http://x.example/2.png"]}},
    {id: "b", name: "Busy", converted: false, failed: false, links: {slides: ["https://x/1"]}},
    {id: "c", name: "None", converted: true, failed: false, links: {slides: []}},
  ]};
  let refused = null;
  try {
    await new api.Api(key).startPresentation(location.origin + "/static/no-such-slide.png");
  } catch (error) {
    refused = {status: error.status, text: m.hostError("The slide could not be shown", error)};
  }
  return {
    guest: m.hostParts({user: {guest: true}, options: {}}),
    host: m.hostParts({user: {guest: false}, options: {layout_available: true}}),
    noLayout: m.hostParts({user: {guest: false}, options: {layout_available: false}}),
    none: m.hostParts(null),
    grid: m.layoutFields("", false, true),
    named: m.layoutFields("present-lower-3", true, false),
    unknown: m.layoutFields("<b>", true, true),
    state: m.layoutState({layout_name: "nine", voice_activation: true, show_names: false}),
    custom: m.layoutState({layout_name: "mine-with-a-map"}),
    files: m.slideFiles(slides),
    steps: [m.stepSlide(0, -1, 3), m.stepSlide(0, 1, 3), m.stepSlide(2, 1, 3),
            m.stepSlide(0, 1, 0)],
    layer: [m.layerProblem(null, " ", ""), m.layerProblem({type: "image/gif"}, "", ""),
            m.layerProblem({type: "image/png"}, "", ""), m.layerProblem(null, "Title", "")],
    errors: [m.hostError("X", {status: 405, message: "layout_unavailable"}),
             m.hostError("X", {status: 0, message: ""}),
             m.hostError("X", {status: 500, message: ""})],
    refused,
  };
}
"""


async def test_the_host_modules_rules_and_the_servers_slide_error_in_words(
    browser: Browser, live_server: LiveServer
) -> None:
    (alice,) = await hosts(browser, live_server, ["Alice"])
    await alice.open()
    got = await alice.page.evaluate(HOST_JS)
    assert got["guest"] == {"panel": False, "layout": False}
    assert got["host"] == {"panel": True, "layout": True}
    assert got["noLayout"] == {"panel": True, "layout": False}
    assert got["none"] == {"panel": False, "layout": False}
    assert got["grid"] == {
        "layout": "auto", "name": "", "voice_activation": "false", "show_names": "true"
    }  # fmt: skip
    assert got["named"]["name"] == "present-lower-3"
    assert got["named"]["voice_activation"] == "true"
    assert got["unknown"]["name"] == ""  # never a name the server does not know
    assert got["state"] == {"name": "nine", "voice": True, "names": False}
    assert got["custom"] == {"name": "", "voice": False, "names": True}
    assert got["files"] == [
        {"id": "a", "name": "Deck", "slides": ["https://x.example/1.png", "http://x.example/2.png"]}
    ]
    assert got["steps"] == [0, 1, 2, -1]
    assert got["layer"][0] == "Choose an image or write a title or text for the card."
    assert got["layer"][1] == "The image must be a PNG, JPEG, WebP or SVG file."
    assert got["layer"][2:] == ["", ""]
    assert got["errors"] == [
        "X: it is turned off for this meeting.",
        "X: the server could not be reached.",
        "X: unknown error.",
    ]
    # the server answers a slide with 400 and its own message; the page shows that message
    refused = got["refused"]
    assert refused is not None
    assert refused["status"] == 400, refused
    assert refused["text"].startswith("The slide could not be shown: ")
    assert "unknown error" not in refused["text"]


async def test_a_converted_files_slides_are_presented_and_stepped_from_the_page(
    browser: Browser, live_server: LiveServer
) -> None:
    alice, bob = await hosts(browser, live_server, ["Alice", "Bob"])
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        sent = await client.post(
            f"/rooms/{access_key(alice)}/files",
            files={"file": ("deck.pdf", pdf_of([RED, BLUE]), "application/pdf")},
        )
        assert sent.status_code == 201, sent.text
    for person in (alice, bob):
        await in_call(person)
    page = alice.page
    await page.get_by_label("Layout", exact=True).select_option("present-lower-3")
    await page.get_by_label("Show names").uncheck()
    await page.get_by_role("button", name="Apply layout").click()
    big = [(0.3, 0.2), (0.7, 0.6)]  # inside the slide (4:3, contained in the big spot)
    await colours_become(bob.page, big, ["blue", "blue"])  # a camera in the big spot

    slides = page.get_by_label("Slides from a file")
    deadline = time.monotonic() + 20
    while await slides.locator("option", has_text="deck.pdf").count() == 0:
        assert time.monotonic() < deadline, "the file never showed as converted"
        await page.get_by_role("button", name="Reload files").click()
        await asyncio.sleep(0.5)
    await slides.select_option(label="deck.pdf (2 slides)")
    await page.get_by_role("button", name="Show the first slide").click()
    await expect(page.locator("[data-slide-state]")).to_have_text("Slide 1 of 2.")
    await colours_become(bob.page, big, ["red", "red"])
    await page.get_by_role("button", name="Next slide").click()
    await expect(page.locator("[data-slide-state]")).to_have_text("Slide 2 of 2.")
    await expect(page.get_by_role("button", name="Next slide")).to_be_disabled()
    await colours_become(bob.page, big, ["blue", "blue"])
    await page.get_by_role("button", name="Previous slide").click()
    await colours_become(bob.page, big, ["red", "red"])
    assert [p for p in serious(alice) if "400" not in p] == [], alice.problems
    assert serious(bob) == [], bob.problems
