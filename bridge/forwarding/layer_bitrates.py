"""Received bitrate per simulcast layer over a sliding window (fills VideoDemand).

Bytes are summed into ``bucket_ms`` buckets, so memory is ``window_ms / bucket_ms`` per
layer whatever the packet rate. The rate divides by the window, or by the time since the
layer (re)started when that is shorter, so a layer that just appeared is not
under-reported. A layer with no packet for ``stale_ms`` reads 0.
"""

from __future__ import annotations

from collections import deque


class LayerRateMeter:
    __slots__ = ("_bucket_ms", "_buckets", "_first_ms", "_last_ms", "_stale_ms", "_window_ms")

    def __init__(
        self, layers: int, *, window_ms: int = 1000, bucket_ms: int = 100, stale_ms: int = 1000
    ) -> None:
        if layers < 1:
            raise ValueError(f"layers must be >= 1, got {layers}")
        if bucket_ms < 1 or window_ms < bucket_ms:
            raise ValueError(f"need 1 <= bucket_ms <= window_ms, got {bucket_ms}, {window_ms}")
        if stale_ms < 1:
            raise ValueError(f"stale_ms must be >= 1, got {stale_ms}")
        self._window_ms = window_ms
        self._bucket_ms = bucket_ms
        self._stale_ms = stale_ms
        # per layer: (bucket start ms, bytes), oldest first
        self._buckets: list[deque[list[int]]] = [deque() for _ in range(layers)]
        self._first_ms: list[int | None] = [None] * layers
        self._last_ms: list[int | None] = [None] * layers

    @property
    def layers(self) -> int:
        return len(self._buckets)

    def add(self, layer: int, size: int, arrival_ms: int) -> None:
        """Count one received packet of ``size`` bytes; unknown layers are ignored."""
        if not 0 <= layer < len(self._buckets):
            return
        last = self._last_ms[layer]
        if last is None or arrival_ms - last >= self._stale_ms:
            self._buckets[layer].clear()
            self._first_ms[layer] = arrival_ms
        if last is None or arrival_ms > last:
            self._last_ms[layer] = arrival_ms
        buckets = self._buckets[layer]
        start = arrival_ms - arrival_ms % self._bucket_ms
        if buckets and buckets[-1][0] >= start:
            buckets[-1][1] += size  # same bucket (or slightly reordered arrival)
        else:
            buckets.append([start, size])
            horizon = arrival_ms - self._window_ms
            while buckets and buckets[0][0] + self._bucket_ms <= horizon:
                buckets.popleft()

    def bitrate(self, layer: int, now_ms: int) -> int:
        """Bits per second of ``layer`` over the window ending at ``now_ms``."""
        if not 0 <= layer < len(self._buckets):
            return 0
        last = self._last_ms[layer]
        first = self._first_ms[layer]
        if last is None or first is None or now_ms - last >= self._stale_ms:
            return 0
        horizon = now_ms - self._window_ms
        total = sum(size for start, size in self._buckets[layer] if start >= horizon)
        span = min(self._window_ms, max(now_ms - first, self._bucket_ms))
        return total * 8000 // span

    def bitrates(self, now_ms: int) -> tuple[int, ...]:
        """``bitrate`` of every layer, lowest first (0 = not being received)."""
        return tuple(self.bitrate(i, now_ms) for i in range(len(self._buckets)))
