"""The playout delay asked of a subscriber so that a retransmission arrives in time."""

from __future__ import annotations

import pytest

from bridge.forwarding.repair_delay import RepairDelaySettings, UplinkRepairs, repair_delay_ms

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


@pytest.mark.parametrize(
    ("lossy", "uplink_late_ms", "expected"),
    [
        (False, 0, 0),
        (False, 300, 350),  # a clean downlink: the publisher's repair, decoded and shown
        (False, 100, 200),  # quick repairs: the floor
        (True, 120, 570),  # lost on both links: both repairs
        (True, 400, 600),  # capped
    ],
)
def test_a_publishers_late_repairs_add_to_the_delay(
    lossy: bool, uplink_late_ms: int, expected: int
) -> None:
    assert repair_delay_ms(lossy, 150, S, uplink_late_ms) == expected


def test_uplink_repairs_keep_the_latest_of_a_window() -> None:
    repairs = UplinkRepairs(RepairDelaySettings(uplink_window_ms=10_000, ceiling_ms=600))
    assert repairs.late_ms(0) == 0  # nothing lost: a clean uplink
    repairs.on_repair(1_000, 320)
    repairs.on_repair(4_000, 250)
    assert repairs.late_ms(5_000) == 320  # between repairs the delay stays
    assert repairs.late_ms(11_001) == 250  # the first is over 10 s old
    repairs.on_repair(12_000, 2_400)  # a packet resent seconds late (after an outage)
    repairs.on_repair(12_000, 0)  # nor one that was not late at all
    assert repairs.late_ms(12_000) == 250
    assert repairs.late_ms(14_001) == 0


def test_floor_applies_when_detection_is_quick() -> None:
    quick = RepairDelaySettings(detect_ms=10, floor_ms=200)
    assert repair_delay_ms(True, 20, quick) == 200


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="floor_ms"):
        RepairDelaySettings(floor_ms=700, ceiling_ms=600)
    with pytest.raises(ValueError, match="detect_ms"):
        RepairDelaySettings(detect_ms=-1)
    with pytest.raises(ValueError, match="render_ms"):
        RepairDelaySettings(render_ms=-1)
    with pytest.raises(ValueError, match="uplink_window_ms"):
        RepairDelaySettings(uplink_window_ms=0)
