"""Settings of the media core, fixed for a bridge process."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MediaSettings:
    max_participants: int = 300
    # Pause/lower video per subscriber from its downlink estimate (REMB + RR loss). Off by
    # default until it is validated over shaped links: with it on, the estimate collapsed
    # on loopback in a 3-site Chromium meeting (README, "Not built yet").
    adaptive_bitrate: bool = False
