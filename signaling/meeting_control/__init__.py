"""Per-room meeting control as plain state: no I/O, no clock reads (times are passed in).

`signaling.meeting_hub` owns one of each per live room and applies what they decide."""

from .chat import MAX_CHAT_TEXT, ChatHistory, ChatMessage, ChatRateLimit, ChatTarget
from .roll_call import (
    MEDIA_STALE_MS,
    RTCP_STALE_MS,
    Presence,
    RollCall,
    RollCallEntry,
    RollCallHeader,
    RosterSite,
    SiteStatus,
    link_status,
)
from .state import (
    Admission,
    FloorPlan,
    LobbyEntry,
    MeetingControl,
    MeetingState,
    Present,
    UnknownParticipant,
    UnmuteMode,
    mute_all,
)

__all__ = [
    "MAX_CHAT_TEXT",
    "MEDIA_STALE_MS",
    "RTCP_STALE_MS",
    "Admission",
    "ChatHistory",
    "ChatMessage",
    "ChatRateLimit",
    "ChatTarget",
    "FloorPlan",
    "LobbyEntry",
    "MeetingControl",
    "MeetingState",
    "Presence",
    "Present",
    "RollCall",
    "RollCallEntry",
    "RollCallHeader",
    "RosterSite",
    "SiteStatus",
    "UnknownParticipant",
    "UnmuteMode",
    "link_status",
    "mute_all",
]
