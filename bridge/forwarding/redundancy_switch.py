"""When a subscriber's downlink counts as lossy: its audio then goes out with RED (RFC 2198,
rtp/red.py), its video with a playout delay for repairs (repair_delay.py), and its
upgrades climb one step at a time unless padding probes them first (allocator.py).

Opus in-band FEC alone did not keep voice clear on the shaped links (edge, 5 % random
loss: concealment about equal to the loss, docs/benchmarks.md). One redundant block per
packet recovers every isolated loss at the cost of a second copy of the payload, ~30
kbit/s per voice. So it is switched on as soon as a receiver-report window shows loss
(before the first one, by a NACK for a packet sent to the subscriber), and off only after
a long clean stretch (a link that lost once will lose again; flapping
would cost the allocator's budget its stability).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RedundancySettings:
    on_loss: float = 0.01  # a window losing more than this turns RED on
    off_loss: float = 0.002  # windows under this, for off_after_ms, turn it off
    off_after_ms: int = 30_000

    def __post_init__(self) -> None:
        if not 0 <= self.off_loss <= self.on_loss <= 1:
            raise ValueError("need 0 <= off_loss <= on_loss <= 1")


class RedundancySwitch:
    __slots__ = ("_clean_since_ms", "_settings", "judged", "on")

    def __init__(self, settings: RedundancySettings) -> None:
        self._settings = settings
        self._clean_since_ms: int | None = None
        self.on = False
        self.judged = False  # a window was judged, or a packet was lost: the link is known

    def on_early_loss(self) -> None:
        """The downlink lost a packet before any window could be judged (a NACK for a
        packet sent to it, in the first seconds): lossy from now. Waiting for the first
        judged window (~3 s after the join) let a rural-3g site's first repairs show as
        1-3 freezes in every run (bench.weaklink)."""
        self.on = self.judged = True
        self._clean_since_ms = None

    def update(self, fraction_lost: float, now_ms: int) -> bool:
        """One receiver-report window's loss (0..1) on the downlink; whether RED is on."""
        s = self._settings
        self.judged = True
        if fraction_lost > s.on_loss:
            self.on = True
            self._clean_since_ms = None
        elif fraction_lost >= s.off_loss:
            self._clean_since_ms = None
        elif self._clean_since_ms is None:
            self._clean_since_ms = now_ms
        elif self.on and now_ms - self._clean_since_ms >= s.off_after_ms:
            self.on = False
        return self.on
