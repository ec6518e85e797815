"""Host controls over the real WebSocket: every host action refused for non-hosts, lobby,
lock, floor, mute, chat, and malformed control messages (sites join without media)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from clients import Site

from signaling.app import REGISTRY
from signaling.meeting_hub import MEETING_HUB
from signaling.meetings import MEETING_STORE

from .meeting_sites import (
    SiteFactory,
    closed,
    join_all,
    meeting,
    refused_join,
    round_trip,
    server,  # noqa: F401  (the fixture)
    token,
    types_since,
    wait_in_lobby,
)

EVERY_ROLE = (("chair", "host"), ("a", "participant"), ("b", "participant"), ("v", "viewer"))
HOST_ACTIONS: dict[str, dict[str, Any]] = {
    "host_mute": {"participant_id": "t", "kind": "audio"},
    "host_mute_all": {},
    "host_unmute": {"participant_id": "t"},
    "host_remove": {"participant_id": "t", "revoke": True},
    "host_lock": {"locked": True},
    "host_admit": {"participant_id": "w"},
    "host_deny": {"participant_id": "w"},
    "host_lower_hand": {"participant_id": "t"},
    "host_floor": {"participant_id": "t"},
    "host_spotlight": {"participant_id": "t"},
    "host_end": {},
    "roll_call_start": {},
    "roll_call_stop": {},
}


def control_snapshot(srv: TestServer, room: str) -> tuple[Any, ...]:
    """What a refused action must leave alone: meeting state, lobby, mics and members."""
    live = srv.app[MEETING_HUB].live(room, None)
    people = srv.app[REGISTRY].rooms[room].participants
    mics = {pid: p.info() for pid, p in people.items()}
    return live.control.state(), live.control.lobby, mics, sorted(live.members)


async def admit(host: Site, guest: Site, pid: str) -> dict[str, Any]:
    await wait_in_lobby(guest)
    await host.send({"type": "host_admit", "participant_id": pid})
    return await guest.wait_for("joined")


@pytest.mark.parametrize("role", ["participant", "viewer"])
@pytest.mark.parametrize("action", sorted(HOST_ACTIONS))
async def test_every_host_action_by_a_non_host_is_forbidden(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
    role: str,
    action: str,
) -> None:
    mid, _ = await meeting(http, server, lobby=True)
    host = site("chair", room=mid, token=token(mid, "chair", "host"))
    await host.join()
    offender = site("o", room=mid, token=token(mid, "o", role))
    target = site("t", room=mid, token=token(mid, "t"))
    waiting = site("w", room=mid, token=token(mid, "w"))
    await admit(host, offender, "o")
    await admit(host, target, "t")
    await target.send({"type": "mute", "kind": "audio", "muted": False})
    await target.send({"type": "raise_hand", "raised": True})
    await host.wait_for("meeting_state", hands=["t"])
    if action == "roll_call_stop":
        await host.send({"type": "roll_call_start"})
        await host.wait_for("roll_call")
    await wait_in_lobby(waiting)
    await host.wait_for("lobby", waiting=[{"id": "w", "name": "w"}])
    everyone = (host, offender, target, waiting)
    await round_trip(*everyone)
    before = control_snapshot(server, mid)
    marks = [len(s.messages) for s in everyone]

    await offender.send({"type": action, **HOST_ACTIONS[action]})
    error = await offender.wait_for("error", request=action)
    assert error["code"] == "forbidden" and f"your role is {role}" in error["reason"]

    await round_trip(*everyone)
    assert control_snapshot(server, mid) == before
    assert [types_since(s, mark) for s, mark in zip(everyone, marks, strict=True)] == [
        [],
        ["error"],
        [],
        [],
    ]
    assert all(s.close_code is None for s in everyone)
    meeting_now = await server.app[MEETING_STORE].get_meeting(mid)
    assert meeting_now is not None and meeting_now.status == "live"


async def test_lobby_admit_and_deny(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
) -> None:
    mid, _ = await meeting(http, server, lobby=True)
    host = site("chair", room=mid, token=token(mid, "chair", "host"))
    joined = await host.join()
    assert joined["meeting"]["lobby"] is True and joined["meeting"]["policy"]["lobby"] is True
    await host.wait_for("lobby", waiting=[])
    a, b = site("a", room=mid, token=token(mid, "a")), site("b", room=mid, token=token(mid, "b"))
    await wait_in_lobby(a)
    await wait_in_lobby(b)
    await host.wait_for("lobby", waiting=[{"id": "a", "name": "a"}, {"id": "b", "name": "b"}])
    # a waiting site may only ping or leave
    await a.send({"type": "raise_hand", "raised": True})
    assert (await a.wait_for("error", request="raise_hand"))["code"] == "in_lobby"
    await host.send({"type": "host_admit", "participant_id": "zz"})
    assert (await host.wait_for("error", request="host_admit"))["code"] == "unknown_participant"

    await host.send({"type": "host_admit", "participant_id": "a"})
    welcome = await a.wait_for("joined")
    assert welcome["self"]["id"] == "a" and welcome["meeting"]["hands"] == []
    await host.wait_for("participant_joined")
    await host.send({"type": "host_deny", "participant_id": "b"})
    denied = await b.wait_for("error")
    assert denied["code"] == "lobby_denied"
    assert await closed(b) == 4403
    await host.wait_for("lobby", waiting=[])
    assert not any(m["type"] == "joined" for m in b.messages)

    # admitted once: a reconnect skips the lobby; a denied site waits again
    await a.close()
    again = site("a", room=mid, token=token(mid, "a"))
    await again.join()
    b2 = site("b", room=mid, token=token(mid, "b"))
    await wait_in_lobby(b2)


async def test_lock_refuses_new_sites_but_not_admitted_ones_or_hosts(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
) -> None:
    host, a = site("chair", role="host"), site("a")
    await host.join()
    await a.join()
    await host.send({"type": "host_lock", "locked": True})
    assert (await a.wait_for("meeting_state", locked=True))["locked"] is True
    assert await refused_join(site("stranger")) == ("meeting_locked", 4423)
    await a.close()
    await site("a").join()  # admitted before the lock
    await site("chair2", role="host").join()
    await host.send({"type": "host_lock", "locked": False})
    await host.wait_for("meeting_state", locked=False)
    await site("stranger").join()


async def open_mic(s: Site, pid: str) -> None:
    await s.send({"type": "mute", "kind": "audio", "muted": False})
    await s.wait_for("mute_changed", participant_id=pid, muted=False)


@pytest.mark.parametrize("host_may_unmute", [False, True])
async def test_give_the_floor_in_one_action(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
    host_may_unmute: bool,
) -> None:
    mid, _ = await meeting(http, server, host_may_unmute=host_may_unmute)
    host = site("chair", room=mid, token=token(mid, "chair", "host"))
    sites = {pid: site(pid, room=mid, token=token(mid, pid)) for pid in ("a", "b", "c")}
    await host.join()
    for pid, s in sites.items():
        assert (await s.join())["self"]["muted"]["audio"] is True  # muted on entry
        await open_mic(s, pid)
    await sites["b"].send({"type": "raise_hand", "raised": True})
    await sites["c"].send({"type": "raise_hand", "raised": True})
    await host.wait_for("meeting_state", hands=["b", "c"])

    await host.send({"type": "host_floor", "participant_id": "b"})
    state = await sites["a"].wait_for("meeting_state", floor="b")
    assert (state["spotlight"], state["hands"]) == ("b", ["c"])
    for pid in ("a", "c"):
        assert (await sites[pid].wait_for("muted_by_host"))["kind"] == "audio"
        await host.wait_for("mute_changed", participant_id=pid, muted=True)
    if host_may_unmute:
        await sites["b"].wait_for("unmuted_by_host")
    else:
        await sites["b"].wait_for("unmute_request")
    await round_trip(host, *sites.values())
    room = server.app[REGISTRY].rooms[mid]
    assert not room.participants["chair"].info().audio_muted  # hosts keep their mic
    assert not any(m["type"] == "muted_by_host" for m in sites["b"].messages)
    assert room.participants["b"].info().audio_muted is False  # its own mic was open

    await host.send({"type": "host_floor", "participant_id": None})
    await sites["a"].wait_for("meeting_state", floor=None, spotlight=None, hands=["c"])
    await sites["b"].wait_for("muted_by_host")
    assert room.participants["b"].info().audio_muted is True


async def test_unmute_asks_or_opens_by_policy(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    http: aiohttp.ClientSession,
) -> None:
    mid, _ = await meeting(http, server, host_may_unmute=True, mics_muted_on_entry=False)
    host = site("chair", room=mid, token=token(mid, "chair", "host"))
    a = site("a", room=mid, token=token(mid, "a"))
    await host.join()
    assert (await a.join())["self"]["muted"]["audio"] is False
    await host.send({"type": "host_mute", "participant_id": "a", "kind": "video"})
    assert (await a.wait_for("muted_by_host"))["kind"] == "video"
    await host.wait_for("mute_changed", participant_id="a", kind="video", muted=True)
    await host.send({"type": "host_mute", "participant_id": "a", "kind": "audio"})
    await host.wait_for("mute_changed", participant_id="a", kind="audio", muted=True)
    await host.send({"type": "host_unmute", "participant_id": "a"})
    await a.wait_for("unmuted_by_host")
    await host.wait_for("mute_changed", participant_id="a", kind="audio", muted=False)
    # the ad-hoc default is to ask
    adhoc_host, b = site("chair"), site("b")
    adhoc_host = site("chair", role="host")
    await adhoc_host.join()
    await b.join()
    await adhoc_host.send({"type": "host_unmute", "participant_id": "b"})
    await b.wait_for("unmute_request")
    assert server.app[REGISTRY].rooms["r1"].participants["b"].info().audio_muted is True


async def test_mute_all_mutes_every_open_non_host_mic(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
) -> None:
    host, a, b, v = await join_all(site, *EVERY_ROLE)
    await open_mic(a, "a")
    await open_mic(host, "chair")
    await host.send({"type": "host_mute_all"})
    assert (await a.wait_for("muted_by_host"))["kind"] == "audio"
    await b.wait_for("mute_changed", participant_id="a", muted=True)
    await round_trip(host, a, b, v)
    # b was muted already (on entry): nothing to tell it; the host keeps its mic
    assert not any(m["type"] == "muted_by_host" for m in (*b.messages, *host.messages))
    room = server.app[REGISTRY].rooms["r1"]
    assert [room.participants[p].info().audio_muted for p in ("chair", "a", "b")] == [
        False,
        True,
        True,
    ]


async def test_chat_to_all_and_to_the_host_and_history_for_late_joiners(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
) -> None:
    host, a, b, v = await join_all(site, *EVERY_ROLE)
    await a.send({"type": "chat", "text": "Xin chào cả tỉnh", "to": "all"})
    for s in (host, a, b, v):
        message = await s.wait_for("chat", text="Xin chào cả tỉnh")
        assert message["from"] == {"id": "a", "name": "a"} and message["to"] == "all"
    await b.send({"type": "chat", "text": "mic hỏng", "to": "host"})
    await host.wait_for("chat", text="mic hỏng")
    await b.wait_for("chat", text="mic hỏng")
    await v.send({"type": "chat", "text": "viewer", "to": "all"})
    assert (await v.wait_for("error", request="chat"))["code"] == "forbidden"
    await round_trip(host, a, b, v)
    for s in (a, v):
        assert [m["text"] for m in s.messages if m["type"] == "chat"] == ["Xin chào cả tỉnh"]

    late, late_host = site("late"), site("chair2", role="host")
    assert [m["text"] for m in (await late.join())["chat"]] == ["Xin chào cả tỉnh"]
    history = (await late_host.join())["chat"]
    assert [(m["id"], m["text"], m["to"]) for m in history] == [
        (1, "Xin chào cả tỉnh", "all"),
        (2, "mic hỏng", "host"),
    ]


async def test_chat_flood_is_refused_and_the_host_is_not_limited(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
) -> None:
    host, a, b, _ = await join_all(site, *EVERY_ROLE)
    for i in range(7):
        await a.send({"type": "chat", "text": f"a{i}", "to": "all"})
        await host.send({"type": "chat", "text": f"h{i}", "to": "all"})
    await round_trip(host, a, b)
    refused = [m["code"] for m in a.messages if m["type"] == "error"]
    assert refused == ["rate_limited", "rate_limited"]
    texts = [m["text"] for m in b.messages if m["type"] == "chat"]
    assert [t for t in texts if t[0] == "a"] == [f"a{i}" for i in range(5)]
    assert [t for t in texts if t[0] == "h"] == [f"h{i}" for i in range(7)]


@pytest.mark.parametrize(
    ("message", "code", "fragment"),
    [
        ({"type": "host_mute", "participant_id": "a"}, "bad_field", "field 'kind'"),
        ({"type": "host_remove", "participant_id": "a"}, "bad_field", "field 'revoke'"),
        ({"type": "chat", "text": "", "to": "all"}, "bad_field", "field 'text'"),
        ({"type": "host_floor", "participant_id": 5}, "bad_field", "'participant_id'"),
        (
            {"type": "host_mute", "participant_id": "ghost", "kind": "audio"},
            "unknown_participant",
            "'ghost'",
        ),
        ({"type": "host_spotlight", "participant_id": "ghost"}, "unknown_participant", "'ghost'"),
        ({"type": "host_deny", "participant_id": "a"}, "unknown_participant", "in the lobby"),
        ({"type": "roll_call_stop"}, "no_roll_call", "no roll call"),
    ],
)
async def test_bad_control_messages_are_refused_and_the_session_goes_on(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
    message: dict[str, Any],
    code: str,
    fragment: str,
) -> None:
    host, a = site("chair", role="host"), site("a")
    await host.join()
    await a.join()
    before = control_snapshot(server, "r1")
    mark = len(a.messages)
    await host.send(message)
    error = await host.wait_for("error", request=message["type"])
    assert error["code"] == code and fragment in error["reason"]
    await round_trip(host, a)
    assert control_snapshot(server, "r1") == before
    assert types_since(a, mark) == [] and a.close_code is None and host.close_code is None
    await host.send({"type": "raise_hand", "raised": True})
    await a.wait_for("meeting_state", hands=["chair"])


async def test_roll_call_answer_needs_a_participant_and_an_open_roll_call(
    site: SiteFactory,
    server: TestServer,  # noqa: F811
) -> None:
    host, a, v = await join_all(site, ("chair", "host"), ("a", "participant"), ("v", "viewer"))
    await a.send({"type": "roll_call_answer"})
    assert (await a.wait_for("error", request="roll_call_answer"))["code"] == "no_roll_call"
    await host.send({"type": "roll_call_start"})
    await a.wait_for("meeting_state", hands=[])
    for who in (host, v):
        await who.send({"type": "roll_call_answer"})
        assert (await who.wait_for("error", request="roll_call_answer"))["code"] == "forbidden"
