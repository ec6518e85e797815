"""Who may send which control message, and what each host action does to a live meeting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .control_protocol import (
    ChatSend,
    ControlMessage,
    HostAction,
    HostAdmit,
    HostDeny,
    HostEnd,
    HostFloor,
    HostLock,
    HostLowerHand,
    HostMute,
    HostMuteAll,
    HostRemove,
    HostSpotlight,
    HostUnmute,
    RaiseHand,
    RollCallAnswer,
    RollCallStart,
    RollCallStop,
)
from .fields import ProtocolError
from .meeting_control import UnknownParticipant, mute_all

if TYPE_CHECKING:
    from .meeting_hub import LiveMeeting, MeetingHub


def require_permission(role: str, message: ControlMessage) -> None:
    """Refuse (`forbidden`) what this role may not do; checked before anything changes."""
    if isinstance(message, RaiseHand):
        return
    if isinstance(message, ChatSend):
        if role == "viewer":
            raise ProtocolError("forbidden", "a viewer may not chat")
        return
    if isinstance(message, RollCallAnswer):
        if role != "participant":
            raise ProtocolError("forbidden", "only a participant site answers a roll call")
        return
    if role != "host":
        raise ProtocolError("forbidden", f"only a host may do this (your role is {role})")


async def apply_host_action(hub: MeetingHub, live: LiveMeeting, action: HostAction) -> None:
    control = live.control
    try:
        match action:
            case HostMute(participant_id=pid, kind=kind):
                hub.mute(live, pid, kind)
            case HostMuteAll():
                for pid in mute_all(hub.present(live)):
                    hub.mute(live, pid, "audio")
            case HostUnmute(participant_id=pid):
                hub.unmute(live, pid)
            case HostRemove(participant_id=pid, revoke=revoke):
                await hub.remove(live, pid, revoke=revoke)
            case HostLock(locked=locked):
                control.locked = locked
            case HostAdmit(participant_id=pid):
                control.admit(pid)
                live.waiting.pop(pid).admit()
            case HostDeny(participant_id=pid):
                control.deny(pid)
                live.waiting.pop(pid).end("lobby_denied", "the host did not let this site in")
            case HostLowerHand(participant_id=pid):
                hub.participant(live, pid)
                control.raise_hand(pid, False)
            case HostFloor(participant_id=None):
                hub.apply_floor(live, control.take_floor(hub.present(live)))
            case HostFloor(participant_id=pid) if pid is not None:
                hub.participant(live, pid)
                hub.apply_floor(live, control.give_floor(pid, hub.present(live)))
            case HostSpotlight(participant_id=pid):
                if pid is not None:
                    hub.participant(live, pid)
                control.spotlight = pid
            case HostEnd():
                await hub.end(live)
            case RollCallStart():
                await hub.start_roll_call(live)
            case RollCallStop():
                if control.roll_call is None or not control.roll_call.open:
                    raise ProtocolError("no_roll_call", "no roll call is open")
                control.roll_call.open = False
    except UnknownParticipant as exc:
        raise ProtocolError("unknown_participant", str(exc)) from exc
