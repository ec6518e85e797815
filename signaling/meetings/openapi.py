"""The OpenAPI 3.1 document of the admin API (hand-written; tests check it covers every route)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _ERROR for s in (401, *statuses)}


_MEETING_ID = {
    "name": "meeting_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "meeting id (also the room name)",
}
_INVITATION_ID = {
    "name": "invitation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "invitation id (the `jti` of its join token)",
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "examples": [
                            "unauthorized",
                            "forbidden",
                            "unknown_meeting",
                            "unknown_invitation",
                            "bad_json",
                            "bad_field",
                            "bad_csv",
                            "duplicate_site",
                            "too_many_sites",
                            "meeting_ended",
                            "unsupported_media_type",
                        ],
                    },
                    "message": {"type": "string"},
                    "details": {
                        "type": "array",
                        "description": "CSV problems, one per line",
                        "items": {
                            "type": "object",
                            "properties": {
                                "line": {"type": "integer"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    },
    "Policy": {
        "type": "object",
        "properties": {
            "mics_muted_on_entry": {"type": "boolean", "default": True},
            "host_may_unmute": {
                "type": "boolean",
                "default": False,
                "description": "the host may open a site's mic directly (else only ask)",
            },
            "lobby": {"type": "boolean", "default": False},
            "max_sites": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 300},
        },
        "additionalProperties": False,
    },
    "Meeting": {
        "type": "object",
        "required": ["id", "title", "starts_at", "policy", "status", "created_at"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "starts_at": {"type": ["string", "null"], "format": "date-time"},
            "policy": _ref("Policy"),
            "status": {"type": "string", "enum": ["scheduled", "live", "ended"]},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "MeetingCreate": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "starts_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "ISO 8601 with a UTC offset",
            },
            "policy": _ref("Policy"),
        },
        "additionalProperties": False,
    },
    "MeetingUpdate": {
        "type": "object",
        "description": "only the fields given change; policy fields are merged",
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "starts_at": {"type": ["string", "null"], "format": "date-time"},
            "policy": _ref("Policy"),
        },
        "additionalProperties": False,
    },
    "Site": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "the participant id of the site"},
            "meeting_id": {"type": "string"},
            "name": {"type": "string"},
            "district": {"type": "string"},
            "contact": {"type": "string"},
        },
    },
    "Invitation": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "meeting_id": {"type": "string"},
            "site_id": {"type": "string"},
            "site_name": {"type": ["string", "null"]},
            "district": {"type": ["string", "null"]},
            "role": {"type": "string", "enum": ["participant", "host", "viewer"]},
            "revoked": {"type": "boolean"},
            "expires_at": {"type": "string", "format": "date-time"},
            "link": {
                "type": ["string", "null"],
                "description": "{base_url}/?room={meeting id}&token={JWT}; null when revoked",
            },
        },
    },
    "Participant": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string"},
            "site_id": {"type": ["string", "null"]},
            "muted": {
                "type": "object",
                "properties": {"audio": {"type": "boolean"}, "video": {"type": "boolean"}},
            },
            "tracks": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def openapi_document(base_url: str) -> dict[str, Any]:
    meeting_params = [_MEETING_ID]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "diemcau admin API",
            "version": "1",
            "description": "Meetings, sites and invitations. Send the admin key as "
            "`Authorization: Bearer <admin key>` (DIEMCAU_ADMIN_KEY or $DIEMCAU_DATA_DIR/"
            'admin-key). Every error is `{"error": {"code", "message"}}`.',
        },
        "servers": [{"url": f"{base_url.rstrip('/')}/api/v1"}],
        "security": [{"adminKey": []}],
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "this document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document")},
                }
            },
            "/meetings": {
                "post": {
                    "summary": "create a meeting",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("MeetingCreate")}},
                    },
                    "responses": {
                        "201": _json(_ref("Meeting"), "created"),
                        **_errors(400),
                    },
                },
                "get": {
                    "summary": "list meetings, oldest first",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "meetings": {"type": "array", "items": _ref("Meeting")}
                                },
                            },
                            "the meetings",
                        ),
                        **_errors(),
                    },
                },
            },
            "/meetings/{meeting_id}": {
                "parameters": meeting_params,
                "get": {
                    "summary": "show a meeting",
                    "responses": {"200": _json(_ref("Meeting"), "the meeting"), **_errors(404)},
                },
                "patch": {
                    "summary": "update title, schedule or policy",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("MeetingUpdate")}},
                    },
                    "responses": {
                        "200": _json(_ref("Meeting"), "the updated meeting"),
                        **_errors(400, 404, 409),
                    },
                },
                "delete": {
                    "summary": "end the meeting (its invitations stop working); idempotent",
                    "responses": {
                        "200": _json(_ref("Meeting"), "the ended meeting"),
                        **_errors(404),
                    },
                },
            },
            "/meetings/{meeting_id}/sites:import": {
                "parameters": meeting_params,
                "post": {
                    "summary": "import sites from CSV and create one invitation per site",
                    "description": "Header `name,district,contact` (optional 4th column "
                    "`role`: participant|host|viewer, default participant). All or nothing: "
                    "every error names its line (`line 4: missing name`).",
                    "requestBody": {
                        "required": True,
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    "responses": {
                        "201": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "sites": {"type": "array", "items": _ref("Site")},
                                    "invitations": {
                                        "type": "array",
                                        "items": _ref("Invitation"),
                                    },
                                },
                            },
                            "the new sites and their invitations (with links)",
                        ),
                        "409": {
                            "description": "a site name already in the meeting, or the "
                            "meeting has ended",
                            "content": {"application/json": {"schema": _ref("Error")}},
                        },
                        "422": {
                            "description": "malformed CSV, a name repeated in the file, or "
                            "more sites than policy.max_sites",
                            "content": {"application/json": {"schema": _ref("Error")}},
                        },
                        **_errors(404, 415),
                    },
                },
            },
            "/meetings/{meeting_id}/sites": {
                "parameters": meeting_params,
                "get": {
                    "summary": "the meeting's sites in import order",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"sites": {"type": "array", "items": _ref("Site")}},
                            },
                            "the sites",
                        ),
                        **_errors(404),
                    },
                },
            },
            "/meetings/{meeting_id}/invitations": {
                "parameters": meeting_params,
                "get": {
                    "summary": "one invitation (join link) per site",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "invitations": {
                                        "type": "array",
                                        "items": _ref("Invitation"),
                                    }
                                },
                            },
                            "the invitations",
                        ),
                        **_errors(404),
                    },
                },
            },
            "/meetings/{meeting_id}/invitations/{invitation_id}:revoke": {
                "parameters": [_MEETING_ID, _INVITATION_ID],
                "post": {
                    "summary": "revoke an invitation (idempotent); its link stops working",
                    "responses": {
                        "200": _json(_ref("Invitation"), "the revoked invitation"),
                        **_errors(404),
                    },
                },
            },
            "/meetings/{meeting_id}/participants": {
                "parameters": meeting_params,
                "get": {
                    "summary": "who is connected now (live state of this bridge process)",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "meeting_id": {"type": "string"},
                                    "participants": {
                                        "type": "array",
                                        "items": _ref("Participant"),
                                    },
                                },
                            },
                            "the participants",
                        ),
                        **_errors(404),
                    },
                },
            },
            "/meetings/{meeting_id}/attendance.csv": {
                "parameters": [
                    _MEETING_ID,
                    {
                        "name": "token",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "a host token of this meeting (instead of the header)",
                    },
                ],
                "get": {
                    "summary": "attendance: one row per site with join and leave times",
                    "description": "Authorised by the admin key or a host token of this "
                    "meeting, as `Authorization: Bearer` or `?token=`. Columns `site_id, name, "
                    "district, first_joined_at, last_left_at, connected_seconds, joins, "
                    "roll_call_answered` (how many roll calls the site answered); times are "
                    "ISO 8601 UTC, `last_left_at` is empty while the site is connected.",
                    "security": [{"adminKey": []}, {"hostToken": []}, {"hostTokenQuery": []}],
                    "responses": {
                        "200": {
                            "description": "the report (UTF-8 CSV, no BOM)",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        **_errors(403, 404),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "adminKey": {"type": "http", "scheme": "bearer", "description": "the admin key"},
                "hostToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "a join token with role host for this meeting",
                },
                "hostTokenQuery": {"type": "apiKey", "in": "query", "name": "token"},
            },
            "responses": {
                "Error": {
                    "description": "refused",
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
            },
            "schemas": _SCHEMAS,
        },
    }
