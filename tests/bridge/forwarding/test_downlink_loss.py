from __future__ import annotations

from bridge.forwarding.downlink_loss import DownlinkLossMeter
from bridge.rtp.packet_cache import SequenceMap


def test_first_report_only_anchors() -> None:
    meter = DownlinkLossMeter()
    assert meter.on_report(packets_lost=0, highest_sequence=109, skipped=0) is None


def test_downlink_loss_is_reported_loss() -> None:
    meter = DownlinkLossMeter()
    meter.on_report(packets_lost=0, highest_sequence=99, skipped=0)
    assert meter.on_report(packets_lost=10, highest_sequence=199, skipped=0) == (10, 100)


def test_gaps_the_bridge_forwarded_are_not_downlink_loss() -> None:
    meter = DownlinkLossMeter()
    meter.on_report(packets_lost=0, highest_sequence=99, skipped=0)
    # 100..119 never reached the bridge (publisher's uplink): 20 seqs skipped;
    # the subscriber misses those 20 and 8 more on its own link
    assert meter.on_report(packets_lost=28, highest_sequence=199, skipped=20) == (8, 100)


def test_late_fill_of_a_gap_and_reordering_never_go_negative() -> None:
    meter = DownlinkLossMeter()
    meter.on_report(packets_lost=0, highest_sequence=2, skipped=2)  # 3, 4 not sent yet
    # 3 and 4 sent late: fewer skipped than before, nothing lost
    assert meter.on_report(packets_lost=0, highest_sequence=6, skipped=0) == (0, 4)
    assert meter.on_report(packets_lost=0, highest_sequence=6, skipped=0) is None


def test_gaps_beyond_the_reports_highest_do_not_come_back_as_loss() -> None:
    """The subscriber reports up to 149; the bridge has already skipped 160-169 (upstream
    loss). Counted at the report's highest, neither report shows downlink loss."""
    sent = SequenceMap(2048)
    for seq in set(range(100, 300)) - set(range(160, 170)):
        sent.put(seq, seq)
    meter = DownlinkLossMeter()
    meter.on_report(0, 149, sent.missing_between(99, 149))
    gaps = sent.missing_between(99, 249)
    assert meter.on_report(10, 249, gaps) == (0, 100)
