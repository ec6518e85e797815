"""Meeting-control messages: each parses, each malformed one is refused naming its field,
and the bridge -> client messages have the documented shape."""

from __future__ import annotations

import json

import pytest

from signaling.control_protocol import (
    ChatSend,
    HostFloor,
    HostMute,
    HostRemove,
    HostSpotlight,
    RaiseHand,
    chat_message,
    meeting_state_message,
    roll_call_message,
)
from signaling.fields import ProtocolError
from signaling.meeting_control import (
    ChatMessage,
    MeetingControl,
    Presence,
    RollCallEntry,
    RollCallHeader,
    RosterSite,
)
from signaling.meetings.models import MeetingPolicy
from signaling.protocol import REQUEST_TYPES, parse_client_message

T0 = 1_780_000_000.0

VALID = {
    "raise_hand": {"raised": True},
    "chat": {"text": "xin chào", "to": "all"},
    "roll_call_answer": {},
    "host_mute": {"participant_id": "a", "kind": "video"},
    "host_mute_all": {},
    "host_unmute": {"participant_id": "a"},
    "host_remove": {"participant_id": "a", "revoke": True},
    "host_lock": {"locked": True},
    "host_admit": {"participant_id": "a"},
    "host_deny": {"participant_id": "a"},
    "host_lower_hand": {"participant_id": "a"},
    "host_floor": {"participant_id": "a"},
    "host_spotlight": {"participant_id": None},
    "host_end": {},
    "roll_call_start": {},
    "roll_call_stop": {},
}


def parse(type_: str, **fields: object) -> object:
    return parse_client_message(json.dumps({"type": type_, **fields}))


@pytest.mark.parametrize("type_", sorted(VALID))
def test_every_control_message_parses_and_names_its_request(type_: str) -> None:
    message = parse(type_, **VALID[type_])
    assert REQUEST_TYPES[type(message)] == type_


def test_parsed_values() -> None:
    assert parse("raise_hand", raised=False) == RaiseHand(False)
    assert parse("chat", text=" hỏi ", to="host") == ChatSend(" hỏi ", "host")
    assert parse("host_mute", participant_id="x", kind="audio") == HostMute("x", "audio")
    assert parse("host_remove", participant_id="x", revoke=False) == HostRemove("x", False)
    assert parse("host_floor", participant_id=None) == HostFloor(None)
    assert parse("host_spotlight") == HostSpotlight(None)  # a missing id is null, as in JS


@pytest.mark.parametrize(
    ("type_", "fields", "reason"),
    [
        ("raise_hand", {}, "field 'raised' must be bool"),
        ("raise_hand", {"raised": 1}, "field 'raised' must be bool"),
        ("chat", {"to": "all"}, "field 'text' must be str"),
        ("chat", {"text": "", "to": "all"}, "field 'text' must be 1 to 1000 characters"),
        ("chat", {"text": "  \n", "to": "all"}, "not only spaces"),
        ("chat", {"text": "x" * 1001, "to": "all"}, "field 'text' must be 1 to 1000"),
        ("chat", {"text": "hi", "to": "everyone"}, "field 'to' must be 'all' or 'host'"),
        ("chat", {"text": "hi"}, "field 'to' must be 'all' or 'host'"),
        ("host_mute", {"kind": "audio"}, "field 'participant_id' must be str"),
        ("host_mute", {"participant_id": "a", "kind": "mic"}, "field 'kind' must be 'audio'"),
        ("host_unmute", {"participant_id": 7}, "field 'participant_id' must be str"),
        ("host_remove", {"participant_id": "a"}, "field 'revoke' must be bool"),
        ("host_remove", {"participant_id": "a", "revoke": "yes"}, "field 'revoke' must be bool"),
        ("host_lock", {"locked": None}, "field 'locked' must be bool"),
        ("host_admit", {}, "field 'participant_id' must be str"),
        ("host_deny", {"participant_id": ["a"]}, "field 'participant_id' must be str"),
        ("host_lower_hand", {"participant_id": None}, "field 'participant_id' must be str"),
        ("host_floor", {"participant_id": 3}, "'participant_id' must be a string or null"),
        ("host_spotlight", {"participant_id": {}}, "'participant_id' must be a string or null"),
    ],
)
def test_malformed_messages_name_the_field(
    type_: str, fields: dict[str, object], reason: str
) -> None:
    with pytest.raises(ProtocolError) as err:
        parse(type_, **fields)
    assert (err.value.code, err.value.request) == ("bad_field", type_)
    assert reason in err.value.reason


def test_meeting_state_message() -> None:
    control = MeetingControl(MeetingPolicy(lobby=True, host_may_unmute=True))
    control.raise_hand("b", True)
    control.give_floor("a", [])
    assert meeting_state_message(control.state()) == {
        "type": "meeting_state",
        "locked": False,
        "lobby": True,
        "spotlight": "a",
        "floor": "a",
        "hands": ["b"],
        "roll_call": None,
        "policy": {"mics_muted_on_entry": True, "host_may_unmute": True, "lobby": True},
    }


def test_chat_and_roll_call_messages() -> None:
    assert chat_message(ChatMessage(3, "a", "Xã A", "host", "hi", T0)) == {
        "type": "chat",
        "id": 3,
        "from": {"id": "a", "name": "Xã A"},
        "to": "host",
        "text": "hi",
        "ts": "2026-05-28T20:26:40+00:00",
    }
    site = RosterSite("s1", "Xã A", "Hòa Vang", "s1")
    entries = [
        RollCallEntry(site, True, "present", True, Presence(T0, None)),
        RollCallEntry(site, False, "absent", False, Presence(T0, T0 + 60)),
        RollCallEntry(site, False, "absent", False, None),
    ]
    message = roll_call_message(RollCallHeader("rc", True, T0), entries)
    assert {k: message[k] for k in ("type", "id", "open", "started_at")} == {
        "type": "roll_call",
        "id": "rc",
        "open": True,
        "started_at": "2026-05-28T20:26:40+00:00",
    }
    assert message["entries"][0] == {
        "site_id": "s1",
        "name": "Xã A",
        "district": "Hòa Vang",
        "participant_id": "s1",
        "status": "present",
        "answered": True,
        "joined_at": "2026-05-28T20:26:40+00:00",
        "left_at": None,
    }
    assert message["entries"][1]["participant_id"] is None
    assert message["entries"][1]["left_at"] == "2026-05-28T20:27:40+00:00"
    assert message["entries"][2]["joined_at"] is None
