"""How long a subscriber on a lossy link should hold video frames before showing them.

A lost video packet is repaired by retransmission (RFC 4588): the receiver notices the
gap when the next packet arrives -- for the last packet of a frame, only with the next
frame, up to 133 ms later at the lowest temporal layer (7.5 fps) -- and the copy arrives
a round trip after its NACK. Chromium plays frames out as soon as its jitter estimate
allows, so every such repair on a link with a 150-ms round trip showed as a freeze
(bench.weaklink rural-3g down: 9-21 freezes a minute at 3 % loss). The bridge therefore
asks the subscriber, with the playout-delay header extension, to hold frames for one
repair: a round trip plus ``detect_ms``, within [floor_ms, ceiling_ms]. Chromium delays
the sender's audio as much to keep lips in sync, so the delay is asked only while the
downlink loses packets (the same judgment that turns RED on), and kept short.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RepairDelaySettings:
    detect_ms: int = 250  # a frame interval at 7.5 fps, plus the jitter of NACK and copy
    unknown_rtt_ms: int = 200  # no receiver report has measured the round trip yet
    floor_ms: int = 200
    ceiling_ms: int = 600

    def __post_init__(self) -> None:
        if not 0 <= self.floor_ms <= self.ceiling_ms:
            raise ValueError("need 0 <= floor_ms <= ceiling_ms")
        if min(self.detect_ms, self.unknown_rtt_ms) < 0:
            raise ValueError("detect_ms and unknown_rtt_ms must be >= 0")


def repair_delay_ms(lossy: bool, rtt_ms: int | None, settings: RepairDelaySettings) -> int:
    """The minimum playout delay to ask for (0: none, the receiver chooses)."""
    if not lossy:
        return 0
    rtt = settings.unknown_rtt_ms if rtt_ms is None else rtt_ms
    return min(settings.ceiling_ms, max(settings.floor_ms, rtt + settings.detect_ms))
