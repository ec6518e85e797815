"""When the next packet toward a subscriber may leave: a token bucket.

The bridge forwards a publisher's frame as it arrives, at the publisher's (fiber) speed.
A keyframe is tens of kilobytes in a few milliseconds; a rural link queues only tens of
milliseconds (bench.linkemu: tbf with 50 ms of queue, 2.5 kB at 400 kbit/s) and drops the
rest, audio included. libwebrtc paces everything it sends (PacingController); the bridge
paces video toward a subscriber at a rate the downlink estimate allows.
"""

from __future__ import annotations


class TokenBucket:
    """Bytes leave at ``rate_bps`` on average, at most ``burst_ms`` of it at once."""

    __slots__ = ("_burst", "_burst_ms", "_last_ms", "_rate", "_tokens")

    def __init__(self, rate_bps: int, burst_ms: int, now_ms: float) -> None:
        self._burst_ms = burst_ms
        self._rate = 0.0  # bytes per ms
        self._burst = 0.0
        self._tokens = 0.0
        self._last_ms = now_ms
        self.set_rate(rate_bps, now_ms)

    def set_rate(self, rate_bps: int, now_ms: float) -> None:
        self._refill(now_ms)
        self._rate = max(rate_bps, 1) / 8000
        self._burst = max(self._rate * self._burst_ms, 1500.0)  # at least one full packet
        self._tokens = min(self._tokens, self._burst)

    def wait_ms(self, size: int, now_ms: float) -> float:
        """0 if ``size`` bytes may leave now (they are taken), else how long until then."""
        # _refill and the take in one frame: this runs for every video packet and
        # subscriber (the call was ~1 000 instructions a packet, bench.load.hotpath)
        tokens, burst = self._tokens, self._burst
        if now_ms > self._last_ms:
            tokens = min(burst, tokens + (now_ms - self._last_ms) * self._rate)
            self._last_ms = now_ms
        need = size if size < burst else burst  # a bigger packet than the burst gets out
        if tokens >= need:
            self._tokens = tokens - size
            return 0.0
        self._tokens = tokens
        return (need - tokens) / self._rate

    def available(self, now_ms: float) -> float:
        """Bytes that may leave now (none are taken)."""
        self._refill(now_ms)
        return max(0.0, self._tokens)

    def _refill(self, now_ms: float) -> None:
        if now_ms > self._last_ms:
            self._tokens = min(self._burst, self._tokens + (now_ms - self._last_ms) * self._rate)
            self._last_ms = now_ms


def pace_rate(estimate_bps: int, video_bps: int, audio_bps: int, floor_bps: int) -> int:
    """The rate video toward a subscriber is paced at: 1.5x what the allocator gives video
    (a keyframe spreads over a few frame intervals, like libwebrtc's pacing factor), but
    not beyond what the estimate leaves beside audio, and never below the allocation."""
    room = min(estimate_bps - audio_bps, int(video_bps * 1.5))
    return max(video_bps, room, floor_bps)
