"""Chat kept for the meeting: a bounded history and who may read each message."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

ChatTarget = Literal["all", "host"]
MAX_CHAT_TEXT = 1000
HISTORY_LIMIT = 500
# one site must not flood 300 others: a burst of 5, then one message every 2 s
CHAT_BURST = 5
CHAT_REFILL_MS = 2_000


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: int
    from_id: str
    from_name: str
    to: ChatTarget
    text: str
    ts: float  # Unix seconds

    def visible_to(self, participant_id: str, role: str) -> bool:
        """`to: host` reaches the hosts and its sender only."""
        return self.to == "all" or role == "host" or participant_id == self.from_id


class ChatHistory:
    def __init__(self, limit: int = HISTORY_LIMIT):
        self._messages: deque[ChatMessage] = deque(maxlen=limit)
        self._next_id = 1

    def add(
        self, from_id: str, from_name: str, to: ChatTarget, text: str, ts: float
    ) -> ChatMessage:
        message = ChatMessage(self._next_id, from_id, from_name, to, text, ts)
        self._next_id += 1
        self._messages.append(message)
        return message

    def visible_to(self, participant_id: str, role: str) -> list[ChatMessage]:
        """What a (late) joiner is shown, oldest first."""
        return [m for m in self._messages if m.visible_to(participant_id, role)]


class ChatRateLimit:
    """A token bucket per sender; times are milliseconds on any monotonic clock."""

    def __init__(self, burst: int = CHAT_BURST, refill_ms: int = CHAT_REFILL_MS):
        self._burst = burst
        self._refill_ms = refill_ms
        self._buckets: dict[str, tuple[float, int]] = {}  # sender -> (tokens, at)

    def allow(self, sender: str, now_ms: int) -> bool:
        tokens, at = self._buckets.get(sender, (float(self._burst), now_ms))
        tokens = min(float(self._burst), tokens + (now_ms - at) / self._refill_ms)
        allowed = tokens >= 1
        self._buckets[sender] = (tokens - 1 if allowed else tokens, now_ms)
        return allowed
