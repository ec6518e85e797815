from __future__ import annotations

import pytest

from bridge.forwarding.keyframe_throttle import KeyframeRequestThrottle


def test_one_request_per_interval() -> None:
    t = KeyframeRequestThrottle(300)
    assert t.should_send(1000) is True
    assert t.should_send(1000) is False
    assert t.should_send(1299) is False
    assert t.should_send(1300) is True
    assert t.should_send(1400) is False
    assert t.should_send(1600) is True


def test_default_interval_is_one_second() -> None:
    t = KeyframeRequestThrottle()
    assert t.should_send(0)
    assert not t.should_send(999)
    assert t.should_send(1000)


def test_negative_interval_rejected() -> None:
    with pytest.raises(ValueError):
        KeyframeRequestThrottle(-1)
