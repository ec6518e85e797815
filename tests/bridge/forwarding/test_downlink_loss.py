from __future__ import annotations

from bridge.forwarding.downlink_loss import DownlinkLossMeter


def test_first_report_only_anchors() -> None:
    meter = DownlinkLossMeter()
    for seq in range(100, 110):
        meter.on_sent(seq)
    assert meter.on_report(packets_lost=0, highest_sequence=109) is None


def test_downlink_loss_is_reported_loss() -> None:
    meter = DownlinkLossMeter()
    for seq in range(0, 100):
        meter.on_sent(seq)
    meter.on_report(packets_lost=0, highest_sequence=99)
    for seq in range(100, 200):
        meter.on_sent(seq)
    assert meter.on_report(packets_lost=10, highest_sequence=199) == (10, 100)


def test_gaps_the_bridge_forwarded_are_not_downlink_loss() -> None:
    meter = DownlinkLossMeter()
    for seq in range(0, 100):
        meter.on_sent(seq)
    meter.on_report(packets_lost=0, highest_sequence=99)
    # 100..119 never reached the bridge (publisher's uplink): 20 seqs skipped
    for seq in range(120, 200):
        meter.on_sent(seq)
    # the subscriber misses those 20 and 8 more on its own link
    assert meter.on_report(packets_lost=28, highest_sequence=199) == (8, 100)


def test_late_fill_of_a_gap_and_reordering_never_go_negative() -> None:
    meter = DownlinkLossMeter()
    for seq in (0, 1, 2, 5, 3, 4, 6):  # 3 and 4 skipped, then sent late
        meter.on_sent(seq)
    meter.on_report(packets_lost=0, highest_sequence=2)
    assert meter.on_report(packets_lost=0, highest_sequence=6) == (0, 4)
    assert meter.on_report(packets_lost=0, highest_sequence=6) is None  # nothing new expected
