"""Invitation links (one signed join token per site) and the join-time invitation check."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlencode

from ..auth import AuthError, Grant, make_token
from .models import Invitation, Meeting, Site, parse_iso, utc_iso
from .store import MeetingStore

# An invitation is valid until this long after the later of "now" and the meeting's start.
INVITATION_VALIDITY = timedelta(hours=48)

# WebSocket close codes for the invitation refusals, in the style of session.CLOSE_FOR.
INVITATION_CLOSE_CODES = {
    "unknown_meeting": 4404,
    "meeting_ended": 4410,
    "invitation_unknown": 4401,
    "invitation_invalid": 4401,
    "invitation_revoked": 4403,
    "invitation_expired": 4401,
}


class InvitationError(AuthError):
    """An invitation token was refused at join time; `code` is a protocol error code."""


def invitation_expiry(meeting: Meeting, now: float) -> str:
    start = now
    if meeting.starts_at is not None:
        start = max(now, parse_iso(meeting.starts_at).timestamp())
    return utc_iso(start + INVITATION_VALIDITY.total_seconds())


def invitation_token(
    secret: str, invitation: Invitation, site: Site, *, now: float | None = None
) -> str:
    """The join token of an invitation: sub = site id, jti = invitation id (revocable)."""
    return make_token(
        secret,
        room=invitation.meeting_id,
        identity=site.id,
        name=site.name,
        role=invitation.role,
        now=now,
        expires_at=int(parse_iso(invitation.expires_at).timestamp()),
        jti=invitation.id,
    )


def invitation_link(
    base_url: str, secret: str, invitation: Invitation, site: Site, *, now: float | None = None
) -> str:
    token = invitation_token(secret, invitation, site, now=now)
    query = urlencode({"room": invitation.meeting_id, "token": token})
    return f"{base_url.rstrip('/')}/?{query}"


async def check_invitation(store: MeetingStore, grant: Grant, *, now: float | None = None) -> None:
    """Refuse a join whose invitation is revoked, expired, or whose meeting is unknown/ended.

    Call after auth.verify_token. Tokens without a jti (ad-hoc links) are not invitations
    and pass. Raises InvitationError (an AuthError) whose code is
    one of INVITATION_CLOSE_CODES."""
    jti = grant.jti
    if jti is None:
        return
    meeting = await store.get_meeting(grant.room)
    if meeting is None:
        raise InvitationError("unknown_meeting", f"meeting {grant.room!r} does not exist")
    if meeting.status == "ended":
        raise InvitationError("meeting_ended", f"meeting {meeting.id!r} has ended")
    invitation = await store.get_invitation(jti)
    if invitation is None:
        raise InvitationError("invitation_unknown", "this invitation does not exist")
    if invitation.meeting_id != grant.room:
        raise InvitationError(
            "invitation_invalid",
            f"the invitation is for meeting {invitation.meeting_id!r}, not {grant.room!r}",
        )
    if invitation.site_id != grant.identity or invitation.role != grant.role:
        raise InvitationError("invitation_invalid", "the token does not match its invitation")
    if invitation.revoked:
        raise InvitationError("invitation_revoked", "this invitation has been revoked")
    current = time.time() if now is None else now
    if parse_iso(invitation.expires_at).timestamp() <= current:
        raise InvitationError(
            "invitation_expired", f"this invitation expired at {invitation.expires_at}"
        )
