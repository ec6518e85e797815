"""Events the media core emits to a participant's session (signaling serialises them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .peer import Kind


@dataclass(frozen=True, slots=True)
class ParticipantInfo:
    id: str
    name: str
    role: str
    audio_muted: bool
    video_muted: bool
    tracks: tuple[Kind, ...]


@dataclass(frozen=True, slots=True)
class ParticipantJoined:
    participant: ParticipantInfo


@dataclass(frozen=True, slots=True)
class ParticipantLeft:
    participant_id: str


@dataclass(frozen=True, slots=True)
class TrackPublished:
    participant_id: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class TrackUnpublished:
    participant_id: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class MuteChanged:
    participant_id: str
    kind: Kind
    muted: bool


@dataclass(frozen=True, slots=True)
class SubscribeOffer:
    sdp: str
    rev: int


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """One of the participant's peer connections changed state."""

    pc: str  # "publisher" or "subscriber"
    state: str


@dataclass(frozen=True, slots=True)
class VideoState:
    """Whether this subscriber receives `participant_id`'s video, and why not."""

    participant_id: str
    paused: bool
    reason: str | None  # "bandwidth", "audio_only", "hidden", "uplink" (the publisher's)


@dataclass(frozen=True, slots=True)
class LinkState:
    state: str  # "good", "weak" (video paused to keep audio), "audio_only"
    estimate_kbps: int


@dataclass(frozen=True, slots=True)
class PublisherLayers:
    """Dynacast: which simulcast layers (low to high) anyone receives; ``paused``: send no
    video at all, the uplink cannot carry it (forwarding/uplink_guard.py)."""

    active: tuple[bool, ...]
    paused: bool = False


@dataclass(frozen=True, slots=True)
class Replaced:
    """The same identity joined again; this session is over."""


RoomEvent = (
    ParticipantJoined
    | ParticipantLeft
    | TrackPublished
    | TrackUnpublished
    | MuteChanged
    | SubscribeOffer
    | ConnectionChanged
    | VideoState
    | LinkState
    | PublisherLayers
    | Replaced
)
EventListener = Callable[[RoomEvent], None]
