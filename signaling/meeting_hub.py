"""Live meetings of this process: per room, the control state, who is in, who waits, and
the messages a change causes. One process only: nothing fans out over Redis yet."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from aiohttp import web

from bridge.media.participant import Participant
from bridge.media.peer import Kind
from bridge.media.room import Room
from bridge.media.rooms import RoomRegistry

from .auth import participant_id
from .control_protocol import (
    ChatSend,
    ControlMessage,
    RaiseHand,
    RollCallAnswer,
    chat_message,
    lobby_message,
    meeting_state_message,
    roll_call_message,
)
from .counters import SignalingCounters
from .fields import ProtocolError
from .host_actions import apply_host_action, require_permission
from .meeting_control import (
    ChatHistory,
    ChatRateLimit,
    ChatTarget,
    FloorPlan,
    LobbyEntry,
    MeetingControl,
    MeetingState,
    Present,
    RollCall,
    RosterSite,
)
from .meetings.models import Meeting, MeetingPolicy, new_id
from .meetings.store import MeetingStore

log = logging.getLogger("diemcau.meetings")

ROLL_CALL_INTERVAL_S = 1.0


class Member(Protocol):
    """A session as the hub sees it."""

    @property
    def participant_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def invitation_id(self) -> str | None:
        """The `jti` of its token; None for ad-hoc links."""
        ...

    @property
    def site_id(self) -> str | None:
        """The meeting site it joined as (invitation links only)."""
        ...

    def send(self, message: dict[str, Any]) -> None: ...

    def end(self, code: str, reason: str) -> None:
        """Send error `code` and close the socket with its close code."""
        ...

    def admit(self) -> None:
        """Leave the lobby and join the room now."""
        ...


@dataclass(eq=False)
class LiveMeeting:
    room: str
    meeting: Meeting | None  # None: an ad-hoc room
    control: MeetingControl
    chat: ChatHistory = field(default_factory=ChatHistory)
    chat_limit: ChatRateLimit = field(default_factory=ChatRateLimit)
    members: dict[str, Member] = field(default_factory=dict)  # joined, by participant id
    waiting: dict[str, Member] = field(default_factory=dict)  # in the lobby
    ended: bool = False
    announced: MeetingState | None = None
    announced_lobby: tuple[LobbyEntry, ...] = ()
    roll_call_task: asyncio.Task[None] | None = None

    def hosts(self) -> Iterator[Member]:
        return (m for m in list(self.members.values()) if m.role == "host")


class MeetingHub:
    def __init__(
        self,
        registry: RoomRegistry,
        store: MeetingStore,
        counters: SignalingCounters,
        *,
        clock: Callable[[], int],
        wall: Callable[[], float],
        roll_call_interval_s: float = ROLL_CALL_INTERVAL_S,
    ):
        self._registry = registry
        self._store = store
        self._counters = counters
        self._clock = clock  # the bridge's clock (ms), the one media health uses
        self._wall = wall  # Unix seconds, for what people read: chat, joins, roll calls
        self._interval = roll_call_interval_s
        self._live: dict[str, LiveMeeting] = {}

    # --- entering and leaving --------------------------------------------------------

    def live(self, room: str, meeting: Meeting | None) -> LiveMeeting:
        """The room's live state, created on first use; `meeting` refreshes its policy."""
        live = self._live.get(room)
        if live is None:
            policy = meeting.policy if meeting is not None else MeetingPolicy()
            live = self._live[room] = LiveMeeting(room, meeting, MeetingControl(policy))
            live.announced = live.control.state()
        elif meeting is not None:
            self.refresh(meeting)
        return live

    def refresh(self, meeting: Meeting) -> None:
        """The meeting was changed (admin API): its new policy applies from now on."""
        live = self._live.get(meeting.id)
        if live is not None:
            live.meeting = meeting
            live.control.policy = meeting.policy
            self._announce(live)

    def wait(self, live: LiveMeeting, member: Member) -> None:
        pid = member.participant_id
        earlier = live.waiting.get(pid)
        if earlier is not None:
            earlier.end("replaced", "the same identity is waiting from another connection")
        live.waiting[pid] = member
        live.control.wait(pid, member.name)
        self._announce(live)

    def welcome(self, live: LiveMeeting, member: Member) -> dict[str, Any]:
        """What `joined` carries besides the media view: meeting state and visible chat."""
        chat = live.chat.visible_to(member.participant_id, member.role)
        return {
            "meeting": meeting_state_message(live.control.state()),
            "chat": [chat_message(m) for m in chat],
        }

    async def joined(self, live: LiveMeeting, member: Member) -> None:
        """Call right after `joined` was sent, before any await."""
        pid = member.participant_id
        if live.ended:
            member.end("meeting_ended", "the meeting has ended")
            return
        live.members[pid] = member
        now = self._wall()
        live.control.joined(pid, now)
        if member.role == "host":
            member.send(lobby_message(live.control.lobby))
            roll_call = live.control.roll_call
            if roll_call is not None:
                member.send(self._roll_call_grid(live, roll_call))
        self._announce(live)
        meeting = live.meeting
        if meeting is None:
            return
        if meeting.status == "scheduled":
            live.meeting = replace(meeting, status="live")
            await self._persist("status", self._store.set_status(meeting.id, "live"))
            log.info("meeting live id=%s", meeting.id)
        if member.site_id is not None:
            await self._persist("join", self._store.record_join(meeting.id, member.site_id, now))

    async def left(self, live: LiveMeeting, member: Member) -> None:
        pid = member.participant_id
        if live.waiting.get(pid) is member:
            del live.waiting[pid]
            live.control.leave_lobby(pid)
            self._announce(live)
        if live.members.get(pid) is not member:
            return  # never joined, or replaced by a newer connection of the same identity
        del live.members[pid]
        now = self._wall()
        live.control.left(pid, now)
        self._announce(live)
        if live.meeting is None and not live.members and not live.waiting:
            self._drop(live)  # an ad-hoc room keeps nothing once empty
        elif live.meeting is not None and member.site_id is not None:
            leave = self._store.record_leave(live.meeting.id, member.site_id, now)
            await self._persist("leave", leave)

    # --- what the API does to live sessions ------------------------------------------

    def meeting_ended(self, meeting_id: str) -> None:
        """Close every socket of the meeting (4410); it is already `ended` in the store."""
        live = self._live.get(meeting_id)
        if live is None:
            return
        self._drop(live)
        for member in [*live.members.values(), *live.waiting.values()]:
            member.end("meeting_ended", "the meeting has ended")

    def invitation_revoked(self, meeting_id: str, invitation_id: str) -> None:
        live = self._live.get(meeting_id)
        if live is None:
            return
        for member in [*live.members.values(), *live.waiting.values()]:
            if member.invitation_id == invitation_id:
                pid = member.participant_id
                live.control.remove(pid, revoke=True)
                if live.waiting.get(pid) is member:
                    del live.waiting[pid]  # out of the lobby now: nobody can admit it
                    live.control.leave_lobby(pid)
                member.end("invitation_revoked", "this invitation has been revoked")
        self._announce(live)

    async def close(self) -> None:
        for live in list(self._live.values()):
            self._drop(live)

    def _drop(self, live: LiveMeeting) -> None:
        live.ended = True
        if self._live.get(live.room) is live:
            del self._live[live.room]
        if live.roll_call_task is not None:
            live.roll_call_task.cancel()

    # --- messages from anyone --------------------------------------------------------

    async def handle(self, live: LiveMeeting, member: Member, message: ControlMessage) -> None:
        """Apply one control message; refusals raise ProtocolError and change nothing."""
        require_permission(member.role, message)
        match message:
            case RaiseHand(raised=raised):
                live.control.raise_hand(member.participant_id, raised)
            case ChatSend(text=text, to=to):
                self._chat(live, member, text, to)
            case RollCallAnswer():
                await self._answer_roll_call(live, member)
            case _:
                log.info(
                    "host action room=%s host=%s %s", live.room, member.participant_id, message
                )
                await apply_host_action(self, live, message)
        self._announce(live)

    def _chat(self, live: LiveMeeting, member: Member, text: str, to: ChatTarget) -> None:
        if member.role != "host" and not live.chat_limit.allow(
            member.participant_id, self._clock()
        ):
            raise ProtocolError("rate_limited", "too many chat messages; wait a moment")
        message = live.chat.add(member.participant_id, member.name, to, text, self._wall())
        wire = chat_message(message)
        for reader in list(live.members.values()):
            if message.visible_to(reader.participant_id, reader.role):
                reader.send(wire)

    async def _answer_roll_call(self, live: LiveMeeting, member: Member) -> None:
        roll_call = live.control.roll_call
        if roll_call is None or not roll_call.open:
            raise ProtocolError("no_roll_call", "no roll call is open")
        roll_call.answer(member.participant_id, member.name)
        if live.meeting is not None and member.site_id is not None:
            answer = self._store.record_roll_call_answer(
                live.meeting.id, member.site_id, roll_call.id
            )
            await self._persist("roll call answer", answer)

    async def _persist(self, what: str, write: Awaitable[object]) -> None:
        """Attendance is worth less than the meeting: a failed write is logged and counted."""
        try:
            await write
        except Exception:
            self._counters.store_failures += 1
            log.warning("meeting store: %s not recorded", what, exc_info=True)

    # --- used by host actions --------------------------------------------------------

    def room(self, live: LiveMeeting) -> Room | None:
        return self._registry.rooms.get(live.room)

    def participant(self, live: LiveMeeting, pid: str) -> Participant:
        """A joined participant of the room, or `unknown_participant`."""
        room = self.room(live)
        found = room.participants.get(pid) if room is not None else None
        if found is None or pid not in live.members:
            raise ProtocolError("unknown_participant", f"no participant {pid!r} in the room")
        return found

    def present(self, live: LiveMeeting) -> list[Present]:
        room = self.room(live)
        people = list(room.participants.values()) if room is not None else []
        return [Present(p.id, p.role, p.info().audio_muted) for p in people]

    def mute(self, live: LiveMeeting, pid: str, kind: Kind) -> None:
        participant = self.participant(live, pid)
        room = self.room(live)
        info = participant.info()
        already = info.audio_muted if kind == "audio" else info.video_muted
        if room is not None and not already:
            room.set_muted(participant, kind, True)
        live.members[pid].send({"type": "muted_by_host", "kind": kind})

    def unmute(self, live: LiveMeeting, pid: str) -> None:
        """Open the site's mic when the policy allows, else ask the site."""
        participant = self.participant(live, pid)
        room = self.room(live)
        if live.control.unmute_mode() == "ask":
            live.members[pid].send({"type": "unmute_request"})
            return
        if room is not None:
            room.set_muted(participant, "audio", False)
        live.members[pid].send({"type": "unmuted_by_host"})

    def apply_floor(self, live: LiveMeeting, plan: FloorPlan) -> None:
        for pid in plan.mute:
            self.mute(live, pid, "audio")
        if plan.speaker is not None:
            self.unmute(live, plan.speaker)

    async def remove(self, live: LiveMeeting, pid: str, *, revoke: bool) -> None:
        """host_remove: disconnect (4403 `removed`); `revoke` also stops its link working."""
        self.participant(live, pid)
        member = live.members[pid]
        live.control.remove(pid, revoke=revoke)
        if revoke and live.meeting is not None and member.invitation_id is not None:
            await self._store.revoke_invitation(live.meeting.id, member.invitation_id)
        member.end("removed", "the host removed this site")

    async def end(self, live: LiveMeeting) -> None:
        """host_end: the meeting is `ended` in the store and every socket closes (4410)."""
        if live.meeting is not None:
            live.meeting = await self._store.set_status(live.meeting.id, "ended")
        log.info("meeting ended room=%s", live.room)
        self._drop(live)
        for member in [*live.members.values(), *live.waiting.values()]:
            member.end("meeting_ended", "the host ended the meeting")

    async def start_roll_call(self, live: LiveMeeting) -> None:
        roster = await self._roster(live)
        roll_call = RollCall(new_id(), self._wall(), roster)
        live.control.roll_call = roll_call
        if live.roll_call_task is not None:
            live.roll_call_task.cancel()
        live.roll_call_task = asyncio.get_running_loop().create_task(
            self._publish_roll_call(live, roll_call)
        )

    async def _roster(self, live: LiveMeeting) -> list[RosterSite]:
        """A meeting's invited participant sites; for an ad-hoc room, who is here now."""
        if live.meeting is None:
            return [
                RosterSite(pid, m.name, "", pid)
                for pid, m in live.members.items()
                if m.role == "participant"
            ]
        expected = {
            i.site_id
            for i in await self._store.list_invitations(live.meeting.id)
            if i.role == "participant" and not i.revoked
        }
        return [
            RosterSite(s.id, s.name, s.district, participant_id(s.id))
            for s in await self._store.list_sites(live.meeting.id)
            if s.id in expected
        ]

    async def _publish_roll_call(self, live: LiveMeeting, roll_call: RollCall) -> None:
        """Send the grid to the hosts when it changed, at most once per interval."""
        sent: dict[str, Any] | None = None
        while live.control.roll_call is roll_call and not live.ended:
            grid = self._roll_call_grid(live, roll_call)
            if grid != sent:
                for host in live.hosts():
                    host.send(grid)
                sent = grid
            if not roll_call.open:
                return
            await asyncio.sleep(self._interval)

    def _roll_call_grid(self, live: LiveMeeting, roll_call: RollCall) -> dict[str, Any]:
        room = self.room(live)
        people = room.participants if room is not None else {}
        health = {pid: people[pid].media_health() for pid in live.members if pid in people}
        entries = roll_call.entries(health, live.control.presence, self._clock())
        return roll_call_message(roll_call.header(), entries)

    # --- announcing ------------------------------------------------------------------

    def _announce(self, live: LiveMeeting) -> None:
        """meeting_state to everyone and lobby to hosts, each only when it changed."""
        if live.ended:
            return
        state = live.control.state()
        if state != live.announced:
            live.announced = state
            message = meeting_state_message(state)
            for member in list(live.members.values()):
                member.send(message)
        lobby = live.control.lobby
        if lobby != live.announced_lobby:
            live.announced_lobby = lobby
            message = lobby_message(lobby)
            for host in live.hosts():
                host.send(message)


MEETING_HUB = web.AppKey("meeting_hub", MeetingHub)
