"""Has a weak link recovered? Watched, while the video toward it is paused, with a trickle
of small numbered padding and the browser's transport-cc feedback on it.

After the link fell (the collapse profile: 2 Mbit/s, 250k, 80k, then 2 Mbit/s again) the
video is paused and only audio goes out. The first sign that the link recovered used to
be a round trip in an audio receiver report: Chromium sends one about every 5 s toward
paused video, so the resume probe waited 2-7 s after the link came back (bench.weaklink),
and full quality came back 8-13 s after it. A padding packet of a few octets every
``interval_ms`` carries a transport-wide sequence number
(draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), so the browser reports when each
one arrived about every 100 ms (§3.1). Its one-way delay (arrival - send; the clocks'
offset cancels) falls at once when the link does (150 ms to 30 on that profile).

A fall is read only below the lowest delay of the last ``window_ms``: jitter and a queue
only ever add delay, so each of the latest ``samples`` lying ``drop_ms`` under that floor
is a different, faster path. A queue that drains is not (one draining from 552 ms to 277
once read as a new link on edge, see downlink_estimator.py ``faster_path_ratio``): after
the bridge sends less (``on_rate_fall``: the video paused, a probe ended, RED went off)
the floor is not judged until the delay stops falling, and meanwhile only a fall faster
than any drain makes counts (``_stepped_down``). On the collapse profile's 80 kbit/s
step, RED audio alone (70k) kept a queue of ~500 ms, and when RED went off its drain read
as a faster path. What it drained to is part of the floor from then on (a drain ends at
the link's own delay; only a different link goes below that), and so are the samples
from before a probe: waiting 2 s after each failed probe for a fresh floor left the
watch blind for 3-4 s of every 5-8 on that step. A link that recovers while a probe
runs is left to the probe's own padding (the watch is stopped then); the next audio
report's round trip still shows it. When the watch starts again after the probe, the
probe's queue drains back to the floor seen before it: a level under that floor is a
faster path even without a packet showing the step.

It costs ~4 kbit/s (an 8-octet padding packet is ~80 bytes on the wire with SRTP, UDP and
IP) and runs only while the link is known to have carried more than the paused video
needs.

Pure: send times in ms of the bridge clock, arrival times in µs of the browser's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

_MAX_TRACKED = 256  # watch packets awaiting a report (~40 s at one per 150 ms)


@dataclass(frozen=True, slots=True)
class PathWatchSettings:
    interval_ms: int = 150  # one watch packet this often
    padding: int = 8  # octets of padding in each (RFC 3550 §5.1: the last one counts them)
    window_ms: int = 10_000  # the floor is the lowest delay this recent
    min_floor_samples: int = 8  # fewer before the latest: nothing is judged yet
    samples: int = 3  # the latest this many, each
    drop_ms: float = 60.0  # that far under the floor: a faster path
    # After the bridge sent less: the drain is over once ``drain_settle`` samples in a
    # row set no new low (by more than flat_ms), or after max_drain_ms at most. Three
    # samples within 20 ms of each other ended it once on a plateau halfway down, and the
    # rest of the drain read as a faster path (bench.weaklink collapse).
    drain_settle: int = 5
    flat_ms: float = 20.0
    max_drain_ms: int = 5000

    def __post_init__(self) -> None:
        if self.interval_ms <= 0 or not 1 <= self.padding <= 255:
            raise ValueError("interval_ms must be > 0 and padding in 1..255")
        if self.samples < 1 or self.min_floor_samples < 1 or self.drain_settle < 1:
            raise ValueError("samples, min_floor_samples and drain_settle must be >= 1")


@dataclass(frozen=True, slots=True)
class WatchState:
    """What the watch sees, for logs."""

    samples: int  # one-way delays in its window
    draining: bool  # a drain is being waited out (on_rate_fall)
    floor_ms: float | None  # the lowest of them
    latest_ms: float | None  # the newest


class PathWatch:
    """The one-way delays of one subscriber's watch packets, and whether they fell."""

    __slots__ = (
        "_delays",
        "_drain_floor",
        "_drain_since_ms",
        "_drain_slope",
        "_sent",
        "_settings",
    )

    def __init__(self, settings: PathWatchSettings | None = None) -> None:
        self._settings = settings or PathWatchSettings()
        self._sent: dict[int, int] = {}  # transport-wide sequence number -> send ms
        self._delays: deque[tuple[int, float]] = deque()  # (send ms, one-way delay ms)
        self._drain_since_ms: int | None = None  # the bridge sent less, at
        self._drain_slope = 1.0  # how fast that queue can drain (ms of delay per ms)
        self._drain_floor: float | None = None  # the level that drain returns to, if known

    @property
    def settings(self) -> PathWatchSettings:
        return self._settings

    def reset(self) -> None:
        """Forget what it saw (the path changed, or the subscriber left)."""
        self._sent.clear()
        self._delays.clear()
        self._drain_since_ms = None
        self._drain_floor = None

    def state(self) -> WatchState:
        delays = self._delays
        return WatchState(
            samples=len(delays),
            draining=self._drain_since_ms is not None,
            floor_ms=round(min(delay for _, delay in delays), 1) if delays else None,
            latest_ms=round(delays[-1][1], 1) if delays else None,
        )

    def on_rate_fall(self, now_ms: int, fall: float = 1.0, returns_to_floor: bool = False) -> None:
        """The bridge sends less from now (``fall``: the share of its rate it stopped
        sending, 1 if unknown): a queue it kept at the bottleneck drains.
        ``returns_to_floor``: the watch starts again after a stop (a probe's padding went
        out meanwhile), and what drains is only what went out since: the delay returns
        to the floor it saw before the stop, and a level under that floor is a faster
        path already. After a probe failed on the collapse profile's 80k link, the link
        recovered 0.3 s into the drain; no packet of the watch came through in between
        to show the step, the drain ended on the new link's 31 ms, that became the
        floor, and the recovery went unseen (full quality 12.5 s after it)."""
        self._drain_since_ms = now_ms
        self._drain_slope = min(max(fall, 0.0), 1.0)
        recent = [delay for at, delay in self._delays if now_ms - at <= self._settings.window_ms]
        self._drain_floor = min(recent) if returns_to_floor and recent else None

    def on_sent(self, sequence: int, now_ms: int) -> None:
        sent = self._sent
        if len(sent) >= _MAX_TRACKED:
            # the oldest: lost, and never reported (on an 8 %-loss link the map filled in
            # minutes, and the watch went blind)
            del sent[next(iter(sent))]
        sent[sequence] = now_ms

    def on_feedback(self, arrivals: Sequence[tuple[int, int | None]]) -> bool:
        """One transport-cc feedback packet's (sequence number, arrival µs or None: lost).
        True if the path got faster; the watch then starts over (a new floor)."""
        sent = self._sent
        delays = self._delays
        for sequence, arrival_us in arrivals:
            send_ms = sent.pop(sequence, None)
            if send_ms is not None and arrival_us is not None:
                delays.append((send_ms, arrival_us / 1000 - send_ms))
        if not delays:
            return False
        s = self._settings
        newest = max(at for at, _ in delays)
        while delays and newest - delays[0][0] > s.window_ms:
            delays.popleft()
        ordered = list(delays)
        drain_since = self._drain_since_ms
        if drain_since is not None:
            since = [(at, delay) for at, delay in ordered if at >= drain_since]
            lows = [delay for _, delay in since]
            under = self._drain_floor
            if self._stepped_down(since) or (
                under is not None
                and len(lows) >= s.samples
                and max(lows[-s.samples :]) < under - s.drop_ms
            ):
                self.reset()
                return True
            settle = s.drain_settle
            settled = len(lows) > settle and min(lows[-settle:]) >= min(lows[:-settle]) - s.flat_ms
            if settled or newest - drain_since >= s.max_drain_ms:
                # drained: from the next sample on, judged
                self._drain_since_ms = self._drain_floor = None
            return False
        if len(ordered) < s.min_floor_samples + s.samples:
            return False
        latest = [delay for _, delay in ordered[-s.samples :]]
        floor = min(delay for _, delay in ordered[: -s.samples])
        if max(latest) > floor - s.drop_ms:
            return False
        self.reset()
        return True

    def _stepped_down(self, samples: Sequence[tuple[int, float]]) -> bool:
        """During a drain: a fall no drain can make. A queue whose input fell by a share
        ``fall`` of a rate the link could not carry drains at most ``fall`` ms of delay
        per ms (its output is the link's rate, at most what went in before), so a packet
        sent ``gap`` ms after another has a delay at most ``fall * gap`` lower (``gap``
        at all: first in, first out). One more than that lower (and the level it starts
        holds for ``samples``) came over a faster path. On the collapse profile RED went
        off 0.5-1 s before the link recovered in 5 of 19 runs (70k to 40k: a fall of
        0.43, 64 ms a packet), and the recovery (150 ms to 30) read as part of the
        drain."""
        s = self._settings
        for i in range(1, len(samples) - s.samples + 1):
            (sent_before, before), (sent_first, first) = samples[i - 1], samples[i]
            level = [delay for _, delay in samples[i : i + s.samples]]
            if (
                first < before - (sent_first - sent_before) * self._drain_slope - s.flat_ms
                and max(level) - min(level) <= s.flat_ms
                and max(level) < before - s.drop_ms
            ):
                return True
        return False
