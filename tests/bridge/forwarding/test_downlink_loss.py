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


def test_a_stream_of_which_nothing_arrives_counts_as_lost_once() -> None:
    """Video starved by a weak link's queue: the reports' highest stops at 99 while the
    bridge sends on. What was sent a second before is lost; when the stream comes back
    those packets are not counted a second time."""
    meter = DownlinkLossMeter()
    meter.on_report(0, 99, 0, sent_highest=110, now_ms=0)
    # 200 ms later (a NACK's report): 100..110 may still be on their way
    assert meter.on_report(0, 99, 0, sent_highest=120, now_ms=200) is None
    # a second after: they are lost
    assert meter.on_report(0, 99, 0, sent_highest=150, now_ms=1000) == (11, 11)
    # another second, still nothing: 111..150 are lost too
    assert meter.on_report(0, 99, 0, sent_highest=180, now_ms=2000) == (40, 40)
    # it comes back: the receiver now counts 100..150 lost (51) and 151..200 arrived
    assert meter.on_report(51, 200, 0, sent_highest=210, now_ms=2500) == (0, 50)


def test_a_stream_that_stopped_being_sent_is_no_starvation() -> None:
    """Paused video: nothing sent, nothing arrives, nothing lost."""
    meter = DownlinkLossMeter()
    meter.on_report(0, 99, 0, sent_highest=99, now_ms=0)
    assert meter.on_report(0, 99, 0, sent_highest=99, now_ms=1000) is None
    assert meter.on_report(0, 99, 0, sent_highest=99, now_ms=2000) is None


def test_the_lost_tail_of_a_paused_stream_is_counted_once() -> None:
    meter = DownlinkLossMeter()
    meter.on_report(0, 97, 0, sent_highest=99, now_ms=0)  # 98, 99 never arrive
    assert meter.on_report(0, 97, 0, sent_highest=99, now_ms=1000) == (2, 2)
    # the browser repeats its last report while nothing arrives (bench.weaklink collapse:
    # the same lost tail was counted every other report, 12 "lost" of an audio-only
    # window's ~60 packets, and the paused site's estimate was cut again and again)
    for t in range(2000, 8000, 1000):
        assert meter.on_report(0, 97, 0, sent_highest=99, now_ms=t) is None
    # the stream resumes after the counted tail (it was lost: the receiver counts it)
    assert meter.on_report(2, 150, 0, sent_highest=150, now_ms=9000) == (0, 51)
