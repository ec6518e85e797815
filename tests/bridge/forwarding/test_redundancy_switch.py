"""RED on when the downlink loses packets, off only after a long clean stretch."""

from __future__ import annotations

import pytest

from bridge.forwarding.redundancy_switch import RedundancySettings, RedundancySwitch


def test_on_at_the_first_lossy_window_and_off_after_a_clean_stretch() -> None:
    switch = RedundancySwitch(RedundancySettings(off_after_ms=30_000))
    assert not switch.update(0.0, 0)
    assert switch.update(0.03, 1000)  # 3 % lost
    now = 2000
    while now < 2000 + 30_000:
        assert switch.update(0.0, now)
        now += 1000
    assert not switch.update(0.0, now)


def test_any_loss_above_the_floor_restarts_the_clean_stretch() -> None:
    switch = RedundancySwitch(RedundancySettings(on_loss=0.01, off_loss=0.002))
    switch.update(0.05, 0)
    for second in range(1, 120):
        # a 0.5 % window every 20 s: not enough to turn it on, too much to turn it off
        assert switch.update(0.005 if second % 20 == 0 else 0.0, second * 1000)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        RedundancySettings(on_loss=0.001, off_loss=0.01)


def test_early_loss_turns_it_on_until_a_clean_stretch() -> None:
    switch = RedundancySwitch(RedundancySettings(off_after_ms=10_000))
    switch.on_early_loss()
    assert switch.on
    switch.update(0.0, 1000)
    assert switch.update(0.0, 10_500)  # 9.5 s clean
    assert not switch.update(0.0, 11_000)


def test_judged_once_a_window_or_an_early_loss_said_anything() -> None:
    for tell in (lambda s: s.update(0.0, 1000), lambda s: s.on_early_loss()):
        switch = RedundancySwitch(RedundancySettings())
        assert not switch.judged
        tell(switch)
        assert switch.judged
