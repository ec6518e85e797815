"""MeetingStore on Redis (redis.asyncio); every key starts with `diemcau:`.

Keys:
  diemcau:meetings                      zset  meeting id -> creation sequence
  diemcau:seq                           counter for that sequence
  diemcau:meeting:{id}                  hash  title, starts_at, policy (JSON), status, created_at
  diemcau:meeting:{id}:sites            list  site ids in import order
  diemcau:meeting:{id}:site_data        hash  site id -> site JSON
  diemcau:meeting:{id}:site_names       hash  name_key -> site id (uniqueness)
  diemcau:meeting:{id}:invitations      list  invitation ids in creation order
  diemcau:invitation:{id}               hash  meeting_id, site_id, role, revoked, expires_at
  diemcau:meeting:{id}:attendees        zset  site id -> first join time
  diemcau:meeting:{id}:attendance:{site} hash first_joined_at, last_left_at, closed_seconds,
                                              connected_since, joins
  diemcau:meeting:{id}:answers:{site}   set   ids of the roll calls the site answered
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import WatchError

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

PREFIX = "diemcau:"
_NONE = ""  # starts_at of an unscheduled meeting (hash fields cannot hold null)
_WATCH_RETRIES = 50


def _meeting_key(meeting_id: str) -> str:
    return f"{PREFIX}meeting:{meeting_id}"


def _invitation_key(invitation_id: str) -> str:
    return f"{PREFIX}invitation:{invitation_id}"


def _str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _strs(values: Sequence[Any]) -> list[str]:
    return [_str(v) for v in values]


def _hash(h: Mapping[Any, Any]) -> dict[str, str]:
    return {_str(k): _str(v) for k, v in h.items()}


def _meeting(meeting_id: str, h: dict[str, str]) -> Meeting:
    return Meeting(
        id=meeting_id,
        title=h["title"],
        starts_at=h["starts_at"] or None,
        policy=policy_from_json(json.loads(h["policy"])),
        status=as_status(h["status"]),
        created_at=h["created_at"],
    )


def _attendance_key(meeting_id: str, site_id: str) -> str:
    return f"{_meeting_key(meeting_id)}:attendance:{site_id}"


def _answers_key(meeting_id: str, site_id: str) -> str:
    return f"{_meeting_key(meeting_id)}:answers:{site_id}"


def _optional_float(value: str | None) -> float | None:
    return None if value is None else float(value)


def _attendance(site_id: str, h: dict[str, str], answered: int) -> Attendance:
    return Attendance(
        site_id=site_id,
        first_joined_at=_optional_float(h.get("first_joined_at")),
        last_left_at=_optional_float(h.get("last_left_at")),
        closed_seconds=float(h.get("closed_seconds", "0")),
        connected_since=_optional_float(h.get("connected_since")),
        joins=int(h.get("joins", "0")),
        roll_calls_answered=answered,
    )


def _invitation(invitation_id: str, h: dict[str, str]) -> Invitation:
    return Invitation(
        id=invitation_id,
        meeting_id=h["meeting_id"],
        site_id=h["site_id"],
        role=as_role(h["role"]),
        revoked=h["revoked"] == "1",
        expires_at=h["expires_at"],
    )


class RedisMeetingStore:
    def __init__(self, url: str):
        self.url = url
        self._redis: aioredis.Redis | None = None

    @property
    def _r(self) -> aioredis.Redis:
        if self._redis is None:
            raise RuntimeError("RedisMeetingStore used before open() or after close()")
        return self._redis

    async def open(self) -> None:
        self._redis = aioredis.Redis.from_url(self.url, decode_responses=True)
        await self._r.ping()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    # --- meetings --------------------------------------------------------------------

    async def create_meeting(self, meeting: Meeting) -> None:
        seq = await self._r.incr(f"{PREFIX}seq")
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(
                _meeting_key(meeting.id),
                mapping={
                    "title": meeting.title,
                    "starts_at": meeting.starts_at or _NONE,
                    "policy": json.dumps(asdict(meeting.policy)),
                    "status": meeting.status,
                    "created_at": meeting.created_at,
                },
            )
            pipe.zadd(f"{PREFIX}meetings", {meeting.id: seq})
            await pipe.execute()

    async def get_meeting(self, meeting_id: str) -> Meeting | None:
        h = _hash(await self._r.hgetall(_meeting_key(meeting_id)))
        return _meeting(meeting_id, h) if h else None

    async def list_meetings(self) -> list[Meeting]:
        ids = _strs(await self._r.zrange(f"{PREFIX}meetings", 0, -1))
        async with self._r.pipeline(transaction=False) as pipe:
            for meeting_id in ids:
                pipe.hgetall(_meeting_key(meeting_id))
            rows: list[Any] = await pipe.execute()
        return [_meeting(i, _hash(h)) for i, h in zip(ids, rows, strict=True) if h]

    async def _update_fields(self, meeting_id: str, fields: dict[Any, Any]) -> Meeting:
        key = _meeting_key(meeting_id)
        for _ in range(_WATCH_RETRIES):
            async with self._r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    if not await pipe.exists(key):
                        raise UnknownMeeting(meeting_id)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hset(key, mapping=fields)
                    pipe.hgetall(key)
                    result: list[Any] = await pipe.execute()
                    return _meeting(meeting_id, _hash(result[1]))
                except WatchError:
                    continue
        raise RuntimeError(f"meeting {meeting_id!r} is being changed too often; try again")

    async def update_meeting(
        self, meeting_id: str, *, title: str, starts_at: str | None, policy: MeetingPolicy
    ) -> Meeting:
        return await self._update_fields(
            meeting_id,
            {
                "title": title,
                "starts_at": starts_at or _NONE,
                "policy": json.dumps(asdict(policy)),
            },
        )

    async def set_status(self, meeting_id: str, status: MeetingStatus) -> Meeting:
        return await self._update_fields(meeting_id, {"status": status})

    # --- sites and invitations -------------------------------------------------------

    async def add_sites(
        self, meeting_id: str, sites: Sequence[Site], invitations: Sequence[Invitation]
    ) -> None:
        key = _meeting_key(meeting_id)
        names_key = f"{key}:site_names"
        for _ in range(_WATCH_RETRIES):
            async with self._r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key, names_key)
                    policy_json = await pipe.hget(key, "policy")
                    if policy_json is None:
                        raise UnknownMeeting(meeting_id)
                    limit = policy_from_json(json.loads(policy_json)).max_sites
                    existing = int(await pipe.hlen(names_key))
                    if existing + len(sites) > limit:
                        raise TooManySites(limit, existing, len(sites))
                    keys = [name_key(s.name) for s in sites]
                    if keys:
                        taken = await pipe.hmget(names_key, keys)
                        for site, other in zip(sites, taken, strict=True):
                            if other is not None:
                                raise DuplicateSite(site.name)
                    if len(set(keys)) != len(keys):
                        seen: set[str] = set()
                        for site, k in zip(sites, keys, strict=True):
                            if k in seen:
                                raise DuplicateSite(site.name)
                            seen.add(k)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    for site, k in zip(sites, keys, strict=True):
                        pipe.hset(names_key, k, site.id)
                        pipe.hset(f"{key}:site_data", site.id, json.dumps(asdict(site)))
                        pipe.rpush(f"{key}:sites", site.id)
                    for inv in invitations:
                        pipe.hset(
                            _invitation_key(inv.id),
                            mapping={
                                "meeting_id": meeting_id,
                                "site_id": inv.site_id,
                                "role": inv.role,
                                "revoked": "1" if inv.revoked else "0",
                                "expires_at": inv.expires_at,
                            },
                        )
                        pipe.rpush(f"{key}:invitations", inv.id)
                    await pipe.execute()
                    return
                except WatchError:
                    continue
        raise RuntimeError(f"meeting {meeting_id!r} is being changed too often; try again")

    async def list_sites(self, meeting_id: str) -> list[Site]:
        key = _meeting_key(meeting_id)
        ids = _strs(await self._r.lrange(f"{key}:sites", 0, -1))
        if not ids:
            return []
        rows = await self._r.hmget(f"{key}:site_data", ids)
        return [Site(**json.loads(row)) for row in rows if row is not None]

    async def list_invitations(self, meeting_id: str) -> list[Invitation]:
        ids = _strs(await self._r.lrange(f"{_meeting_key(meeting_id)}:invitations", 0, -1))
        async with self._r.pipeline(transaction=False) as pipe:
            for invitation_id in ids:
                pipe.hgetall(_invitation_key(invitation_id))
            rows: list[Any] = await pipe.execute()
        return [_invitation(i, _hash(h)) for i, h in zip(ids, rows, strict=True) if h]

    async def get_invitation(self, invitation_id: str) -> Invitation | None:
        h = _hash(await self._r.hgetall(_invitation_key(invitation_id)))
        return _invitation(invitation_id, h) if h else None

    async def revoke_invitation(self, meeting_id: str, invitation_id: str) -> Invitation | None:
        key = _invitation_key(invitation_id)
        for _ in range(_WATCH_RETRIES):
            async with self._r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    owner = await pipe.hget(key, "meeting_id")
                    if owner != meeting_id:
                        return None
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hset(key, "revoked", "1")
                    pipe.hgetall(key)
                    result: list[Any] = await pipe.execute()
                    return _invitation(invitation_id, _hash(result[1]))
                except WatchError:
                    continue
        raise RuntimeError(f"invitation {invitation_id!r} is being changed too often")

    # --- attendance ------------------------------------------------------------------

    async def record_join(self, meeting_id: str, site_id: str, at: float) -> None:
        key = _attendance_key(meeting_id, site_id)
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.zadd(f"{_meeting_key(meeting_id)}:attendees", {site_id: at}, nx=True)
            pipe.hincrby(key, "joins", 1)
            pipe.hsetnx(key, "first_joined_at", repr(at))
            pipe.hsetnx(key, "connected_since", repr(at))
            await pipe.execute()

    async def record_leave(self, meeting_id: str, site_id: str, at: float) -> None:
        key = _attendance_key(meeting_id, site_id)
        for _ in range(_WATCH_RETRIES):
            async with self._r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    since = await pipe.hget(key, "connected_since")
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if since is not None:
                        pipe.hincrbyfloat(key, "closed_seconds", max(0.0, at - float(since)))
                        pipe.hdel(key, "connected_since")
                    pipe.hset(key, "last_left_at", repr(at))
                    await pipe.execute()
                    return
                except WatchError:
                    continue
        raise RuntimeError(f"attendance of {site_id!r} is being changed too often")

    async def record_roll_call_answer(
        self, meeting_id: str, site_id: str, roll_call_id: str
    ) -> None:
        await self._r.sadd(_answers_key(meeting_id, site_id), roll_call_id)

    async def attendance(self, meeting_id: str) -> list[Attendance]:
        ids = _strs(await self._r.zrange(f"{_meeting_key(meeting_id)}:attendees", 0, -1))
        async with self._r.pipeline(transaction=False) as pipe:
            for site_id in ids:
                pipe.hgetall(_attendance_key(meeting_id, site_id))
                pipe.scard(_answers_key(meeting_id, site_id))
            rows: list[Any] = await pipe.execute()
        return [
            _attendance(site_id, _hash(rows[2 * i]), int(rows[2 * i + 1]))
            for i, site_id in enumerate(ids)
        ]
