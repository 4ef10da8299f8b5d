"""Recording a meeting of two real Chromium participants: each browser's fake camera plays a
Y4M file of its own solid colour and its fake microphone a WAV of its own tone; ~10 s recorded
through the REST API; the download probed with PyAV: its duration, both colours in their
tiles, both tones in the mix.

Needs Debian's chromium at /usr/bin/chromium (Playwright's own browsers are never downloaded).
The fake-capture flags are per browser process, so each person has a browser of their own.
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from playwright.async_api import Browser, Playwright, async_playwright, expect

from tests.client.conftest import BLUE, RED, colour_share
from tests.conftest import LiveServer
from tests.media.recordings import probe
from tests.recordings.test_recording_api import tone_level
from tests.recordings.test_server_crash import team_key
from tests.web import test_meeting_browser as meeting_browser
from tests.web.test_meeting_browser import CHROMIUM_ARGS, MEDIA_TIMEOUT_MS, TIMEOUT_MS, Person

pytestmark = pytest.mark.browser

chromium = meeting_browser.chromium


def write_y4m(path: Path, rgb: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> Path:
    """A few frames of one solid colour (4:2:0, BT.601 limited range, as Chromium reads it)."""
    r, g, b = (float(c) for c in rgb)
    y = round(16 + 0.257 * r + 0.504 * g + 0.098 * b)
    u = round(128 - 0.148 * r - 0.291 * g + 0.439 * b)
    v = round(128 + 0.439 * r - 0.368 * g - 0.071 * b)
    width, height = size
    frame = (
        b"FRAME\n"
        + bytes([y]) * (width * height)
        + bytes([u]) * (width * height // 4)
        + bytes([v]) * (width * height // 4)
    )
    header = f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 30)
    return path


def write_tone(path: Path, hz: float, seconds: float = 2.0, rate: int = 48000) -> Path:
    """A tone in syllable-like bursts (190 ms on, 60 ms off) at about -14 dBFS: a steady tone
    could be taken for noise by the browser's noise suppression."""
    t = np.arange(int(seconds * rate)) / rate
    bursts = ((t % 0.25) < 0.19).astype(np.float64)
    samples = (np.sin(2 * np.pi * hz * t) * bursts * 0.2 * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


async def launch(playwright: Playwright, chromium: Path, camera: Path, microphone: Path) -> Browser:
    return await playwright.chromium.launch(
        executable_path=str(chromium),
        args=[
            *CHROMIUM_ARGS,
            f"--use-file-for-fake-video-capture={camera}",
            f"--use-file-for-fake-audio-capture={microphone}",
        ],
    )


@pytest.fixture
async def browsers(chromium: Path, tmp_path: Path) -> AsyncIterator[list[Browser]]:
    """Alice's browser (a red camera, 440 Hz) and Bob's (a blue camera, 1000 Hz)."""
    async with async_playwright() as playwright:
        launched: list[Browser] = []
        try:
            for name, rgb, hz in (("alice", RED, 440.0), ("bob", BLUE, 1000.0)):
                camera = write_y4m(tmp_path / f"{name}.y4m", rgb)
                microphone = write_tone(tmp_path / f"{name}.wav", hz)
                launched.append(await launch(playwright, chromium, camera, microphone))
            yield launched
        finally:
            for browser in launched:
                await browser.close()


def region(picture: np.ndarray[Any, Any], rgb: tuple[int, int, int]) -> tuple[int, int, int, int]:
    """The bounding box (x0, y0, x1, y1) of the pixels close to ``rgb``, which must fill it:
    the colour is one solid tile, not scattered over the picture."""
    close = np.all(np.abs(picture.astype(np.int16) - np.array(rgb, np.int16)) <= 45, axis=2)
    ys, xs = np.nonzero(close)
    assert xs.size > 0, rgb
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    area = (box[2] - box[0]) * (box[3] - box[1])
    assert xs.size / area > 0.9, (rgb, box, xs.size / area)
    return box


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


async def ready_recording(api: httpx.AsyncClient, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        listed = (await api.get("/rooms/r1/recordings")).json()
        if listed and listed[0]["links"]["download"]:
            found: dict[str, Any] = listed[0]
            return found
        assert time.monotonic() < deadline, listed
        await asyncio.sleep(0.3)


async def test_two_browsers_recorded_with_their_colours_and_tones(
    browsers: list[Browser], live_server: LiveServer, tmp_path: Path
) -> None:
    key = await team_key(live_server)
    api = httpx.AsyncClient(base_url=live_server.url, headers={"Authorization": key})
    try:
        rooms = []
        for name in ("Alice", "Bob"):
            response = await api.post("/rooms", data={"id": "r1", "user[name]": name})
            assert response.status_code == 201, response.text
            rooms.append(response.json())
        people = []
        for name, browser, room in zip(("Alice", "Bob"), browsers, rooms, strict=True):
            context = await browser.new_context(viewport={"width": 1100, "height": 844})
            context.set_default_timeout(TIMEOUT_MS)
            people.append(Person(name, await context.new_page(), room["links"]["gui"]))
        for person in people:
            await person.open()
            await person.page.get_by_role("button", name="Join the meeting").click()
        for person in people:
            await expect(person.page.get_by_role("status")).to_have_text(
                "You are in the meeting.", timeout=MEDIA_TIMEOUT_MS
            )
        composite = await people[0].playing("[data-composite]")
        assert composite["time"] > composite["before"], composite
        await expect(people[0].members).to_contain_text("Bob", timeout=MEDIA_TIMEOUT_MS)

        ak = rooms[0]["access_key"]
        response = await api.post(f"/rooms/{ak}/recording")
        assert response.status_code == 201, response.text
        started = time.monotonic()
        await asyncio.sleep(10)
        assert (await api.delete(f"/rooms/{ak}/recording")).status_code == 200
        elapsed = time.monotonic() - started
        recording = await ready_recording(api, within=30)
        assert recording["user"]["name"] == "Alice"
        got = await api.get(recording["links"]["download"])
        assert got.status_code == 200
        for person in people:
            assert [p for p in person.problems if "WebSocket" not in p] == [], person.problems
    finally:
        await api.aclose()

    path = tmp_path / "browsers.mp4"
    path.write_bytes(got.content)
    found = probe(str(path))
    assert found.errors == 0
    assert abs(found.video_span - elapsed) <= 1.0, (found.video_span, elapsed)
    assert abs(recording["duration"] - elapsed) <= 1.0, (recording, elapsed)
    # both cameras' colours, each in a tile of its own (a tile of two is about a quarter of
    # the composite), from the first second on and in the last picture
    for _, picture in (found.pictures[len(found.pictures) // 5], found.pictures[-1]):
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        assert colour_share(frame, RED) > 0.1, colour_share(frame, RED)
        assert colour_share(frame, BLUE) > 0.1, colour_share(frame, BLUE)
        red, blue = region(picture, RED), region(picture, BLUE)
        assert not overlap(red, blue), (red, blue)
    assert found.audio.size > 0
    levels = {hz: tone_level(found.audio, found.audio_rate, hz) for hz in (440, 700, 1000)}
    assert levels[440] > 20, levels
    assert levels[1000] > 20, levels
    # the measure tells tones apart: a frequency nobody plays is far below both
    assert levels[700] < min(levels[440], levels[1000]) / 10, levels
