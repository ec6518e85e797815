from __future__ import annotations

import pytest

from bridge.rtp.nack import NackTracker


def test_no_gap_no_nack() -> None:
    t = NackTracker()
    assert [t.on_packet(s, 0) for s in range(100, 105)] == [[]] * 5
    assert t.missing == ()


def test_gap_is_nacked_at_once_and_late_arrivals_removed() -> None:
    t = NackTracker()
    t.on_packet(100, 0)
    assert t.on_packet(104, 5) == [101, 102, 103]
    assert t.on_packet(102, 6) == []  # retransmission or reordering
    assert t.missing == (101, 103)
    assert t.on_packet(104, 7) == []  # duplicate of highest


def test_a_repair_is_timed_from_the_packet_before_its_gap() -> None:
    repairs: list[tuple[int, int]] = []
    t = NackTracker(on_repair=lambda now, late: repairs.append((now, late)))
    t.on_packet(100, 1000)
    t.on_packet(101, 1040)  # the last packet before the gap
    t.on_packet(104, 1100)  # 102 and 103 lost, noticed 60 ms after 101 came
    t.on_packet(103, 1350)
    t.on_packet(103, 1360)  # a duplicate: no second repair
    t.on_packet(99, 1370)  # older than the first: never missing
    t.on_packet(105, 1380)
    t.on_packet(102, 1500)
    assert repairs == [(1350, 310), (1500, 460)]


def test_due_waits_for_rtt_and_limits_retries() -> None:
    t = NackTracker(max_retries=2)
    t.on_packet(10, 0)
    t.on_packet(13, 0)
    assert t.due(19, rtt_ms=5) == []  # floor of 20 ms
    assert t.due(20, rtt_ms=5) == [11, 12]
    assert t.due(30, rtt_ms=5) == []
    t.on_packet(12, 35)
    assert t.due(40, rtt_ms=5) == [11]
    assert t.due(100, rtt_ms=5) == []  # two re-requests done: given up
    assert t.missing == ()


def test_due_uses_rtt_when_larger() -> None:
    t = NackTracker()
    t.on_packet(1, 0)
    t.on_packet(3, 0)
    assert t.due(99, rtt_ms=100) == []
    assert t.due(100, rtt_ms=100) == [2]


def test_zero_retries_never_due() -> None:
    t = NackTracker(max_retries=0)
    t.on_packet(1, 0)
    assert t.on_packet(3, 0) == [2]
    assert t.due(1000, 10) == []


def test_old_missing_packets_are_forgotten() -> None:
    t = NackTracker(max_age_packets=10)
    t.on_packet(100, 0)
    assert t.on_packet(105, 0) == [101, 102, 103, 104]
    assert t.on_packet(120, 0) == list(range(110, 120))  # 106..109 already too old
    assert t.missing == tuple(range(110, 120))


def test_huge_jump_is_a_restart() -> None:
    t = NackTracker(max_age_packets=5000)
    t.on_packet(100, 0)
    t.on_packet(103, 0)
    assert t.on_packet(100 + 1005, 0) == []
    assert t.missing == ()
    assert t.on_packet(1107, 0) == [1106]


def test_gap_of_exactly_1000_is_nacked() -> None:
    t = NackTracker(max_age_packets=5000)
    t.on_packet(0, 0)
    assert len(t.on_packet(1001, 0)) == 1000


def test_missing_set_capped_at_1000() -> None:
    t = NackTracker(max_age_packets=5000)
    t.on_packet(0, 0)
    t.on_packet(600, 0)
    t.on_packet(1200, 0)
    assert len(t.missing) == 1000
    # 1..599 and 601..1199 were missing (1198): the 198 oldest are evicted
    assert t.missing[0] == 199
    assert 600 not in t.missing
    assert t.missing[-1] == 1199


@pytest.mark.parametrize(("age", "retries"), [(0, 3), (10, -1)])
def test_bad_arguments(age: int, retries: int) -> None:
    with pytest.raises(ValueError):
        NackTracker(age, retries)
