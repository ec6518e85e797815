"""Attendance in both stores (SQLite and Redis): joins, leaves, reconnects, roll-call answers."""

from __future__ import annotations

from signaling.meetings.models import Attendance, Meeting
from signaling.meetings.store import MeetingStore

T0 = 1_780_000_000.0


async def _meeting(store: MeetingStore, id: str = "m1") -> None:
    await store.create_meeting(Meeting(id=id, title="Họp", starts_at=None, created_at="x"))


async def test_nobody_joined_yet(store: MeetingStore) -> None:
    await _meeting(store)
    assert await store.attendance("m1") == []


async def test_joins_and_leaves_add_up(store: MeetingStore) -> None:
    await _meeting(store)
    await store.record_join("m1", "s1", T0)
    await store.record_join("m1", "s2", T0 + 5)
    await store.record_leave("m1", "s1", T0 + 60)
    await store.record_join("m1", "s1", T0 + 100)
    await store.record_leave("m1", "s1", T0 + 130.5)
    s1, s2 = await store.attendance("m1")
    assert s1 == Attendance(
        site_id="s1",
        first_joined_at=T0,
        last_left_at=T0 + 130.5,
        closed_seconds=90.5,
        connected_since=None,
        joins=2,
        roll_calls_answered=0,
    )
    assert s2.site_id == "s2" and s2.connected_since == T0 + 5 and s2.last_left_at is None
    assert s2.connected_seconds(T0 + 65) == 60
    assert s1.connected_seconds(T0 + 1000) == 90.5


async def test_reconnect_while_connected_keeps_the_first_start(store: MeetingStore) -> None:
    """A site that replaces its own socket never left: one continuous connection."""
    await _meeting(store)
    await store.record_join("m1", "s1", T0)
    await store.record_join("m1", "s1", T0 + 10)
    await store.record_leave("m1", "s1", T0 + 30)
    (s1,) = await store.attendance("m1")
    assert (s1.joins, s1.closed_seconds, s1.connected_since) == (2, 30, None)


async def test_roll_call_answers_count_each_roll_call_once(store: MeetingStore) -> None:
    await _meeting(store)
    await _meeting(store, "m2")
    await store.record_join("m1", "s1", T0)
    await store.record_join("m2", "s1", T0)
    for roll_call in ("rc1", "rc1", "rc2"):
        await store.record_roll_call_answer("m1", "s1", roll_call)
    (m1,) = await store.attendance("m1")
    (m2,) = await store.attendance("m2")
    assert (m1.roll_calls_answered, m2.roll_calls_answered) == (2, 0)
