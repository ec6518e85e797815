"""A meeting's life over the real WebSocket and API: live on first join, roll call statuses
from real media, removal with revoke, end for all, admin end/revoke, attendance CSV."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from clients import Site

from signaling.auth import make_token
from signaling.meetings import MEETING_STORE

from .conftest import SECRET
from .meeting_sites import (
    ADMIN_KEY,
    SiteFactory,
    api,
    chair_of,
    closed,
    join_all,
    meeting,
    refused_join,
    round_trip,
    server,  # noqa: F401  (the fixture)
    token,
    wait_in_lobby,
)

CSV = "name,district,contact\nXã Hòa An,Hòa Vang,0905\nXã Hòa Bắc,Hòa Vang,\nPhường 1,Hải Châu,\n"


def invited(site: SiteFactory, mid: str, invitation: dict[str, Any]) -> Site:
    return site(invitation["site_id"], room=mid, token=invitation["token"])


async def grid(
    host: Site, ok: Callable[[dict[str, dict[str, Any]]], bool], *, open: bool = True
) -> dict[str, Any]:
    """The latest roll_call the host got whose entries (by site name) satisfy `ok`."""
    async with asyncio.timeout(15):
        while True:
            for m in reversed(host.messages):
                entries = {e["name"]: e for e in m.get("entries", [])}
                if m["type"] == "roll_call" and m["open"] is open and ok(entries):
                    return m
            await asyncio.sleep(0.1)


async def keep_sending_rtcp(s: Site, seconds: float) -> None:
    for _ in range(int(seconds / 0.5)):
        s.send_sender_report()
        await asyncio.sleep(0.5)


async def test_meeting_goes_live_on_first_join(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
) -> None:
    mid, invitations = await meeting(http, server, CSV)
    store = server.app[MEETING_STORE]
    assert (await store.get_meeting(mid)).status == "scheduled"  # type: ignore[union-attr]
    await invited(site, mid, invitations[0]).join()
    assert (await store.get_meeting(mid)).status == "live"  # type: ignore[union-attr]


async def test_roll_call_statuses_answers_and_attendance(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
) -> None:
    mid, invitations, host = await chair_of(site, http, server, CSV)
    hoa_an, hoa_bac = invited(site, mid, invitations[0]), invited(site, mid, invitations[1])
    await hoa_an.join()
    await hoa_an.publish()
    await hoa_bac.join()  # connected, but no media
    streaming = asyncio.gather(hoa_an.stream(8.0), keep_sending_rtcp(hoa_an, 8.0))

    await host.send({"type": "roll_call_start"})
    state = await hoa_bac.wait_for("meeting_state", hands=[])
    roll_call = state["roll_call"]
    assert roll_call["open"] is True and roll_call["started_at"].endswith("+00:00")
    first = await host.wait_for("roll_call")
    assert first["id"] == roll_call["id"]
    assert [e["name"] for e in first["entries"]] == ["Xã Hòa An", "Xã Hòa Bắc", "Phường 1"]
    await hoa_an.send({"type": "roll_call_answer"})
    found = await grid(
        host,
        lambda e: e["Xã Hòa An"]["status"] == "present" and e["Xã Hòa An"]["answered"],
    )
    entries = {e["name"]: e for e in found["entries"]}
    assert entries["Xã Hòa An"]["participant_id"] == invitations[0]["site_id"]
    assert entries["Xã Hòa An"]["joined_at"] and entries["Xã Hòa An"]["left_at"] is None
    assert (entries["Xã Hòa Bắc"]["status"], entries["Xã Hòa Bắc"]["answered"]) == (
        "poor_link",
        False,
    )
    assert entries["Phường 1"] == {
        "site_id": invitations[2]["site_id"],
        "name": "Phường 1",
        "district": "Hải Châu",
        "participant_id": None,
        "status": "absent",
        "answered": False,
        "joined_at": None,
        "left_at": None,
    }
    await streaming
    # the roll call reached only the hosts
    assert not any(m["type"] == "roll_call" for m in hoa_an.messages + hoa_bac.messages)

    await hoa_bac.close()
    await grid(host, lambda e: e["Xã Hòa Bắc"]["status"] == "absent" and e["Xã Hòa Bắc"]["left_at"])
    await host.send({"type": "roll_call_stop"})
    await host.wait_for("meeting_state", roll_call={**roll_call, "open": False})
    closed_grid = await grid(host, lambda e: e["Xã Hòa An"]["answered"], open=False)
    assert closed_grid["id"] == roll_call["id"]

    status, text = await api(http, server, "GET", f"/meetings/{mid}/attendance.csv")
    assert status == 200
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(text))}
    assert list(rows) == ["Xã Hòa An", "Xã Hòa Bắc", "Phường 1"]
    an, bac, p1 = rows["Xã Hòa An"], rows["Xã Hòa Bắc"], rows["Phường 1"]
    assert (an["joins"], an["roll_call_answered"], an["last_left_at"]) == ("1", "1", "")
    assert an["first_joined_at"].endswith("+00:00") and int(an["connected_seconds"]) >= 8
    assert (bac["joins"], bac["roll_call_answered"]) == ("1", "0") and bac["last_left_at"]
    assert p1 == {
        "site_id": invitations[2]["site_id"],
        "name": "Phường 1",
        "district": "Hải Châu",
        "first_joined_at": "",
        "last_left_at": "",
        "connected_seconds": "0",
        "joins": "0",
        "roll_call_answered": "0",
    }


async def test_ad_hoc_roll_call_lists_the_participants_present(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
) -> None:
    host, _, _ = await join_all(site, ("chair", "host"), ("a", "participant"), ("v", "viewer"))
    await host.send({"type": "roll_call_start"})
    first = await host.wait_for("roll_call")
    assert [(e["site_id"], e["status"]) for e in first["entries"]] == [("a", "poor_link")]
    late = site("late")
    await late.join()
    await late.send({"type": "roll_call_answer"})
    await grid(host, lambda e: "late" in e and e["late"]["answered"])


async def test_removal_with_revoke_makes_the_link_fail(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
) -> None:
    mid, invitations, host = await chair_of(site, http, server, CSV)
    hall, other = invited(site, mid, invitations[0]), invited(site, mid, invitations[1])
    await hall.join()
    await other.join()
    hall_id = invitations[0]["site_id"]
    await hall.send({"type": "raise_hand", "raised": True})
    await host.wait_for("meeting_state", hands=[hall_id])
    await host.send({"type": "host_remove", "participant_id": hall_id, "revoke": True})
    assert (await hall.wait_for("error"))["code"] == "removed"
    assert await closed(hall) == 4403
    await other.wait_for("participant_left", id=hall_id)
    await host.wait_for("meeting_state", hands=[])
    _, listing = await api(http, server, "GET", f"/meetings/{mid}/invitations")
    assert [i["revoked"] for i in listing["invitations"]] == [True, False, False]
    again = invited(site, mid, invitations[0])
    assert await refused_join(again) == ("invitation_revoked", 4403)
    assert other.close_code is None


async def test_removal_without_revoke_lets_the_site_back_in(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
) -> None:
    host, a, b = await join_all(site, ("chair", "host"), ("a", "participant"), ("b", "participant"))
    await host.send({"type": "host_remove", "participant_id": "a", "revoke": False})
    assert await closed(a) == 4403
    await site("a").join()
    # an ad-hoc link cannot be revoked in the store: the room remembers instead
    await host.send({"type": "host_remove", "participant_id": "b", "revoke": True})
    assert await closed(b) == 4403
    assert await refused_join(site("b")) == ("invitation_revoked", 4403)


async def test_end_for_all_closes_every_socket_and_the_meeting(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
) -> None:
    mid, invitations = await meeting(http, server, CSV, lobby=True)
    host = site("chair", room=mid, token=token(mid, "chair", "host"))
    viewer = site("v", room=mid, token=token(mid, "v", "viewer"))
    hall, waiting = invited(site, mid, invitations[0]), invited(site, mid, invitations[1])
    await host.join()
    await wait_in_lobby(hall)
    await host.send({"type": "host_admit", "participant_id": invitations[0]["site_id"]})
    await hall.wait_for("joined")
    await wait_in_lobby(viewer)
    await host.send({"type": "host_admit", "participant_id": "v"})
    await viewer.wait_for("joined")
    await wait_in_lobby(waiting)
    await host.send({"type": "host_end"})
    for s in (host, viewer, hall, waiting):
        assert (await s.wait_for("error"))["code"] == "meeting_ended"
        assert await closed(s) == 4410
    meeting_now = await server.app[MEETING_STORE].get_meeting(mid)
    assert meeting_now is not None and meeting_now.status == "ended"
    for token_ in (invitations[0]["token"], token(mid, "chair", "host")):
        late = site("late", room=mid, token=token_)
        assert await refused_join(late) == ("meeting_ended", 4410)
    status, text = await api(http, server, "GET", f"/meetings/{mid}/attendance.csv")
    assert status == 200 and text.count("\r\n") == 4


async def test_admin_end_and_revoke_disconnect_live_sockets(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
) -> None:
    mid, invitations = await meeting(http, server, CSV)
    halls = [invited(site, mid, inv) for inv in invitations]
    for hall in halls:
        await hall.join()
    status, _ = await api(
        http, server, "POST", f"/meetings/{mid}/invitations/{invitations[1]['id']}:revoke"
    )
    assert status == 200
    assert (await halls[1].wait_for("error"))["code"] == "invitation_revoked"
    assert await closed(halls[1]) == 4403
    await round_trip(halls[0], halls[2])
    assert halls[0].close_code is None and halls[2].close_code is None
    status, _ = await api(http, server, "DELETE", f"/meetings/{mid}")
    assert status == 200
    for hall in (halls[0], halls[2]):
        assert (await hall.wait_for("error"))["code"] == "meeting_ended"
        assert await closed(hall) == 4410


async def test_revoking_a_site_waiting_in_the_lobby_takes_it_out(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
) -> None:
    mid, invitations = await meeting(http, server, CSV, lobby=True)
    host = site("chair", room=mid, token=token(mid, "chair", "host"))
    await host.join()
    hall = invited(site, mid, invitations[0])
    await wait_in_lobby(hall)
    await host.wait_for("lobby", waiting=[{"id": invitations[0]["site_id"], "name": "Xã Hòa An"}])
    inv = invitations[0]["id"]
    assert (await api(http, server, "POST", f"/meetings/{mid}/invitations/{inv}:revoke"))[0] == 200
    assert (await hall.wait_for("error"))["code"] == "invitation_revoked"
    assert await closed(hall) == 4403
    await host.send({"type": "host_admit", "participant_id": invitations[0]["site_id"]})
    assert (await host.wait_for("error", request="host_admit"))["code"] == "unknown_participant"
    lobbies = [m["waiting"] for m in host.messages if m["type"] == "lobby"]
    assert lobbies == [[], [{"id": invitations[0]["site_id"], "name": "Xã Hòa An"}], []]


async def test_policy_changes_reach_a_live_meeting(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
) -> None:
    mid, _ = await meeting(http, server)
    a = site("a", room=mid, token=token(mid, "a"))
    assert (await a.join())["meeting"]["policy"]["host_may_unmute"] is False
    status, _ = await api(
        http, server, "PATCH", f"/meetings/{mid}", json={"policy": {"host_may_unmute": True}}
    )
    assert status == 200
    state = await a.wait_for("meeting_state")
    assert state["policy"]["host_may_unmute"] is True


# --- attendance authorisation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("credential", "how", "status", "code"),
    [
        ("admin", "bearer", 200, None),
        ("host", "bearer", 200, None),
        ("host", "query", 200, None),
        ("invited_host", "query", 200, None),
        (None, "bearer", 401, "unauthorized"),
        ("garbage", "bearer", 401, "unauthorized"),
        ("expired_host", "query", 401, "unauthorized"),
        ("participant", "bearer", 403, "forbidden"),
        ("viewer", "query", 403, "forbidden"),
        ("other_meeting_host", "bearer", 403, "forbidden"),
        ("revoked_host", "query", 403, "forbidden"),
    ],
)
async def test_attendance_csv_needs_the_admin_key_or_a_host_token_of_the_meeting(
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
    credential: str | None,
    how: str,
    status: int,
    code: str | None,
) -> None:
    roles = "name,district,contact,role\nXã A,,,participant\nUBND tỉnh,,,host\nThanh tra,,,host\n"
    mid, invitations = await meeting(http, server, roles)
    other, _ = await meeting(http, server)
    revoked = invitations[2]["id"]
    assert (await api(http, server, "POST", f"/meetings/{mid}/invitations/{revoked}:revoke"))[
        0
    ] == 200
    credentials = {
        None: None,
        "admin": ADMIN_KEY,
        "host": token(mid, "chair", "host"),
        "invited_host": invitations[1]["token"],
        "revoked_host": invitations[2]["token"],
        "garbage": "not-a-token",
        "expired_host": make_token(SECRET, room=mid, identity="c", name="c", role="host", ttl_s=-5),
        "participant": invitations[0]["token"],
        "viewer": token(mid, "v", "viewer"),
        "other_meeting_host": token(other, "chair", "host"),
    }
    secret = credentials[credential]
    url = server.make_url(f"/api/v1/meetings/{mid}/attendance.csv")
    headers, params = {}, {}
    if secret is not None and how == "bearer":
        headers["Authorization"] = f"Bearer {secret}"
    elif secret is not None:
        params["token"] = secret
    async with http.get(url, headers=headers, params=params) as resp:
        assert resp.status == status
        if code is None:
            assert resp.content_type == "text/csv" and resp.charset == "utf-8"
            assert "attachment" in resp.headers["Content-Disposition"]
            text = await resp.text()
            assert text.startswith(
                "site_id,name,district,first_joined_at,last_left_at,connected_seconds,joins,"
                "roll_call_answered\r\n"
            )
        else:
            assert (await resp.json())["error"]["code"] == code


async def test_a_failed_attendance_write_is_counted_and_the_join_goes_on(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mid, invitations = await meeting(http, server, CSV)

    async def broken(*args: object) -> None:
        raise ConnectionError("store down")

    monkeypatch.setattr(server.app[MEETING_STORE], "record_join", broken)
    hall = invited(site, mid, invitations[0])
    await hall.join()
    await round_trip(hall)
    assert hall.close_code is None
    async with http.get(server.make_url("/metrics")) as resp:
        assert "diemcau_meeting_store_failures_total 1\n" in await resp.text()
