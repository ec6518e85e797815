"""Meetings, sites and invitations: frozen values shared by the stores, the API and the CLI."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

MeetingStatus = Literal["scheduled", "live", "ended"]
InvitationRole = Literal["participant", "host", "viewer"]
STATUSES: tuple[MeetingStatus, ...] = ("scheduled", "live", "ended")
INVITATION_ROLES: tuple[InvitationRole, ...] = ("participant", "host", "viewer")
MAX_SITES_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class MeetingPolicy:
    mics_muted_on_entry: bool = True
    host_may_unmute: bool = False
    lobby: bool = False
    max_sites: int = 300


@dataclass(frozen=True, slots=True)
class Meeting:
    id: str
    title: str
    starts_at: str | None  # ISO 8601 with a UTC offset, or None when unscheduled
    policy: MeetingPolicy = field(default_factory=MeetingPolicy)
    status: MeetingStatus = "scheduled"
    created_at: str = ""  # ISO 8601, UTC


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    meeting_id: str
    name: str
    district: str
    contact: str


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str  # also the token's `jti`
    meeting_id: str
    site_id: str
    role: InvitationRole
    revoked: bool
    expires_at: str  # ISO 8601, UTC


@dataclass(frozen=True, slots=True)
class Attendance:
    """One site's connections to a meeting; times are Unix seconds."""

    site_id: str
    first_joined_at: float | None
    last_left_at: float | None
    closed_seconds: float  # summed over connections that have ended
    connected_since: float | None  # start of the current connection, None when away
    joins: int
    roll_calls_answered: int

    def connected_seconds(self, now: float) -> float:
        current = 0.0 if self.connected_since is None else max(0.0, now - self.connected_since)
        return self.closed_seconds + current


def new_id(nbytes: int = 6) -> str:
    """A short random identifier, safe in URLs and room names (lowercase hex)."""
    return secrets.token_hex(nbytes)


def new_invitation_id() -> str:
    """128 random bits as hex: unguessable, and never starting with '-', which a command
    line would read as an option (`diemcau invitation revoke ID INV`)."""
    return secrets.token_hex(16)


def utc_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp that names its UTC offset; raise ValueError otherwise."""
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset (add Z or +07:00)")
    return dt


def name_key(name: str) -> str:
    """The form under which two site names count as the same: NFC, case and spaces folded."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def meeting_to_json(meeting: Meeting) -> dict[str, Any]:
    return asdict(meeting)


def policy_from_json(data: dict[str, Any]) -> MeetingPolicy:
    return MeetingPolicy(
        mics_muted_on_entry=bool(data["mics_muted_on_entry"]),
        host_may_unmute=bool(data["host_may_unmute"]),
        lobby=bool(data["lobby"]),
        max_sites=int(data["max_sites"]),
    )


def meeting_from_json(data: dict[str, Any]) -> Meeting:
    return Meeting(
        id=str(data["id"]),
        title=str(data["title"]),
        starts_at=None if data.get("starts_at") is None else str(data["starts_at"]),
        policy=policy_from_json(data["policy"]),
        status=as_status(str(data["status"])),
        created_at=str(data["created_at"]),
    )


def site_to_json(site: Site) -> dict[str, Any]:
    return asdict(site)


def invitation_to_json(invitation: Invitation) -> dict[str, Any]:
    return asdict(invitation)


def as_role(value: str) -> InvitationRole:
    for role in INVITATION_ROLES:
        if role == value:
            return role
    raise ValueError(f"unknown role {value!r}")


def as_status(value: str) -> MeetingStatus:
    for status in STATUSES:
        if status == value:
            return status
    raise ValueError(f"unknown meeting status {value!r}")
