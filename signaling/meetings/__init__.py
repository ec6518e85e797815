"""Meetings, sites and invitations: persistence (SQLite or Redis), CSV import, join checks."""

from .invitations import (
    INVITATION_CLOSE_CODES,
    InvitationError,
    check_invitation,
    invitation_link,
    invitation_token,
)
from .models import Invitation, Meeting, MeetingPolicy, Site
from .store import (
    MEETING_STORE,
    DuplicateSite,
    MeetingStore,
    StoreError,
    TooManySites,
    UnknownMeeting,
    meeting_store_context,
    open_store,
)

__all__ = [
    "INVITATION_CLOSE_CODES",
    "MEETING_STORE",
    "DuplicateSite",
    "Invitation",
    "InvitationError",
    "Meeting",
    "MeetingPolicy",
    "MeetingStore",
    "Site",
    "StoreError",
    "TooManySites",
    "UnknownMeeting",
    "check_invitation",
    "invitation_link",
    "invitation_token",
    "meeting_store_context",
    "open_store",
]
