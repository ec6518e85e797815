from __future__ import annotations

import pytest

from bridge.rtp.errors import RtcpParseError, RtpError, RtpParseError


@pytest.mark.parametrize("cls", [RtpParseError, RtcpParseError])
def test_errors_are_value_errors_with_reason(cls: type[RtpError]) -> None:
    err = cls("too_short", "RTP packet too short: 7 bytes, need 12")
    assert isinstance(err, RtpError)
    assert isinstance(err, ValueError)
    assert err.reason == "too_short"
    assert str(err) == "RTP packet too short: 7 bytes, need 12"
