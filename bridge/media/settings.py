"""Settings of the media core, fixed for a bridge process."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MediaSettings:
    max_participants: int = 300
    # Pause/lower video per subscriber from its downlink estimate (REMB + RR loss). Off
    # here (synthetic sites in tests and load benches send no REMB); `diemcau serve` turns
    # it on unless DIEMCAU_ADAPTIVE_BITRATE=0 (signaling/settings.py).
    adaptive_bitrate: bool = False
    # Steady subscribers of a stream get their headers from one numpy pass per packet
    # (media/fanout_lane.py); off, each forwards each packet on its own (same bytes).
    fanout_lanes: bool = True
