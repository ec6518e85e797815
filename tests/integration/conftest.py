from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clients import Site

from signaling.app import create_app
from signaling.auth import make_token
from signaling.settings import Settings

SECRET = "integration-test-secret-0123456789"


def loopback_settings(data_dir: Path, **changes: Any) -> Settings:
    """Settings of a test bridge on 127.0.0.1 with the test secret.

    Adaptive bitrate is off: the synthetic sites (tests/clients.py) send one unsimulcast
    stream and none of the REMB a browser sends, so the downlink estimate would pause what
    these tests look at. It is on by default, and exercised by tests/bridge (estimator,
    allocator, closed loop) and by real Chromium in tests/e2e."""
    base = Settings(
        host="127.0.0.1",
        port=0,
        jwt_secret=SECRET,
        data_dir=data_dir,
        ice_addresses=("127.0.0.1",),
        adaptive_bitrate=False,
    )
    return replace(base, **changes)


@pytest.fixture
async def server(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[TestServer]:
    """A test bridge; a test may change its settings with indirect parametrization."""
    changes = getattr(request, "param", {})
    srv = TestServer(create_app(loopback_settings(tmp_path, **changes)), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


SiteFactory = Callable[..., Site]


@pytest.fixture
async def site(server: TestServer, http: aiohttp.ClientSession) -> AsyncIterator[SiteFactory]:
    made: list[Site] = []

    def make(
        identity: str, room: str = "r1", role: str = "participant", token: str | None = None
    ) -> Site:
        tok = token or make_token(SECRET, room=room, identity=identity, name=identity, role=role)
        s = Site(http, str(server.make_url("")).rstrip("/"), room, tok)
        made.append(s)
        return s

    yield make
    for s in made:
        await s.close()
