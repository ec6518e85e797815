from __future__ import annotations

import pytest

from bridge.media.events import MuteChanged, SubscribeOffer
from signaling.protocol import (
    Join,
    Mute,
    ProtocolError,
    SubscribeAnswer,
    event_message,
    parse_client_message,
)


def test_parses_each_client_message() -> None:
    assert parse_client_message('{"type":"join","v":1,"token":"t"}') == Join(1, "t")
    assert parse_client_message('{"type":"subscribe_answer","sdp":"s","rev":3}') == SubscribeAnswer(
        "s", 3
    )
    assert parse_client_message('{"type":"mute","kind":"video","muted":false}') == Mute(
        "video", False
    )


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        ("{", "bad_json", "not JSON"),
        ('"join"', "bad_json", "object"),
        ('{"v":1}', "unknown_type", "None"),
        ('{"type":"join","v":"1","token":"t"}', "bad_field", "'v'"),
        ('{"type":"join","v":true,"token":"t"}', "bad_field", "'v'"),
        ('{"type":"subscribe_answer","sdp":"s"}', "bad_field", "'rev'"),
        ('{"type":"mute","kind":"audio","muted":1}', "bad_field", "'muted'"),
    ],
)
def test_rejections_are_precise(raw: str, code: str, fragment: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_client_message(raw)
    assert err.value.code == code
    assert fragment in err.value.reason


def test_events_serialise() -> None:
    assert event_message(SubscribeOffer("sdp", 2)) == {
        "type": "subscribe_offer",
        "sdp": "sdp",
        "rev": 2,
    }
    assert event_message(MuteChanged("p", "audio", True)) == {
        "type": "mute_changed",
        "participant_id": "p",
        "kind": "audio",
        "muted": True,
    }


def test_join_name_is_optional_trimmed_and_bounded() -> None:
    assert parse_client_message('{"type":"join","v":1,"token":"t"}').name is None  # type: ignore[union-attr]
    assert parse_client_message('{"type":"join","v":1,"token":"t","name":" Xã A "}') == Join(
        1, "t", "Xã A"
    )
    with pytest.raises(ProtocolError) as err:
        parse_client_message('{"type":"join","v":1,"token":"t","name":"' + "x" * 65 + '"}')
    assert "'name'" in err.value.reason


def test_join_downlink_measure_is_optional_and_bounded() -> None:
    join = '{"type":"join","v":1,"token":"t"'
    assert parse_client_message(join + "}") == Join(1, "t", downlink_kbps=None)
    assert parse_client_message(join + ',"downlink_kbps":null}') == Join(1, "t")
    assert parse_client_message(join + ',"downlink_kbps":84}') == Join(1, "t", downlink_kbps=84)
    for bad in ("0", "-5", "84.5", '"84"', "true", "10000001", "[84]"):
        with pytest.raises(ProtocolError) as err:
            parse_client_message(join + f',"downlink_kbps":{bad}}}')
        assert err.value.code == "bad_field"
        assert "'downlink_kbps'" in err.value.reason, bad
