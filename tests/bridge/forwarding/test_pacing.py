from __future__ import annotations

import itertools

import pytest

from bridge.forwarding.pacing import TokenBucket, pace_rate


def test_a_burst_leaves_at_the_rate() -> None:
    bucket = TokenBucket(400_000, burst_ms=20, now_ms=0)  # 50 bytes/ms, burst 1000 -> 1500
    assert bucket.wait_ms(1000, 0) == pytest.approx(20)  # tokens start empty: 1000 B at 50 B/ms
    sent_at = []
    now = 0.0
    for _ in range(10):  # a 10 kB keyframe
        wait = bucket.wait_ms(1000, now)
        while wait > 0:
            now += wait
            wait = bucket.wait_ms(1000, now)
        sent_at.append(now)
    assert sent_at[-1] == pytest.approx(10 * 1000 / 50)  # 200 ms: 400 kbit/s
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert all(g == pytest.approx(20) for g in gaps)


def test_after_a_quiet_spell_only_the_burst_goes_at_once() -> None:
    bucket = TokenBucket(400_000, burst_ms=20, now_ms=0)
    assert [bucket.wait_ms(500, 1000) for _ in range(4)][:3] == [0, 0, 0]
    assert bucket.wait_ms(500, 1000) > 0


def test_a_new_rate_applies_from_now() -> None:
    bucket = TokenBucket(400_000, burst_ms=20, now_ms=0)
    bucket.wait_ms(1500, 100)
    bucket.set_rate(80_000, 100)  # 10 bytes/ms
    assert bucket.wait_ms(1000, 100) == pytest.approx(100)


def test_pace_rate() -> None:
    # rural link after a failed probe: 1.5x the video given, within the estimate
    assert pace_rate(340_000, 200_000, 40_000, 64_000) == 300_000
    assert pace_rate(280_000, 200_000, 40_000, 64_000) == 240_000
    # never below what the allocator gives, nor a floor (retransmissions while paused)
    assert pace_rate(150_000, 200_000, 40_000, 64_000) == 200_000
    assert pace_rate(50_000, 0, 40_000, 64_000) == 64_000
