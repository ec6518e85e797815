from __future__ import annotations

from bridge.forwarding.allocation_ladder import (
    Step,
    build_ladder,
    distribute,
    ladder_index,
)

FRACTIONS = ((1.0,), (0.6, 1.0), (0.4, 0.6, 1.0))
RATES = (150_000, 500_000, 1_500_000)


def test_ladder_with_temporal_steps() -> None:
    ladder = build_ladder(RATES, 1, 3, FRACTIONS)
    assert [(s.spatial, s.temporal, s.bps) for s in ladder] == [
        (0, 0, 60_000),
        (0, 1, 90_000),
        (0, 2, 150_000),
        (1, 0, 200_000),
        (1, 1, 300_000),
        (1, 2, 500_000),
    ]


def test_ladder_without_temporal_layers_and_missing_layer() -> None:
    ladder = build_ladder((150_000, 0, 1_500_000), 2, 1, FRACTIONS)
    assert ladder == (Step(0, 2, 150_000), Step(2, 2, 1_500_000))


def test_ladder_drops_steps_not_cheaper_than_better_ones() -> None:
    ladder = build_ladder((300_000, 700_000), 1, 3, FRACTIONS)
    # (1,0)=280k is cheaper than (0,2)=300k: that goes
    assert [(s.spatial, s.temporal) for s in ladder] == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    costs = [s.bps for s in ladder]
    assert costs == sorted(set(costs))


def test_a_layer_under_twice_the_one_below_is_offered_whole_at_that() -> None:
    """Measured 10 s into a bench.weaklink run, while the publisher's encoder ramped its
    540p layer up: 540p below 270p. Taken as measured, 540p at 15 fps cost 231k; priced
    at 1.5 x 270p and offered at 7.5 fps, a site that joined early got it for 220-260k
    and froze as it grew. Ramping, it is offered whole, at the floor."""
    ramping = (148_976, 399_608, 384_600)
    ladder = build_ladder(ramping, 2, 3, FRACTIONS)
    assert [(s.spatial, s.temporal, s.bps) for s in ladder if s.spatial == 2] == [
        (2, 2, 399_608 * 2)
    ]
    assert [s.temporal for s in ladder if s.spatial == 1] == [0, 1, 2]  # 270p is no floor
    # a consumer already on it keeps its way down
    on_it = build_ladder(ramping, 2, 3, FRACTIONS, current_spatial=2)
    assert [s.temporal for s in on_it if s.spatial == 2] == [0, 1, 2]
    # once measured at its floor or above, its frame rates are steps again
    settled = build_ladder((148_976, 399_608, 800_000), 2, 3, FRACTIONS)
    assert [s.temporal for s in settled if s.spatial == 2] == [0, 1, 2]
    # the floor follows the received layers: a missing middle layer is skipped
    assert build_ladder((150_000, 0, 200_000), 2, 1, FRACTIONS)[-1] == Step(2, 2, 300_000)


def test_lowest_received_layer_stands_in() -> None:
    assert build_ladder((0, 500_000, 0), 0, 1, FRACTIONS) == (Step(1, 2, 500_000),)
    assert build_ladder((0, 0), 1, 1, FRACTIONS) == ()


def test_ladder_index() -> None:
    ladder = build_ladder(RATES, 2, 3, FRACTIONS)
    assert ladder_index(ladder, 1, 1) == 4
    assert ladder_index(ladder, 1, 2) == 5
    assert ladder_index(ladder, 5, 2) == 8
    assert ladder_index(build_ladder((0, 500_000), 1, 1, FRACTIONS), 0, 2) == -1


def test_distribute_base_layer_first_then_weighted_rounds() -> None:
    ladder = build_ladder(RATES, 2, 3, FRACTIONS)
    levels = distribute(400_000, [ladder] * 3, [2, 1, 1], [8, 8, 8])
    assert [(ladder[i].spatial, ladder[i].temporal) for i in levels] == [
        (1, 0),
        (0, 1),
        (0, 1),
    ]
    assert sum(ladder[i].bps for i in levels) <= 400_000


def test_distribute_respects_ceiling_and_skips_what_does_not_fit() -> None:
    big = (Step(0, 2, 500_000),)
    small = (Step(0, 2, 100_000), Step(1, 2, 200_000))
    assert distribute(300_000, [big, small], [3, 1], [0, 1]) == [-1, 1]
    assert distribute(300_000, [small], [1], [0]) == [0]
    assert distribute(300_000, [small], [1], [-1]) == [-1]
