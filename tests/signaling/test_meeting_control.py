"""The pure meeting-control state: admission, lobby, hands, floor, spotlight, chat, roll call."""

from __future__ import annotations

import pytest

from bridge.media.health import MediaHealth
from signaling.meeting_control import (
    ChatHistory,
    ChatRateLimit,
    FloorPlan,
    MeetingControl,
    Presence,
    Present,
    RollCall,
    RosterSite,
    UnknownParticipant,
    link_status,
    mute_all,
)
from signaling.meetings.models import MeetingPolicy

T0 = 1_780_000_000.0


def control(**policy: bool) -> MeetingControl:
    return MeetingControl(MeetingPolicy(**policy))  # type: ignore[arg-type]


def test_admission_by_role_lock_lobby_and_revocation() -> None:
    c = control(lobby=True)
    assert c.admission("site", "participant") == "lobby"
    assert c.admission("viewer", "viewer") == "lobby"
    assert c.admission("chair", "host") == "join"
    c.wait("site", "Xã A")
    c.admit("site")
    assert c.admission("site", "participant") == "join"  # admitted once: comes back freely
    c.locked = True
    assert c.admission("site", "participant") == "join"
    assert c.admission("new", "participant") == "locked"
    assert c.admission("chair", "host") == "join"
    c.remove("site", revoke=False)
    assert c.admission("site", "participant") == "locked"
    c.remove("chair", revoke=True)
    assert c.admission("chair", "host") == "revoked"


def test_without_lobby_everyone_joins_until_locked() -> None:
    c = control(lobby=False)
    assert c.admission("a", "participant") == "join"
    c.joined("a", T0)
    c.locked = True
    assert (c.admission("a", "participant"), c.admission("b", "viewer")) == ("join", "locked")


def test_lobby_keeps_arrival_order_and_refuses_strangers() -> None:
    c = control(lobby=True)
    for pid in ("b", "a", "c"):
        c.wait(pid, pid.upper())
    c.wait("b", "B again")  # a reconnecting waiter keeps its place
    assert [(e.id, e.name) for e in c.lobby] == [("b", "B again"), ("a", "A"), ("c", "C")]
    assert c.deny("a").id == "a"
    c.leave_lobby("c")
    assert [e.id for e in c.lobby] == ["b"]
    with pytest.raises(UnknownParticipant, match="'a' in the lobby"):
        c.admit("a")
    assert c.admission("a", "participant") == "lobby"  # denied is not admitted


def test_hand_queue_is_first_come_first_served() -> None:
    c = control()
    for pid in ("c", "a", "b", "a"):
        c.raise_hand(pid, True)
    assert c.state().hands == ("c", "a", "b")
    c.raise_hand("a", False)
    c.raise_hand("zz", False)
    c.left("c", T0)
    assert c.state().hands == ("b",)


def people(*spec: tuple[str, str, bool]) -> list[Present]:
    return [Present(pid, role, muted) for pid, role, muted in spec]


ROOM = people(
    ("chair", "host", False),
    ("a", "participant", False),
    ("b", "participant", True),
    ("c", "participant", False),
    ("v", "viewer", False),
)


def test_mute_all_spares_hosts_and_the_already_muted() -> None:
    assert mute_all(ROOM) == ("a", "c", "v")


@pytest.mark.parametrize("may_unmute", [True, False])
def test_give_floor_mutes_others_spotlights_and_unqueues(may_unmute: bool) -> None:
    c = control(host_may_unmute=may_unmute)
    c.raise_hand("c", True)
    c.raise_hand("b", True)
    plan = c.give_floor("b", ROOM)
    assert plan == FloorPlan(mute=("a", "c", "v"), speaker="b")
    assert c.unmute_mode() == ("open" if may_unmute else "ask")
    state = c.state()
    assert (state.floor, state.spotlight, state.hands) == ("b", "b", ("c",))


def test_take_floor_mutes_the_holder_and_clears_the_spotlight() -> None:
    c = control()
    c.give_floor("a", ROOM)
    assert c.take_floor(ROOM) == FloorPlan(mute=("a",))
    assert (c.floor, c.spotlight) == (None, None)
    assert c.take_floor(ROOM) == FloorPlan(mute=())


def test_removal_clears_floor_spotlight_and_hand_but_leaving_keeps_the_floor() -> None:
    c = control()
    c.give_floor("a", ROOM)
    c.left("a", T0)
    assert (c.floor, c.spotlight) == ("a", "a")  # a dropped link comes back with the floor
    c.raise_hand("a", True)
    c.remove("a", revoke=False)
    assert (c.floor, c.spotlight, c.state().hands) == (None, None, ())


def test_presence_keeps_the_first_join_and_the_last_leave() -> None:
    c = control()
    c.joined("a", T0)
    c.left("a", T0 + 10)
    assert c.presence["a"] == Presence(T0, T0 + 10)
    c.joined("a", T0 + 20)
    assert c.presence["a"] == Presence(T0, None)


def test_state_snapshots_compare_equal_until_something_changes() -> None:
    c = control()
    before = c.state()
    c.raise_hand("a", False)
    assert c.state() == before
    c.locked = True
    assert c.state() != before and c.state().locked


# --- roll call -------------------------------------------------------------------------


def health(media: int | None, rtcp: int | None, link: str | None = "good") -> MediaHealth:
    return MediaHealth(last_media_ms=media, last_rtcp_ms=rtcp, link_state=link)


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        (health(10_000, 10_000), "present"),
        (health(5_000, 0), "present"),  # exactly at both limits
        (health(4_999, 10_000), "poor_link"),  # no media for more than 5 s
        (health(10_000, -1), "poor_link"),  # no RTCP for more than 10 s
        (health(None, 10_000), "poor_link"),  # never sent media
        (health(10_000, None), "poor_link"),
        (health(10_000, 10_000, "weak"), "poor_link"),
        (health(10_000, 10_000, "audio_only"), "present"),
        (health(10_000, 10_000, None), "present"),
    ],
)
def test_link_status(facts: MediaHealth, status: str) -> None:
    assert link_status(facts, now_ms=10_000) == status


def test_roll_call_grid_in_roster_order_with_answers_and_late_joiners() -> None:
    roster = [RosterSite("s-a", "Xã A", "H1", "s-a"), RosterSite("s-b", "Xã B", "H1", "s-b")]
    rc = RollCall("rc1", T0, roster)
    assert rc.answer("s-b", "ignored") == roster[1]
    late = rc.answer("walk-in", "Phường 9")
    assert late == RosterSite("walk-in", "Phường 9", "", "walk-in")
    grid = rc.entries(
        {"s-b": health(1_000, 1_000), "walk-in": health(None, None)},
        {"s-a": Presence(T0, T0 + 5), "s-b": Presence(T0, None)},
        now_ms=2_000,
    )
    assert [(e.site.site_id, e.connected, e.status, e.answered) for e in grid] == [
        ("s-a", False, "absent", False),
        ("s-b", True, "present", True),
        ("walk-in", True, "poor_link", True),
    ]
    assert grid[0].presence == Presence(T0, T0 + 5) and grid[2].presence is None
    rc.open = False
    assert rc.header().open is False and rc.header().started_at == T0


# --- chat ------------------------------------------------------------------------------


def test_chat_to_host_is_seen_by_hosts_and_its_sender_only() -> None:
    chat = ChatHistory()
    public = chat.add("a", "A", "all", "xin chào", T0)
    private = chat.add("b", "B", "host", "mic hỏng", T0 + 1)
    assert (public.id, private.id) == (1, 2)
    assert chat.visible_to("chair", "host") == [public, private]
    assert chat.visible_to("b", "participant") == [public, private]
    assert chat.visible_to("a", "participant") == [public]
    assert chat.visible_to("v", "viewer") == [public]


def test_chat_history_is_bounded_and_keeps_the_newest() -> None:
    chat = ChatHistory(limit=3)
    for i in range(5):
        chat.add("a", "A", "all", str(i), T0 + i)
    assert [m.text for m in chat.visible_to("a", "participant")] == ["2", "3", "4"]
    assert chat.add("a", "A", "all", "next", T0).id == 6


def test_chat_rate_limit_allows_a_burst_then_one_per_refill() -> None:
    limit = ChatRateLimit(burst=3, refill_ms=1_000)
    assert [limit.allow("a", 0) for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b", 0)  # each sender has its own bucket
    assert not limit.allow("a", 900)
    assert limit.allow("a", 1_000)
    assert not limit.allow("a", 1_500)
    assert [limit.allow("a", 60_000) for _ in range(4)] == [True, True, True, False]
