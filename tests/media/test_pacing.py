"""The room loops' pacing and frame meter."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from vidroom.media.pacing import FrameMeter, paced


async def test_paced_keeps_its_schedule_and_survives_a_failing_tick(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticks: list[float] = []

    async def tick() -> None:
        ticks.append(time.monotonic())
        if len(ticks) == 3:
            raise ValueError("boom")
        await asyncio.sleep(0.01)  # the tick's own time does not push the schedule

    with caplog.at_level(logging.ERROR, logger="vidroom.media.pacing"):
        task = asyncio.create_task(paced(lambda: 0.05, tick, "test room"))
        await asyncio.sleep(0.53)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert 7 <= len(ticks) <= 11  # 0.05 s apart (about 10), not 0.06 (about 8 at most)
    assert "test room: tick failed" in caplog.text


def test_frame_meter() -> None:
    meter = FrameMeter()
    assert meter.fps() == 0.0
    assert meter.encode_ms == 0.0
    for _ in range(11):
        meter.frame(0.002, 0.005)
        time.sleep(0.05)
    assert 10 <= meter.fps() <= 21
    assert meter.compose_ms == 2.0
    assert meter.encode_ms == 5.0
