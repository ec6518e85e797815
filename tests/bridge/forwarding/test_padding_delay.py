"""A probe's padding judged from transport-cc feedback: a queue building, or loss."""

from __future__ import annotations

import random

import pytest

from bridge.forwarding.padding_delay import PaddingDelay, PaddingDelaySettings

OFFSET_US = 7_000_000_000  # the browser's clock has its own origin


def send(delay: PaddingDelay, count: int, start_ms: int, every_ms: int) -> list[tuple[int, int]]:
    """(sequence number, send ms) of ``count`` padding packets."""
    out = []
    for i in range(count):
        now = start_ms + i * every_ms
        out.append((delay.next_sequence, now))
        delay.on_sent(now)
    return out


def arrivals(sent: list[tuple[int, int]], one_way_ms: list[float]) -> list[tuple[int, int | None]]:
    return [
        (seq, OFFSET_US + int((at + d) * 1000))
        for (seq, at), d in zip(sent, one_way_ms, strict=True)
    ]


def test_a_steady_link_with_jitter_is_not_a_queue() -> None:
    rng = random.Random(3)
    delay = PaddingDelay()
    delay.start()
    sent = send(delay, 60, 1000, 20)
    jittered = [75 + rng.uniform(-25, 25) for _ in sent]
    for i in range(0, 60, 5):  # a report every ~100 ms
        assert delay.on_feedback(arrivals(sent[i : i + 5], jittered[i : i + 5])) == 5
        assert not delay.queued


def test_arrivals_later_and_later_are_a_queue() -> None:
    """12 % over a 400 kbit/s link: the queue grows by 120 ms a second."""
    rng = random.Random(4)
    delay = PaddingDelay()
    delay.start()
    sent = send(delay, 60, 1000, 20)
    one_way = [75 + rng.uniform(-10, 10) + 0.12 * (at - 1000) for _, at in sent]
    verdicts = []
    for i in range(0, 60, 5):
        delay.on_feedback(arrivals(sent[i : i + 5], one_way[i : i + 5]))
        verdicts.append(delay.queued)
    assert not any(verdicts[:3])  # the first window is the baseline
    first = verdicts.index(True)
    # judged once the latest window sits ~30 ms later: ~0.4 s of padding in
    assert 0.3 <= sent[first * 5 + 4][1] / 1000 - 1.0 <= 0.6


def test_loss_of_the_padding_fails_it() -> None:
    delay = PaddingDelay()
    delay.start()
    sent = send(delay, 20, 0, 20)
    report = [
        (seq, None if i % 4 == 0 else OFFSET_US + at * 1000) for i, (seq, at) in enumerate(sent)
    ]
    delay.on_feedback(report)
    assert delay.queued  # 5 of 20 lost
    assert delay.describe() == "lost 5/20, delay growth +0 ms, first spread 0 ms"


def test_random_loss_under_the_limit_is_not_a_failure() -> None:
    delay = PaddingDelay()
    delay.start()
    sent = send(delay, 40, 0, 20)
    report = [(seq, None if i == 7 else OFFSET_US + at * 1000) for i, (seq, at) in enumerate(sent)]
    delay.on_feedback(report)
    assert not delay.queued


def test_a_new_probe_forgets_the_last_ones_padding() -> None:
    delay = PaddingDelay()
    delay.start()
    old = send(delay, 20, 0, 20)
    delay.start()
    new = send(delay, 20, 1000, 20)
    lost_old = [(seq, None) for seq, _ in old]  # reported late: not this probe's
    assert delay.on_feedback(lost_old + arrivals(new, [50.0] * 20)) == 20
    assert not delay.queued


def test_sequence_numbers_wrap_at_16_bits() -> None:
    delay = PaddingDelay()
    for _ in range(65535):
        delay.on_sent(0)
    delay.start()
    sent = send(delay, 3, 0, 20)
    assert [seq for seq, _ in sent] == [65535, 0, 1]
    assert delay.on_feedback(arrivals(sent, [40.0, 41.0, 40.5])) == 3
    assert delay.on_feedback(arrivals(sent, [40.0, 41.0, 40.5])) == 0  # reported already


def test_a_window_of_one_packet_is_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        PaddingDelaySettings(window=1)
