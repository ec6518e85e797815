"""Per-subscriber stream allocation: which audio streams and video layers fit the link.

Audio first. Every forwarded audio stream reserves ``audio_bps`` (payload + RTP/SRTP/UDP/IP
overhead), ``red_audio_bps`` if it goes out with RFC 2198 redundancy (the payload twice),
which streams that want it get only if the budget carries all of it.
If the budget cannot carry all of them the link is *tight*: only the
``max_audio_streams_weak`` loudest are forwarded (active speakers first, then by RFC 6464
level, so a stream about to speak is not cut when fewer are active) and video gets
nothing. Otherwise all audio is forwarded and video shares the rest.

Video (allocation_ladder.py): visible tiles in priority order (3 screen share, 2 speaker
or pinned, 1 gallery) get their lowest step, then climb step by step, higher priorities
more steps per round. Hidden tiles (``max_spatial`` -1) get nothing.

Hysteresis, per consumer: the allocation is recomputed on every call from the budget, but
no consumer may go above what it had unless, for ``upgrade_hold_ms`` without a break, the
allocation computed with ``budget / upgrade_margin`` would give it more; then it may rise
to that level (one paused for bandwidth: to its cheapest step; on a lossy link,
``upgrades="one_step"``, one step per hold; with ``upgrades="probed"`` no hold at all: the
caller proves each upgrade with padding first, probe_gate.py). Downgrades are immediate, but
only as deep as a budget ``keep_margin`` larger needs (a layer's measured rate is noisy).
So a budget oscillating +-10 % around a threshold neither flaps nor upgrades. A consumer
with no level yet (new, or coming back from hidden/audio-only) is allocated what fits
right away; one paused for bandwidth waits like any upgrade.

``audio_only`` (the subscriber asked) or a ``cap_bps`` that leaves less than the cheapest
video step pauses all video with reason "audio_only". ``paused_by_bandwidth(result.video)``
is True when visible video exists but the link carries none of it (the "weak link" notice).
A visible video whose layers are not received at all (rates 0) gets spatial 0 at no cost:
there is nothing to send yet; the next allocation sees its measured rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .allocation_ladder import ALL_TEMPORAL, Step, build_ladder, distribute, ladder_index

VideoReason = Literal["ok", "hidden", "bandwidth", "audio_only"]
UpgradePolicy = Literal["leap", "one_step", "probed"]


@dataclass(frozen=True, slots=True)
class AllocatorSettings:
    audio_bps: int = 40_000
    red_audio_bps: int = 70_000
    max_audio_streams_weak: int = 3
    upgrade_margin: float = 1.2
    upgrade_hold_ms: int = 1500
    # A step on air stays while its measured cost is within this of the budget: a
    # layer's measured rate moves +-15 % from one second to the next, and on the collapse
    # profile's 250k link 135p at 7.5 fps was paused for costing 137k against 136k (then
    # a probe had to bring it back; bench.weaklink).
    keep_margin: float = 1.1
    # rate fraction per temporal step, indexed by (number of temporal layers - 1)
    temporal_fractions: tuple[tuple[float, ...], ...] = ((1.0,), (0.6, 1.0), (0.4, 0.6, 1.0))

    def __post_init__(self) -> None:
        counts = (
            self.audio_bps,
            self.red_audio_bps,
            self.max_audio_streams_weak,
            self.upgrade_hold_ms,
        )
        if min(counts) < 0:
            raise ValueError(
                "audio_bps, red_audio_bps, max_audio_streams_weak, upgrade_hold_ms must be >= 0"
            )
        if self.upgrade_margin < 1:
            raise ValueError(f"upgrade_margin must be >= 1, got {self.upgrade_margin}")
        if self.keep_margin < 1:
            raise ValueError(f"keep_margin must be >= 1, got {self.keep_margin}")
        if not self.temporal_fractions or any(not f for f in self.temporal_fractions):
            raise ValueError("temporal_fractions must be non-empty tuples")


@dataclass(frozen=True, slots=True)
class VideoDemand:
    consumer_id: str
    priority: int  # 3 screen share, 2 speaker/pinned, 1 gallery
    max_spatial: int  # -1 hidden, else the highest layer the tile needs
    layer_bitrates: tuple[int, ...]  # measured bps per spatial layer, 0 = not received
    current_spatial: int | None = None  # what the forwarder sends now
    temporal_layers: int = 1  # Forwarder.temporal_layers_seen; 1 = no temporal steps


@dataclass(frozen=True, slots=True)
class AudioDemand:
    consumer_id: str
    level: int  # RFC 6464 dBov: 0 loudest .. 127 silent
    active: bool
    redundant: bool = False  # RED wanted (lossy link, accepted by the subscriber)


@dataclass(frozen=True, slots=True)
class VideoAllocation:
    consumer_id: str
    spatial: int | None  # None: paused
    temporal: int
    reason: VideoReason
    bitrate_bps: int = 0  # expected cost


@dataclass(frozen=True, slots=True)
class AudioAllocation:
    consumer_id: str
    forward: bool
    redundant: bool = False  # with RED (granted only if every wanted RED fits)


@dataclass(frozen=True, slots=True)
class AllocationResult:
    video: tuple[VideoAllocation, ...]
    audio: tuple[AudioAllocation, ...]
    budget_bps: int = 0
    used_bps: int = 0
    # The budget that would let the cheapest video paused for bandwidth start (upgrade
    # margin included), or 0: an estimate bounded by what is sent must still be allowed to
    # grow that far, or a stream whose cheapest step is far above audio never shows.
    resume_budget_bps: int = 0


class _Track:
    """Hysteresis state of one video consumer."""

    __slots__ = ("by_bandwidth", "level", "up_since_ms")

    def __init__(self, level: tuple[int, int] | None) -> None:
        self.level = level  # (spatial, temporal) last given
        self.by_bandwidth = False  # last paused for bandwidth
        self.up_since_ms: int | None = None  # upgrade possible (with margin) since


class StreamAllocator:
    __slots__ = ("_settings", "_tracks")

    def __init__(self, settings: AllocatorSettings) -> None:
        self._settings = settings
        self._tracks: dict[str, _Track] = {}

    def allocate(
        self,
        now_ms: int,
        budget_bps: int,
        demands: Sequence[VideoDemand],
        audio: Sequence[AudioDemand],
        audio_only: bool,
        cap_bps: int | None,
        upgrades: UpgradePolicy = "leap",
    ) -> AllocationResult:
        """``upgrades``: "leap" to what the budget allows after a hold; "one_step", one
        ladder step per hold (a link that loses packets); "probed", leap without a hold
        (the caller holds each upgrade until padding proved it)."""
        s = self._settings
        budget = max(0, budget_bps if cap_bps is None else min(budget_bps, cap_bps))
        audio_out, tight = self._allocate_audio(budget, audio)
        audio_used = sum(
            s.red_audio_bps if a.redundant else s.audio_bps for a in audio_out if a.forward
        )
        video_budget = 0 if tight else budget - audio_used
        tracks = self._tracks
        for gone in tracks.keys() - {d.consumer_id for d in demands}:
            del tracks[gone]

        out: dict[str, VideoAllocation] = {}
        measured: list[tuple[VideoDemand, tuple[Step, ...]]] = []
        unmeasured: list[VideoDemand] = []
        for d in demands:
            if d.max_spatial < 0 or audio_only:
                out[d.consumer_id] = _paused(d, "hidden" if d.max_spatial < 0 else "audio_only")
                tracks[d.consumer_id] = _Track(None)
                continue
            ladder = build_ladder(
                d.layer_bitrates,
                d.max_spatial,
                d.temporal_layers,
                s.temporal_fractions,
                d.current_spatial,
            )
            if ladder:
                measured.append((d, ladder))
            else:
                unmeasured.append(d)
                out[d.consumer_id] = VideoAllocation(d.consumer_id, 0, ALL_TEMPORAL, "ok")
        cheapest = min((ladder[0].bps for _, ladder in measured), default=0)
        if cap_bps is not None and measured and cap_bps - audio_used < cheapest:
            for d in [d for d, _ in measured] + unmeasured:
                out[d.consumer_id] = _paused(d, "audio_only")
                tracks[d.consumer_id] = _Track(None)
            measured = []
        used = audio_used + self._allocate_video(now_ms, video_budget, measured, out, upgrades)
        waiting = [ladder[0].bps for d, ladder in measured if out[d.consumer_id].spatial is None]
        resume = int((used + min(waiting)) * s.upgrade_margin) if waiting else 0
        return AllocationResult(
            video=tuple(out[d.consumer_id] for d in demands),
            audio=audio_out,
            budget_bps=budget,
            used_bps=used,
            resume_budget_bps=resume,
        )

    def _allocate_audio(
        self, budget: int, audio: Sequence[AudioDemand]
    ) -> tuple[tuple[AudioAllocation, ...], bool]:
        s = self._settings
        # RED only where all of it fits: on a link too narrow for it, the second copy
        # would itself cause the loss it is there to repair.
        with_red = sum(s.red_audio_bps if a.redundant else s.audio_bps for a in audio)
        red = budget >= with_red and any(a.redundant for a in audio)
        tight = budget < (with_red if red else s.audio_bps * len(audio))
        if not tight or len(audio) <= s.max_audio_streams_weak:
            return tuple(
                AudioAllocation(a.consumer_id, True, red and a.redundant) for a in audio
            ), tight
        ranked = sorted(audio, key=lambda a: (not a.active, a.level, a.consumer_id))
        keep = {a.consumer_id for a in ranked[: s.max_audio_streams_weak]}
        return tuple(AudioAllocation(a.consumer_id, a.consumer_id in keep) for a in audio), tight

    def _allocate_video(
        self,
        now_ms: int,
        budget: int,
        measured: Sequence[tuple[VideoDemand, tuple[Step, ...]]],
        out: dict[str, VideoAllocation],
        upgrades: UpgradePolicy,
    ) -> int:
        """Fill ``out`` for consumers with a ladder; return the bps used."""
        s = self._settings
        ladders = [ladder for _, ladder in measured]
        priorities = [d.priority for d, _ in measured]
        unlimited = [len(ladder) - 1 for ladder in ladders]
        comfortable = distribute(budget / s.upgrade_margin, ladders, priorities, unlimited)
        ceilings: list[int] = []
        previous: list[int] = []
        for (d, ladder), easy in zip(measured, comfortable, strict=True):
            track = self._tracks.get(d.consumer_id)
            if track is None:
                start = None if d.current_spatial is None else (d.current_spatial, ALL_TEMPORAL)
                track = self._tracks[d.consumer_id] = _Track(start)
            last = track.level
            prev = -1 if last is None else max(0, ladder_index(ladder, *last))
            previous.append(prev)
            if track.level is None and not track.by_bandwidth:
                ceilings.append(len(ladder) - 1)  # nothing to hold on to: what fits now
                track.up_since_ms = None
            elif easy > prev:
                if track.up_since_ms is None:
                    track.up_since_ms = now_ms
                hold = 0 if upgrades == "probed" else s.upgrade_hold_ms
                held = now_ms - track.up_since_ms >= hold
                # Out of a pause for bandwidth only to the cheapest step: on a link that
                # could not carry video, the probe for it should cost as little as it can.
                # On a lossy link one step at a time: each upgrade probes it, and the
                # estimate runs ahead of what went through. Leaping sent rural-3g's 400
                # kbit/s from 270p at 7.5 fps to 540p (a 40-kB keyframe, then 600 kbit/s):
                # a second of queue, and freezes, before any report came back. A clean
                # link leaps (a fiber viewer took 17 s to 540p step by step).
                top = prev + 1 if upgrades == "one_step" or prev < 0 else easy
                ceilings.append(top if held else prev)
            else:
                track.up_since_ms = None
                ceilings.append(prev)
        levels = distribute(budget, ladders, priorities, ceilings)
        if any(lv < p for lv, p in zip(levels, previous, strict=True)) and all(
            lv <= p for lv, p in zip(levels, previous, strict=True)
        ):
            # Only downgrades: as few as a budget keep_margin larger needs, none above
            # what each had.
            kept = distribute(budget * s.keep_margin, ladders, priorities, previous)
            levels = [max(lv, k) for lv, k in zip(levels, kept, strict=True)]
        used = 0
        for (d, ladder), level, prev in zip(measured, levels, previous, strict=True):
            track = self._tracks[d.consumer_id]
            if level < 0:
                out[d.consumer_id] = _paused(d, "bandwidth")
                track.level, track.by_bandwidth = None, True
                continue
            step = ladder[level]
            out[d.consumer_id] = VideoAllocation(
                d.consumer_id, step.spatial, step.temporal, "ok", step.bps
            )
            if level > prev:
                track.up_since_ms = None
            track.level, track.by_bandwidth = (step.spatial, step.temporal), False
            used += step.bps
        return used


def paused_by_bandwidth(video: Iterable[VideoAllocation]) -> bool:
    """Visible video with a measured rate exists, and the link carries none of it (the
    "weak link" notice). Video not received yet (rate unknown) is allocated at no cost
    and does not count."""
    measured = [a for a in video if a.reason == "bandwidth" or (a.reason == "ok" and a.bitrate_bps)]
    return bool(measured) and all(a.spatial is None for a in measured)


def _paused(demand: VideoDemand, reason: VideoReason) -> VideoAllocation:
    return VideoAllocation(demand.consumer_id, None, ALL_TEMPORAL, reason)
