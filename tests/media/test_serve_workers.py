"""``vidroom serve`` with media workers: /metrics shows each one, SIGTERM leaves no worker
behind, and a SIGKILLed server's workers exit on their own."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

from tests.conftest import LiveServer
from tests.media.test_pool import alive

PID = re.compile(r'^vidroom_media_worker_pid\{worker="(\d+)"\} (\S+)$', re.M)


def worker_pids(server: LiveServer, count: int, within: float = 20.0) -> list[int]:
    deadline = time.monotonic() + within
    while True:
        text = httpx.get(f"{server.url}/metrics").text
        pids = [int(float(pid)) for _, pid in PID.findall(text)]
        if len(pids) == count:
            for name in ("cpu_seconds", "rooms", "peers", "packets_in", "packets_out"):
                assert f"vidroom_media_worker_{name}" in text
            assert "vidroom_media_worker_loop_lag_milliseconds" in text
            return pids
        assert time.monotonic() < deadline, text
        time.sleep(0.2)


async def gone(pids: list[int], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
async def test_no_worker_outlives_the_server(stop: str, live_server: LiveServer) -> None:
    live_server.stop()
    live_server.env["VIDROOM_MEDIA_WORKERS"] = "2"
    live_server.start()
    pids = worker_pids(live_server, 2)
    assert all(alive(pid) for pid in pids)
    assert live_server.process is not None
    assert live_server.process.pid not in pids
    if stop == "sigterm":
        live_server.stop()  # SIGTERM, then waits for the exit
    else:
        live_server.kill()
    assert await gone(pids), [pid for pid in pids if alive(pid)]
