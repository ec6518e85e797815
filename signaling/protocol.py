"""Client messages of the signaling protocol (docs/protocol.md), parsed and validated.

Meeting-control messages live in control_protocol; ProtocolError is re-exported here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from bridge.media.events import (
    LinkState,
    MuteChanged,
    ParticipantInfo,
    ParticipantJoined,
    ParticipantLeft,
    PublisherLayers,
    RoomEvent,
    SubscribeOffer,
    TrackPublished,
    TrackUnpublished,
    VideoState,
)

from .control_protocol import CONTROL_TYPES, ControlMessage, parse_control
from .fields import ProtocolError, field_of, media_kind

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 64 * 1024
MAX_NAME = 64
MAX_KBPS = 10_000_000  # 10 Gbit/s: more is no measure of a site's link


@dataclass(frozen=True, slots=True)
class Join:
    v: int
    token: str
    name: str | None = None  # display name typed on the pre-join screen
    # the page's own measure of its downlink (web/js/link-hint.js); None: not measured
    downlink_kbps: int | None = None


@dataclass(frozen=True, slots=True)
class Publish:
    sdp: str


@dataclass(frozen=True, slots=True)
class SubscribeAnswer:
    sdp: str
    rev: int


@dataclass(frozen=True, slots=True)
class Mute:
    kind: Literal["audio", "video"]
    muted: bool


@dataclass(frozen=True, slots=True)
class Tile:
    participant_id: str
    visible: bool
    height: int


@dataclass(frozen=True, slots=True)
class View:
    tiles: tuple[Tile, ...]


@dataclass(frozen=True, slots=True)
class Quality:
    audio_only: bool
    max_kbps: int | None


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Leave:
    pass


ClientMessage = (
    Join | Publish | SubscribeAnswer | Mute | View | Quality | Ping | Leave | ControlMessage
)
MAX_TILES = 500


def _tiles(value: Any) -> tuple[Tile, ...]:
    if not isinstance(value, list) or len(value) > MAX_TILES:
        raise ProtocolError("bad_field", f"field 'tiles' must be a list of at most {MAX_TILES}")
    tiles = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ProtocolError("bad_field", f"tiles[{i}] must be an object")
        height = item.get("height")
        if not isinstance(height, int | float) or isinstance(height, bool):
            raise ProtocolError("bad_field", f"tiles[{i}]: field 'height' must be a number")
        try:
            participant_id = field_of(item, "participant_id", str)
            visible = field_of(item, "visible", bool)
        except ProtocolError as exc:
            raise ProtocolError("bad_field", f"tiles[{i}]: {exc.reason}") from exc
        tiles.append(Tile(participant_id, visible, max(0, int(height))))
    return tuple(tiles)


def parse_client_message(text: str) -> ClientMessage:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_json", f"not JSON: {exc.msg} at {exc.pos}") from exc
    if not isinstance(obj, dict):
        raise ProtocolError("bad_json", "a message must be a JSON object")
    kind = obj.get("type")
    try:
        return _parse_typed(kind, obj)
    except ProtocolError as exc:
        if exc.code == "bad_field" and isinstance(kind, str):
            exc.request = kind
        raise


def _parse_typed(kind: object, obj: dict[str, Any]) -> ClientMessage:
    if kind == "join":
        name = obj.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            raise ProtocolError("bad_field", f"field 'name' must be a string of at most {MAX_NAME}")
        hint = obj.get("downlink_kbps")
        if hint is not None and (
            not isinstance(hint, int) or isinstance(hint, bool) or not 0 < hint <= MAX_KBPS
        ):
            raise ProtocolError(
                "bad_field", f"field 'downlink_kbps' must be null or an integer 1..{MAX_KBPS}"
            )
        return Join(
            v=field_of(obj, "v", int),
            token=field_of(obj, "token", str),
            name=(name.strip() or None) if isinstance(name, str) else None,
            downlink_kbps=hint,
        )
    if kind == "publish":
        return Publish(sdp=field_of(obj, "sdp", str))
    if kind == "subscribe_answer":
        return SubscribeAnswer(sdp=field_of(obj, "sdp", str), rev=field_of(obj, "rev", int))
    if kind == "mute":
        return Mute(kind=media_kind(obj), muted=field_of(obj, "muted", bool))
    if kind == "view":
        return View(tiles=_tiles(obj.get("tiles")))
    if kind == "quality":
        cap = obj.get("max_kbps")
        if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 16):
            raise ProtocolError("bad_field", "field 'max_kbps' must be null or an integer >= 16")
        return Quality(audio_only=field_of(obj, "audio_only", bool), max_kbps=cap)
    if kind == "ping":
        return Ping()
    if kind == "leave":
        return Leave()
    control = parse_control(kind, obj)
    if control is not None:
        return control
    raise ProtocolError("unknown_type", f"unknown message type {kind!r}")


def participant_json(info: ParticipantInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "role": info.role,
        "muted": {"audio": info.audio_muted, "video": info.video_muted},
        "tracks": list(info.tracks),
    }


def event_message(event: RoomEvent) -> dict[str, Any] | None:
    """The bridge -> client message for a media-core event (None: not sent)."""
    match event:
        case ParticipantJoined(participant=info):
            return {"type": "participant_joined", "participant": participant_json(info)}
        case ParticipantLeft(participant_id=pid):
            return {"type": "participant_left", "id": pid}
        case TrackPublished(participant_id=pid, kind=kind):
            return {"type": "track_published", "participant_id": pid, "kind": kind}
        case TrackUnpublished(participant_id=pid, kind=kind):
            return {"type": "track_unpublished", "participant_id": pid, "kind": kind}
        case MuteChanged(participant_id=pid, kind=kind, muted=muted):
            return {"type": "mute_changed", "participant_id": pid, "kind": kind, "muted": muted}
        case SubscribeOffer(sdp=sdp, rev=rev):
            return {"type": "subscribe_offer", "sdp": sdp, "rev": rev}
        case VideoState(participant_id=pid, paused=paused, reason=reason):
            return {
                "type": "video_state",
                "participant_id": pid,
                "paused": paused,
                "reason": reason,
            }
        case LinkState(state=state, estimate_kbps=kbps):
            return {"type": "link_state", "state": state, "estimate_kbps": kbps}
        case PublisherLayers(active=active, paused=paused):
            return {"type": "publisher_layers", "active": list(active), "paused": paused}
    return None


def error_message(code: str, reason: str, request: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "error", "code": code, "reason": reason}
    if request is not None:
        message["request"] = request
    return message


REQUEST_TYPES: dict[type, str] = {
    Join: "join",
    Publish: "publish",
    SubscribeAnswer: "subscribe_answer",
    Mute: "mute",
    View: "view",
    Quality: "quality",
    Ping: "ping",
    Leave: "leave",
    **CONTROL_TYPES,
}
