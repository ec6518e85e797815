from __future__ import annotations

import pytest

from bridge.rtp.munger import RtpMunger
from bridge.rtp.seqnum import SequenceUnwrapper, TimestampUnwrapper

BASE = 65536


@pytest.mark.parametrize("first_seq", [0, 32767, 65535])
def test_first_packet_gets_initial_values(first_seq: int) -> None:
    m = RtpMunger(1234, 0xDEADBEEF)
    assert m.forward(BASE + first_seq, 5_000_000, resync=False, ts_advance=1) == (
        1234,
        1234,
        0xDEADBEEF,
    )
    assert m.forward(BASE + first_seq + 1, 5_000_160, resync=False, ts_advance=1) == (
        1235,
        1235,
        (0xDEADBEEF + 160) & 0xFFFFFFFF,
    )
    assert m.started
    assert m.highest_out_ext_seq == 1235


def test_input_wraps_output_continuous() -> None:
    seqs, tss = SequenceUnwrapper(), TimestampUnwrapper()
    m = RtpMunger(100, 1000)
    out = []
    for i, seq in enumerate([65533, 65534, 65535, 0, 1, 2]):
        ts = (0xFFFFFE00 + 160 * i) & 0xFFFFFFFF
        r = m.forward(seqs.unwrap(seq), tss.unwrap(ts), resync=False, ts_advance=1)
        assert r is not None
        out.append(r)
    assert [o[1] for o in out] == [100, 101, 102, 103, 104, 105]
    assert [o[2] for o in out] == [1000 + 160 * i for i in range(6)]


def test_output_sequence_and_timestamp_wrap() -> None:
    m = RtpMunger(32767, 0xFFFFFF00)
    m.forward(BASE + 10, 0, resync=False, ts_advance=1)
    r = m.forward(BASE + 10 + 32768, 0x200, resync=False, ts_advance=1)
    assert r == (65535, 65535, 0x100)
    r = m.forward(BASE + 10 + 32769, 0x300, resync=False, ts_advance=1)
    assert r == (65536, 0, 0x200)
    assert m.highest_out_ext_seq == 65536
    assert m.last_out_timestamp == 0x200


def test_gaps_from_upstream_loss_are_preserved() -> None:
    m = RtpMunger(0, 0)
    outs = [m.forward(BASE + s, s * 10, resync=False, ts_advance=1) for s in [0, 1, 4, 5]]
    assert [o[0] for o in outs if o is not None] == [0, 1, 4, 5]


def test_resync_after_producer_restart_keeps_output_continuous() -> None:
    m = RtpMunger(500, 90000)
    for i in range(5):
        m.forward(BASE + 40000 + i, 1_000_000 + 3000 * i, resync=False, ts_advance=1)
    assert m.highest_out_ext_seq == 504
    assert m.last_out_timestamp == 90000 + 12000
    # new SSRC: new (lower) sequence space and unrelated timestamps
    r = m.forward(BASE + 7, 42, resync=True, ts_advance=4500)
    assert r == (505, 505, 90000 + 12000 + 4500)
    r = m.forward(BASE + 8, 42 + 3000, resync=False, ts_advance=1)
    assert r == (506, 506, 90000 + 12000 + 4500 + 3000)
    assert m.translate_timestamp(42) == 90000 + 12000 + 4500
    assert m.timestamp_offset == (42 - (90000 + 12000 + 4500)) & 0xFFFFFFFF


def test_packets_before_resync_point_are_dropped() -> None:
    m = RtpMunger(0, 0)
    m.forward(BASE + 100, 0, resync=False, ts_advance=1)
    m.forward(BASE + 200, 9000, resync=True, ts_advance=3000)  # e.g. resumed after pause
    assert m.forward(BASE + 199, 8000, resync=False, ts_advance=1) is None
    assert m.forward(BASE + 150, 5000, resync=False, ts_advance=1) is None
    assert m.forward(BASE + 200, 9000, resync=False, ts_advance=1) == (1, 1, 3000)


def test_reordered_and_duplicate_packets_after_resync_pass() -> None:
    m = RtpMunger(10, 0)
    m.forward(BASE, 0, resync=False, ts_advance=1)
    assert m.forward(BASE + 2, 200, resync=False, ts_advance=1) == (12, 12, 200)
    assert m.forward(BASE + 1, 100, resync=False, ts_advance=1) == (11, 11, 100)
    assert m.forward(BASE + 1, 100, resync=False, ts_advance=1) == (11, 11, 100)
    assert m.highest_out_ext_seq == 12
    assert m.last_out_timestamp == 200  # of the highest packet, not the latest


def test_resync_ts_advance_at_least_one() -> None:
    m = RtpMunger(0, 5)
    m.forward(BASE, 0, resync=False, ts_advance=1)
    assert m.forward(BASE + 9, 0, resync=True, ts_advance=0) == (1, 1, 6)


def test_before_first_packet() -> None:
    m = RtpMunger(0, 77)
    assert not m.started
    assert m.highest_out_ext_seq == -1
    assert m.last_out_timestamp == 77
    assert m.translate_timestamp(1234) == 1234


@pytest.mark.parametrize(("seq", "ts"), [(32768, 0), (-1, 0), (0, 1 << 32), (0, -1)])
def test_initial_values_validated(seq: int, ts: int) -> None:
    with pytest.raises(ValueError):
        RtpMunger(seq, ts)


# --- skip: packets dropped on purpose (temporal layers) -------------------------------


def fwd(m: RtpMunger, seq: int, ts: int = 0) -> int | None:
    r = m.forward(BASE + seq, ts, resync=False, ts_advance=1)
    return None if r is None else r[0]


def test_skipping_newest_packets_keeps_output_contiguous() -> None:
    m = RtpMunger(100, 0)
    assert fwd(m, 0) == 100
    assert m.skip(BASE + 1)
    assert m.skip(BASE + 2)
    assert fwd(m, 3) == 101
    assert m.skip(BASE + 4)
    assert fwd(m, 5) == 102
    assert m.highest_out_ext_seq == 102


def test_skip_across_16_bit_wrap() -> None:
    seqs = SequenceUnwrapper()
    m = RtpMunger(32767, 0)
    outs = []
    for seq in [65534, 65535, 0, 1]:
        ext = seqs.unwrap(seq)
        if seq == 65535:
            assert m.skip(ext)
            continue
        r = m.forward(ext, 0, resync=False, ts_advance=1)
        assert r is not None
        outs.append(r[1])
    assert outs == [32767, 32768, 32769]


def test_duplicate_of_skipped_packet_is_dropped_not_mapped_onto_another() -> None:
    m = RtpMunger(0, 0)
    fwd(m, 10)
    m.skip(BASE + 11)
    assert fwd(m, 12) == 1
    assert fwd(m, 11) is None  # e.g. a retransmission of the skipped packet
    assert fwd(m, 12) == 1


def test_late_packet_before_a_skip_fills_its_own_place() -> None:
    m = RtpMunger(0, 0)
    fwd(m, 10)
    assert m.skip(BASE + 12)  # 11 not arrived yet
    assert fwd(m, 13) == 2
    assert fwd(m, 11) == 1


def test_reordered_skip_leaves_a_gap() -> None:
    m = RtpMunger(0, 0)
    fwd(m, 10)
    assert fwd(m, 12) == 2
    assert not m.skip(BASE + 11)  # too late to shift 12: out seq 1 stays unused
    assert fwd(m, 13) == 3


def test_skip_before_start_is_ignored_and_resync_clears_skips() -> None:
    m = RtpMunger(0, 0)
    assert not m.skip(BASE + 5)
    fwd(m, 6)
    m.skip(BASE + 7)
    r = m.forward(BASE + 500, 9000, resync=True, ts_advance=3000)
    assert r == (1, 1, 3000)
    assert fwd(m, 501) == 2
    assert fwd(m, 7) is None  # before the resync point


def test_old_skip_entries_are_pruned() -> None:
    m = RtpMunger(0, 0)
    fwd(m, 0)
    for i in range(300):
        m.skip(BASE + 1 + 2 * i)
        assert fwd(m, 2 + 2 * i) == i + 1
    assert fwd(m, 2) is None  # older than the oldest remembered entry: too old
    assert fwd(m, 598) == 299
