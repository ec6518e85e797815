"""UplinkGuard driven by traces of transport feedback counts (one call per 100 ms, as the
participant reports them)."""

from __future__ import annotations

import pytest

from bridge.forwarding.uplink_guard import UplinkGuard, UplinkSettings

TICK_MS = 100


def feed(
    guard: UplinkGuard, start_ms: int, end_ms: int, kbps: float, loss: float, pps: int = 60
) -> list[tuple[int, bool]]:
    """Arrivals at ``kbps`` with ``loss`` of the packets lost, from start to end; returns
    (time, video_paused) at each change."""
    changes = []
    sent = lost_so_far = 0.0
    for now in range(start_ms, end_ms, TICK_MS):
        sent += pps * TICK_MS / 1000
        expected = int(sent) - int(sent - pps * TICK_MS / 1000)
        lost = int(sent * loss) - int(lost_so_far)
        lost_so_far = sent * loss
        size = round(kbps * 1000 / 8 * TICK_MS / 1000)
        if guard.on_feedback(now, expected - lost, lost, size):
            changes.append((now, guard.video_paused))
    return changes


def test_an_edge_uplink_stops_video_within_a_second_and_retries_after_the_hold() -> None:
    guard = UplinkGuard(UplinkSettings(first_hold_ms=10_000))
    changes = feed(guard, 0, 9000, kbps=60, loss=0.5)
    assert changes == [(1000, True)]  # two 500 ms windows over 15 % loss under 100 kbit/s
    assert feed(guard, 9000, 11_100, kbps=45, loss=0.05) == [(11_000, False)]


def test_a_link_that_carries_the_lowest_layer_keeps_video_while_gcc_comes_down() -> None:
    guard = UplinkGuard()
    assert feed(guard, 0, 3000, kbps=190, loss=0.4) == []  # rural-3g while GCC starts high
    assert feed(guard, 3000, 30_000, kbps=150, loss=0.03) == []


def test_random_loss_alone_is_not_overflow() -> None:
    guard = UplinkGuard()
    assert feed(guard, 0, 30_000, kbps=50, loss=0.08) == []  # audio only, collapse's 8 %


def test_an_outage_is_not_congestion() -> None:
    guard = UplinkGuard()
    feed(guard, 0, 5000, kbps=500, loss=0.0)
    for now in range(5000, 13_000, TICK_MS):  # nothing arrives
        assert not guard.on_feedback(now, 0, 0, 0)
    # the first feedback after it reports the whole outage lost, at a low rate
    assert not guard.on_feedback(13_000, 3, 2000, 300)
    assert feed(guard, 13_100, 20_000, kbps=500, loss=0.01) == []
    assert not guard.video_paused


def test_failed_resumes_double_the_hold_and_a_good_one_resets_it() -> None:
    s = UplinkSettings(first_hold_ms=10_000, max_hold_ms=40_000, failed_resume_ms=6000)
    guard = UplinkGuard(s)
    changes = feed(guard, 0, 116_000, kbps=60, loss=0.5)  # resuming never works
    assert changes == [
        (1000, True), (11_000, False),  # first hold
        (12_000, True), (32_000, False),  # failed within 6 s: doubled
        (33_000, True), (73_000, False),
        (74_000, True), (114_000, False),  # at most 40 s
        (115_000, True),
    ]  # fmt: skip
    # the link recovers during the hold: audio alone is clean for 4 s, video resumes early
    # and stays
    assert feed(guard, 116_000, 180_000, kbps=400, loss=0.005) == [(120_000, False)]
    # a later collapse starts again from the first hold
    assert feed(guard, 180_000, 195_000, kbps=60, loss=0.5) == [
        (181_000, True), (191_000, False), (192_000, True)
    ]  # fmt: skip


def test_too_few_packets_say_nothing() -> None:
    guard = UplinkGuard()
    assert feed(guard, 0, 10_000, kbps=10, loss=0.5, pps=10) == []  # 5 packets a window


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        UplinkSettings(congested_loss=0)
    with pytest.raises(ValueError):
        UplinkSettings(first_hold_ms=5000, max_hold_ms=1000)


def test_a_clean_audio_only_uplink_brings_video_back_before_the_hold_ends() -> None:
    guard = UplinkGuard(UplinkSettings(first_hold_ms=10_000, min_pause_ms=3000))
    assert feed(guard, 0, 5000, kbps=60, loss=0.5) == [(1000, True)]
    # the collapse is over: audio alone loses nothing for 4 s (8 windows)
    assert feed(guard, 5000, 9500, kbps=40, loss=0.0, pps=50) == [(9000, False)]


def test_the_weak_links_random_loss_is_not_clean() -> None:
    guard = UplinkGuard(UplinkSettings(first_hold_ms=10_000))
    feed(guard, 0, 1100, kbps=60, loss=0.5)
    assert guard.video_paused
    # edge, audio only: only the hold ends the pause (at 11 s)
    assert feed(guard, 1100, 10_900, kbps=40, loss=0.05, pps=50) == []


def test_a_clean_but_narrow_link_does_not_flap() -> None:
    """Audio alone is clean but video overflows: after one failed early resume, only the
    (doubling) hold brings video back, until a resume succeeds."""
    guard = UplinkGuard(UplinkSettings(first_hold_ms=10_000, min_pause_ms=3000))
    changes = []
    now = 0
    for _ in range(70):  # 500 ms steps: overflow while video is on, clean while paused
        if guard.video_paused:
            changes += feed(guard, now, now + 500, kbps=40, loss=0.0, pps=50)
        else:
            changes += feed(guard, now, now + 500, kbps=60, loss=0.5)
        now += 500
    pauses = [t for t, paused in changes if paused]
    resumes = [t for t, paused in changes if not paused]
    assert resumes[0] - pauses[0] < 10_000  # the first early resume
    assert resumes[1] - pauses[1] == 20_000  # it failed: the doubled hold, no early one
