"""Upgrades toward a subscriber are proven with padding before the video switches.

Without this the upgrade was the probe (downlink_estimator.py). On a link that could not
carry it, the subscriber saw the failure: the new layer's keyframe stalled in the queue,
and a resume out of "video paused: weak link" showed as seconds of frozen video before
the bridge paused it again (bench.weaklink edge: stalled 28 s of 60, the cheapest step
retried). libwebrtc sends padding before it raises its own target (probe clusters), and
Chromium's receive-side estimator counts padding like media, so its REMB can climb on it;
padding numbered for transport-cc feedback is reported on instead, packet by packet
(padding_delay.py), and a probe whose padding queues fails at once.

When the allocator gives a consumer more than it has now (a higher layer, more frames, or
video out of a pause), the gate holds that consumer where it is and asks for padding
worth the difference (and a margin more) for ``duration_ms``. The estimator sees
the allocation rise as before, so a congested probe falls back and holds exactly as a
failed upgrade did; the allocator then no longer wants the upgrade, and the probe ends
with the video untouched.
If the allocation still wants it when the time is up, the subscriber's receiver
reports have been judged over a window that began after the probe did, and they have
reported on the padding itself (``padding_reported``), nothing said congested in that
time (a REMB, a receiver report, a round trip): it is applied. The padding's own reports
matter because a window is judged on the reports that arrived in it, and those trail
what they describe by a round trip and a report interval: a 1-s probe of 184 kbit/s on
top of 224k on a 400 kbit/s link was judged clean before any report of it had come, and
the 270p at 30 fps it "proved" filled the pacer's queue for seconds (bench.weaklink
rural-3g). The judged window matters too: toward paused video the browser reports audio
only every few seconds, and a 2-s probe of 130 kbit/s on a 96 kbit/s link passed before
any report came. A probe
not proven within ``max_duration_ms`` has failed (the estimator falls back and holds).
Downgrades, and consumers with nothing applied yet, are never held.

After a proven upgrade the next probe waits for a window of receiver reports that began
once the upgrade was applied: the new layer's keyframe and rate have then crossed the
link. Started at once (the estimate grows on through a proven probe), a probe for 540p
padded on top of a 270p keyframe, and on rural-3g the overload that failed it froze the
just upgraded video three times (bench.weaklink).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .allocator import VideoAllocation

# A probe proves an upgrade costing up to this much more than the step it was started for
# (the measured cost of a step moves +-20 %).
PROVEN_ROOM = 1.25
# It pads this much more than the step costs: a link that would carry the step with no
# room to spare fails the probe. Padding exactly the step, a 400 kbit/s rural-3g link
# passed the probe for 270p at 30 fps (~430k with the audio) within its random loss, and
# the upgrade froze the video for seconds before the cuts came.
PROBE_MARGIN = 1.2
# Padding the browser reports on in transport-cc feedback (padding_delay.py) shows a queue
# however small the overload, so it needs little margin; at 1.2 a probe for 270p at 30 fps
# on rural-3g overloaded the link by ~20 % and its queue overflowed within the ~0.5 s the
# feedback took to show it (bench.weaklink).
NUMBERED_PROBE_MARGIN = 1.05
# abandoned: the allocator no longer wants the upgrade; failed: not proven in time
ProbeOutcome = Literal["started", "proven", "abandoned", "failed"]


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    # At least this long, and until a window of receiver reports (>= 1 s) that began
    # after the probe was judged: in practice 1.5-2.5 s. The pacer's padding ramps up
    # over its first 500 ms (paced_sender.PADDING_RAMP_MS): a second at full rate follows.
    duration_ms: int = 1500
    # Unproven by then (no report covered it): failed. Toward paused video, Chromium
    # reported the audio only every ~5 s, and an unanswered probe overloaded a 96 kbit/s
    # link for 6 s while the estimate grew on.
    max_duration_ms: int = 5000

    def __post_init__(self) -> None:
        if not 0 <= self.duration_ms <= self.max_duration_ms:
            raise ValueError(
                f"need 0 <= duration_ms <= max_duration_ms, got {self.duration_ms}, "
                f"{self.max_duration_ms}"
            )


@dataclass(frozen=True, slots=True)
class GateDecision:
    video: tuple[VideoAllocation, ...]  # what to apply now
    padding_bps: int  # what a probe running now should add (0: none)
    outcome: ProbeOutcome | None  # what this decision did to the probe, if anything


def is_upgrade(before: VideoAllocation, after: VideoAllocation) -> bool:
    """``after`` sends more of the stream than ``before``: out of a pause, or a higher
    (spatial, temporal) step."""
    if after.spatial is None:
        return False
    if before.spatial is None:
        return True
    return (after.spatial, after.temporal) > (before.spatial, before.temporal)


class ProbeGate:
    __slots__ = ("_applied", "_probed_bps", "_proven_ms", "_settings", "_since_ms")

    def __init__(self, settings: ProbeSettings) -> None:
        self._settings = settings
        self._applied: dict[str, VideoAllocation] = {}
        self._since_ms: int | None = None  # the running probe began
        self._probed_bps = 0  # the step it began for: what it can prove
        self._proven_ms: int | None = None  # the last probe was proven (its upgrade applied)

    @property
    def probing(self) -> bool:
        return self._since_ms is not None

    @property
    def applied_bps(self) -> int:
        """What the video applied last costs."""
        return sum(a.bitrate_bps for a in self._applied.values())

    def decide(
        self,
        now_ms: int,
        wanted: Sequence[VideoAllocation],
        can_pad: bool,
        judged_since_ms: int | None,
        padding_reported: bool = True,
        margin: float = PROBE_MARGIN,
        feedback_judges: bool = False,
        may_start: bool = True,
    ) -> GateDecision:
        """``wanted``: the allocator's result; ``can_pad``: padding can be sent to this
        subscriber (without it, upgrades are applied at once, as the probe themselves);
        ``judged_since_ms``: where the last window of receiver-report loss that was judged
        began; ``padding_reported``: the subscriber's reports have covered enough of the
        running probe's padding to judge it; ``margin``: pad this much more than the step
        costs; ``feedback_judges``: the padding's own transport-cc feedback fails a probe
        that queues (padding_delay.py), so a probe that only resumes paused video needs no
        window of receiver reports: toward paused video those come with the audio, every
        ~5 s, and windows of the padding's alone (~28 packets a second) closed every
        2 s, so resuming took 4 s on the collapse profile's recovered link.
        ``may_start``: False holds upgrades without starting a probe."""
        applied = self._applied
        held: list[VideoAllocation] = []
        extra = 0
        holding = False
        resuming = True  # every upgrade held brings paused video back
        for allocation in wanted:
            before = applied.get(allocation.consumer_id)
            if can_pad and before is not None and is_upgrade(before, allocation):
                holding = True
                resuming &= before.spatial is None
                held.append(before)
                extra += allocation.bitrate_bps - before.bitrate_bps
            else:
                held.append(allocation)
        outcome: ProbeOutcome | None = None
        since = self._since_ms
        if not holding:
            out, padding = tuple(wanted), 0
            if since is not None:
                outcome, self._since_ms = "abandoned", None
        elif (
            since is not None
            and now_ms - since >= self._settings.duration_ms
            and (
                (judged_since_ms is not None and judged_since_ms >= since)
                or (feedback_judges and resuming)
            )
            and padding_reported
            and extra <= self._probed_bps * PROVEN_ROOM
        ):
            out, padding = tuple(wanted), 0
            outcome, self._since_ms, self._proven_ms = "proven", None, now_ms
        elif since is not None and now_ms - since >= self._settings.max_duration_ms:
            out, padding = tuple(held), 0
            outcome, self._since_ms = "failed", None
        elif since is None and not (may_start and _settled(self._proven_ms, judged_since_ms)):
            # not yet: the last upgrade has not crossed the link, or the caller waits
            out, padding = tuple(held), 0
        else:
            extra = max(0, extra)
            out, padding = tuple(held), int(extra * margin)
            if since is None or extra > self._probed_bps * PROVEN_ROOM:
                # A new probe, or the allocator now wants more than this one could prove
                # (the estimate grew meanwhile): probe for that, from now.
                outcome, self._since_ms, self._probed_bps = "started", now_ms, extra
        self._applied = {a.consumer_id: a for a in out}
        return GateDecision(out, padding, outcome)


def _settled(proven_ms: int | None, judged_since_ms: int | None) -> bool:
    """No upgrade was proven yet, or a window of reports that began after it was judged."""
    return proven_ms is None or (judged_since_ms is not None and judged_since_ms >= proven_ms)
