"""Voice activation: who holds spot one, with hysteresis so the picture does not flicker.

A speaker takes the spotlight when the holder is silent and has held it for at least
:data:`HOLD_S` seconds; the holder keeps it while speaking. Pure logic (no av, no clock of its
own), so it is tested on its own.
"""

from __future__ import annotations

HOLD_S = 2.0


class Spotlight:
    def __init__(self, hold: float = HOLD_S) -> None:
        self.hold = hold
        self.key: str | None = None
        self.since = float("-inf")

    def update(self, speaking: list[str], present: set[str], now: float) -> bool:
        """Apply who speaks now (in mixer order); True when the spotlight moved."""
        moved = False
        if self.key is not None and self.key not in present:
            self.key, moved = None, True
        candidates = [key for key in speaking if key != self.key and key in present]
        if not candidates:
            return moved
        if self.key is not None and (self.key in speaking or now - self.since < self.hold):
            return moved
        self.key, self.since = candidates[0], now
        return True
