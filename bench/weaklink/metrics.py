"""Run results from page samples (pure: no browser, no clock).

A sample's *state* is what the site sees over the last second: the height of the video it
decodes, ``PAUSED`` (no frames, and the bridge said the video is paused for this site) or
``STALLED`` (no frames, nothing said). Counters that restart (a new subscriber PC after a
rejoin) are summed per PC.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .sampler import Sample

PAUSED = -1
STALLED = -2
STATE_WINDOW_MS = 1000  # frames decoded over this long make a sample "moving"
SETTLED_TAIL_MS = 3000  # a state held this long (or to the window's end) counts as settled


def counter_delta(samples: Sequence[Sample], value: Callable[[Sample], float]) -> float:
    """How much a cumulative counter grew over ``samples``; a counter that went back (a new
    PC) restarts from 0."""
    total = 0.0
    for prev, cur in itertools.pairwise(samples):
        a, b = value(prev), value(cur)
        total += b - a if b >= a and cur.pc == prev.pc else b
    return total


def window(samples: Sequence[Sample], start_ms: float, end_ms: float) -> list[Sample]:
    return [s for s in samples if start_ms <= s.t_ms <= end_ms]


def states(samples: Sequence[Sample]) -> list[tuple[int, int]]:
    """(t_ms, state) per sample, from the second sample whose 1 s look-back is known."""
    out: list[tuple[int, int]] = []
    j = 0
    for i, cur in enumerate(samples):
        while samples[j].t_ms < cur.t_ms - STATE_WINDOW_MS:
            j += 1
        if j == i:
            continue
        frames = counter_delta(samples[j : i + 1], lambda s: s.frames)
        if frames > 0:
            out.append((cur.t_ms, cur.height or 0))
        else:
            out.append((cur.t_ms, PAUSED if cur.video_paused else STALLED))
    return out


def state_label(state: int) -> str:
    return {PAUSED: "paused", STALLED: "stalled"}.get(state, f"{state}p")


def runs(st: Sequence[tuple[int, int]], since_ms: float) -> list[tuple[float, float, int]]:
    """Run-length form of ``st``: (from s, to s, state), seconds since ``since_ms``."""
    out: list[tuple[float, float, int]] = []
    for t, s in st:
        at = (t - since_ms) / 1000
        if out and out[-1][2] == s:
            out[-1] = (out[-1][0], at, s)
        else:
            out.append((at, at, s))
    return out


def time_per_state(st: Sequence[tuple[int, int]]) -> dict[int, float]:
    """Seconds spent in each state (each sample holds until the next)."""
    out: dict[int, float] = {}
    for (t0, s), (t1, _) in itertools.pairwise(st):
        out[s] = out.get(s, 0.0) + (t1 - t0) / 1000
    return out


def longest_stall_s(st: Sequence[tuple[int, int]]) -> float:
    """The longest run of STALLED samples (video frozen without the site being told)."""
    longest, start = 0.0, None
    for t, s in st:
        if s == STALLED and start is None:
            start = t
        elif s != STALLED and start is not None:
            longest, start = max(longest, (t - start) / 1000), None
    if start is not None and st:
        longest = max(longest, (st[-1][0] - start) / 1000)
    return longest


def settle_time_s(st: Sequence[tuple[int, int]], step_ms: float) -> float | None:
    """Seconds from ``step_ms`` to the last state change after it, if the state then held
    for ``SETTLED_TAIL_MS`` (or to the end of ``st``); None: still changing."""
    after = [(t, s) for t, s in st if t >= step_ms]
    if not after:
        return None
    last_change = after[0][0]
    for (_, a), (t, b) in itertools.pairwise(after):
        if a != b:
            last_change = t
    if after[-1][0] - last_change < SETTLED_TAIL_MS:
        return None
    return max(0.0, (last_change - step_ms) / 1000) if last_change > after[0][0] else 0.0


def first_time_s(
    st: Sequence[tuple[int, int]], since_ms: float, ok: Callable[[int], bool]
) -> float | None:
    """Seconds from ``since_ms`` to the first state after it that satisfies ``ok``."""
    for t, s in st:
        if t >= since_ms and ok(s):
            return (t - since_ms) / 1000
    return None


def media_back_s(samples: Sequence[Sample], since_ms: float) -> tuple[float | None, float | None]:
    """Seconds from ``since_ms`` until audio packets, then video frames, arrive again."""
    after = [s for s in samples if s.t_ms >= since_ms]
    audio = video = None
    for prev, cur in itertools.pairwise(after):
        grew = cur.pc != prev.pc
        if audio is None and (grew or cur.audio_packets > prev.audio_packets):
            audio = (cur.t_ms - since_ms) / 1000
        if video is None and ((grew and cur.frames > 0) or cur.frames > prev.frames):
            video = (cur.t_ms - since_ms) / 1000
    return audio, video


def bitrate_kbps(samples: Sequence[Sample]) -> float | None:
    if len(samples) < 2 or samples[-1].t_ms <= samples[0].t_ms:
        return None
    bits = counter_delta(samples, lambda s: s.bytes_in) * 8
    return bits / (samples[-1].t_ms - samples[0].t_ms)


@dataclass(frozen=True)
class AudioResult:
    received: int
    expected: int  # what the publisher sent over the same time
    concealed_pct: float | None


def audio_result(sub: Sequence[Sample], pub: Sequence[Sample]) -> AudioResult:
    total = counter_delta(sub, lambda s: s.total_samples)
    concealed = counter_delta(sub, lambda s: s.concealed)
    return AudioResult(
        received=int(counter_delta(sub, lambda s: s.audio_packets)),
        expected=int(counter_delta(pub, lambda s: s.audio_sent)),
        concealed_pct=100 * concealed / total if total else None,
    )
