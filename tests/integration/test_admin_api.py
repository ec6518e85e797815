"""Admin REST API (/api/v1) over a real aiohttp server: meetings, CSV import, invitations,
live participants, persistence across a restart; every refusal is a precise JSON error."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from signaling.app import create_app
from signaling.auth import AuthError, Grant, verify_token
from signaling.meetings import MEETING_STORE, InvitationError, check_invitation
from signaling.settings import Settings

SECRET = "integration-test-secret-0123456789"
ADMIN_KEY = "admin-key-for-tests-0123456789"
CSV = "name,district,contact\nXã Hòa An,Hòa Vang,0905 111 222\nXã Hòa Bắc,Hòa Vang,\nPhường 1,,\n"

Api = Callable[..., Awaitable[tuple[int, Any]]]


def make_settings(data_dir: Path, **changes: Any) -> Settings:
    base = Settings(
        host="127.0.0.1",
        port=0,
        jwt_secret=SECRET,
        data_dir=data_dir,
        ice_addresses=("127.0.0.1",),
        admin_key=ADMIN_KEY,
        public_url="https://hop.example.vn",
    )
    return replace(base, **changes)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    """Overrides conftest's server: this one has an admin key and a meetings store."""
    srv = TestServer(create_app(make_settings(tmp_path)), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


def api_for(http: aiohttp.ClientSession, srv: TestServer) -> Api:
    async def call(
        method: str,
        path: str,
        *,
        key: str | None = ADMIN_KEY,
        json_body: Any = None,
        data: bytes | str | None = None,
        content_type: str | None = None,
    ) -> tuple[int, Any]:
        headers = {}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        if json_body is not None:
            data = json.dumps(json_body)
            content_type = "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        url = str(srv.make_url(f"/api/v1{path}"))
        async with http.request(method, url, data=data, headers=headers) as resp:
            assert resp.content_type == "application/json", await resp.text()
            return resp.status, await resp.json()

    return call


@pytest.fixture
def api(http: aiohttp.ClientSession, server: TestServer) -> Api:
    return api_for(http, server)


async def create(api: Api, **body: Any) -> dict[str, Any]:
    status, meeting = await api("POST", "/meetings", json_body={"title": "Họp tỉnh", **body})
    assert status == 201, meeting
    return dict(meeting)


async def import_csv(api: Api, meeting_id: str, text: str = CSV) -> tuple[int, Any]:
    return await api(
        "POST", f"/meetings/{meeting_id}/sites:import", data=text.encode(), content_type="text/csv"
    )


def error(body: Any) -> tuple[str, str]:
    return body["error"]["code"], body["error"]["message"]


# --- authorisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({}, "Authorization: Bearer"),
        ({"Authorization": f"Basic {ADMIN_KEY}"}, "Authorization: Bearer"),
        ({"Authorization": "Bearer "}, "Authorization: Bearer"),
        ({"Authorization": "Bearer wrong-key-0123456789"}, "admin key is wrong"),
        ({"Authorization": f"Bearer {ADMIN_KEY}x"}, "admin key is wrong"),
    ],
)
async def test_admin_key_is_required(
    http: aiohttp.ClientSession, server: TestServer, headers: dict[str, str], fragment: str
) -> None:
    for method, path in [("GET", "/meetings"), ("POST", "/meetings"), ("GET", "/meetings/x")]:
        async with http.request(
            method, server.make_url(f"/api/v1{path}"), headers=headers, json={"title": "t"}
        ) as resp:
            assert resp.status == 401
            assert resp.headers["WWW-Authenticate"] == "Bearer"
            body = await resp.json()
            assert body["error"]["code"] == "unauthorized"
            assert fragment in body["error"]["message"]


async def test_no_admin_key_configured_disables_the_api(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    srv = TestServer(create_app(make_settings(tmp_path, admin_key="")), host="127.0.0.1")
    await srv.start_server()
    try:
        status, body = await api_for(http, srv)("GET", "/meetings", key="")
        assert status == 401
        assert "disabled" in error(body)[1]
    finally:
        await srv.close()


async def test_openapi_document_covers_every_route(api: Api, server: TestServer) -> None:
    status, doc = await api("GET", "/openapi.json", key=None)
    assert status == 200
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": "https://hop.example.vn/api/v1"}]
    routes = set()
    for resource in server.app.router.resources():
        info = resource.get_info()
        if "app" in info:
            for route in info["app"].router.routes():
                canonical = route.resource.canonical.replace(":[^{}/:]+", "")
                routes.add((canonical.removeprefix("/api/v1"), route.method.lower()))
    assert len(routes) >= 11, routes
    for path, method in routes:
        if method == "head":
            continue
        assert method in doc["paths"][path], (path, method)


async def test_unknown_route_is_a_json_404(api: Api) -> None:
    status, body = await api("GET", "/nothing-here")
    assert status == 404 and error(body)[0] == "not_found"
    status, body = await api("PUT", "/meetings")
    assert status == 405 and error(body)[0] == "method_not_allowed"


# --- meetings --------------------------------------------------------------------------


async def test_meeting_lifecycle(api: Api) -> None:
    meeting = await create(
        api, starts_at="2026-06-01T08:00:00+07:00", policy={"lobby": True, "max_sites": 120}
    )
    assert meeting["status"] == "scheduled"
    assert meeting["policy"] == {
        "mics_muted_on_entry": True,
        "host_may_unmute": False,
        "lobby": True,
        "max_sites": 120,
    }
    other = await create(api, title="  Giao   ban  ")
    assert other["title"] == "Giao ban" and other["starts_at"] is None
    status, listing = await api("GET", "/meetings")
    assert status == 200
    assert [m["id"] for m in listing["meetings"]] == [meeting["id"], other["id"]]
    status, shown = await api("GET", f"/meetings/{meeting['id']}")
    assert (status, shown) == (200, meeting)

    status, patched = await api(
        "PATCH",
        f"/meetings/{meeting['id']}",
        json_body={"title": "Họp khẩn", "starts_at": None, "policy": {"host_may_unmute": True}},
    )
    assert status == 200
    assert patched["title"] == "Họp khẩn" and patched["starts_at"] is None
    assert patched["policy"]["host_may_unmute"] and patched["policy"]["lobby"]

    status, ended = await api("DELETE", f"/meetings/{meeting['id']}")
    assert status == 200 and ended["status"] == "ended"
    status, again = await api("DELETE", f"/meetings/{meeting['id']}")
    assert (status, again) == (200, ended)
    status, body = await api("PATCH", f"/meetings/{meeting['id']}", json_body={"title": "x"})
    assert status == 409 and error(body)[0] == "meeting_ended"
    status, body = await import_csv(api, meeting["id"])
    assert status == 409 and error(body)[0] == "meeting_ended"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{", "not valid JSON: Expecting property name"),
        (b'{"title": "a",}', "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        (b"", "not valid JSON"),
    ],
)
async def test_malformed_json_is_400_naming_the_problem(
    api: Api, raw: bytes, fragment: str
) -> None:
    status, body = await api("POST", "/meetings", data=raw, content_type="application/json")
    assert status == 400
    code, message = error(body)
    assert code == "bad_json" and fragment in message
    meeting = await create(api)
    status, body = await api(
        "PATCH", f"/meetings/{meeting['id']}", data=raw, content_type="application/json"
    )
    assert status == 400 and error(body)[0] == "bad_json"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "field 'title' is required"),
        ({"title": 5}, "field 'title' must be a string"),
        ({"title": "   "}, "field 'title' must not be empty"),
        ({"title": "t", "starts_at": "2026-06-01T08:00"}, "field 'starts_at'"),
        ({"title": "t", "starts_at": "tomorrow"}, "field 'starts_at'"),
        ({"title": "t", "policy": {"lobby": "yes"}}, "'policy.lobby' must be true or false"),
        ({"title": "t", "policy": {"max_sites": 0}}, "'policy.max_sites' must be between"),
        ({"title": "t", "policy": {"max_sites": True}}, "'policy.max_sites' must be an integer"),
        ({"title": "t", "policy": {"volume": 3}}, "unknown field 'policy.volume'"),
        ({"title": "t", "policy": []}, "field 'policy' must be an object"),
        ({"title": "t", "status": "live"}, "field 'status' cannot be set"),
        ({"title": "t", "colour": "red"}, "unknown field 'colour'"),
    ],
)
async def test_bad_fields_are_named(api: Api, body: dict[str, Any], fragment: str) -> None:
    status, answer = await api("POST", "/meetings", json_body=body)
    assert status == 400
    code, message = error(answer)
    assert code == "bad_field" and fragment in message
    status, listing = await api("GET", "/meetings")
    assert listing["meetings"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/sites:import"),
        ("GET", "/sites"),
        ("GET", "/invitations"),
        ("POST", "/invitations/abc:revoke"),
        ("GET", "/participants"),
    ],
)
async def test_unknown_meeting_is_404(api: Api, method: str, path: str) -> None:
    status, body = await api(method, f"/meetings/nope{path}", json_body={"title": "t"})
    assert status == 404
    assert error(body) == ("unknown_meeting", "meeting 'nope' does not exist")


# --- sites and invitations -------------------------------------------------------------


async def test_import_gives_one_link_per_site(api: Api) -> None:
    meeting = await create(api)
    mid = meeting["id"]
    status, result = await import_csv(api, mid)
    assert status == 201, result
    names = ["Xã Hòa An", "Xã Hòa Bắc", "Phường 1"]
    assert [s["name"] for s in result["sites"]] == names
    assert result["sites"][0]["id"].startswith("xa-hoa-an-")
    assert result["sites"][2]["id"].startswith("phuong-1-")
    for site, inv in zip(result["sites"], result["invitations"], strict=True):
        assert inv["site_id"] == site["id"] and inv["site_name"] == site["name"]
        assert inv["role"] == "participant" and inv["revoked"] is False
        parts = urlsplit(inv["link"])
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://hop.example.vn/"
        query = parse_qs(parts.query)
        assert query["room"] == [mid]
        token = query["token"][0]
        grant = verify_token(token, SECRET, room=mid)
        assert grant == Grant(
            room=mid, identity=site["id"], name=site["name"], role="participant", jti=inv["id"]
        )
    status, sites = await api("GET", f"/meetings/{mid}/sites")
    assert status == 200 and sites["sites"] == result["sites"]
    status, invs = await api("GET", f"/meetings/{mid}/invitations")
    assert status == 200
    assert [i["id"] for i in invs["invitations"]] == [i["id"] for i in result["invitations"]]
    # a second import adds to the meeting
    status, more = await import_csv(api, mid, "name,district,contact,role\nUBND tỉnh,,,host\n")
    assert status == 201 and more["invitations"][0]["role"] == "host"
    status, sites = await api("GET", f"/meetings/{mid}/sites")
    assert len(sites["sites"]) == 4


@pytest.mark.parametrize(
    ("text", "status", "code", "details"),
    [
        (
            "name,district,contact\nA,d,c\nB,d,c\n,d,c\n",
            422,
            "bad_csv",
            [{"line": 4, "message": "missing name"}],
        ),
        (
            "name,district,contact\nA,d,c\nB,d\n\n,d,c\n",
            422,
            "bad_csv",
            [
                {"line": 3, "message": "expected 3 fields, found 2"},
                {"line": 5, "message": "missing name"},
            ],
        ),
        (
            "name,district,contact\nA,d,c\nB,d,c\na ,d,c\n",
            422,
            "duplicate_site",
            [{"line": 4, "message": "duplicate site name 'a' (first on line 2)"}],
        ),
        ("site,district\nA,d\n", 422, "bad_csv", None),
        (
            "",
            422,
            "bad_csv",
            [{"line": 1, "message": "the file is empty (expected a header name,district,contact)"}],
        ),
    ],
)
async def test_bad_csv_names_the_line_and_imports_nothing(
    api: Api, text: str, status: int, code: str, details: list[dict[str, Any]] | None
) -> None:
    meeting = await create(api)
    got, body = await import_csv(api, meeting["id"], text)
    assert got == status
    assert body["error"]["code"] == code
    if details is not None:
        assert body["error"]["details"] == details
        assert body["error"]["message"].startswith(f"line {details[0]['line']}: ")
    _, sites = await api("GET", f"/meetings/{meeting['id']}/sites")
    assert sites["sites"] == []


async def test_site_already_in_the_meeting_is_409_with_its_line(api: Api) -> None:
    meeting = await create(api)
    assert (await import_csv(api, meeting["id"]))[0] == 201
    status, body = await import_csv(
        api, meeting["id"], "name,district,contact\nXã Hòa Nhơn,,\n\nxã hòa an,,\n"
    )
    assert status == 409
    assert error(body) == (
        "duplicate_site",
        "line 4: site 'xã hòa an' already exists in this meeting",
    )
    status, sites = await api("GET", f"/meetings/{meeting['id']}/sites")
    assert [s["name"] for s in sites["sites"]] == ["Xã Hòa An", "Xã Hòa Bắc", "Phường 1"]


async def test_import_refuses_other_media_types_and_too_many_sites(api: Api) -> None:
    meeting = await create(api, policy={"max_sites": 2})
    status, body = await api(
        "POST", f"/meetings/{meeting['id']}/sites:import", json_body={"name": "A"}
    )
    assert status == 415 and error(body)[0] == "unsupported_media_type"
    status, body = await import_csv(api, meeting["id"])
    assert status == 422
    assert error(body) == (
        "too_many_sites",
        "the meeting allows at most 2 sites; it has 0 and 3 more were given",
    )
    assert (await import_csv(api, meeting["id"], "name,district,contact\nA,,\nB,,\n"))[0] == 201
    status, body = await api(
        "PATCH", f"/meetings/{meeting['id']}", json_body={"policy": {"max_sites": 1}}
    )
    assert status == 409 and error(body)[0] == "too_many_sites"


async def test_non_utf8_csv_names_the_line(api: Api) -> None:
    meeting = await create(api)
    status, body = await api(
        "POST",
        f"/meetings/{meeting['id']}/sites:import",
        data=b"name,district,contact\nX\xe3 H\xf2a An,,\n",
        content_type="text/csv",
    )
    assert status == 422
    assert error(body) == ("bad_csv", "line 2: the file is not UTF-8 text")


async def test_revoke_and_join_time_checks(api: Api, server: TestServer) -> None:
    meeting = await create(api)
    other = await create(api, title="another meeting")
    mid = meeting["id"]
    _, result = await import_csv(api, mid)
    inv = result["invitations"][0]
    token = parse_qs(urlsplit(inv["link"]).query)["token"][0]
    store = server.app[MEETING_STORE]
    grant = verify_token(token, SECRET, room=mid)
    await check_invitation(store, grant)

    # a token for another meeting
    with pytest.raises(AuthError) as wrong_room:
        verify_token(token, SECRET, room=other["id"])
    assert wrong_room.value.code == "token_wrong_room"
    with pytest.raises(InvitationError) as mismatch:
        await check_invitation(store, replace(grant, room=other["id"]))
    assert mismatch.value.code == "invitation_invalid"

    # expired
    with pytest.raises(InvitationError) as expired:
        await check_invitation(store, grant, now=2_000_000_000_000)
    assert expired.value.code == "invitation_expired"

    # revoked (idempotent), and the link disappears from the listing
    for _ in range(2):
        status, revoked = await api("POST", f"/meetings/{mid}/invitations/{inv['id']}:revoke")
        assert status == 200 and revoked["revoked"] is True and revoked["link"] is None
    with pytest.raises(InvitationError) as err:
        await check_invitation(store, grant)
    assert err.value.code == "invitation_revoked"
    _, invs = await api("GET", f"/meetings/{mid}/invitations")
    assert [i["revoked"] for i in invs["invitations"]] == [True, False, False]

    # unknown invitation, or one of another meeting
    status, body = await api("POST", f"/meetings/{mid}/invitations/nope:revoke")
    assert status == 404 and error(body)[0] == "unknown_invitation"
    status, body = await api(
        "POST", f"/meetings/{other['id']}/invitations/{invs['invitations'][1]['id']}:revoke"
    )
    assert status == 404 and error(body)[0] == "unknown_invitation"

    # ended meeting
    other_grant = verify_token(
        token := parse_qs(urlsplit(invs["invitations"][1]["link"]).query)["token"][0],
        SECRET,
        room=mid,
    )
    await check_invitation(store, other_grant)
    await api("DELETE", f"/meetings/{mid}")
    with pytest.raises(InvitationError) as ended:
        await check_invitation(store, other_grant)
    assert ended.value.code == "meeting_ended"


async def test_participants_show_live_state(api: Api, site: Any) -> None:
    meeting = await create(api)
    mid = meeting["id"]
    status, body = await api("GET", f"/meetings/{mid}/participants")
    assert (status, body) == (200, {"meeting_id": mid, "participants": []})
    _, result = await import_csv(api, mid)
    inv = result["invitations"][1]
    token = parse_qs(urlsplit(inv["link"]).query)["token"][0]
    hall = site("ignored", room=mid, token=token)
    await hall.join()
    adhoc = site("chair", room=mid, role="host")
    await adhoc.join()
    status, body = await api("GET", f"/meetings/{mid}/participants")
    assert status == 200
    assert body["participants"] == [
        {
            "id": inv["site_id"],
            "name": "Xã Hòa Bắc",
            "role": "participant",
            "site_id": inv["site_id"],
            # policy mics_muted_on_entry (the default) mutes a site's mic as it joins
            "muted": {"audio": True, "video": False},
            "tracks": [],
        },
        {
            "id": "chair",
            "name": "chair",
            "role": "host",
            "site_id": None,
            "muted": {"audio": False, "video": False},
            "tracks": [],
        },
    ]


# --- persistence -----------------------------------------------------------------------


async def restart_keeps_meetings(http: aiohttp.ClientSession, settings: Settings) -> None:
    first = TestServer(create_app(settings), host="127.0.0.1")
    await first.start_server()
    try:
        api = api_for(http, first)
        meeting = await create(api, policy={"lobby": True})
        _, result = await import_csv(api, meeting["id"])
        revoked = result["invitations"][0]["id"]
        await api("POST", f"/meetings/{meeting['id']}/invitations/{revoked}:revoke")
    finally:
        await first.close()
    second = TestServer(create_app(settings), host="127.0.0.1")
    await second.start_server()
    try:
        api = api_for(http, second)
        status, shown = await api("GET", f"/meetings/{meeting['id']}")
        assert (status, shown) == (200, meeting)
        _, sites = await api("GET", f"/meetings/{meeting['id']}/sites")
        assert sites["sites"] == result["sites"]
        _, invs = await api("GET", f"/meetings/{meeting['id']}/invitations")
        assert [(i["id"], i["revoked"]) for i in invs["invitations"]] == [
            (i["id"], i["id"] == revoked) for i in result["invitations"]
        ]
    finally:
        await second.close()


async def test_meetings_survive_a_restart_sqlite(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    await restart_keeps_meetings(http, make_settings(tmp_path / "data"))
    assert (tmp_path / "data" / "meetings.sqlite3").exists()


async def test_meetings_survive_a_restart_redis(
    http: aiohttp.ClientSession, tmp_path: Path, redis_url: str
) -> None:
    await restart_keeps_meetings(http, make_settings(tmp_path / "data", redis_url=redis_url))
    assert not (tmp_path / "data" / "meetings.sqlite3").exists()
