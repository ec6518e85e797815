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

A packet lost on the *publisher's* uplink is repaired by the bridge's own NACK and reaches
every subscriber that much later, clean downlink or not (bench.weaklink rural-3g up: 3
freezes a minute, 0.2-0.5 s each, for the viewer on fiber). How late those repairs
arrive is measured where they arrive (UplinkRepairs) and added to the delay.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RepairDelaySettings:
    detect_ms: int = 250  # a frame interval at 7.5 fps, plus the jitter of NACK and copy
    unknown_rtt_ms: int = 200  # no receiver report has measured the round trip yet
    floor_ms: int = 200
    ceiling_ms: int = 600
    render_ms: int = 50  # after an uplink repair completes a frame: decode and render
    uplink_window_ms: int = 10_000  # an uplink repair counts this long (UplinkRepairs)

    def __post_init__(self) -> None:
        if not 0 <= self.floor_ms <= self.ceiling_ms:
            raise ValueError("need 0 <= floor_ms <= ceiling_ms")
        if min(self.detect_ms, self.unknown_rtt_ms, self.render_ms) < 0:
            raise ValueError("detect_ms, unknown_rtt_ms and render_ms must be >= 0")
        if self.uplink_window_ms <= 0:
            raise ValueError("uplink_window_ms must be > 0")


def repair_delay_ms(
    lossy: bool, rtt_ms: int | None, settings: RepairDelaySettings, uplink_late_ms: int = 0
) -> int:
    """The minimum playout delay to ask for (0: none, the receiver chooses).

    ``uplink_late_ms``: how late the publisher's repairs reach the bridge
    (UplinkRepairs.late_ms). A packet lost on both links is late by both repairs."""
    delay = 0
    if lossy:
        delay = (settings.unknown_rtt_ms if rtt_ms is None else rtt_ms) + settings.detect_ms
    if uplink_late_ms > 0:
        delay += uplink_late_ms + settings.render_ms
    if delay == 0:
        return 0
    return min(settings.ceiling_ms, max(settings.floor_ms, delay))


class UplinkRepairs:
    """How late the retransmissions of one publisher's stream arrive at the bridge.

    Each repair is timed from the arrival of the packet before its gap (the lost one was
    due about then), so the time to notice the gap is in it. The need is the slowest of
    the repairs of the last ``uplink_window_ms``: with 3 % loss at 135p's ~15 packets a
    second a repair comes every 2-3 s, and the delay must not come and go between them.
    A repair later than the delay's ceiling is out of its reach and not counted (after an
    outage the publisher resends packets seconds old)."""

    __slots__ = ("_recent", "_settings")

    def __init__(self, settings: RepairDelaySettings) -> None:
        self._settings = settings
        self._recent: deque[tuple[int, int]] = deque()  # (arrived ms, late by ms)

    def on_repair(self, now_ms: int, late_ms: int) -> None:
        self._forget(now_ms)
        if 0 < late_ms <= self._settings.ceiling_ms:
            self._recent.append((now_ms, late_ms))

    def late_ms(self, now_ms: int) -> int:
        """The most any repair of the window was late (0: none, the uplink is clean)."""
        self._forget(now_ms)
        return max((late for _, late in self._recent), default=0)

    def _forget(self, now_ms: int) -> None:
        recent = self._recent
        while recent and now_ms - recent[0][0] > self._settings.uplink_window_ms:
            recent.popleft()
