"""The path watch: a paused link's one-way delay, read from transport-cc feedback on a
trickle of padding, falling far under its floor is a faster path."""

from __future__ import annotations

import random

import pytest

from bridge.forwarding.path_watch import PathWatch, PathWatchSettings

OFFSET_US = 9_000_000_000  # the browser's clock has its own origin
EVERY_MS = 150


def feed(watch: PathWatch, one_way_ms: list[float], start: int = 0) -> list[bool]:
    """Send one watch packet per delay, each reported alone; the verdict after each."""
    verdicts = []
    for i, delay in enumerate(one_way_ms):
        sequence = (start + i) & 0xFFFF
        at = 1000 + (start + i) * EVERY_MS
        watch.on_sent(sequence, at)
        verdicts.append(watch.on_feedback([(sequence, OFFSET_US + int((at + delay) * 1000))]))
    return verdicts


def test_a_jittery_queue_on_a_steady_link_is_no_faster_path() -> None:
    """The collapse profile's 80k step: 150 ms, with a queue of up to 100 ms and jitter."""
    rng = random.Random(5)
    watch = PathWatch()
    one_way = [150 + rng.uniform(0, 100) + rng.gauss(0, 10) for _ in range(400)]
    assert not any(feed(watch, one_way))


def test_the_link_recovering_is_seen_within_a_few_packets() -> None:
    rng = random.Random(6)
    watch = PathWatch()
    before = [150 + rng.uniform(0, 60) for _ in range(40)]
    after = [30 + rng.uniform(0, 10) for _ in range(10)]
    verdicts = feed(watch, before + after)
    assert not any(verdicts[:40])
    first = verdicts.index(True)
    # all three of the latest from the new link
    assert first == 42
    # then it starts over: the new link is its floor, no second verdict
    assert not any(verdicts[first + 1 :])


def test_one_early_packet_is_no_faster_path() -> None:
    verdicts = feed(PathWatch(), [150.0] * 20 + [20.0] + [150.0] * 20)
    assert not any(verdicts)


def test_a_queue_draining_after_the_bridge_sent_less_is_no_faster_path() -> None:
    """The collapse profile's 80k step: RED audio kept ~500 ms queued; RED goes off and
    the queue drains ~70 ms a packet down to the link's own 150 ms."""
    watch = PathWatch()
    assert not any(feed(watch, [650.0 + (i % 3) * 5 for i in range(20)]))
    watch.on_rate_fall(1000 + 20 * EVERY_MS)
    drain = [650.0 - 70 * i for i in range(1, 8)] + [150.0] * 20
    assert not any(feed(watch, drain, start=20))


def test_a_plateau_halfway_down_a_drain_does_not_end_it() -> None:
    watch = PathWatch()
    feed(watch, [650.0] * 20)
    watch.on_rate_fall(1000 + 20 * EVERY_MS)
    drain = [580.0, 510.0, 440.0, 440.0, 435.0, 430.0, 360.0, 290.0, 220.0, 150.0]
    assert not any(feed(watch, drain + [150.0] * 10, start=20))


def test_a_link_recovering_after_a_drain_is_still_seen() -> None:
    watch = PathWatch()
    feed(watch, [650.0] * 20)
    watch.on_rate_fall(1000 + 20 * EVERY_MS)
    feed(watch, [650.0 - 70 * i for i in range(1, 8)] + [150.0] * 10, start=20)
    verdicts = feed(watch, [30.0] * 3, start=37)
    assert verdicts == [False, False, True]


def test_a_link_recovering_during_a_drain_is_seen_by_a_fall_no_queue_makes() -> None:
    """RED went off half a second before the collapse profile's link recovered: 300 ms
    still queued, then 30 ms."""
    watch = PathWatch()
    feed(watch, [650.0] * 20)
    watch.on_rate_fall(1000 + 20 * EVERY_MS)
    verdicts = feed(watch, [580.0, 510.0, 440.0, 30.0, 31.0, 30.0], start=20)
    assert verdicts == [False] * 5 + [True]


def test_a_link_recovering_as_red_audio_drains_is_seen_by_the_drain_rate() -> None:
    """RED off on the 80k link (70k to 40k of audio: a fall of 0.43) a second before
    the link recovered: the queue had drained, and 150 ms to 30 is a fall of 120 ms, less
    than the 150 ms between two packets but more than such a drain makes (64 ms)."""
    watch = PathWatch()
    feed(watch, [650.0] * 20)
    watch.on_rate_fall(1000 + 20 * EVERY_MS, 0.43)
    drain = [650.0 - 64 * i for i in range(1, 8)] + [202.0, 150.0]
    verdicts = feed(watch, [*drain, 30.0, 30.0, 30.0], start=20)
    assert verdicts == [False] * (len(drain) + 2) + [True]


def test_the_fastest_drain_its_rate_fall_allows_is_no_faster_path() -> None:
    watch = PathWatch()
    feed(watch, [650.0] * 20)
    watch.on_rate_fall(1000 + 20 * EVERY_MS, 0.43)
    drain = [650.0 - 64 * i for i in range(1, 9)] + [138.0] * 10
    assert not any(feed(watch, drain, start=20))


def test_the_fastest_drain_is_no_faster_path() -> None:
    """Nothing sent any more: each packet's delay is at most the time between them
    (150 ms) lower than the one before's."""
    watch = PathWatch()
    feed(watch, [650.0] * 20)
    watch.on_rate_fall(1000 + 20 * EVERY_MS)
    drain = [650.0 - 150 * i for i in range(1, 4)] + [150.0] * 10
    assert not any(feed(watch, drain, start=20))


def test_a_drain_on_a_jittery_link_ends_after_max_drain_ms() -> None:
    rng = random.Random(8)
    watch = PathWatch(PathWatchSettings(max_drain_ms=3000))
    feed(watch, [300 + rng.uniform(-40, 40) for _ in range(20)])
    watch.on_rate_fall(1000 + 20 * EVERY_MS)
    # never flat within 20 ms; 3 s is 20 packets
    jittery = [150 + rng.uniform(-40, 40) for _ in range(25)]
    assert not any(feed(watch, jittery, start=20))
    verdicts = feed(watch, [-100.0] * 3, start=45)
    assert verdicts[-1]


def test_nothing_is_judged_before_a_floor_is_known() -> None:
    watch = PathWatch(PathWatchSettings(min_floor_samples=8, samples=3))
    verdicts = feed(watch, [200.0] * 5 + [20.0] * 5)
    assert not any(verdicts)


def test_a_floor_older_than_the_window_is_forgotten() -> None:
    """A fall is judged against the recent floor: a slow drift down is no new path."""
    watch = PathWatch(PathWatchSettings(window_ms=3000))
    # 100 ms lower over 60 s: ~0.25 ms a packet, never 60 under the last 3 s
    one_way = [200 - i * 0.25 for i in range(400)]
    assert not any(feed(watch, one_way))


def test_lost_and_unknown_packets_are_ignored() -> None:
    watch = PathWatch()
    feed(watch, [150.0] * 20)
    assert not watch.on_feedback([(500, None), (12345, OFFSET_US)])
    verdicts = feed(watch, [20.0] * 3, start=20)
    assert verdicts.index(True) == 2  # the lost and unknown changed nothing


def test_packets_never_reported_do_not_blind_the_watch() -> None:
    """Lost on the way and left out of every feedback: minutes of them on a lossy link."""
    watch = PathWatch()
    for sequence in range(1000):
        watch.on_sent(sequence, sequence * EVERY_MS)
    feed(watch, [150.0] * 20, start=1000)
    assert feed(watch, [20.0] * 3, start=1020)[-1]


def test_reset_forgets_the_floor_and_what_awaits_a_report() -> None:
    watch = PathWatch()
    feed(watch, [150.0] * 20)
    watch.on_sent(99, 50_000)
    watch.reset()
    assert not watch.on_feedback([(99, OFFSET_US + 50_000_000)])
    assert not any(feed(watch, [20.0] * 10, start=100))


@pytest.mark.parametrize(
    "kwargs",
    [{"interval_ms": 0}, {"padding": 0}, {"padding": 256}, {"samples": 0}, {"drain_settle": 0}],
)
def test_settings_validated(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        PathWatchSettings(**kwargs)


def test_its_state_says_what_it_sees_for_the_logs() -> None:
    watch = PathWatch()
    assert watch.state().samples == 0 and watch.state().floor_ms is None
    feed(watch, [160.0, 150.0, 170.0])
    watch.on_rate_fall(2000)
    state = watch.state()
    offset = OFFSET_US / 1000  # the clocks' offset is in every delay
    assert (state.samples, state.draining, state.floor_ms, state.latest_ms) == (
        3,
        True,
        offset + 150,
        offset + 170,
    )


def test_a_link_recovering_before_the_watch_is_back_from_a_probe_is_seen() -> None:
    """The collapse profile's 80k link at 150 ms; a probe stops the watch, fails, and the
    watch starts again as the link recovers: its first packets come through at 31 ms.
    No packet in between shows the step, but the queue the probe left drains only back
    to the 150 ms seen before it. Without that floor the drain ends on 31 ms, which then
    is the floor, and nothing is seen."""
    for returns_to_floor, seen in ((True, [False, False, True]), (False, [False] * 12)):
        watch = PathWatch()
        feed(watch, [150.0 + (i % 3) for i in range(20)])
        watch.on_rate_fall(1000 + 28 * EVERY_MS, 0.5, returns_to_floor=returns_to_floor)
        verdicts = feed(watch, [31.0, 32.0, 31.0] + [31.0] * 9, start=28)
        assert verdicts == seen + [False] * (12 - len(seen))


def test_a_probes_queue_draining_back_to_the_floor_is_no_faster_path() -> None:
    watch = PathWatch()
    feed(watch, [150.0 + (i % 3) for i in range(20)])
    watch.on_rate_fall(1000 + 28 * EVERY_MS, 0.5, returns_to_floor=True)
    drain = [600.0, 480.0, 360.0, 240.0, 160.0] + [150.0 + (i % 3) for i in range(20)]
    assert not any(feed(watch, drain, start=28))
