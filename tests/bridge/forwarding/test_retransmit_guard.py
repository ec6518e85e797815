from __future__ import annotations

from bridge.forwarding.retransmit_guard import RetransmitGuard, RetransmitSettings


def guard(**kwargs: int | float) -> RetransmitGuard:
    return RetransmitGuard(RetransmitSettings(**kwargs))  # type: ignore[arg-type]


def test_a_packet_is_resent_at_most_once_per_round_trip() -> None:
    g = guard()
    assert g.allow(7, 1000, 0, 300, 0) is None
    assert g.allow(7, 1000, 150, 300, 0) == "nack_repeat"  # asked again before it arrived
    assert g.allow(8, 1000, 150, 300, 0) is None  # another packet is independent
    assert g.allow(7, 1000, 300, 300, 0) is None


def test_without_rtt_a_floor_interval_applies() -> None:
    g = guard()
    assert g.allow(1, 100, 0, None, 0) is None
    assert g.allow(1, 100, 99, None, 0) == "nack_repeat"
    assert g.allow(1, 100, 100, None, 0) is None


def test_retransmissions_stay_within_a_share_of_the_media_sent() -> None:
    g = guard(floor_bytes=2000, max_share=0.5, window_ms=1000)
    # first window: only the floor
    assert [g.allow(i, 1000, 0, None, 0) for i in range(3)] == [None, None, "nack_budget"]
    # next window: half of the 10 kB of media sent during the last one
    allowed = [g.allow(100 + i, 1000, 1000, None, 10_000) for i in range(7)]
    assert allowed.count(None) == 5 and allowed[5:] == ["nack_budget", "nack_budget"]


def test_memory_is_bounded() -> None:
    g = guard(max_tracked=64)
    for seq in range(64 * 3):
        assert g.allow(seq, 10, seq * 1000, 200, seq * 100_000) is None
    assert len(g._last) <= 64
