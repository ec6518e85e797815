"""Rate limit for key frame requests (PLI/FIR, RFC 4585 §6.3.1, RFC 5104 §4.3.1)."""

from __future__ import annotations


class KeyframeRequestThrottle:
    """Allows at most one request per ``min_interval_ms``."""

    __slots__ = ("_last_ms", "_min_interval_ms")

    def __init__(self, min_interval_ms: int = 300) -> None:
        if min_interval_ms < 0:
            raise ValueError(f"min_interval_ms must be >= 0, got {min_interval_ms}")
        self._min_interval_ms = min_interval_ms
        self._last_ms: int | None = None

    def should_send(self, now_ms: int) -> bool:
        """True (and the request counts as sent) if the interval has passed."""
        last = self._last_ms
        if last is not None and now_ms - last < self._min_interval_ms:
            return False
        self._last_ms = now_ms
        return True
