"""A synthetic site: joins over the real WebSocket protocol (docs/protocol.md) like a
browser, publishes pre-encoded media and hands received RTP to a sink without decoding,
over real ICE/DTLS/SRTP (aiortc peers driven through bridge.aiortc_adapter)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import aiohttp

from bridge.aiortc_adapter import AdapterSettings, AnsweringPeer, OfferingPeer
from bridge.media.peer import Kind, PacketSink, RemoteTrack, SendSlot
from bridge.rtp.rtcp import Pli, ReceiverReport, ReportBlock, build_sender_report, parse_rtcp

from .media import Media, rtp_packet, stamp, vp8_payloads

LOOPBACK = AdapterSettings(ice_addresses=("127.0.0.1",))
AUDIO_FRAME_S = 0.02
VIDEO_FRAME_S = 1 / 30

SinkT = TypeVar("SinkT", bound=PacketSink)


class PublisherFeedback:
    """RTCP the bridge sends to a publisher: counts PLIs (RFC 4585 §6.3.1)."""

    def __init__(self) -> None:
        self.keyframe_requested = asyncio.Event()
        self.plis = 0
        self.report_blocks: list[ReportBlock] = []

    def on_rtp(self, data: bytes, arrival_ms: int) -> None:
        return None

    def on_rtcp(self, data: bytes) -> None:
        packets = parse_rtcp(data)
        for p in packets:
            if isinstance(p, ReceiverReport):
                self.report_blocks.extend(p.reports)
        plis = sum(isinstance(p, Pli) for p in packets)
        if plis:
            self.plis += plis
            self.keyframe_requested.set()


class Site(Generic[SinkT]):
    """One synthetic participant; forwarded media goes to ``received``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        room: str,
        token: str,
        received: SinkT,
        media: Media | None = None,
    ):
        self._session = session
        self._url = f"{base_url}/ws?room={room}"
        self._token = token
        self.received = received
        self.media = media or Media.small()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.messages: list[dict[str, Any]] = []
        self.tracks: list[RemoteTrack] = []
        # called with the forwarded tracks each time a subscribe offer is answered
        self.on_tracks: Callable[[list[RemoteTrack]], None] = lambda tracks: None
        self.sent_payloads: dict[str, list[bytes]] = {"audio": [], "video": []}
        self.sent_timestamps: dict[bytes, int] = {}  # payload -> RTP timestamp it was sent with
        self.feedback = PublisherFeedback()
        self._publisher: OfferingPeer | None = None
        self._subscriber: AnsweringPeer | None = None
        self._slots: dict[str, SendSlot] = {}
        self._reader: asyncio.Task[None] | None = None
        self._new_message = asyncio.Condition()
        self.close_code: int | None = None

    async def connect(self) -> None:
        self.ws = await self._session.ws_connect(self._url)
        self._reader = asyncio.create_task(self._read())

    async def join(self) -> dict[str, Any]:
        await self.connect()
        await self.send({"type": "join", "v": 1, "token": self._token})
        return await self.wait_for("joined")

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(message))

    async def wait_for(
        self, message_type: str, timeout: float = 10.0, **match: Any
    ) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for m in self.messages:
                if m.get("type") == message_type and all(m.get(k) == v for k, v in match.items()):
                    return m
            return None

        async with asyncio.timeout(timeout), self._new_message:
            while (hit := found()) is None:
                await self._new_message.wait()
            return hit

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            message = json.loads(msg.data)
            if message["type"] == "subscribe_offer":
                await self._answer(message)
            async with self._new_message:
                self.messages.append(message)
                self._new_message.notify_all()
        self.close_code = self.ws.close_code
        async with self._new_message:
            self._new_message.notify_all()

    async def _answer(self, offer: dict[str, Any]) -> None:
        if self._subscriber is None:
            self._subscriber = AnsweringPeer(LOOPBACK, self.received, lambda s: None)
        answer, self.tracks = await self._subscriber.accept_offer(offer["sdp"])
        self.on_tracks(self.tracks)
        await self.send({"type": "subscribe_answer", "sdp": answer, "rev": offer["rev"]})

    async def publish(self, kinds: tuple[Kind, ...] = ("audio", "video")) -> None:
        ready = asyncio.Event()
        self._publisher = OfferingPeer(
            LOOPBACK, self.feedback, lambda s: None, lambda slot: ready.set()
        )
        for kind in kinds:
            self._slots[kind] = self._publisher.add_slot(kind)
        await self.send({"type": "publish", "sdp": await self._publisher.create_offer()})
        answer = await self.wait_for("publish_answer")
        await self._publisher.accept_answer(answer["sdp"])
        async with asyncio.timeout(10):
            while any(s.parameters is None for s in self._slots.values()):
                ready.clear()
                await ready.wait()
        me = (await self.wait_for("joined"))["self"]
        if "audio" in kinds and me["muted"]["audio"]:
            # mics are muted on entry (meeting policy): open it, as a site's user does
            await self.send({"type": "mute", "kind": "audio", "muted": False})
            await self.wait_for("mute_changed", participant_id=me["id"], muted=False)

    def published_ssrc(self, kind: Kind) -> int:
        params = self._slots[kind].parameters
        assert params is not None
        return params.ssrc

    def send_sender_report(self, kind: Kind = "audio") -> bool:
        """One RTCP SR on the publisher PC, as a browser sends about every second."""
        return self.send_raw(build_sender_report(self.published_ssrc(kind), 0, 0, 0, 0))

    def send_feedback(self, data: bytes) -> bool:
        """Send RTCP on the receiving PC, as a browser's receiver would."""
        assert self._subscriber is not None
        return self._subscriber.send(data)

    def send_raw(self, data: bytes) -> bool:
        assert self._publisher is not None
        return self._publisher.send(data)

    async def stream(self, seconds: float) -> None:
        """Send pre-encoded Opus (20 ms frames) and VP8 (30 fps), paced on the loop's
        clock; restart at the keyframe on PLI."""
        assert self._publisher is not None
        rng = random.Random(7)
        state = {k: [rng.randrange(1 << 15), rng.getrandbits(32)] for k in self._slots}
        video, audio = self.media.video, self.media.audio
        frame = sent = 0
        loop = asyncio.get_running_loop()
        start = loop.time()
        for tick in range(int(seconds / AUDIO_FRAME_S)):
            if "audio" in self._slots:
                self._send_frame("audio", [audio[tick % len(audio)]], state, 960)
            while "video" in self._slots and sent * VIDEO_FRAME_S <= tick * AUDIO_FRAME_S:
                if self.feedback.keyframe_requested.is_set():
                    self.feedback.keyframe_requested.clear()
                    frame = 0
                pid = sent if self.media.picture_ids else None
                payloads = vp8_payloads(video[frame % len(video)], picture_id=pid)
                self._send_frame("video", payloads, state, 3000)
                frame += 1
                sent += 1
            await asyncio.sleep(max(0.0, start + (tick + 1) * AUDIO_FRAME_S - loop.time()))

    def _send_frame(
        self, kind: str, payloads: list[bytes], state: dict[str, list[int]], ts_step: int
    ) -> None:
        params = self._slots[kind].parameters
        assert params is not None
        seq, ts = state[kind]
        for i, payload in enumerate(payloads):
            stamped = stamp(payload)
            packet = rtp_packet(
                params.payload_type, seq, ts, params.ssrc, stamped, marker=i == len(payloads) - 1
            )
            self.send_raw(packet)
            self.sent_payloads[kind].append(stamped)
            self.sent_timestamps[stamped] = ts
            seq += 1
        state[kind] = [seq & 0xFFFF, (ts + ts_step) & 0xFFFFFFFF]

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        for peer in (self._publisher, self._subscriber):
            if peer is not None:
                await peer.close()
