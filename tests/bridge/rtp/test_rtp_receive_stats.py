from __future__ import annotations

import pytest

from bridge.rtp.receive_stats import ReceiveStats
from bridge.rtp.rtcp import ReportBlock

BASE = 65536  # SequenceUnwrapper places the first packet in cycle 1


def feed(stats: ReceiveStats, seqs: list[int], *, start_ms: int = 0) -> None:
    for i, seq in enumerate(seqs):
        stats.update(BASE + seq, seq * 160, start_ms + i * 20)


def test_initial_state() -> None:
    stats = ReceiveStats(8000)
    assert (stats.packets_received, stats.packets_expected, stats.packets_lost) == (0, 0, 0)
    assert stats.jitter == 0
    assert stats.report_block(5, 1, 2) == ReportBlock(5, 0, 0, 0, 0, 1, 2)


def test_no_loss() -> None:
    stats = ReceiveStats(8000)
    feed(stats, list(range(10)))
    assert stats.packets_received == 10
    assert stats.packets_expected == 10
    assert stats.packets_lost == 0
    block = stats.report_block(0xABC, 0x1111, 0x2222)
    assert block == ReportBlock(0xABC, 0, 0, 9, 0, 0x1111, 0x2222)


def test_loss_and_fraction_per_interval() -> None:
    stats = ReceiveStats(8000)
    for seq in [0, 1, 2, 4, 6, 7, 8, 9]:
        stats.update(BASE + seq, seq * 160, seq * 20)
    assert stats.packets_lost == 2
    first = stats.report_block(1, 0, 0)
    assert first.fraction_lost == (2 << 8) // 10
    assert first.packets_lost == 2
    for seq in range(10, 20):
        stats.update(BASE + seq, seq * 160, seq * 20)
    second = stats.report_block(1, 0, 0)
    assert second.fraction_lost == 0  # interval without loss
    assert second.packets_lost == 2  # cumulative
    assert second.highest_sequence == 19
    third = stats.report_block(1, 0, 0)
    assert third.fraction_lost == 0  # nothing expected in the interval


def test_duplicates_make_loss_negative_and_fraction_zero() -> None:
    stats = ReceiveStats(8000)
    for seq in [0, 1, 1, 2, 2]:
        stats.update(BASE + seq, seq * 160, seq * 20)
    assert stats.packets_lost == -2
    block = stats.report_block(1, 0, 0)
    assert block.packets_lost == -2
    assert block.fraction_lost == 0


def test_highest_sequence_counts_cycles_from_first_packet() -> None:
    stats = ReceiveStats(90000)
    for ext in [BASE + 65534, BASE + 65535, 2 * BASE, 2 * BASE + 1]:
        stats.update(ext, 0, 0)
    assert stats.report_block(1, 0, 0).highest_sequence == (1 << 16) | 1
    assert stats.packets_expected == 4


def test_reordered_before_first_widens_base() -> None:
    stats = ReceiveStats(8000)
    stats.update(BASE + 4, 0, 0)
    stats.update(BASE + 2, 0, 0)
    assert stats.packets_expected == 3
    assert stats.packets_lost == 1


def test_cumulative_loss_clamped_to_24_bits() -> None:
    stats = ReceiveStats(8000)
    stats.update(BASE, 0, 0)
    stats.update(BASE + 20_000_000, 0, 0)
    assert stats.packets_lost == 0x7FFFFF
    block = stats.report_block(1, 0, 0)
    assert block.packets_lost == 0x7FFFFF
    assert block.fraction_lost == 255


def test_jitter_steady_stream_is_zero() -> None:
    stats = ReceiveStats(8000)
    feed(stats, list(range(50)))
    assert stats.jitter == 0


def test_jitter_follows_rfc3550_a8() -> None:
    stats = ReceiveStats(8000)
    stats.update(BASE, 0, 0)
    stats.update(BASE + 1, 160, 30)  # 10 ms late: D = 80 units, J = 80/16
    assert stats.jitter == 5
    stats.update(BASE + 2, 320, 40)  # on time again: D = 80, J = 5 + 75/16 = 9.69
    assert stats.jitter == 9


def test_jitter_across_timestamp_wrap() -> None:
    stats = ReceiveStats(90000)
    ts = 0xFFFFFFFF - 3000 * 3
    for i in range(8):
        stats.update(BASE + i, (ts + 3000 * i) & 0xFFFFFFFF, 1000 + i * 33 + (i % 3) // 2)
    assert stats.jitter < 90  # would be ~2^32/16 without wrap handling
    assert stats.jitter > 0


def test_clock_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="clock_rate"):
        ReceiveStats(0)
