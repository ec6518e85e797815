"""The embedded default store: one SQLite file, used from a single worker thread."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TypeVar

from .models import (
    Attendance,
    Invitation,
    Meeting,
    MeetingPolicy,
    MeetingStatus,
    Site,
    as_role,
    as_status,
    name_key,
    policy_from_json,
)
from .store import DuplicateSite, TooManySites, UnknownMeeting

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000  # a writer waits this long for another process's lock

SCHEMA = """
CREATE TABLE IF NOT EXISTS meetings (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    starts_at TEXT,
    policy TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sites (
    id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    district TEXT NOT NULL,
    contact TEXT NOT NULL,
    UNIQUE (meeting_id, name_key)
);
CREATE TABLE IF NOT EXISTS invitations (
    id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings(id),
    site_id TEXT NOT NULL REFERENCES sites(id),
    role TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attendance (
    meeting_id TEXT NOT NULL REFERENCES meetings(id),
    site_id TEXT NOT NULL,
    first_joined_at REAL,
    last_left_at REAL,
    closed_seconds REAL NOT NULL DEFAULT 0,
    connected_since REAL,
    joins INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (meeting_id, site_id)
);
CREATE TABLE IF NOT EXISTS roll_call_answers (
    meeting_id TEXT NOT NULL REFERENCES meetings(id),
    site_id TEXT NOT NULL,
    roll_call_id TEXT NOT NULL,
    PRIMARY KEY (meeting_id, site_id, roll_call_id)
);
CREATE INDEX IF NOT EXISTS sites_by_meeting ON sites (meeting_id);
CREATE INDEX IF NOT EXISTS invitations_by_meeting ON invitations (meeting_id);
"""

_MEETING_COLUMNS = "id, title, starts_at, policy, status, created_at"
_Row = tuple[object, ...]


def _meeting(row: _Row) -> Meeting:
    id_, title, starts_at, policy, status, created_at = row
    return Meeting(
        id=str(id_),
        title=str(title),
        starts_at=None if starts_at is None else str(starts_at),
        policy=policy_from_json(json.loads(str(policy))),
        status=as_status(str(status)),
        created_at=str(created_at),
    )


def _optional_float(value: object) -> float | None:
    return None if value is None else float(str(value))


def _attendance(row: _Row) -> Attendance:
    site_id, first, last, closed, since, joins, answered = row
    return Attendance(
        site_id=str(site_id),
        first_joined_at=_optional_float(first),
        last_left_at=_optional_float(last),
        closed_seconds=float(str(closed)),
        connected_since=_optional_float(since),
        joins=int(str(joins)),
        roll_calls_answered=int(str(answered)),
    )


def _invitation(row: _Row) -> Invitation:
    id_, meeting_id, site_id, role, revoked, expires_at = row
    return Invitation(
        id=str(id_),
        meeting_id=str(meeting_id),
        site_id=str(site_id),
        role=as_role(str(role)),
        revoked=bool(revoked),
        expires_at=str(expires_at),
    )


class SqliteMeetingStore:
    """All SQL runs on one dedicated thread, so the event loop never waits on the disk."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    # --- plumbing --------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._executor is None or self._conn is None:
            raise RuntimeError("SqliteMeetingStore used before open() or after close()")
        conn = self._conn
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, conn)

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="meetings-sqlite")

        def connect() -> sqlite3.Connection:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _enable_wal(conn)
            conn.execute("PRAGMA foreign_keys=ON")
            conn.executescript(SCHEMA)
            return conn

        self._conn = await asyncio.get_running_loop().run_in_executor(self._executor, connect)

    async def close(self) -> None:
        if self._executor is None:
            return
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)
        self._executor = None

    # --- meetings --------------------------------------------------------------------

    async def create_meeting(self, meeting: Meeting) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO meetings ({_MEETING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    meeting.id,
                    meeting.title,
                    meeting.starts_at,
                    json.dumps(asdict(meeting.policy)),
                    meeting.status,
                    meeting.created_at,
                ),
            )

        await self._run(run)

    @staticmethod
    def _get(conn: sqlite3.Connection, meeting_id: str) -> Meeting | None:
        row = conn.execute(
            f"SELECT {_MEETING_COLUMNS} FROM meetings WHERE id = ?", (meeting_id,)
        ).fetchone()
        return None if row is None else _meeting(row)

    async def get_meeting(self, meeting_id: str) -> Meeting | None:
        return await self._run(lambda conn: self._get(conn, meeting_id))

    async def list_meetings(self) -> list[Meeting]:
        def run(conn: sqlite3.Connection) -> list[Meeting]:
            rows = conn.execute(f"SELECT {_MEETING_COLUMNS} FROM meetings ORDER BY rowid")
            return [_meeting(row) for row in rows]

        return await self._run(run)

    async def update_meeting(
        self, meeting_id: str, *, title: str, starts_at: str | None, policy: MeetingPolicy
    ) -> Meeting:
        def run(conn: sqlite3.Connection) -> Meeting:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                cur = conn.execute(
                    "UPDATE meetings SET title = ?, starts_at = ?, policy = ? WHERE id = ?",
                    (title, starts_at, json.dumps(asdict(policy)), meeting_id),
                )
                meeting = self._get(conn, meeting_id)
            if cur.rowcount == 0 or meeting is None:
                raise UnknownMeeting(meeting_id)
            return meeting

        return await self._run(run)

    async def set_status(self, meeting_id: str, status: MeetingStatus) -> Meeting:
        def run(conn: sqlite3.Connection) -> Meeting:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("UPDATE meetings SET status = ? WHERE id = ?", (status, meeting_id))
                meeting = self._get(conn, meeting_id)
            if meeting is None:
                raise UnknownMeeting(meeting_id)
            return meeting

        return await self._run(run)

    # --- sites and invitations -------------------------------------------------------

    async def add_sites(
        self, meeting_id: str, sites: Sequence[Site], invitations: Sequence[Invitation]
    ) -> None:
        def run(conn: sqlite3.Connection) -> None:
            # `with conn` rolls the whole import back when anything below raises
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                meeting = self._get(conn, meeting_id)
                if meeting is None:
                    raise UnknownMeeting(meeting_id)
                (existing,) = conn.execute(
                    "SELECT COUNT(*) FROM sites WHERE meeting_id = ?", (meeting_id,)
                ).fetchone()
                if int(existing) + len(sites) > meeting.policy.max_sites:
                    raise TooManySites(meeting.policy.max_sites, int(existing), len(sites))
                for site in sites:
                    try:
                        conn.execute(
                            "INSERT INTO sites (id, meeting_id, name, name_key, district, contact)"
                            " VALUES (?, ?, ?, ?, ?, ?)",
                            (
                                site.id,
                                meeting_id,
                                site.name,
                                name_key(site.name),
                                site.district,
                                site.contact,
                            ),
                        )
                    except sqlite3.IntegrityError as exc:
                        raise DuplicateSite(site.name) from exc
                conn.executemany(
                    "INSERT INTO invitations (id, meeting_id, site_id, role, revoked, expires_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (i.id, meeting_id, i.site_id, i.role, int(i.revoked), i.expires_at)
                        for i in invitations
                    ],
                )

        await self._run(run)

    async def list_sites(self, meeting_id: str) -> list[Site]:
        def run(conn: sqlite3.Connection) -> list[Site]:
            rows = conn.execute(
                "SELECT id, meeting_id, name, district, contact FROM sites"
                " WHERE meeting_id = ? ORDER BY rowid",
                (meeting_id,),
            )
            return [Site(*(str(v) for v in row)) for row in rows]

        return await self._run(run)

    _INVITATION_COLUMNS = "id, meeting_id, site_id, role, revoked, expires_at"

    async def list_invitations(self, meeting_id: str) -> list[Invitation]:
        def run(conn: sqlite3.Connection) -> list[Invitation]:
            rows = conn.execute(
                f"SELECT {self._INVITATION_COLUMNS} FROM invitations"
                " WHERE meeting_id = ? ORDER BY rowid",
                (meeting_id,),
            )
            return [_invitation(row) for row in rows]

        return await self._run(run)

    async def get_invitation(self, invitation_id: str) -> Invitation | None:
        def run(conn: sqlite3.Connection) -> Invitation | None:
            row = conn.execute(
                f"SELECT {self._INVITATION_COLUMNS} FROM invitations WHERE id = ?",
                (invitation_id,),
            ).fetchone()
            return None if row is None else _invitation(row)

        return await self._run(run)

    async def revoke_invitation(self, meeting_id: str, invitation_id: str) -> Invitation | None:
        def run(conn: sqlite3.Connection) -> Invitation | None:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "UPDATE invitations SET revoked = 1 WHERE id = ? AND meeting_id = ?",
                    (invitation_id, meeting_id),
                )
                row = conn.execute(
                    f"SELECT {self._INVITATION_COLUMNS} FROM invitations"
                    " WHERE id = ? AND meeting_id = ?",
                    (invitation_id, meeting_id),
                ).fetchone()
            return None if row is None else _invitation(row)

        return await self._run(run)

    # --- attendance ------------------------------------------------------------------

    async def record_join(self, meeting_id: str, site_id: str, at: float) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO attendance (meeting_id, site_id, first_joined_at, connected_since,"
                " joins) VALUES (?, ?, ?, ?, 1) ON CONFLICT (meeting_id, site_id) DO UPDATE SET"
                " joins = joins + 1,"
                " first_joined_at = COALESCE(first_joined_at, excluded.first_joined_at),"
                " connected_since = COALESCE(connected_since, excluded.connected_since)",
                (meeting_id, site_id, at, at),
            )

        await self._run(run)

    async def record_leave(self, meeting_id: str, site_id: str, at: float) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE attendance SET"
                " closed_seconds = closed_seconds + COALESCE(MAX(0, ? - connected_since), 0),"
                " connected_since = NULL, last_left_at = ?"
                " WHERE meeting_id = ? AND site_id = ?",
                (at, at, meeting_id, site_id),
            )

        await self._run(run)

    async def record_roll_call_answer(
        self, meeting_id: str, site_id: str, roll_call_id: str
    ) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO roll_call_answers (meeting_id, site_id, roll_call_id)"
                " VALUES (?, ?, ?)",
                (meeting_id, site_id, roll_call_id),
            )

        await self._run(run)

    async def attendance(self, meeting_id: str) -> list[Attendance]:
        def run(conn: sqlite3.Connection) -> list[Attendance]:
            rows = conn.execute(
                "SELECT a.site_id, a.first_joined_at, a.last_left_at, a.closed_seconds,"
                " a.connected_since, a.joins, (SELECT COUNT(*) FROM roll_call_answers r"
                " WHERE r.meeting_id = a.meeting_id AND r.site_id = a.site_id)"
                " FROM attendance a WHERE a.meeting_id = ? ORDER BY a.rowid",
                (meeting_id,),
            )
            return [_attendance(row) for row in rows]

        return await self._run(run)


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch a database to write-ahead logging. Processes opening a new database at once
    (`diemcau serve --workers N`) race for the switch, and the loser gets "database is
    locked" at once, without the busy handler (a clean-clone CI run: a worker exited and
    the front never came up; 90 of 600 processes in a local reproduction): retry."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
