"""Synthetic sites for integration tests: join over the real WebSocket, publish
pre-encoded media and receive forwarded RTP without decoding, over real ICE/DTLS/SRTP
on 127.0.0.1 (aiortc peers driven through bridge.aiortc_adapter)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from media import opus_frames, rtp_packet, vp8_frames, vp8_payloads

from bridge.aiortc_adapter import AdapterSettings, AnsweringPeer, OfferingPeer
from bridge.media.peer import RemoteTrack, SendSlot
from bridge.rtp.header import parse_rtp_header
from bridge.rtp.rtcp import (
    Pli,
    ReceiverReport,
    ReportBlock,
    SenderReport,
    build_sender_report,
    parse_rtcp,
)

LOOPBACK = AdapterSettings(ice_addresses=("127.0.0.1",))


@dataclass
class Received:
    """Forwarded RTP a site received, per SSRC: (seq, timestamp, marker, payload)."""

    packets: dict[int, list[tuple[int, int, bool, bytes]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    sender_reports: list[SenderReport] = field(default_factory=list)

    def on_rtp(self, data: bytes, arrival_ms: int) -> None:
        header = parse_rtp_header(data)
        self.packets[header.ssrc].append(
            (
                header.sequence_number,
                header.timestamp,
                header.marker,
                data[header.payload_offset : header.payload_end],
            )
        )

    def on_rtcp(self, data: bytes) -> None:
        self.sender_reports.extend(p for p in parse_rtcp(data) if isinstance(p, SenderReport))


class _PublisherFeedback:
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


class Site:
    """One synthetic participant."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, room: str, token: str):
        self._session = session
        self._url = f"{base_url}/ws?room={room}"
        self._token = token
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.messages: list[dict[str, Any]] = []
        self.received = Received()
        self.tracks: list[RemoteTrack] = []
        self.sent_payloads: dict[str, list[bytes]] = {"audio": [], "video": []}
        self.sent_timestamps: dict[bytes, int] = {}  # payload -> RTP timestamp it was sent with
        self.feedback = _PublisherFeedback()
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
        await self.send({"type": "subscribe_answer", "sdp": answer, "rev": offer["rev"]})

    async def publish(self, kinds: tuple[str, ...] = ("audio", "video")) -> None:
        ready = asyncio.Event()
        self._publisher = OfferingPeer(
            LOOPBACK, self.feedback, lambda s: None, lambda slot: ready.set()
        )
        for kind in kinds:
            self._slots[kind] = self._publisher.add_slot(kind)  # type: ignore[arg-type]
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

    def published_ssrc(self, kind: str) -> int:
        params = self._slots[kind].parameters
        assert params is not None
        return params.ssrc

    def send_feedback(self, data: bytes) -> bool:
        """Send RTCP on the receiving PC, as a browser's receiver would."""
        assert self._subscriber is not None
        return self._subscriber.send(data)

    def send_raw(self, data: bytes) -> bool:
        assert self._publisher is not None
        return self._publisher.send(data)

    def send_sender_report(self, kind: str = "audio") -> bool:
        """One RTCP SR on the publisher PC, as a browser sends about every second."""
        params = self._slots[kind].parameters
        assert params is not None
        return self.send_raw(build_sender_report(params.ssrc, 0, 0, 0, 0))

    async def stream(self, seconds: float) -> None:
        """Send pre-encoded Opus (20 ms) and VP8 (~30 fps); restart at the keyframe on PLI."""
        assert self._publisher is not None
        rng = random.Random(7)
        state = {k: [rng.randrange(1 << 15), rng.getrandbits(32)] for k in self._slots}
        video, audio = vp8_frames(), opus_frames()
        frame = 0
        ticks = int(seconds / 0.02)
        for tick in range(ticks):
            if "audio" in self._slots:
                self._send_frame("audio", [audio[tick % len(audio)]], state, 960)
            if "video" in self._slots and tick % 3 == 0:
                if self.feedback.keyframe_requested.is_set():
                    self.feedback.keyframe_requested.clear()
                    frame = 0
                self._send_frame("video", vp8_payloads(video[frame % len(video)]), state, 3000)
                frame += 1
            await asyncio.sleep(0.02)

    def _send_frame(
        self, kind: str, payloads: list[bytes], state: dict[str, list[int]], ts_step: int
    ) -> None:
        params = self._slots[kind].parameters
        assert params is not None
        seq, ts = state[kind]
        for i, payload in enumerate(payloads):
            packet = rtp_packet(
                params.payload_type, seq, ts, params.ssrc, payload, marker=i == len(payloads) - 1
            )
            self.send_raw(packet)
            self.sent_payloads[kind].append(payload)
            self.sent_timestamps[payload] = ts
            seq += 1
        state[kind] = [seq & 0xFFFF, (ts + ts_step) & 0xFFFFFFFF]

    def received_for(self, participant_id: str, kind: str) -> list[tuple[int, int, bool, bytes]]:
        """Forwarded packets of one remote participant's track (mapped by the offer's SSRCs)."""
        out: list[tuple[int, int, bool, bytes]] = []
        for track in self.tracks:
            if (
                track.kind == kind
                and track.ssrc is not None
                and track.mid in self._mids_of(participant_id)
            ):
                out.extend(self.received.packets.get(track.ssrc, []))
        return out

    def _mids_of(self, participant_id: str) -> set[str]:
        offers = [m for m in self.messages if m["type"] == "subscribe_offer"]
        if not offers:
            return set()
        mids: set[str] = set()
        current: str | None = None
        for line in offers[-1]["sdp"].splitlines():
            if line.startswith("a=mid:"):
                current = line[6:]
            elif (
                line.startswith("a=msid:")
                and current is not None
                and line[7:].split(" ")[0] == participant_id
            ):
                mids.add(current)
        return mids

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        for peer in (self._publisher, self._subscriber):
            if peer is not None:
                await peer.close()
