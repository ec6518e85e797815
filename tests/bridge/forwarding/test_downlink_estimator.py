from __future__ import annotations

import pytest

from bridge.forwarding.downlink_estimator import DownlinkEstimator, EstimatorSettings


def est(**kwargs: int) -> DownlinkEstimator:
    return DownlinkEstimator(EstimatorSettings(**{"initial_bps": 1_000_000, **kwargs}))


def test_starts_low_by_default() -> None:
    assert DownlinkEstimator(EstimatorSettings()).estimate_bps == 300_000


def test_follows_an_application_limited_remb_up_while_the_link_does_not_lose() -> None:
    e = est(initial_bps=300_000)
    e.on_sent(0, 0)
    e.on_sent(37_500, 1000)  # 300 kbit/s sent
    e.on_receiver_report(0.0, 1000)
    e.on_remb(460_000, 1000)  # Chromium: ~1.5 x received -> the link has room
    assert e.estimate_bps == 460_000
    e.on_sent(100_000, 2000)  # 500 kbit/s
    e.on_remb(10_000_000, 2000)  # never beyond 2 x sent + 300k
    assert e.estimate_bps == 2 * 500_000 + 300_000


def test_does_not_follow_remb_while_losing() -> None:
    e = est(initial_bps=300_000)
    e.on_sent(0, 0)
    e.on_sent(37_500, 1000)
    e.on_receiver_report(0.05, 1000)
    e.on_remb(460_000, 1000)
    assert e.estimate_bps == 300_000


def test_low_loss_increases_about_8_percent_per_second() -> None:
    e = est()
    for t in range(0, 10_001, 1000):
        e.on_receiver_report(0.0, t)
    assert e.estimate_bps == pytest.approx(1_000_000 * 1.08**10, rel=0.01)


def test_increase_scales_with_elapsed_time_not_report_count() -> None:
    a, b = est(), est()
    for t in range(0, 5001, 250):
        a.on_receiver_report(0.01, t)
    for t in range(0, 5001, 1000):
        b.on_receiver_report(0.01, t)
    assert a.estimate_bps == pytest.approx(b.estimate_bps, rel=0.001)
    assert a.estimate_bps > 1_400_000


def test_moderate_loss_holds() -> None:
    e = est()
    for t in range(0, 5001, 1000):
        e.on_receiver_report(0.05, t)
    assert e.estimate_bps == 1_000_000


def test_high_loss_decreases_multiplicatively_to_floor() -> None:
    e = est()
    e.on_receiver_report(0.2, 0)
    assert e.estimate_bps == 900_000
    for t in range(1, 100):
        e.on_receiver_report(0.9, t * 1000)
    assert e.estimate_bps == 30_000


def test_max_bound() -> None:
    e = est(max_bps=1_100_000)
    for t in range(0, 20_001, 1000):
        e.on_receiver_report(0.0, t)
    assert e.estimate_bps == 1_100_000


def trusting(**kwargs: int) -> DownlinkEstimator:
    """An estimator whose REMBs count: one has reached the (240 kbit/s) send rate."""
    e = est(**kwargs)
    e.on_sent(0, -1000)
    e.on_sent(30_000, 0)
    e.on_remb(240_000, 0)
    return e


def test_remb_caps_and_expires() -> None:
    e = trusting()
    e.on_remb(300_000, 0)
    assert e.estimate_bps == 300_000
    assert e.remb_bps == 300_000
    e.on_receiver_report(0.05, 4000)
    assert e.estimate_bps == 300_000
    e.on_receiver_report(0.05, 5001)  # REMB older than 5 s: ignored
    assert e.estimate_bps == 1_000_000
    assert e.remb_bps is None


def test_remb_below_floor_reads_floor() -> None:
    e = trusting()
    e.on_remb(1000, 0)
    assert e.estimate_bps == 30_000


def test_app_limited_remb_does_not_cap() -> None:
    """After a collapse to audio, Chrome's REMB ~ 1.5 x received + 10k must not lock us."""
    e = est()
    e.on_sent(0, 0)
    e.on_sent(10_000, 1000)  # 80 kbit/s sent
    assert e.send_bps == 80_000
    e.on_remb(90_000, 1000)  # has caught up with what we send: REMBs count from now
    e.on_remb(60_000, 1000)  # below 0.85 x what we send: congestion -> binds
    assert e.estimate_bps == 60_000
    e.on_sent(15_000, 2000)  # 40 kbit/s (video paused)
    e.on_remb(60_000, 2000)  # 1.5 x 40k: application limited
    assert e.remb_bps is None
    for t in range(2000, 12_001, 1000):
        e.on_receiver_report(0.0, t)
    # grows from where congestion left it (60k), ~8 %/s, not back to the old 1 Mbit/s
    assert e.estimate_bps == pytest.approx(60_000 * 1.08**10, rel=0.01)


def test_first_rembs_trailing_a_starting_stream_are_not_congestion() -> None:
    e = est(initial_bps=300_000)
    e.on_sent(0, 0)
    e.on_sent(25_000, 1000)  # 200 kbit/s: video just started
    e.on_remb(160_000, 1000)  # the browser's estimate still trails it
    assert e.estimate_bps == 300_000 and e.remb_bps is None


def test_a_remb_a_little_below_the_send_rate_caps_but_does_not_cut() -> None:
    e = trusting(initial_bps=300_000)
    e.on_sent(52_500, 1000)  # 180 kbit/s
    e.on_remb(170_000, 1000)  # 0.94 x: lagging, not overuse
    assert e.estimate_bps == 170_000
    e.on_remb(260_000, 1100)
    assert e.estimate_bps == 300_000  # the loss-based rate was not pulled down


def test_growth_limited_relative_to_send_rate() -> None:
    e = est(initial_bps=100_000, increase_per_s=1)  # doubling per second, to hit the limit
    e.on_sent(0, 0)
    e.on_sent(5_000, 1000)  # 40 kbit/s
    for t in range(1000, 10_001, 1000):
        e.on_receiver_report(0.0, t)
    assert e.estimate_bps == 2 * 40_000 + 300_000


def test_sent_counter_reset_restarts_measurement() -> None:
    e = est()
    e.on_sent(100_000, 0)
    e.on_sent(50, 500)
    e.on_sent(12_550, 1500)
    assert e.send_bps == 100_000


def test_settings_validated() -> None:
    with pytest.raises(ValueError):
        EstimatorSettings(min_bps=0)
    with pytest.raises(ValueError):
        EstimatorSettings(initial_bps=10_000)
    with pytest.raises(ValueError):
        EstimatorSettings(low_loss=0.2, high_loss=0.1)
