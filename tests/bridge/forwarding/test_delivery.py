"""forwarding/delivery.py: the bytes a report block says got through."""

from __future__ import annotations

from bridge.forwarding.delivery import (
    DELIVERY_STALE_MS,
    DeliveredBytes,
    DeliveryWindow,
    ReportedLoss,
)


def test_packets_counted_at_the_mean_size_sent_since_the_previous_report() -> None:
    meter = DeliveredBytes()
    # 10 packets of 100 bytes sent, 8 reported through: the first report
    assert meter.on_report(8, 1000, 10, 500) == (800, None)
    # then 4 of 1000 bytes (a higher layer), 3 through
    assert meter.on_report(3, 5000, 14, 1500) == (3000, 500)


def test_nothing_sent_since_keeps_the_last_mean() -> None:
    meter = DeliveredBytes()
    meter.on_report(1, 400, 2, 0)
    assert meter.on_report(2, 400, 2, 1000) == (400, 0)
    assert meter.on_report(-1, 400, 2, 2000) == (0, 1000)  # never negative


def test_each_streams_bytes_over_the_time_its_own_reports_cover() -> None:
    window = DeliveryWindow()
    # video reported at 1000 and 2000, each covering the second before
    window.add(1, ReportedLoss(0, 10, 12_500, 0), 1000)
    window.add(1, ReportedLoss(0, 10, 12_500, 1000), 2000)
    # audio once, covering five seconds
    window.add(2, ReportedLoss(0, 250, 25_000, -3000), 2000)
    # a stream's first report: how long it covers is not known
    window.add(3, ReportedLoss(0, 10, 99_999, None), 2000)
    video, audio = 25_000 * 8000 // 2000, 25_000 * 8000 // 5000
    assert window.take_bps(2000) == video + audio
    # the next window: the video reports again, the audio not (it reports every ~5 s),
    # and still counts at its last rate until that is stale
    window.add(1, ReportedLoss(0, 10, 6_250, 2000), 3000)
    assert window.take_bps(3000) == 6_250 * 8 + audio
    assert window.take_bps(3000 + DELIVERY_STALE_MS + 1) is None
