"""Meeting-control messages (docs/protocol.md, "Meetings: host controls ..."): the client
messages, parsed and validated, and the bridge -> client messages built from the state."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

from .fields import ProtocolError, field_of, media_kind
from .meeting_control import (
    MAX_CHAT_TEXT,
    ChatMessage,
    ChatTarget,
    LobbyEntry,
    MeetingState,
    RollCallEntry,
    RollCallHeader,
)
from .meetings.models import utc_iso


@dataclass(frozen=True, slots=True)
class RaiseHand:
    raised: bool


@dataclass(frozen=True, slots=True)
class ChatSend:
    text: str
    to: ChatTarget


@dataclass(frozen=True, slots=True)
class RollCallAnswer:
    pass


@dataclass(frozen=True, slots=True)
class HostMute:
    participant_id: str
    kind: Literal["audio", "video"]


@dataclass(frozen=True, slots=True)
class HostMuteAll:
    pass


@dataclass(frozen=True, slots=True)
class HostUnmute:
    participant_id: str


@dataclass(frozen=True, slots=True)
class HostRemove:
    participant_id: str
    revoke: bool


@dataclass(frozen=True, slots=True)
class HostLock:
    locked: bool


@dataclass(frozen=True, slots=True)
class HostAdmit:
    participant_id: str


@dataclass(frozen=True, slots=True)
class HostDeny:
    participant_id: str


@dataclass(frozen=True, slots=True)
class HostLowerHand:
    participant_id: str


@dataclass(frozen=True, slots=True)
class HostFloor:
    participant_id: str | None


@dataclass(frozen=True, slots=True)
class HostSpotlight:
    participant_id: str | None


@dataclass(frozen=True, slots=True)
class HostEnd:
    pass


@dataclass(frozen=True, slots=True)
class RollCallStart:
    pass


@dataclass(frozen=True, slots=True)
class RollCallStop:
    pass


HostAction = (
    HostMute
    | HostMuteAll
    | HostUnmute
    | HostRemove
    | HostLock
    | HostAdmit
    | HostDeny
    | HostLowerHand
    | HostFloor
    | HostSpotlight
    | HostEnd
    | RollCallStart
    | RollCallStop
)
ControlMessage = RaiseHand | ChatSend | RollCallAnswer | HostAction


def _participant(obj: dict[str, Any]) -> str:
    return str(field_of(obj, "participant_id", str))


def _participant_or_null(obj: dict[str, Any]) -> str | None:
    value = obj.get("participant_id")
    if value is None or isinstance(value, str):
        return value
    raise ProtocolError("bad_field", "field 'participant_id' must be a string or null")


def _chat(obj: dict[str, Any]) -> ChatSend:
    text = field_of(obj, "text", str)
    if not text.strip() or len(text) > MAX_CHAT_TEXT:
        raise ProtocolError(
            "bad_field", f"field 'text' must be 1 to {MAX_CHAT_TEXT} characters, not only spaces"
        )
    to = obj.get("to")
    if to == "all" or to == "host":
        return ChatSend(text=text, to=to)
    raise ProtocolError("bad_field", "field 'to' must be 'all' or 'host'")


_PARSERS: dict[str, Callable[[dict[str, Any]], ControlMessage]] = {
    "raise_hand": lambda o: RaiseHand(field_of(o, "raised", bool)),
    "chat": _chat,
    "roll_call_answer": lambda o: RollCallAnswer(),
    "host_mute": lambda o: HostMute(_participant(o), media_kind(o)),
    "host_mute_all": lambda o: HostMuteAll(),
    "host_unmute": lambda o: HostUnmute(_participant(o)),
    "host_remove": lambda o: HostRemove(_participant(o), field_of(o, "revoke", bool)),
    "host_lock": lambda o: HostLock(field_of(o, "locked", bool)),
    "host_admit": lambda o: HostAdmit(_participant(o)),
    "host_deny": lambda o: HostDeny(_participant(o)),
    "host_lower_hand": lambda o: HostLowerHand(_participant(o)),
    "host_floor": lambda o: HostFloor(_participant_or_null(o)),
    "host_spotlight": lambda o: HostSpotlight(_participant_or_null(o)),
    "host_end": lambda o: HostEnd(),
    "roll_call_start": lambda o: RollCallStart(),
    "roll_call_stop": lambda o: RollCallStop(),
}
# message class -> its `type`, for error.request
CONTROL_TYPES: dict[type, str] = {
    RaiseHand: "raise_hand",
    ChatSend: "chat",
    RollCallAnswer: "roll_call_answer",
    HostMute: "host_mute",
    HostMuteAll: "host_mute_all",
    HostUnmute: "host_unmute",
    HostRemove: "host_remove",
    HostLock: "host_lock",
    HostAdmit: "host_admit",
    HostDeny: "host_deny",
    HostLowerHand: "host_lower_hand",
    HostFloor: "host_floor",
    HostSpotlight: "host_spotlight",
    HostEnd: "host_end",
    RollCallStart: "roll_call_start",
    RollCallStop: "roll_call_stop",
}


def is_control(message: object) -> TypeGuard[ControlMessage]:
    return type(message) in CONTROL_TYPES


def parse_control(kind: object, obj: dict[str, Any]) -> ControlMessage | None:
    """The control message of this `type`, or None when `type` is not a control message."""
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    return None if parser is None else parser(obj)


# --- bridge -> client ----------------------------------------------------------------


def _presence(entry: RollCallEntry) -> tuple[str | None, str | None]:
    presence = entry.presence
    if presence is None:
        return None, None
    left = presence.last_left_at
    return utc_iso(presence.first_joined_at), None if left is None else utc_iso(left)


def _roll_call_header(header: RollCallHeader) -> dict[str, Any]:
    return {"id": header.id, "open": header.open, "started_at": utc_iso(header.started_at)}


def meeting_state_message(state: MeetingState) -> dict[str, Any]:
    policy = state.policy
    return {
        "type": "meeting_state",
        "locked": state.locked,
        "lobby": state.lobby,
        "spotlight": state.spotlight,
        "floor": state.floor,
        "hands": list(state.hands),
        "roll_call": None if state.roll_call is None else _roll_call_header(state.roll_call),
        "policy": {
            "mics_muted_on_entry": policy.mics_muted_on_entry,
            "host_may_unmute": policy.host_may_unmute,
            "lobby": policy.lobby,
        },
    }


def lobby_message(waiting: Iterable[LobbyEntry]) -> dict[str, Any]:
    return {"type": "lobby", "waiting": [{"id": e.id, "name": e.name} for e in waiting]}


def chat_message(message: ChatMessage) -> dict[str, Any]:
    return {
        "type": "chat",
        "id": message.id,
        "from": {"id": message.from_id, "name": message.from_name},
        "to": message.to,
        "text": message.text,
        "ts": utc_iso(message.ts),
    }


def _entry(entry: RollCallEntry) -> dict[str, Any]:
    joined_at, left_at = _presence(entry)
    return {
        "site_id": entry.site.site_id,
        "name": entry.site.name,
        "district": entry.site.district,
        "participant_id": entry.site.participant_id if entry.connected else None,
        "status": entry.status,
        "answered": entry.answered,
        "joined_at": joined_at,
        "left_at": left_at,
    }


def roll_call_message(header: RollCallHeader, entries: Iterable[RollCallEntry]) -> dict[str, Any]:
    return {
        "type": "roll_call",
        **_roll_call_header(header),
        "entries": [_entry(e) for e in entries],
    }
