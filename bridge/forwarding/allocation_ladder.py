"""Quality ladders and the greedy bitrate distribution behind the StreamAllocator.

A ladder lists one consumer's options, cheapest first: for each received simulcast layer
up to the tile's need, its temporal sub-steps (VP8 TID, RFC 7741 §4.2) at a fraction of
the layer's measured rate (by default TL0 ~40 %, TL0+1 ~60 %, all 100 %), then the next
layer. Steps that cost as much as a better step are removed, so costs strictly increase.

A layer is taken to cost at least ``SPATIAL_FLOOR`` x the received layer below it (each
has four times its pixels). A publisher's encoder starts a layer low and ramps it up over
seconds: ten seconds into a meeting, 540p measured 385 kbit/s against 400 for 270p, the
ladder offered 540p at 15 fps for 231k, a rural-3g subscriber got it, and the 1 Mbit/s it
soon was queued and froze its video for seconds (bench.weaklink). A layer measured under
that floor is still ramping up (or held back by its publisher's uplink): what its frame
rates will cost is not known yet, and a consumer not on it yet is offered it only whole,
at the floor (one on it keeps its steps down). Priced at 1.5 x the layer below and
offered at 7.5 fps, 540p ramping from 370-740k beside 270p's ~350k went to sites that
joined early for 220-260k; a probe proved that on a rural-3g link, the layer grew to
330-430k within seconds, and the video froze 1-3 times (3 of 3 such runs).

``distribute`` is mediasoup's (Transport::DistributeAvailableOutgoingBitrate): every
consumer in priority order gets its lowest step if it fits, then rounds in priority order
where a consumer of priority p climbs up to p steps per round, while the increments fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Top step of a layer: forward every temporal layer (Forwarder.set_target default).
ALL_TEMPORAL = 2
# Chromium's own simulcast targets are 2.5x and 4x apart (150k, 375k, 1.5M); measured over
# a second, 270p/135p moved between 2.1 and 2.6 and 540p/270p between 3.3 and 4.4 once
# ramped (bench.weaklink). A layer its publisher's uplink holds back may be closer, and
# is then taken too dear (a subscriber whose link would carry it gets the layer below).
SPATIAL_FLOOR = 2.0


@dataclass(frozen=True, slots=True)
class Step:
    spatial: int
    temporal: int
    bps: int


def build_ladder(
    layer_bitrates: Sequence[int],
    max_spatial: int,
    temporal_layers: int,
    temporal_fractions: Sequence[Sequence[float]],
    current_spatial: int | None = None,
) -> tuple[Step, ...]:
    """Options for one consumer; empty if no layer is received. ``current_spatial``: the
    layer it receives now, if any.

    If no layer up to ``max_spatial`` is received, the lowest received layer above it
    stands in (better a bigger picture than a black tile).
    """
    received = [s for s, bps in enumerate(layer_bitrates) if bps > 0]
    layers = [s for s in received if s <= max_spatial] or received[:1]
    if not layers:
        return ()
    fractions = temporal_fractions[min(max(temporal_layers, 1), len(temporal_fractions)) - 1]
    top = len(fractions) - 1
    rates: dict[int, int] = {}
    ramping: set[int] = set()
    below = 0
    for s in received:
        floor = int(below * SPATIAL_FLOOR)
        if layer_bitrates[s] < floor:
            ramping.add(s)
        below = rates[s] = max(layer_bitrates[s], floor)
    steps = [
        Step(s, ALL_TEMPORAL if t == top else t, int(rates[s] * f))
        for s in layers
        for t, f in enumerate(fractions)
        if t == top or s not in ramping or s == current_spatial
    ]
    kept: list[Step] = []
    for step in reversed(steps):
        if not kept or step.bps < kept[-1].bps:
            kept.append(step)
    kept.reverse()
    return tuple(kept)


def ladder_index(ladder: Sequence[Step], spatial: int, temporal: int) -> int:
    """Highest step not better than (spatial, temporal); -1 if all are better."""
    found = -1
    for i, step in enumerate(ladder):
        if (step.spatial, step.temporal) <= (spatial, temporal):
            found = i
    return found


def distribute(
    budget_bps: float,
    ladders: Sequence[Sequence[Step]],
    priorities: Sequence[int],
    ceilings: Sequence[int],
) -> list[int]:
    """Chosen step index per consumer (-1: nothing), never above its ceiling.

    The sum of the chosen steps' ``bps`` never exceeds ``budget_bps``.
    """
    count = len(ladders)
    order = sorted(range(count), key=lambda i: -priorities[i])  # stable: input order ties
    levels = [-1] * count
    remaining = budget_bps
    for i in order:
        ladder = ladders[i]
        if ceilings[i] >= 0 and ladder and ladder[0].bps <= remaining:
            levels[i] = 0
            remaining -= ladder[0].bps
    changed = True
    while changed:
        changed = False
        for i in order:
            ladder = ladders[i]
            top = min(ceilings[i], len(ladder) - 1)
            for _ in range(max(priorities[i], 1)):
                level = levels[i]
                if level < 0 or level >= top:
                    break
                delta = ladder[level + 1].bps - ladder[level].bps
                if delta > remaining:
                    break
                levels[i] = level + 1
                remaining -= delta
                changed = True
    return levels
