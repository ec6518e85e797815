"""The playout delay asked of a subscriber so that a retransmission arrives in time."""

from __future__ import annotations

import pytest

from bridge.forwarding.repair_delay import RepairDelaySettings, repair_delay_ms

S = RepairDelaySettings(detect_ms=250, unknown_rtt_ms=200, floor_ms=200, ceiling_ms=600)


@pytest.mark.parametrize(
    ("lossy", "rtt_ms", "expected"),
    [
        (False, 150, 0),  # a clean link: the browser keeps its own (short) delay
        (False, None, 0),
        (True, 150, 400),  # rural-3g: a round trip plus the time to notice the gap
        (True, None, 450),  # not measured yet: assume 200 ms
        (True, 0, 250),  # loopback-like round trip: detection alone
        (True, 1000, 600),  # satellite and worse: capped, lips stay close to the voice
    ],
)
def test_repair_delay(lossy: bool, rtt_ms: int | None, expected: int) -> None:
    assert repair_delay_ms(lossy, rtt_ms, S) == expected


def test_floor_applies_when_detection_is_quick() -> None:
    quick = RepairDelaySettings(detect_ms=10, floor_ms=200)
    assert repair_delay_ms(True, 20, quick) == 200


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="floor_ms"):
        RepairDelaySettings(floor_ms=700, ceiling_ms=600)
    with pytest.raises(ValueError, match="detect_ms"):
        RepairDelaySettings(detect_ms=-1)
