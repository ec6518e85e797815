"""Invitation tokens and the join-time check (check_invitation)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from signaling.auth import AuthError, Grant, make_token, verify_token
from signaling.meetings.invitations import (
    INVITATION_CLOSE_CODES,
    InvitationError,
    check_invitation,
    invitation_expiry,
    invitation_link,
    invitation_token,
)
from signaling.meetings.models import Invitation, Meeting, Site, new_invitation_id, utc_iso
from signaling.meetings.sqlite_store import SqliteMeetingStore

SECRET = "unit-test-secret-0123456789abcdef"
NOW = 1_780_000_000.0
MEETING = Meeting(id="m1", title="T", starts_at=None, created_at=utc_iso(NOW))
SITE = Site(id="xa-hoa-an-1a2b3c", meeting_id="m1", name="Xã Hòa An", district="d", contact="c")
INVITATION = Invitation(
    id="inv-1",
    meeting_id="m1",
    site_id=SITE.id,
    role="participant",
    revoked=False,
    expires_at=utc_iso(NOW + 3600),
)


def test_token_carries_the_grant_and_jti() -> None:
    token = invitation_token(SECRET, INVITATION, SITE, now=NOW)
    grant = verify_token(token, SECRET, room="m1", now=NOW)
    assert grant == Grant(
        room="m1", identity=SITE.id, name="Xã Hòa An", role="participant", jti="inv-1"
    )
    with pytest.raises(AuthError) as err:
        verify_token(token, SECRET, room="m1", now=NOW + 3600)
    assert err.value.code == "token_expired"


def test_link_shape() -> None:
    link = invitation_link("https://hop.example.vn/", SECRET, INVITATION, SITE, now=NOW)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://hop.example.vn/"
    query = parse_qs(parts.query)
    assert query["room"] == ["m1"]
    assert verify_token(query["token"][0], SECRET, room="m1", now=NOW).jti == "inv-1"


def test_ad_hoc_tokens_have_no_jti() -> None:
    token = make_token(SECRET, room="r", identity="x", name="x")
    assert verify_token(token, SECRET, room="r").jti is None


def test_expiry_is_48h_after_the_later_of_now_and_start() -> None:
    assert invitation_expiry(MEETING, NOW) == utc_iso(NOW + 48 * 3600)
    later = replace(MEETING, starts_at=utc_iso(NOW + 10 * 86400))
    assert invitation_expiry(later, NOW) == utc_iso(NOW + 12 * 86400)


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SqliteMeetingStore(tmp_path / "m.sqlite3")
    await s.open()
    await s.create_meeting(MEETING)
    await s.add_sites("m1", [SITE], [INVITATION])
    yield s
    await s.close()


GRANT = Grant(room="m1", identity=SITE.id, name=SITE.name, role="participant", jti="inv-1")


async def test_valid_invitation_and_ad_hoc_token_pass(store) -> None:  # type: ignore[no-untyped-def]
    await check_invitation(store, GRANT, now=NOW)
    await check_invitation(store, replace(GRANT, room="no-such-meeting", jti=None), now=NOW)


async def code_of(store, grant: Grant, jti: str, now: float = NOW) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InvitationError) as err:
        await check_invitation(store, replace(grant, jti=jti), now=now)
    assert isinstance(err.value, AuthError)
    assert err.value.code in INVITATION_CLOSE_CODES
    return err.value.code


async def test_refusals(store) -> None:  # type: ignore[no-untyped-def]
    assert await code_of(store, GRANT, "inv-1", now=NOW + 3600) == "invitation_expired"
    assert await code_of(store, GRANT, "missing") == "invitation_unknown"
    assert await code_of(store, replace(GRANT, identity="other"), "inv-1") == "invitation_invalid"
    assert await code_of(store, replace(GRANT, role="host"), "inv-1") == "invitation_invalid"
    assert await code_of(store, replace(GRANT, room="m404"), "inv-1") == "unknown_meeting"
    await store.create_meeting(replace(MEETING, id="m2"))
    assert await code_of(store, replace(GRANT, room="m2"), "inv-1") == "invitation_invalid"
    await store.revoke_invitation("m1", "inv-1")
    assert await code_of(store, GRANT, "inv-1") == "invitation_revoked"
    await store.set_status("m1", "ended")
    assert await code_of(store, GRANT, "inv-1") == "meeting_ended"


def test_invitation_ids_are_hex_so_a_command_line_takes_them() -> None:
    # A urlsafe id began with '-' one time in 64, and `diemcau invitation revoke ID INV`
    # read it as an option (seen in a CI run).
    ids = {new_invitation_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 32 and set(i) <= set("0123456789abcdef") for i in ids)
