"""MeetingStore: where meetings, sites and invitations persist (SQLite file or Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Protocol

from aiohttp import web

from ..settings import Settings
from .models import Attendance, Invitation, Meeting, MeetingPolicy, MeetingStatus, Site


class StoreError(Exception):
    """A write was refused; the store is unchanged."""


class UnknownMeeting(StoreError):
    def __init__(self, meeting_id: str):
        super().__init__(f"meeting {meeting_id!r} does not exist")
        self.meeting_id = meeting_id


class DuplicateSite(StoreError):
    def __init__(self, name: str):
        super().__init__(f"site {name!r} already exists in this meeting")
        self.name = name


class TooManySites(StoreError):
    def __init__(self, limit: int, existing: int, adding: int):
        super().__init__(
            f"the meeting allows at most {limit} sites; it has {existing} and {adding} more "
            "were given"
        )
        self.limit = limit
        self.existing = existing
        self.adding = adding


class MeetingStore(Protocol):
    """Every method is a coroutine and leaves the store unchanged when it raises."""

    async def open(self) -> None:
        """Connect and create the schema; called once before any other method."""
        ...

    async def create_meeting(self, meeting: Meeting) -> None: ...

    async def get_meeting(self, meeting_id: str) -> Meeting | None: ...

    async def list_meetings(self) -> list[Meeting]:
        """All meetings, oldest first."""
        ...

    async def update_meeting(
        self, meeting_id: str, *, title: str, starts_at: str | None, policy: MeetingPolicy
    ) -> Meeting:
        """Replace title, schedule and policy (never the status); UnknownMeeting if absent."""
        ...

    async def set_status(self, meeting_id: str, status: MeetingStatus) -> Meeting: ...

    async def add_sites(
        self, meeting_id: str, sites: Sequence[Site], invitations: Sequence[Invitation]
    ) -> None:
        """Add sites and their invitations atomically.

        Raises UnknownMeeting, DuplicateSite (a name already in the meeting, compared by
        `name_key`) or TooManySites (over the meeting's policy.max_sites)."""
        ...

    async def list_sites(self, meeting_id: str) -> list[Site]:
        """The meeting's sites in import order."""
        ...

    async def list_invitations(self, meeting_id: str) -> list[Invitation]:
        """The meeting's invitations in creation order."""
        ...

    async def get_invitation(self, invitation_id: str) -> Invitation | None: ...

    async def revoke_invitation(self, meeting_id: str, invitation_id: str) -> Invitation | None:
        """Mark revoked (idempotent); None when the meeting has no such invitation."""
        ...

    async def record_join(self, meeting_id: str, site_id: str, at: float) -> None:
        """A site connected; a join while already connected (a reconnect) keeps its start."""
        ...

    async def record_leave(self, meeting_id: str, site_id: str, at: float) -> None:
        """A site's connection ended; its time adds to the connected seconds."""
        ...

    async def record_roll_call_answer(
        self, meeting_id: str, site_id: str, roll_call_id: str
    ) -> None:
        """The site answered that roll call (idempotent)."""
        ...

    async def attendance(self, meeting_id: str) -> list[Attendance]:
        """Every site that ever joined the meeting."""
        ...

    async def close(self) -> None: ...


MEETING_STORE = web.AppKey("meeting_store", MeetingStore)


def open_store(settings: Settings) -> MeetingStore:
    """Redis when DIEMCAU_REDIS_URL is set, else the SQLite file data_dir/meetings.sqlite3."""
    if settings.redis_url:
        from .redis_store import RedisMeetingStore

        return RedisMeetingStore(settings.redis_url)
    from .sqlite_store import SqliteMeetingStore

    return SqliteMeetingStore(Path(settings.data_dir) / "meetings.sqlite3")


def meeting_store_context(
    settings: Settings,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx that opens the store into app[MEETING_STORE] and closes it at shutdown."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        store = open_store(settings)
        await store.open()
        app[MEETING_STORE] = store
        try:
            yield
        finally:
            await store.close()

    return context
