"""The message-rate token bucket."""

from __future__ import annotations

import time

from vidroom.kit.token_bucket import TokenBucket


def test_a_burst_of_twice_the_rate_then_the_rate() -> None:
    bucket = TokenBucket(10.0)
    assert sum(bucket.take() for _ in range(30)) == 20  # the burst, then nothing
    time.sleep(0.35)  # about 3.5 tokens come back
    refilled = sum(bucket.take() for _ in range(10))
    assert 3 <= refilled <= 5


def test_refill_is_capped_at_the_burst() -> None:
    bucket = TokenBucket(100.0, burst=5)
    time.sleep(0.2)  # 20 tokens' worth of time
    assert sum(bucket.take() for _ in range(10)) == 5
