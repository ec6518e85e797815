"""ArrivalTracker: the time a packet count last grew, from samples (no per-packet clock)."""

from __future__ import annotations

from bridge.media.health import ArrivalTracker


def test_times_move_only_when_counts_grow() -> None:
    tracker = ArrivalTracker()
    tracker.sample(0, 0, 1_000)
    assert (tracker.last_media_ms, tracker.last_rtcp_ms) == (None, None)
    tracker.sample(40, 0, 2_000)
    assert (tracker.last_media_ms, tracker.last_rtcp_ms) == (2_000, None)
    tracker.sample(90, 2, 3_000)
    tracker.sample(90, 3, 4_000)
    assert (tracker.last_media_ms, tracker.last_rtcp_ms) == (3_000, 4_000)
