"""Rate limit for key frame requests (PLI/FIR, RFC 4585 §6.3.1, RFC 5104 §4.3.1)."""

from __future__ import annotations


class KeyframeRequestThrottle:
    """Allows at most one request per ``min_interval_ms``.

    A keyframe costs 5-10 delta frames. A subscriber on a lossy link asks again and again;
    at one request per 300 ms the publisher sent a keyframe every 300 ms on that layer, which
    raised the layer's rate for every subscriber and made the weak link lose more (and ask
    more). One a second still lets a new or switching subscriber start within a second.
    """

    __slots__ = ("_last_ms", "_min_interval_ms")

    def __init__(self, min_interval_ms: int = 1000) -> None:
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
