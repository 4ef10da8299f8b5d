"""A token bucket: how many messages a client may send (sustained rate, bursts of twice it)."""

from __future__ import annotations

import time


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = 2 * rate if burst is None else burst
        self._tokens = self.burst
        self._at = time.monotonic()

    def take(self) -> bool:
        """Spend one token; False (nothing spent) when the client is over its rate."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
