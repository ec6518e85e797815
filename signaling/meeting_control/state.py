"""Lock, lobby, hand queue, floor, spotlight and who may come back, for one room."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

from ..meetings.models import MeetingPolicy
from .roll_call import Presence, RollCall, RollCallHeader

# what a join gets: in, wait in the lobby, or refused
Admission = Literal["join", "lobby", "locked", "revoked"]
# host_unmute: open the site's mic, or only ask it
UnmuteMode = Literal["open", "ask"]


class UnknownParticipant(Exception):
    """A host action named nobody it can apply to; the state is unchanged."""

    def __init__(self, participant_id: str, where: str):
        super().__init__(f"no participant {participant_id!r} {where}")
        self.participant_id = participant_id


@dataclass(frozen=True, slots=True)
class LobbyEntry:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Present:
    """A joined participant, as the mute plans need it."""

    id: str
    role: str
    audio_muted: bool


@dataclass(frozen=True, slots=True)
class FloorPlan:
    """What giving (or taking back) the floor does to microphones."""

    mute: tuple[str, ...]  # audio to mute, each told `muted_by_host`
    speaker: str | None = None  # opened or asked to unmute, as unmute_mode() says


@dataclass(frozen=True, slots=True)
class MeetingState:
    """Everything `meeting_state` carries; equal snapshots mean nothing to announce."""

    locked: bool
    lobby: bool
    spotlight: str | None
    floor: str | None
    hands: tuple[str, ...]
    roll_call: RollCallHeader | None
    policy: MeetingPolicy


class MeetingControl:
    def __init__(self, policy: MeetingPolicy):
        self.policy = policy
        self.locked = False
        self.spotlight: str | None = None
        self.floor: str | None = None
        self.roll_call: RollCall | None = None
        self._hands: list[str] = []
        self._lobby: dict[str, LobbyEntry] = {}  # arrival order
        self._admitted: set[str] = set()  # joined once: may come back while locked
        self._revoked: set[str] = set()  # removed with revoke (covers links without jti)
        self._presence: dict[str, Presence] = {}

    def state(self) -> MeetingState:
        return MeetingState(
            locked=self.locked,
            lobby=self.policy.lobby,
            spotlight=self.spotlight,
            floor=self.floor,
            hands=tuple(self._hands),
            roll_call=None if self.roll_call is None else self.roll_call.header(),
            policy=self.policy,
        )

    @property
    def lobby(self) -> tuple[LobbyEntry, ...]:
        return tuple(self._lobby.values())

    # --- entering --------------------------------------------------------------------

    def admission(self, participant_id: str, role: str) -> Admission:
        if participant_id in self._revoked:
            return "revoked"
        if role == "host" or participant_id in self._admitted:
            return "join"
        if self.locked:
            return "locked"
        return "lobby" if self.policy.lobby else "join"

    def wait(self, participant_id: str, name: str) -> None:
        """Queue in the lobby; a site that reconnects while waiting keeps its place."""
        self._lobby[participant_id] = LobbyEntry(participant_id, name)

    def leave_lobby(self, participant_id: str) -> None:
        self._lobby.pop(participant_id, None)

    def admit(self, participant_id: str) -> LobbyEntry:
        entry = self._take_waiting(participant_id)
        self._admitted.add(participant_id)
        return entry

    def deny(self, participant_id: str) -> LobbyEntry:
        return self._take_waiting(participant_id)

    def _take_waiting(self, participant_id: str) -> LobbyEntry:
        entry = self._lobby.pop(participant_id, None)
        if entry is None:
            raise UnknownParticipant(participant_id, "in the lobby")
        return entry

    def joined(self, participant_id: str, at: float) -> None:
        self._admitted.add(participant_id)
        earlier = self._presence.get(participant_id)
        first = at if earlier is None else earlier.first_joined_at
        self._presence[participant_id] = Presence(first_joined_at=first, last_left_at=None)

    def left(self, participant_id: str, at: float) -> None:
        """A site that drops leaves the hand queue; floor and spotlight wait for it."""
        self.raise_hand(participant_id, False)
        earlier = self._presence.get(participant_id)
        if earlier is not None:
            self._presence[participant_id] = replace(earlier, last_left_at=at)

    @property
    def presence(self) -> Mapping[str, Presence]:
        return MappingProxyType(self._presence)

    def remove(self, participant_id: str, *, revoke: bool) -> None:
        """The host removed it: it loses its place, its admission and (revoke) its way back."""
        self._admitted.discard(participant_id)
        self.raise_hand(participant_id, False)
        if self.floor == participant_id:
            self.floor = None
        if self.spotlight == participant_id:
            self.spotlight = None
        if revoke:
            self._revoked.add(participant_id)

    # --- hands, spotlight, floor -----------------------------------------------------

    def raise_hand(self, participant_id: str, raised: bool) -> None:
        if raised and participant_id not in self._hands:
            self._hands.append(participant_id)
        elif not raised and participant_id in self._hands:
            self._hands.remove(participant_id)

    def unmute_mode(self) -> UnmuteMode:
        return "open" if self.policy.host_may_unmute else "ask"

    def give_floor(self, participant_id: str, present: Iterable[Present]) -> FloorPlan:
        """Every other non-host is muted, the site is opened or asked, spotlit, unqueued."""
        self.floor = participant_id
        self.spotlight = participant_id
        self.raise_hand(participant_id, False)
        others = [p for p in present if p.id != participant_id]
        return FloorPlan(mute=mute_all(others), speaker=participant_id)

    def take_floor(self, present: Iterable[Present]) -> FloorPlan:
        """The site that had the floor is muted and the spotlight cleared."""
        holder, self.floor = self.floor, None
        self.spotlight = None
        return FloorPlan(mute=tuple(p.id for p in present if p.id == holder and not p.audio_muted))


def mute_all(present: Iterable[Present]) -> tuple[str, ...]:
    """Who host_mute_all mutes: every non-host whose mic is open."""
    return tuple(p.id for p in present if p.role != "host" and not p.audio_muted)
