"""Video toward one subscriber, sent no faster than its downlink is estimated to carry.

The decision (may this packet leave now, else when) is forwarding/pacing.py's; this holds
the packets that must wait, in order, and sends them from a timer. Audio does not pass
here: it is small, steady and must not wait behind a keyframe. Without a rate (adaptive
bitrate off) packets go straight through.

It also sends a probe's padding (forwarding/probe_gate.py): at the rate asked, from a
timer, only while no media waits, and only as far as the rate leaves room beside it. The
padding ramps up to that rate over ``PADDING_RAMP_MS``: a link that cannot carry the probe
then starts queueing at a small overload, which transport-cc feedback shows before the
queue overflows (forwarding/padding_delay.py). Toward a paused video on edge (96 kbit/s),
a probe at full rate put the cheapest step (~65k) on top of ~70k of RED audio at once,
and each one concealed 15-50 % of the audio for 0.5-1 s (bench.weaklink). A probe is
proven only after ``ProbeSettings.duration_ms``, which leaves a second at full rate after
the ramp: ramped over that whole second, a probe had tested less than its step, and 270p
at 30 fps was "proven" on rural-3g's 400 kbit/s.

Retransmissions wait in a queue of their own that leaves first (libwebrtc's pacer also
sends them before video): a frame waits on its repair. Behind queued video, on a
rural-3g link after an overloaded probe, they came a second late; the browser NACKed
again every 100 ms, each round trip resent a copy into the same queue, and the queue
stayed 20-30 packets deep for ten seconds of freezes (bench.weaklink). A packet whose
retransmission still waits here is not queued again (``repair_pending``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from bridge.forwarding.pacing import TokenBucket
from bridge.metrics import BridgeMetrics
from bridge.rtp.header import HEADER_SIZE, MAX_PADDING, VIDEO_EXTENSION_BLOCK, restamp_abs_send_time

from .consumer import Clock
from .peer import SendPacket

BURST_MS = 20
MAX_QUEUED = 512  # ~0.7 MB: seconds of video even at the top layer
PADDING_INTERVAL_MS = 20
PADDING_OVERHEAD = HEADER_SIZE + VIDEO_EXTENSION_BLOCK  # of each padding packet
# Padding owed is not saved up beyond this: a timer that ran late must not send a burst.
PADDING_MAX_OWED_MS = 60
# Padding starts at this fraction of its rate and reaches all of it after PADDING_RAMP_MS.
PADDING_RAMP_FLOOR = 0.3
PADDING_RAMP_MS = 500

# Sends one padding packet of the given padding octets at the given time; bytes that left.
PaddingCarrier = Callable[[int, int], int]
# What a retransmission repairs: (media SSRC, extended sequence number sent).
RepairKey = tuple[int, int]


class PacedSender:
    def __init__(self, clock: Clock, metrics: BridgeMetrics) -> None:
        self._clock = clock
        self._metrics = metrics
        self._send: SendPacket | None = None
        self._bucket: TokenBucket | None = None
        self._queue: deque[bytes | bytearray] = deque()
        self._repairs: deque[tuple[bytes | bytearray, RepairKey]] = deque()
        self._pending: set[RepairKey] = set()  # the keys in _repairs
        self._timer: asyncio.TimerHandle | None = None
        self._padding_bps = 0
        self._carrier: PaddingCarrier | None = None
        self._padding_timer: asyncio.TimerHandle | None = None
        self._padding_owed = 0.0  # bytes
        self._padding_at = 0  # ms, when owed was last brought up to date
        self._padding_since = 0  # ms, when padding started (its ramp)

    def connect(self, send: SendPacket) -> None:
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

    def send(self, packet: bytes | bytearray | memoryview) -> bool:
        send = self._send
        if send is None:
            return False
        bucket = self._bucket
        if bucket is None or (
            not self._queue
            and not self._repairs
            and bucket.wait_ms(len(packet), self._clock()) == 0
        ):
            return send(packet)
        if len(self._queue) >= MAX_QUEUED:
            self._metrics.rtp_dropped["pacer_full"] += 1
            return False
        # a lane's packet is a view of its array of every member's: copied to wait
        self._queue.append(bytearray(packet) if isinstance(packet, memoryview) else packet)
        if self._timer is None:
            self._drain()
        return True

    def send_repair(self, packet: bytes | bytearray, key: RepairKey) -> bool:
        """A retransmission: ahead of the video that waits, still within the rate."""
        send = self._send
        if send is None:
            return False
        bucket = self._bucket
        if bucket is None or (
            not self._repairs and bucket.wait_ms(len(packet), self._clock()) == 0
        ):
            return send(packet)
        if len(self._repairs) >= MAX_QUEUED:
            self._metrics.rtp_dropped["pacer_full"] += 1
            return False
        self._repairs.append((packet, key))
        self._pending.add(key)
        if self._timer is None:
            self._drain()
        return True

    def repair_pending(self, key: RepairKey) -> bool:
        """A retransmission of ``key`` waits here still."""
        return key in self._pending

    def drop_stream(self, ssrc: int) -> list[int]:
        """Drop what waits of one media stream (SSRC at octet 8, RFC 3550 §5.1) and its
        retransmissions; the sequence numbers of the media dropped, newest first."""
        dropped: list[int] = []
        kept: deque[bytes | bytearray] = deque()
        for packet in self._queue:
            if int.from_bytes(packet[8:12], "big") == ssrc:
                dropped.append(int.from_bytes(packet[2:4], "big"))
            else:
                kept.append(packet)
        repairs = [(p, k) for p, k in self._repairs if k[0] != ssrc]
        count = len(dropped) + len(self._repairs) - len(repairs)
        if count:
            self._metrics.rtp_dropped["pacer_stream_restarted"] += count
            self._queue = kept
            self._repairs = deque(repairs)
            self._pending = {k for _, k in repairs}
        dropped.reverse()
        return dropped

    @property
    def queued(self) -> int:
        """Packets waiting for the rate to let them leave (retransmissions included)."""
        return len(self._queue) + len(self._repairs)

    def padding_room(self) -> int:
        """Bytes of padding that may leave now: what the rate allows while no media
        waits (padding never delays media). 0 without a rate."""
        bucket = self._bucket
        if bucket is None or self._queue or self._repairs or self._send is None:
            return 0
        return int(bucket.available(self._clock()))

    def set_padding(self, rate_bps: int, carrier: PaddingCarrier | None) -> None:
        """Send padding at ``rate_bps`` through ``carrier`` until set to 0 or None."""
        self._padding_bps = rate_bps if carrier is not None else 0
        self._carrier = carrier
        if not self._padding_bps:
            self._stop_padding()
        elif self._padding_timer is None:
            self._padding_at = self._padding_since = self._clock()
            self._padding_owed = 0.0
            self._schedule_padding()

    def _schedule_padding(self) -> None:
        loop = asyncio.get_running_loop()
        self._padding_timer = loop.call_later(PADDING_INTERVAL_MS / 1000, self._pad)

    def _stop_padding(self) -> None:
        if self._padding_timer is not None:
            self._padding_timer.cancel()
            self._padding_timer = None
        self._padding_owed = 0.0

    def _pad(self) -> None:
        self._padding_timer = None
        rate, carrier = self._padding_bps, self._carrier
        if not rate or carrier is None:
            return
        now = self._clock()
        ramp = PADDING_RAMP_FLOOR + (1 - PADDING_RAMP_FLOOR) * (
            (now - self._padding_since) / PADDING_RAMP_MS
        )
        rate = int(rate * min(1.0, ramp))
        owed = self._padding_owed + rate * max(0, now - self._padding_at) / 8000
        owed = min(owed, rate * PADDING_MAX_OWED_MS / 8000)
        self._padding_at = now
        while (room := int(min(owed, self.padding_room()))) > PADDING_OVERHEAD:
            sent = carrier(min(MAX_PADDING, room - PADDING_OVERHEAD), now)
            if not sent:
                break
            owed -= sent
        self._padding_owed = max(0.0, owed)
        self._schedule_padding()

    def drop_queued(self) -> list[bytes | bytearray]:
        """The allocator paused all video: what waits here is for pictures the subscriber
        will not get (and it would hold a weak link full for seconds). Returns the media
        that waited (its sequence numbers were never sent: downlink loss must not count
        them); waiting retransmissions are dropped with it."""
        dropped = list(self._queue)
        repairs = len(self._repairs)
        if dropped or repairs:
            self._metrics.rtp_dropped["pacer_video_paused"] += len(dropped) + repairs
            self._discard()
        return dropped

    def close(self) -> None:
        self._discard()
        self.set_padding(0, None)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _discard(self) -> None:
        """Nothing waits any more (and no drain is scheduled)."""
        self._cancel()
        self._queue.clear()
        self._repairs.clear()
        self._pending.clear()

    def _next(self) -> bytes | bytearray:
        """The packet to leave next: a retransmission if one waits."""
        if self._repairs:
            packet, key = self._repairs.popleft()
            self._pending.discard(key)
            return packet
        return self._queue.popleft()

    def _flush(self) -> None:
        send = self._send
        while (self._repairs or self._queue) and send is not None:
            send(self._next())
        self._discard()

    def _drain(self) -> None:
        self._timer = None
        send, bucket = self._send, self._bucket
        if send is None or bucket is None:
            self._flush()
            return
        now = self._clock()
        while self._repairs or self._queue:
            head = self._repairs[0][0] if self._repairs else self._queue[0]
            wait = bucket.wait_ms(len(head), now)
            if wait > 0:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(wait / 1000, self._drain)
                return
            packet = self._next()
            if isinstance(packet, bytearray):
                restamp_abs_send_time(packet, now)
            send(packet)
