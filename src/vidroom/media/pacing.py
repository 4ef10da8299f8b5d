"""Timing of a room's loops: a steady tick, and what the composite loop measures."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def paced(
    period: Callable[[], float], tick: Callable[[], Awaitable[None]], name: str
) -> None:
    """Run ``tick`` every ``period()`` seconds on a fixed schedule (no drift from the tick's own
    duration); a rate change restarts the schedule, a loop that fell more than one period
    behind skips the missed ticks. A failing tick is logged and the loop goes on."""
    loop = asyncio.get_running_loop()
    start, count, current = loop.time(), 0, period()
    while True:
        if period() != current:  # the frame rate changed
            start, count, current = loop.time(), 0, period()
        count += 1
        delay = start + count * current - loop.time()
        if delay < -current:  # fell behind: skip the missed ticks
            start, count, delay = loop.time(), 0, 0.0
        await asyncio.sleep(max(0.0, delay))
        try:
            await tick()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: tick failed", name)


class FrameMeter:
    """Compose and encode times of the last frames, and the composite's frame rate. Written
    by the room's worker thread, read by ``stats`` (deque appends are atomic)."""

    def __init__(self) -> None:
        self._encode_ms: deque[float] = deque(maxlen=60)
        self._compose_ms: deque[float] = deque(maxlen=60)
        self._frame_times: deque[float] = deque(maxlen=120)

    def frame(self, compose_s: float, encode_s: float) -> None:
        self._compose_ms.append(compose_s * 1000)
        self._encode_ms.append(encode_s * 1000)
        self._frame_times.append(time.monotonic())

    def fps(self, window: float = 5.0) -> float:
        now = time.monotonic()
        recent = [t for t in list(self._frame_times) if now - t <= window]
        if len(recent) >= 2 and recent[-1] - recent[0] >= 0.5:
            return round((len(recent) - 1) / (recent[-1] - recent[0]), 2)
        return 0.0

    @staticmethod
    def _mean(values: deque[float]) -> float:
        items = list(values)
        return round(sum(items) / len(items), 3) if items else 0.0

    @property
    def encode_ms(self) -> float:
        return self._mean(self._encode_ms)

    @property
    def compose_ms(self) -> float:
        return self._mean(self._compose_ms)
