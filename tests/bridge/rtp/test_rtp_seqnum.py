from __future__ import annotations

from bridge.rtp.seqnum import SequenceUnwrapper, TimestampUnwrapper


def test_first_sequence_is_placed_in_cycle_one() -> None:
    u = SequenceUnwrapper()
    assert u.unwrap(65535) == 65535 + 65536
    assert u.unwrap(0) == 2 * 65536


def test_forward_wrap_several_times() -> None:
    u = SequenceUnwrapper()
    ext = [u.unwrap(s & 0xFFFF) for s in range(60000, 60000 + 3 * 65536, 1000)]
    assert ext == [65536 + 60000 + 1000 * i for i in range(len(ext))]


def test_reordered_before_first_is_non_negative() -> None:
    u = SequenceUnwrapper()
    assert u.unwrap(0) == 65536
    assert u.unwrap(65535) == 65535  # one before the first, across the wrap
    assert u.unwrap(1) == 65537
    assert u.highest == 65537


def test_reordered_older_packet_does_not_move_highest() -> None:
    u = SequenceUnwrapper()
    u.unwrap(100)
    u.unwrap(105)
    assert u.unwrap(103) == 65536 + 103
    assert u.highest == 65536 + 105
    assert u.unwrap(106) == 65536 + 106


def test_half_range_counts_as_older() -> None:
    u = SequenceUnwrapper()
    u.unwrap(0)
    assert u.unwrap(32768) == 32768  # exactly half the range behind
    assert u.unwrap(32767) == 65536 + 32767  # just under half: ahead


def test_start_at_32767_and_wrap() -> None:
    u = SequenceUnwrapper()
    values = [32767, 40000, 65535, 0, 10, 30000, 50000]
    assert [u.unwrap(v) for v in values] == [
        65536 + 32767,
        65536 + 40000,
        65536 + 65535,
        131072,
        131082,
        131072 + 30000,
        131072 + 50000,
    ]


def test_timestamp_unwrapper_wraps_32_bits() -> None:
    u = TimestampUnwrapper()
    base = 1 << 32
    assert u.unwrap(0xFFFFFF00) == base + 0xFFFFFF00
    assert u.unwrap(0x100) == 2 * base + 0x100
    assert u.unwrap(0xFFFFFFF0) == base + 0xFFFFFFF0  # late packet from before the wrap
    assert u.highest == 2 * base + 0x100
