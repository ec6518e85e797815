"""Video toward one subscriber, sent no faster than its downlink is estimated to carry.

The decision (may this packet leave now, else when) is forwarding/pacing.py's; this holds
the packets that must wait, in order, and sends them from a timer. Audio does not pass
here: it is small, steady and must not wait behind a keyframe. Without a rate (adaptive
bitrate off) packets go straight through.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from bridge.forwarding.pacing import TokenBucket
from bridge.metrics import BridgeMetrics
from bridge.rtp.header import restamp_abs_send_time

from .consumer import Clock

BURST_MS = 20
MAX_QUEUED = 512  # ~0.7 MB: seconds of video even at the top layer


class PacedSender:
    def __init__(self, clock: Clock, metrics: BridgeMetrics) -> None:
        self._clock = clock
        self._metrics = metrics
        self._send: Callable[[bytes | bytearray], bool] | None = None
        self._bucket: TokenBucket | None = None
        self._queue: deque[bytes | bytearray] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def connect(self, send: Callable[[bytes | bytearray], bool]) -> None:
        """The subscriber peer's send (SRTP, socket)."""
        self._send = send

    def set_rate(self, rate_bps: int | None) -> None:
        """None: no pacing (what is queued leaves now)."""
        now = self._clock()
        if rate_bps is None:
            self._bucket = None
            self._flush()
        elif self._bucket is None:
            self._bucket = TokenBucket(rate_bps, BURST_MS, now)
        else:
            self._bucket.set_rate(rate_bps, now)

    def send(self, packet: bytes | bytearray) -> bool:
        send = self._send
        if send is None:
            return False
        bucket = self._bucket
        if bucket is None or (not self._queue and bucket.wait_ms(len(packet), self._clock()) == 0):
            return send(packet)
        if len(self._queue) >= MAX_QUEUED:
            self._metrics.rtp_dropped["pacer_full"] += 1
            return False
        self._queue.append(packet)
        if self._timer is None:
            self._drain()
        return True

    def drop_queued(self) -> list[bytes | bytearray]:
        """The allocator paused all video: what waits here is for pictures the subscriber
        will not get (and it would hold a weak link full for seconds). Returns it: its
        sequence numbers were never sent (downlink loss must not count them)."""
        dropped = list(self._queue)
        if dropped:
            self._metrics.rtp_dropped["pacer_video_paused"] += len(dropped)
            self.close()
        return dropped

    def close(self) -> None:
        self._cancel()
        self._queue.clear()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _flush(self) -> None:
        self._cancel()
        send, queue = self._send, self._queue
        while queue and send is not None:
            send(queue.popleft())
        queue.clear()

    def _drain(self) -> None:
        self._timer = None
        send, bucket, queue = self._send, self._bucket, self._queue
        if send is None or bucket is None:
            self._flush()
            return
        now = self._clock()
        while queue:
            wait = bucket.wait_ms(len(queue[0]), now)
            if wait > 0:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(wait / 1000, self._drain)
                return
            packet = queue.popleft()
            if isinstance(packet, bytearray):
                restamp_abs_send_time(packet, now)
            send(packet)
