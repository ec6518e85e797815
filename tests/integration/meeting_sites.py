"""Helpers for meeting-control tests: a server with the admin API, meetings made through it,
sites that wait in a lobby, and checks that nothing else happened."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from clients import Site

from signaling.app import create_app
from signaling.auth import make_token

from .conftest import SECRET, loopback_settings

ADMIN_KEY = "admin-key-for-meeting-tests-0123"
SiteFactory = Callable[..., Site]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    """Overrides conftest's server: this one has an admin key."""
    settings = loopback_settings(tmp_path, admin_key=ADMIN_KEY)
    srv = TestServer(create_app(settings), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


async def api(
    http: aiohttp.ClientSession, srv: TestServer, method: str, path: str, **kwargs: Any
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", **kwargs.pop("headers", {})}
    url = srv.make_url(f"/api/v1{path}")
    async with http.request(method, url, headers=headers, **kwargs) as resp:
        body = await resp.text()
        is_json = resp.content_type == "application/json"
        return resp.status, json.loads(body) if is_json else body


async def meeting(
    http: aiohttp.ClientSession, srv: TestServer, sites_csv: str | None = None, **policy: Any
) -> tuple[str, list[dict[str, Any]]]:
    """A meeting with this policy; with a CSV, its invitations (each with a `token`)."""
    status, created = await api(
        http, srv, "POST", "/meetings", json={"title": "Họp tỉnh", "policy": policy}
    )
    assert status == 201, created
    if sites_csv is None:
        return created["id"], []
    status, imported = await api(
        http,
        srv,
        "POST",
        f"/meetings/{created['id']}/sites:import",
        data=sites_csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert status == 201, imported
    invitations = imported["invitations"]
    for inv in invitations:
        inv["token"] = parse_qs(urlsplit(inv["link"]).query)["token"][0]
    return created["id"], invitations


def token(room: str, identity: str, role: str = "participant") -> str:
    return make_token(SECRET, room=room, identity=identity, name=identity, role=role)


async def chair_of(
    site: SiteFactory, http: aiohttp.ClientSession, srv: TestServer, sites_csv: str
) -> tuple[str, list[dict[str, Any]], Site]:
    """A meeting with these sites and its chair joined (an ad-hoc host link)."""
    mid, invitations = await meeting(http, srv, sites_csv)
    host = site("chair", room=mid, token=token(mid, "chair", "host"))
    await host.join()
    return mid, invitations, host


async def join_all(site: SiteFactory, *people: tuple[str, str]) -> list[Site]:
    """(identity, role) pairs joined to the default room, in order."""
    joined = [site(identity, role=role) for identity, role in people]
    for s in joined:
        await s.join()
    return joined


async def refused_join(site: Site) -> tuple[str, int]:
    """The error code and close code a join is refused with."""
    await site.connect()
    await site.send({"type": "join", "v": 1, "token": site._token})
    return (await site.wait_for("error"))["code"], await closed(site)


async def wait_in_lobby(site: Site) -> None:
    await site.connect()
    await site.send({"type": "join", "v": 1, "token": site._token})
    await site.wait_for("lobby_waiting")


async def closed(site: Site) -> int:
    for _ in range(200):
        if site.close_code is not None:
            return int(site.close_code)
        await asyncio.sleep(0.025)
    raise AssertionError("the socket was not closed")


async def round_trip(*sites: Site) -> None:
    """Everything sent to these sites before now has arrived (their outboxes are FIFO)."""
    for s in sites:
        seen = sum(m["type"] == "pong" for m in s.messages)
        await s.send({"type": "ping"})
        for _ in range(400):
            if sum(m["type"] == "pong" for m in s.messages) > seen:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("no pong")


def types_since(site: Site, mark: int) -> list[str]:
    return [m["type"] for m in site.messages[mark:] if m["type"] != "pong"]
