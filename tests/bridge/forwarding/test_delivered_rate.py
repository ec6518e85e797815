from __future__ import annotations

from bridge.forwarding.delivered_rate import (
    DELIVERED_FRESH_MS,
    DELIVERED_WINDOW_MS,
    DeliveredRate,
)


def test_what_arrived_over_a_window_times_the_size_of_what_was_sent() -> None:
    """100 packets of 1000 bytes go out every 500 ms; the reports say 40 of each 100
    arrived (60 lost): 80 packets a second, 640 kbit/s, whatever was sent."""
    rate = DeliveredRate()
    rate.on_report(1000, 0, 0, 0, 0)
    rate.on_report(1100, 60, 100_000, 100, 500)
    assert rate.bps(500) is None  # not a window yet
    rate.on_report(1200, 120, 200_000, 200, DELIVERED_WINDOW_MS)
    assert rate.bps(DELIVERED_WINDOW_MS) == 640_000


def test_the_size_follows_what_was_sent_since_the_last_report() -> None:
    """A layer switch: 1000-byte packets, then 250-byte ones; each report's arrivals are
    sized by what went out just before it."""
    rate = DeliveredRate()
    rate.on_report(0, 0, 0, 0, 0)
    rate.on_report(50, 0, 50_000, 50, 500)  # 50 x 1000 bytes
    rate.on_report(150, 0, 75_000, 150, 1000)  # 100 x 250 bytes
    assert rate.bps(1000) == (50_000 + 25_000) * 8


def test_nothing_moving_is_nothing_delivered_and_a_stale_rate_is_none_of_it() -> None:
    rate = DeliveredRate()
    rate.on_report(100, 0, 0, 0, 0)
    rate.on_report(100, 0, 10_000, 10, 1000)  # sent, nothing arrived
    assert rate.bps(1000) == 0
    rate.on_report(110, 0, 20_000, 20, 2000)
    assert rate.bps(2000) == 80_000
    assert rate.bps(2000 + DELIVERED_FRESH_MS) == 80_000
    assert rate.bps(2001 + DELIVERED_FRESH_MS) == 0  # reports stopped: nothing arrives


def test_duplicates_and_an_older_report_never_count_negative_or_twice() -> None:
    """Duplicates lower the cumulative loss (RFC 3550 §6.4.1); a block older than the last
    (reordered) moves nothing."""
    rate = DeliveredRate()
    rate.on_report(100, 5, 0, 0, 0)
    rate.on_report(110, 2, 10_000, 10, 400)  # 10 new, loss fell by 3: at most 10 arrived
    rate.on_report(105, 5, 10_000, 10, 700)  # older
    rate.on_report(110, 2, 10_000, 10, 1000)  # the same again
    assert rate.bps(1000) == 10 * 1000 * 8
