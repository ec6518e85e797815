"""The meeting store suite runs on both backends: SQLite in tmp_path and a real redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from signaling.meetings.redis_store import RedisMeetingStore
from signaling.meetings.sqlite_store import SqliteMeetingStore
from signaling.meetings.store import MeetingStore


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MeetingStore]:
    s: MeetingStore
    if request.param == "sqlite":
        s = SqliteMeetingStore(tmp_path / "meetings.sqlite3")
    else:
        s = RedisMeetingStore(request.getfixturevalue("redis_url"))
    await s.open()
    yield s
    await s.close()
