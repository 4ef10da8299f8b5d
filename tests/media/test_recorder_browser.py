"""A recording plays in a real Chromium (Debian's /usr/bin/chromium, H.264 + AAC in MP4): the
fragmented file, with a resolution change in the middle (in-band SPS only), decodes at each
size, and seeking lands on the right picture."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Route, async_playwright

from tests.conftest import unavailable
from tests.media.test_recorder_file import Feed, started

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
ORIGIN = "http://127.0.0.1:9"  # never reached: every request is routed
RED, BLUE, GREEN = (200, 30, 30), (30, 30, 200), (30, 200, 30)

# seek, then paint the shown frame on a canvas and read its size and its centre colour
PROBE = """async (t) => {
  const video = document.querySelector('video');
  await new Promise((done, fail) => {
    video.onseeked = done; video.onerror = () => fail(String(video.error && video.error.code));
    video.currentTime = t;
  });
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const g = canvas.getContext('2d');
  g.drawImage(video, 0, 0);
  const px = g.getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data;
  return [video.videoWidth, video.videoHeight, px[0], px[1], px[2], video.duration];
}"""


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        unavailable("chromium not installed")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


def ranged(data: bytes) -> Callable[[Route], Awaitable[None]]:
    """Serve ``data`` answering Range requests, as vidroom's download link does (without
    them Chromium cannot seek a fragmented MP4 and guesses its duration wrong)."""

    async def handle(route: Route) -> None:
        asked = route.request.headers.get("range")
        headers = {"accept-ranges": "bytes"}
        found = re.fullmatch(r"bytes=(\d*)-(\d*)", asked or "")
        if found is None:
            await route.fulfill(body=data, content_type="video/mp4", headers=headers)
            return
        start = int(found[1] or 0)
        end = min(int(found[2]) if found[2] else len(data) - 1, len(data) - 1)
        headers["content-range"] = f"bytes {start}-{end}/{len(data)}"
        await route.fulfill(
            status=206, body=data[start : end + 1], content_type="video/mp4", headers=headers
        )

    return handle


def near(found: list[float], rgb: tuple[int, int, int]) -> bool:
    return all(abs(int(a) - b) <= 40 for a, b in zip(found[2:5], rgb, strict=True))


async def test_chromium_plays_and_seeks_across_a_size_change(
    browser: Browser, tmp_path: Path
) -> None:
    path = tmp_path / "play.mp4"
    feed = Feed((320, 240))
    rec = started(path)
    try:
        feed.run(rec, 30, RED)
        feed.resize((320, 180))
        feed.run(rec, 30, BLUE)
        feed.resize((320, 240))
        feed.run(rec, 30, GREEN)
    finally:
        rec.stop()
        feed.encoder.close()
    page = await browser.new_page()
    # served by Playwright itself (same origin, so the canvas may be read): no socket at all
    await page.route(
        f"{ORIGIN}/index.html",
        lambda route: route.fulfill(
            body='<video src="play.mp4" preload="auto" muted></video>', content_type="text/html"
        ),
    )
    await page.route(f"{ORIGIN}/play.mp4", ranged(path.read_bytes()))
    try:
        await page.goto(f"{ORIGIN}/index.html")
        await page.wait_for_function("document.querySelector('video').readyState >= 1")
        for at, size, rgb in (
            (1.0, (320, 240), RED),
            (3.0, (320, 180), BLUE),
            (5.0, (320, 240), GREEN),
            (0.5, (320, 240), RED),
        ):
            found = await page.evaluate(PROBE, at)
            assert abs(found[5] - 6.0) < 0.2, found
            assert (found[0], found[1]) == size, (at, found)
            assert near(found, rgb), (at, found)
    finally:
        await page.close()
