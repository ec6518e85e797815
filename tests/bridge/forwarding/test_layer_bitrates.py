from __future__ import annotations

import pytest

from bridge.forwarding.layer_bitrates import LayerRateMeter


def feed(m: LayerRateMeter, layer: int, bps: int, start_ms: int, end_ms: int) -> None:
    """Packets every 10 ms carrying `bps`."""
    for ms in range(start_ms, end_ms, 10):
        m.add(layer, bps // 800, ms)


def test_steady_rates_per_layer() -> None:
    m = LayerRateMeter(3)
    feed(m, 0, 160_000, 0, 3000)
    feed(m, 1, 480_000, 0, 3000)
    assert m.bitrates(2995) == pytest.approx((160_000, 480_000, 0), rel=0.03)


def test_new_layer_is_not_under_reported() -> None:
    m = LayerRateMeter(1)
    feed(m, 0, 800_000, 10_000, 10_300)
    assert m.bitrate(0, 10_300) == pytest.approx(800_000, rel=0.05)


def test_window_slides() -> None:
    m = LayerRateMeter(1)
    feed(m, 0, 1_000_000, 0, 2000)
    feed(m, 0, 200_000, 2000, 4000)
    assert m.bitrate(0, 3990) == pytest.approx(200_000, rel=0.05)


def test_silent_layer_reads_zero_after_one_second() -> None:
    m = LayerRateMeter(2)
    feed(m, 1, 500_000, 0, 1000)
    assert m.bitrate(1, 1900) > 0
    assert m.bitrates(1990) == (0, 0)
    feed(m, 1, 300_000, 5000, 5500)  # comes back: old data forgotten, fresh span
    assert m.bitrate(1, 5500) == pytest.approx(300_000, rel=0.05)


def test_unknown_layer_ignored() -> None:
    m = LayerRateMeter(1)
    m.add(5, 100, 0)
    m.add(-1, 100, 0)
    assert m.bitrates(10) == (0,)
    assert m.bitrate(3, 10) == 0
    assert m.layers == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"layers": 0},
        {"layers": 1, "bucket_ms": 0},
        {"layers": 1, "window_ms": 50},
        {"layers": 1, "stale_ms": 0},
    ],
)
def test_settings_validated(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        LayerRateMeter(**kwargs)
