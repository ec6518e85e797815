"""One suite, two stores (SQLite and Redis): same behaviour, same refusals."""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.synchronize
from dataclasses import replace
from pathlib import Path

import pytest

from signaling.meetings.models import Invitation, Meeting, MeetingPolicy, Site
from signaling.meetings.redis_store import RedisMeetingStore
from signaling.meetings.sqlite_store import SqliteMeetingStore
from signaling.meetings.store import DuplicateSite, MeetingStore, TooManySites, UnknownMeeting


def meeting(id: str = "m1", **changes: object) -> Meeting:
    base = Meeting(
        id=id,
        title="Họp tỉnh",
        starts_at="2026-06-01T08:00:00+07:00",
        policy=MeetingPolicy(),
        status="scheduled",
        created_at="2026-05-01T00:00:00+00:00",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def site(id: str, name: str, meeting_id: str = "m1") -> Site:
    return Site(id=id, meeting_id=meeting_id, name=name, district="Hòa Vang", contact="0900")


def invitation(id: str, site_id: str, meeting_id: str = "m1") -> Invitation:
    return Invitation(
        id=id,
        meeting_id=meeting_id,
        site_id=site_id,
        role="participant",
        revoked=False,
        expires_at="2026-06-03T01:00:00+00:00",
    )


async def test_create_get_and_list_in_creation_order(store: MeetingStore) -> None:
    assert await store.get_meeting("m1") is None
    assert await store.list_meetings() == []
    first = meeting("m1")
    second = meeting("m2", title="Second", starts_at=None, policy=MeetingPolicy(lobby=True))
    await store.create_meeting(first)
    await store.create_meeting(second)
    assert await store.get_meeting("m1") == first
    assert await store.get_meeting("m2") == second
    assert [m.id for m in await store.list_meetings()] == ["m1", "m2"]


async def test_update_changes_title_schedule_policy_but_never_status(store: MeetingStore) -> None:
    await store.create_meeting(meeting())
    await store.set_status("m1", "ended")
    policy = MeetingPolicy(mics_muted_on_entry=False, host_may_unmute=True, lobby=True, max_sites=5)
    updated = await store.update_meeting("m1", title="New", starts_at=None, policy=policy)
    assert updated == meeting(title="New", starts_at=None, policy=policy, status="ended")
    assert await store.get_meeting("m1") == updated


async def test_status_changes(store: MeetingStore) -> None:
    await store.create_meeting(meeting())
    assert (await store.set_status("m1", "live")).status == "live"
    assert (await store.set_status("m1", "ended")).status == "ended"
    got = await store.get_meeting("m1")
    assert got is not None and got.status == "ended"


async def test_unknown_meeting_is_refused_by_writes(store: MeetingStore) -> None:
    with pytest.raises(UnknownMeeting):
        await store.update_meeting("nope", title="t", starts_at=None, policy=MeetingPolicy())
    with pytest.raises(UnknownMeeting):
        await store.set_status("nope", "ended")
    with pytest.raises(UnknownMeeting):
        await store.add_sites("nope", [site("s1", "A", "nope")], [])
    assert await store.get_meeting("nope") is None
    assert await store.list_sites("nope") == []
    assert await store.list_invitations("nope") == []


async def test_sites_and_invitations_round_trip_in_order(store: MeetingStore) -> None:
    await store.create_meeting(meeting())
    sites = [site("s1", "Xã Hòa An"), site("s2", "Xã Hòa Bắc"), site("s3", "Phường 1")]
    invs = [invitation(f"i{n}", s.id) for n, s in enumerate(sites)]
    await store.add_sites("m1", sites, invs)
    more = [site("s4", "Xã Hòa Phú")]
    await store.add_sites("m1", more, [invitation("i9", "s4")])
    assert await store.list_sites("m1") == [*sites, *more]
    assert await store.list_invitations("m1") == [*invs, invitation("i9", "s4")]
    assert await store.get_invitation("i1") == invs[1]
    assert await store.get_invitation("missing") is None


async def test_duplicate_site_names_are_refused_atomically(store: MeetingStore) -> None:
    await store.create_meeting(meeting())
    await store.add_sites("m1", [site("s1", "Xã Hòa An")], [invitation("i1", "s1")])
    # same name after case/space/Unicode folding, along with a new one: nothing is added
    batch = [site("s2", "Xã Hòa Nhơn"), site("s3", "  XÃ   hòa an ")]
    with pytest.raises(DuplicateSite) as err:
        await store.add_sites("m1", batch, [invitation("i2", "s2"), invitation("i3", "s3")])
    assert err.value.name == "  XÃ   hòa an "
    assert [s.id for s in await store.list_sites("m1")] == ["s1"]
    assert [i.id for i in await store.list_invitations("m1")] == ["i1"]
    assert await store.get_invitation("i2") is None
    # repeated within one batch
    with pytest.raises(DuplicateSite):
        await store.add_sites("m1", [site("s4", "B"), site("s5", "b")], [])
    assert [s.id for s in await store.list_sites("m1")] == ["s1"]


async def test_same_name_in_another_meeting_is_fine(store: MeetingStore) -> None:
    await store.create_meeting(meeting("m1"))
    await store.create_meeting(meeting("m2"))
    await store.add_sites("m1", [site("s1", "A")], [])
    await store.add_sites("m2", [site("s2", "A", "m2")], [])
    assert [s.id for s in await store.list_sites("m2")] == ["s2"]


async def test_max_sites_is_enforced(store: MeetingStore) -> None:
    await store.create_meeting(meeting(policy=MeetingPolicy(max_sites=2)))
    await store.add_sites("m1", [site("s1", "A")], [])
    with pytest.raises(TooManySites) as err:
        await store.add_sites("m1", [site("s2", "B"), site("s3", "C")], [])
    assert (err.value.limit, err.value.existing, err.value.adding) == (2, 1, 2)
    await store.add_sites("m1", [site("s2", "B")], [])
    assert len(await store.list_sites("m1")) == 2


async def test_revoke_is_idempotent_and_scoped_to_its_meeting(store: MeetingStore) -> None:
    await store.create_meeting(meeting("m1"))
    await store.create_meeting(meeting("m2"))
    await store.add_sites("m1", [site("s1", "A")], [invitation("i1", "s1")])
    assert await store.revoke_invitation("m2", "i1") is None
    assert await store.revoke_invitation("m1", "missing") is None
    first = await store.revoke_invitation("m1", "i1")
    assert first == replace(invitation("i1", "s1"), revoked=True)
    assert await store.revoke_invitation("m1", "i1") == first
    assert await store.get_invitation("i1") == first


async def test_concurrent_imports_never_duplicate_a_name(store: MeetingStore) -> None:
    await store.create_meeting(meeting())
    results = await asyncio.gather(
        *(store.add_sites("m1", [site(f"s{n}", "Same")], []) for n in range(8)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, DuplicateSite) for r in results if r is not None)
    assert len(await store.list_sites("m1")) == 1


async def test_sqlite_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    first = SqliteMeetingStore(path)
    await first.open()
    await first.create_meeting(meeting())
    await first.add_sites("m1", [site("s1", "A")], [invitation("i1", "s1")])
    await first.close()
    second = SqliteMeetingStore(path)
    await second.open()
    try:
        assert await second.get_meeting("m1") == meeting()
        assert await second.get_invitation("i1") == invitation("i1", "s1")
    finally:
        await second.close()


async def test_redis_keys_are_prefixed(redis_url: str) -> None:
    import redis.asyncio as aioredis

    store = RedisMeetingStore(redis_url)
    await store.open()
    try:
        await store.create_meeting(meeting())
        await store.add_sites("m1", [site("s1", "A")], [invitation("i1", "s1")])
    finally:
        await store.close()
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = [k async for k in client.scan_iter("*")]
    finally:
        await client.aclose()
    assert keys and all(k.startswith("diemcau:") for k in keys)


async def test_store_used_before_open_says_so(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="before open"):
        await SqliteMeetingStore(tmp_path / "x.sqlite3").list_meetings()
    with pytest.raises(RuntimeError, match="before open"):
        await RedisMeetingStore("redis://127.0.0.1:1/0").list_meetings()


def _open_at_once(path: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    async def run() -> None:
        store = SqliteMeetingStore(path)
        barrier.wait()
        await store.open()
        await store.close()

    asyncio.run(run())


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    """`diemcau serve --workers N`: workers opened the same new file together, and the one
    losing the race to switch it to WAL got "database is locked" and exited (CI)."""
    ctx = multiprocessing.get_context("fork")
    for i in range(30):
        barrier = ctx.Barrier(3)
        path = str(tmp_path / f"m{i}.db")
        procs = [ctx.Process(target=_open_at_once, args=(path, barrier)) for _ in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        assert [p.exitcode for p in procs] == [0, 0, 0], i
