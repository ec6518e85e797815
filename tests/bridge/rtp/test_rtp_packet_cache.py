from __future__ import annotations

import random

import pytest

from bridge.rtp.packet_cache import PacketCache, SequenceMap


def test_put_get() -> None:
    cache = PacketCache(4)
    cache.put(65536, b"a")
    cache.put(65537, b"b")
    assert cache.get(65536) == b"a"
    assert cache.get(65537) == b"b"
    assert cache.get(65538) is None


def test_overwritten_slot_reads_none() -> None:
    cache = PacketCache(4)
    for seq in range(100, 106):
        cache.put(seq, bytes([seq]))
    assert cache.get(100) is None  # slot reused by 104
    assert cache.get(101) is None
    assert cache.get(104) == bytes([104])
    assert cache.get(105) == bytes([105])


def test_late_older_packet_does_not_evict_newer() -> None:
    cache = PacketCache(4)
    cache.put(108, b"new")
    cache.put(104, b"old")  # same slot, older
    assert cache.get(108) == b"new"
    assert cache.get(104) is None


def test_never_stored_and_negative() -> None:
    cache = PacketCache(8)
    assert cache.get(0) is None
    assert cache.get(-1) is None
    with pytest.raises(ValueError, match=">= 0"):
        cache.put(-1, b"x")


def test_clear() -> None:
    cache = PacketCache(2)
    cache.put(3, b"x")
    cache.clear()
    assert cache.get(3) is None


@pytest.mark.parametrize("capacity", [0, -5])
def test_bad_capacity(capacity: int) -> None:
    with pytest.raises(ValueError, match="capacity"):
        PacketCache(capacity)
    with pytest.raises(ValueError, match="capacity"):
        SequenceMap(capacity)


def test_sequence_map() -> None:
    m = SequenceMap(3)
    assert m.get(0) is None
    assert m.get(-1) is None
    m.put(10, 70000)
    m.put(11, 70002)
    assert m.get(10) == 70000
    assert m.get(11) == 70002
    m.put(13, 70005)  # evicts 10
    assert m.get(10) is None
    assert m.get(13) == 70005
    m.put(7, 1)  # older than slot owner 13: ignored
    assert m.get(13) == 70005
    assert m.get(7) is None
    m.clear()
    assert m.get(11) is None
    assert m.capacity == 3


def test_sequence_map_counts_what_was_never_sent() -> None:
    sent = SequenceMap(1000)
    for seq in set(range(100, 200)) - {120, 121, 150}:
        sent.put(seq, seq)
    assert sent.missing_between(99, 130) == 2
    assert sent.missing_between(130, 199) == 1
    assert sent.missing_between(199, 199) == 0
    small = SequenceMap(60)  # only the last `capacity` can be looked up
    for seq in set(range(100, 200)) - {120, 121, 150}:
        small.put(seq, seq)
    assert small.missing_between(99, 199) == 1


def test_a_seq_whose_slot_a_newer_one_took_counts_as_sent() -> None:
    """A report trails what was sent (packets in flight): its span's oldest slots already
    hold newer seqs, which says nothing of whether the older ones went out."""
    sent = SequenceMap(256)
    for seq in set(range(0, 400)) - {350}:
        sent.put(seq, seq)
    assert sent.missing_between(99, 300) == 0  # 100..143 share slots with 356..399
    assert sent.missing_between(300, 399) == 1


def test_a_discarded_mapping_counts_as_never_sent() -> None:
    sent = SequenceMap(100)
    for seq in range(10, 20):
        sent.put(seq, seq)
    sent.discard(15)
    sent.discard(115)  # not the one in that slot: nothing happens
    assert sent.get(15) is None and sent.get(16) == 16
    assert sent.missing_between(9, 19) == 1


def test_put_all_is_put_in_order() -> None:
    """The lane's write-back (put_all) keeps what put keeps, old entries refused too."""
    rng = random.Random(5)
    outs = [rng.randrange(0, 40) for _ in range(200)]
    ins = [rng.randrange(1 << 20) for _ in range(200)]
    one, many = SequenceMap(16), SequenceMap(16)
    for out, value in zip(outs, ins, strict=True):
        one.put(out, value)
    many.put_all(outs, ins)
    assert [one.get(s) for s in range(40)] == [many.get(s) for s in range(40)]
    with pytest.raises(ValueError):
        many.put_all([-1], [0])
