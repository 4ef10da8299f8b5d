"""``vidroom serve`` with two media workers: the worker holding a meeting of four (two people
on the meeting page in Chromium, two Python participants) is SIGKILLed; within 10 s everyone is
back in the composite on the other worker, and the meeting never ended."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.client.conftest import BLUE, RED
from tests.client.test_participant import shows
from tests.conftest import LiveServer
from tests.web import test_meeting_browser as meeting_browser
from tests.web.test_meeting_browser import MEDIA_TIMEOUT_MS, Person
from vidroom.client import Participant
from vidroom.media.testing import ColorVideoTrack, ToneAudioTrack

pytestmark = pytest.mark.browser

chromium = meeting_browser.chromium
browser = meeting_browser.browser

WORKER = re.compile(r'^vidroom_media_worker_(\w+)\{worker="(\d+)"\} (\S+)$', re.M)


async def workers(server: LiveServer) -> dict[str, dict[str, float]]:
    """Per worker index, its /metrics figures (pid, peers, rooms, ...)."""
    async with httpx.AsyncClient(base_url=server.url) as http:
        text = (await http.get("/metrics")).text
    found: dict[str, dict[str, float]] = {}
    for name, index, value in WORKER.findall(text):
        found.setdefault(index, {})[name.removesuffix("_total")] = float(value)
    return found


async def until_worker(server: LiveServer, predicate: object, within: float) -> dict[str, float]:
    deadline = time.monotonic() + within
    while True:
        for figures in (await workers(server)).values():
            if callable(predicate) and predicate(figures):
                return figures
        assert time.monotonic() < deadline, await workers(server)
        await asyncio.sleep(0.3)


async def test_a_killed_worker_under_browsers_and_python_participants(
    browser: Browser, live_server: LiveServer
) -> None:
    live_server.stop()
    live_server.env["VIDROOM_MEDIA_WORKERS"] = "2"
    live_server.start()
    await asyncio.to_thread(live_server.cli, "teams", "create", "acme", "--owner", "o@example.com")
    key = await asyncio.to_thread(live_server.cli, "apikeys", "create", "--team", "acme")
    key = key.strip().splitlines()[-1]
    rooms = {}
    async with httpx.AsyncClient(base_url=live_server.url, headers={"Authorization": key}) as api:
        for name in ("Alice", "Bob", "Carol", "Dave"):
            response = await api.post("/rooms", data={"id": "standup", "user[name]": name})
            assert response.status_code == 201, response.text
            rooms[name] = response.json()
    pages = []
    for name in ("Alice", "Bob"):
        context = await browser.new_context(viewport={"width": 1100, "height": 844})
        context.set_default_timeout(10_000)
        pages.append(Person(name, await context.new_page(), rooms[name]["links"]["gui"]))
    bots: list[Participant] = []
    try:
        for person in pages:
            await person.open()
            await person.page.get_by_role("button", name="Join the meeting").click()
        for name, rgb in (("Carol", RED), ("Dave", BLUE)):
            bots.append(
                await Participant.join(
                    live_server.url,
                    access_key=rooms[name]["access_key"],
                    name=name,
                    video=ColorVideoTrack(rgb, size=(320, 240)),
                    audio=ToneAudioTrack(440),
                    ice_servers=[],
                )
            )
        for person in pages:
            await expect(person.page.get_by_role("status")).to_have_text(
                "You are in the meeting.", timeout=MEDIA_TIMEOUT_MS
            )
        for bot in bots:
            await bot.wait_for(lambda p: len(p.members) == 4, within=20)
        assert await shows(bots[0], BLUE, seconds=10)
        busy = await until_worker(live_server, lambda w: w.get("peers") == 4, 15)
        pid = int(busy["pid"])

        os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        for bot in bots:
            await bot.wait_for(lambda p: p.rejoins == 1 and len(p.members) == 4, within=10)
            bot.drain()
        assert await shows(bots[0], BLUE, seconds=10 - (time.monotonic() - started))
        assert await shows(bots[1], RED, seconds=10 - (time.monotonic() - started))
        for person in pages:
            left = max(1.0, 10 - (time.monotonic() - started))
            await expect(person.page.get_by_role("status")).to_have_text(
                "Reconnected.", timeout=left * 1000
            )
        assert time.monotonic() - started < 10
        for person in pages:
            composite = await person.playing("[data-composite]")
            assert composite["time"] > composite["before"], composite
            for name in ("Alice", "Bob", "Carol", "Dave"):
                await expect(person.members).to_contain_text(name)
        moved = await until_worker(live_server, lambda w: w.get("peers") == 4, 15)
        assert int(moved["pid"]) != pid
        async with httpx.AsyncClient(base_url=live_server.url) as http:
            room = (await http.get(f"/rooms/{rooms['Alice']['access_key']}")).json()
        assert room["room"]["shutdown"] is False
        for person in pages:
            assert [p for p in person.problems if "WebSocket" not in p] == [], person.problems
    finally:
        for bot in bots:
            await bot.leave()
