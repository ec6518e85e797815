"""Admin REST API under /api/v1: meetings, sites (CSV import), invitations, participants.

Authorised by `Authorization: Bearer <admin key>` (the attendance CSV also by a host
token of its meeting); every refusal is JSON {"error": {"code", "message"}}. The OpenAPI
3.1 document is GET /api/v1/openapi.json. Ending a meeting or revoking an invitation also
disconnects the affected sockets of this process (meeting_hub)."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bridge.media.rooms import RoomRegistry

from .auth import AuthError, ascii_slug, verify_token
from .meeting_hub import MEETING_HUB
from .meetings.attendance_csv import attendance_csv
from .meetings.csv_import import CsvError, LineError, SiteRow, decode_csv, parse_sites_csv
from .meetings.invitations import invitation_expiry, invitation_link
from .meetings.models import (
    Invitation,
    Meeting,
    Site,
    invitation_to_json,
    meeting_to_json,
    name_key,
    new_id,
    new_invitation_id,
    site_to_json,
    utc_iso,
)
from .meetings.openapi import openapi_document
from .meetings.service import FieldError, parse_create, parse_update
from .meetings.store import MEETING_STORE, DuplicateSite, MeetingStore, TooManySites
from .settings import Settings

PREFIX = "/api/v1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/octet-stream")


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return web.json_response({"error": error}, status=status, headers=headers)


def _line_details(errors: list[LineError]) -> list[dict[str, Any]]:
    return [{"line": e.line, "message": e.message} for e in errors]


class AdminApi:
    def __init__(self, settings: Settings, registry: web.AppKey[RoomRegistry]):
        self.settings = settings
        self.registry = registry

    # --- plumbing --------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.match_info.handler == self.attendance:
                await self._authorise_host_or_admin(request)
            elif request.path != f"{PREFIX}/openapi.json":
                self._authorise(request)
            return await handler(request)
        except ApiError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return error_response(exc.status, exc.code, exc.message, exc.details, headers)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = _STATUS_CODES.get(exc.status, "http_error")
            return error_response(exc.status, code, exc.reason)

    def _authorise(self, request: web.Request) -> None:
        expected = self.settings.admin_key
        if not expected:
            raise ApiError(401, "unauthorized", "the admin API is disabled: no admin key is set")
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiError(
                401, "unauthorized", "send the admin key as 'Authorization: Bearer <admin key>'"
            )
        if not hmac.compare_digest(key.strip().encode(), expected.encode()):
            raise ApiError(401, "unauthorized", "the admin key is wrong")

    async def _authorise_host_or_admin(self, request: web.Request) -> None:
        """The admin key, or a host token of this meeting (Bearer or ?token=)."""
        scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" else ""
        token = token or request.query.get("token", "")
        if not token:
            raise ApiError(
                401, "unauthorized", "send the admin key or a host token (Bearer or ?token=)"
            )
        admin = self.settings.admin_key
        if admin and hmac.compare_digest(token.encode(), admin.encode()):
            return
        meeting_id = request.match_info["meeting_id"]
        try:
            grant = verify_token(token, self.settings.jwt_secret, room=meeting_id)
        except AuthError as exc:
            status = 403 if exc.code == "token_wrong_room" else 401
            code = "forbidden" if status == 403 else "unauthorized"
            raise ApiError(status, code, exc.reason) from exc
        if grant.role != "host":
            raise ApiError(403, "forbidden", f"a {grant.role} token may not read attendance")
        if grant.jti is not None:
            invitation = await self._store(request).get_invitation(grant.jti)
            if invitation is None or invitation.meeting_id != meeting_id or invitation.revoked:
                raise ApiError(403, "forbidden", "this host invitation is revoked or unknown")

    @staticmethod
    def _store(request: web.Request) -> MeetingStore:
        return request.config_dict[MEETING_STORE]

    async def _meeting(self, request: web.Request) -> Meeting:
        meeting_id = request.match_info["meeting_id"]
        meeting = await self._store(request).get_meeting(meeting_id)
        if meeting is None:
            raise ApiError(404, "unknown_meeting", f"meeting {meeting_id!r} does not exist")
        return meeting

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ApiError(400, "bad_json", "the body is not UTF-8") from exc
        except json.JSONDecodeError as exc:
            raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "bad_json", "the body must be a JSON object")
        return body

    def _link(self, invitation: Invitation, site: Site) -> str:
        return invitation_link(self.settings.base_url, self.settings.jwt_secret, invitation, site)

    def _invitation_json(self, invitation: Invitation, site: Site | None) -> dict[str, Any]:
        data = invitation_to_json(invitation)
        data["site_name"] = site.name if site else None
        data["district"] = site.district if site else None
        data["link"] = (
            self._link(invitation, site) if site is not None and not invitation.revoked else None
        )
        return data

    # --- meetings --------------------------------------------------------------------

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(openapi_document(self.settings.base_url))

    async def create_meeting(self, request: web.Request) -> web.Response:
        try:
            title, starts_at, policy = parse_create(await self._json_body(request))
        except FieldError as exc:
            raise ApiError(400, "bad_field", str(exc)) from exc
        meeting = Meeting(
            id=new_id(),
            title=title,
            starts_at=starts_at,
            policy=policy,
            status="scheduled",
            created_at=utc_iso(time.time()),
        )
        await self._store(request).create_meeting(meeting)
        return web.json_response(
            meeting_to_json(meeting),
            status=201,
            headers={"Location": f"{PREFIX}/meetings/{meeting.id}"},
        )

    async def list_meetings(self, request: web.Request) -> web.Response:
        meetings = await self._store(request).list_meetings()
        return web.json_response({"meetings": [meeting_to_json(m) for m in meetings]})

    async def show_meeting(self, request: web.Request) -> web.Response:
        return web.json_response(meeting_to_json(await self._meeting(request)))

    async def update_meeting(self, request: web.Request) -> web.Response:
        meeting = await self._meeting(request)
        body = await self._json_body(request)
        if meeting.status == "ended":
            raise ApiError(409, "meeting_ended", f"meeting {meeting.id!r} has ended")
        try:
            title, starts_at, policy = parse_update(
                body, meeting.title, meeting.starts_at, meeting.policy
            )
        except FieldError as exc:
            raise ApiError(400, "bad_field", str(exc)) from exc
        store = self._store(request)
        if policy.max_sites < meeting.policy.max_sites:
            count = len(await store.list_sites(meeting.id))
            if policy.max_sites < count:
                raise ApiError(
                    409,
                    "too_many_sites",
                    f"the meeting already has {count} sites; policy.max_sites cannot be lower",
                )
        updated = await store.update_meeting(
            meeting.id, title=title, starts_at=starts_at, policy=policy
        )
        request.config_dict[MEETING_HUB].refresh(updated)
        return web.json_response(meeting_to_json(updated))

    async def end_meeting(self, request: web.Request) -> web.Response:
        meeting = await self._meeting(request)
        if meeting.status != "ended":
            meeting = await self._store(request).set_status(meeting.id, "ended")
        request.config_dict[MEETING_HUB].meeting_ended(meeting.id)
        return web.json_response(meeting_to_json(meeting))

    # --- sites -----------------------------------------------------------------------

    async def import_sites(self, request: web.Request) -> web.Response:
        meeting = await self._meeting(request)
        if request.content_type not in CSV_TYPES:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"send the sites as text/csv (got {request.content_type})",
            )
        if meeting.status == "ended":
            raise ApiError(409, "meeting_ended", f"meeting {meeting.id!r} has ended")
        try:
            rows = parse_sites_csv(decode_csv(await request.read()))
        except CsvError as exc:
            code = "duplicate_site" if exc.duplicate else "bad_csv"
            raise ApiError(422, code, str(exc), _line_details(exc.errors)) from exc
        store = self._store(request)
        existing = {name_key(s.name) for s in await store.list_sites(meeting.id)}
        clashes = [
            LineError(r.line, f"site {r.name!r} already exists in this meeting")
            for r in rows
            if name_key(r.name) in existing
        ]
        if clashes:
            error = CsvError(clashes, duplicate=True)
            raise ApiError(409, "duplicate_site", str(error), _line_details(clashes))
        now = time.time()
        expires_at = invitation_expiry(meeting, now)
        sites = [
            Site(
                id=f"{ascii_slug(r.name)}-{new_id(3)}",
                meeting_id=meeting.id,
                name=r.name,
                district=r.district,
                contact=r.contact,
            )
            for r in rows
        ]
        invitations = [
            Invitation(
                id=new_invitation_id(),
                meeting_id=meeting.id,
                site_id=site.id,
                role=row.role,
                revoked=False,
                expires_at=expires_at,
            )
            for site, row in zip(sites, rows, strict=True)
        ]
        try:
            await store.add_sites(meeting.id, sites, invitations)
        except DuplicateSite as exc:
            line = _line_of(rows, exc.name)
            message = f"line {line}: site {exc.name!r} already exists in this meeting"
            raise ApiError(
                409, "duplicate_site", message, [{"line": line, "message": message}]
            ) from exc
        except TooManySites as exc:
            raise ApiError(422, "too_many_sites", str(exc)) from exc
        return web.json_response(
            {
                "sites": [site_to_json(s) for s in sites],
                "invitations": [
                    self._invitation_json(i, s) for i, s in zip(invitations, sites, strict=True)
                ],
            },
            status=201,
        )

    async def list_sites(self, request: web.Request) -> web.Response:
        meeting = await self._meeting(request)
        sites = await self._store(request).list_sites(meeting.id)
        return web.json_response({"sites": [site_to_json(s) for s in sites]})

    # --- invitations -----------------------------------------------------------------

    async def list_invitations(self, request: web.Request) -> web.Response:
        meeting = await self._meeting(request)
        store = self._store(request)
        sites = {s.id: s for s in await store.list_sites(meeting.id)}
        invitations = await store.list_invitations(meeting.id)
        return web.json_response(
            {"invitations": [self._invitation_json(i, sites.get(i.site_id)) for i in invitations]}
        )

    async def revoke_invitation(self, request: web.Request) -> web.Response:
        meeting = await self._meeting(request)
        invitation_id = request.match_info["invitation_id"]
        store = self._store(request)
        invitation = await store.revoke_invitation(meeting.id, invitation_id)
        if invitation is None:
            raise ApiError(
                404,
                "unknown_invitation",
                f"meeting {meeting.id!r} has no invitation {invitation_id!r}",
            )
        request.config_dict[MEETING_HUB].invitation_revoked(meeting.id, invitation.id)
        sites = {s.id: s for s in await store.list_sites(meeting.id)}
        return web.json_response(self._invitation_json(invitation, sites.get(invitation.site_id)))

    # --- live state ------------------------------------------------------------------

    async def participants(self, request: web.Request) -> web.Response:
        meeting = await self._meeting(request)
        sites = {s.id for s in await self._store(request).list_sites(meeting.id)}
        room = request.config_dict[self.registry].rooms.get(meeting.id)
        people = []
        for participant in list(room.participants.values()) if room is not None else []:
            info = participant.info()
            people.append(
                {
                    "id": info.id,
                    "name": info.name,
                    "role": info.role,
                    "site_id": info.id if info.id in sites else None,
                    "muted": {"audio": info.audio_muted, "video": info.video_muted},
                    "tracks": list(info.tracks),
                }
            )
        return web.json_response({"meeting_id": meeting.id, "participants": people})

    async def attendance(self, request: web.Request) -> web.Response:
        meeting = await self._meeting(request)
        store = self._store(request)
        records = {a.site_id: a for a in await store.attendance(meeting.id)}
        text = attendance_csv(await store.list_sites(meeting.id), records, time.time())
        return web.Response(
            text=text,
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="attendance-{meeting.id}.csv"'},
        )


def _line_of(rows: list[SiteRow], name: str) -> int:
    key = name_key(name)
    return next((r.line for r in rows if name_key(r.name) == key), 0)


def admin_api(settings: Settings, registry: web.AppKey[RoomRegistry]) -> web.Application:
    """The /api/v1 sub-application; mount with app.add_subapp(PREFIX, admin_api(...)).

    It reads app[MEETING_STORE] (opened by meetings.meeting_store_context) and the room
    registry of the parent app."""
    api = AdminApi(settings, registry)
    sub = web.Application(middlewares=[api.middleware])
    m = "/meetings/{meeting_id}"
    sub.router.add_get("/openapi.json", api.openapi)
    sub.router.add_post("/meetings", api.create_meeting)
    sub.router.add_get("/meetings", api.list_meetings)
    sub.router.add_get(m, api.show_meeting)
    sub.router.add_patch(m, api.update_meeting)
    sub.router.add_delete(m, api.end_meeting)
    sub.router.add_post(m + "/sites:import", api.import_sites)
    sub.router.add_get(m + "/sites", api.list_sites)
    sub.router.add_get(m + "/invitations", api.list_invitations)
    sub.router.add_post(m + "/invitations/{invitation_id:[^{}/:]+}:revoke", api.revoke_invitation)
    sub.router.add_get(m + "/participants", api.participants)
    sub.router.add_get(m + "/attendance.csv", api.attendance)
    return sub
