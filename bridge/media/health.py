"""Publisher media health: when media and RTCP last arrived from a participant.

The ingress only counts packets (no clock read per packet); the participant's once-a-second
RTCP loop samples the counts, so the times below are accurate to about that interval.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MediaHealth:
    """Read-only facts for a roll call; times are on the bridge's injected clock (ms)."""

    last_media_ms: int | None  # None: no RTP yet
    last_rtcp_ms: int | None  # None: no RTCP yet
    link_state: str | None  # the subscriber link ("good", "weak", "audio_only"); None: unknown


class ArrivalTracker:
    """Turns growing packet counts into the time each count last grew."""

    def __init__(self) -> None:
        self._counts = (0, 0)
        self.last_media_ms: int | None = None
        self.last_rtcp_ms: int | None = None

    def sample(self, rtp_packets: int, rtcp_packets: int, now_ms: int) -> None:
        rtp_before, rtcp_before = self._counts
        if rtp_packets != rtp_before:
            self.last_media_ms = now_ms
        if rtcp_packets != rtcp_before:
            self.last_rtcp_ms = now_ms
        self._counts = (rtp_packets, rtcp_packets)
