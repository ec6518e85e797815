"""Synthetic clients shared by every server under comparison.

The server-specific part is a `Target` (a signaling adapter) that only ever handles SDP
text: "take this offer, give me the answer" for the publisher, and "here is how to answer
your offer" for a subscriber. The media side is the bridge's own aiortc adapter
(bridge.aiortc_adapter): `OfferingPeer` publishes pre-encoded VP8 + Opus without encoding,
`AnsweringPeer` receives without decoding. Media, stamping and the receiving side are
the load generator's (bench.load.media: 640x360 VP8 ~500 kbit/s + Opus, each payload
stamped with its send time; bench.load.receiver.LoadReceiver: counts, forwarding latency,
receiver reports and NACKs like a browser).
"""

from __future__ import annotations

import asyncio
import random
import struct
import sys
from collections.abc import Awaitable, Callable
from typing import Protocol

from bench.load.media import Media, rtp_packet, stamp, vp8_payloads
from bench.load.receiver import LatencyHistogram, LoadReceiver
from bridge.aiortc_adapter import AdapterSettings, AnsweringPeer, OfferingPeer
from bridge.media.peer import SendSlot

AUDIO_PTIME_S = 0.02
FPS = 30

Answerer = Callable[[str], Awaitable[str]]  # offer SDP -> answer SDP


class Target(Protocol):
    """A server's signaling, as the benchmark needs it."""

    name: str

    async def open(self) -> None:
        """Connect, create the room."""

    async def publish(self, offer: str) -> str:
        """Join as the one publisher with this offer (audio + video); return the answer."""

    async def publisher_up(self) -> None:
        """Return once the server has the publisher's media path up (no-op if it needs none)."""

    async def subscribe(self, answer: Answerer) -> None:
        """Join a subscriber; the server's offer(s) are answered with `answer`."""

    async def close(self) -> None:
        """Leave, destroy the room, close connections."""


class PublisherFeedback:
    """PacketSink of the publisher: notes keyframe requests (PLI or FIR)."""

    def __init__(self) -> None:
        self.keyframe_requested = False
        self.requests = 0

    def on_rtp(self, data: bytes, arrival_ms: int) -> None:
        return None

    def on_rtcp(self, data: bytes) -> None:
        offset = 0
        while offset + 4 <= len(data):
            fmt = data[offset] & 0x1F
            pt = data[offset + 1]
            length = (struct.unpack_from("!H", data, offset + 2)[0] + 1) * 4
            if pt == 206 and fmt in (1, 4):  # PLI, FIR
                self.keyframe_requested = True
                self.requests += 1
            offset += length


class Publisher:
    """One publisher: an OfferingPeer with an audio and a video slot, and a media pump."""

    def __init__(self, settings: AdapterSettings, media: Media, stamped: bool = True) -> None:
        self.media = media
        self.stamped = stamped  # payload + 8-byte send time, for forwarding latency
        self.feedback = PublisherFeedback()
        self._ready = asyncio.Event()
        self.peer = OfferingPeer(
            settings, self.feedback, lambda state: None, lambda slot: self._ready.set()
        )
        self.slots: dict[str, SendSlot] = {
            "audio": self.peer.add_slot("audio"),
            "video": self.peer.add_slot("video"),
        }
        self.sent = 0
        self.send_failed = 0  # not connected, or the adapter refused the packet
        self.keyframes_sent = 0
        self._task: asyncio.Task[None] | None = None

    async def connect(self, target: Target, timeout: float = 20.0) -> None:
        offer = await self.peer.create_offer()
        answer = await target.publish(offer)
        await self.peer.accept_answer(answer)
        async with asyncio.timeout(timeout):
            while any(s.parameters is None for s in self.slots.values()):
                self._ready.clear()
                await self._ready.wait()

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump())
        self._task.add_done_callback(_report_crash)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _pump(self) -> None:
        media = self.media
        packets = [vp8_payloads(f) for f in media.video]
        vparams = self.slots["video"].parameters
        aparams = self.slots["audio"].parameters
        assert vparams is not None and aparams is not None
        rng = random.Random(11)
        vseq, vts = rng.randrange(1 << 15), rng.getrandbits(32)
        aseq, ats = rng.randrange(1 << 15), rng.getrandbits(32)
        loop = asyncio.get_running_loop()
        start = loop.time()
        next_audio = next_video = 0
        frame = 0
        last_keyframe = -10.0
        send, stamped = self.peer.send, self.stamped
        while True:
            now = loop.time() - start
            while next_audio * AUDIO_PTIME_S <= now:
                payload = media.audio[next_audio % len(media.audio)]
                if stamped:
                    payload = stamp(payload)
                if not send(rtp_packet(aparams.payload_type, aseq, ats, aparams.ssrc, payload)):
                    self.send_failed += 1
                aseq, ats = (aseq + 1) & 0xFFFF, ats + 960
                next_audio += 1
                self.sent += 1
            while next_video / FPS <= now:
                if self.feedback.keyframe_requested:
                    self.feedback.keyframe_requested = False
                    if now - last_keyframe >= 1.0:  # one keyframe a second at most
                        frame, last_keyframe = 0, now
                if frame % len(media.video) == 0:
                    self.keyframes_sent += 1
                chunks = packets[frame % len(media.video)]
                for i, payload in enumerate(chunks):
                    if stamped:
                        payload = stamp(payload)
                    marker = i == len(chunks) - 1
                    packet = rtp_packet(
                        vparams.payload_type, vseq, vts, vparams.ssrc, payload, marker
                    )
                    if not send(packet):
                        self.send_failed += 1
                    vseq = (vseq + 1) & 0xFFFF
                self.sent += len(chunks)
                vts += 90000 // FPS
                frame += 1
                next_video += 1
            wake = min(next_audio * AUDIO_PTIME_S, next_video / FPS)
            await asyncio.sleep(max(0.0, wake - (loop.time() - start)))

    async def close(self) -> None:
        await self.stop()
        await self.peer.close()


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        print(f"publisher pump crashed: {type(exc).__name__}: {exc}", file=sys.stderr)


class Subscriber:
    """One subscriber: an AnsweringPeer whose packets go to the load generator's receiver."""

    def __init__(self, settings: AdapterSettings, latency: LatencyHistogram, ssrc: int) -> None:
        self.receiver = LoadReceiver(latency, ssrc)
        self.state = "new"
        self.peer = AnsweringPeer(settings, self.receiver, self._on_state)

    def _on_state(self, state: str) -> None:
        self.state = state

    async def answer(self, offer: str) -> str:
        sdp, tracks = await self.peer.accept_offer(offer)
        self.receiver.expect(tracks, self.peer.send)
        return sdp

    async def close(self) -> None:
        await self.peer.close()
