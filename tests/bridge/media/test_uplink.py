"""What the bridge tells a publisher about its uplink, over fake peers: a fixed REMB cap
that no subscriber lowers, transport-wide CC feedback, and a video pause when the uplink
overflows (forwarding/uplink_guard.py)."""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from bridge.media import participant as participant_module
from bridge.media.events import PublisherLayers, RoomEvent
from bridge.media.peer import PacketSink, RemoteTrack, SendSlot
from bridge.media.rooms import RoomRegistry
from bridge.rtp.rtcp import Nack, Remb, parse_rtcp
from tests.bridge.media.test_negotiation import FakeSubscriber

TRANSPORT_CC_ID = 3
TRACKS = [
    RemoteTrack("audio", "0", 11, None, 111, None, 48000, transport_cc_ext_id=TRANSPORT_CC_ID),
    RemoteTrack("video", "1", 22, 23, 96, 97, 90000, transport_cc_ext_id=TRANSPORT_CC_ID),
]
KEY_PAYLOAD = bytes([0x10, 0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A])  # VP8 keyframe


@dataclass
class FakePublisher:
    sent: list[bytes] = field(default_factory=list)

    async def accept_offer(self, sdp: str) -> tuple[str, list[RemoteTrack]]:
        return "answer", TRACKS

    def send(self, data: bytes) -> bool:
        self.sent.append(data)
        return True

    async def close(self) -> None:
        return None


class FakePeers:
    def __init__(self) -> None:
        self.publisher_peer = FakePublisher()
        self.sink: PacketSink | None = None

    def publisher(self, sink: PacketSink, on_state: Callable[[str], None]) -> FakePublisher:
        self.sink = sink
        return self.publisher_peer

    def subscriber(
        self,
        sink: PacketSink,
        on_state: Callable[[str], None],
        on_slot_ready: Callable[[SendSlot], None],
    ) -> FakeSubscriber:
        return FakeSubscriber(on_slot_ready)


def rtp(ssrc: int, seq: int, transport_seq: int, pt: int) -> bytes:
    # RFC 8285 §4.2 one-byte extension: the transport-wide sequence number (2 bytes)
    element = bytes([(TRANSPORT_CC_ID << 4) | 1]) + transport_seq.to_bytes(2, "big") + b"\x00"
    header = struct.pack("!BBHII", 0x90, pt, seq, seq * 3000, ssrc)
    return header + struct.pack("!HH", 0xBEDE, 1) + element + KEY_PAYLOAD + bytes(150)


@pytest.fixture
def fast_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(participant_module, "RTCP_INTERVAL_S", 0.005)
    monkeypatch.setattr(participant_module, "UPLINK_FEEDBACK_INTERVAL_S", 0.002)


async def test_the_remb_cap_toward_a_publisher_ignores_its_subscribers_loss(
    fast_loops: None,
) -> None:
    peers = FakePeers()
    now = [1000]
    registry = RoomRegistry(peers=peers, clock=lambda: now[0], rng=random.Random(1))
    room = registry.get_or_create("r")
    pub = await room.join("a", "A", "participant", lambda e: None)
    sub = await room.join("b", "B", "participant", lambda e: None)
    await pub.publish("offer")
    assert await sub.accept_subscribe_answer("answer", 1)
    for consumer in sub.consumers:
        consumer.downlink_loss = 0.5  # a very weak subscriber
    assert peers.sink is not None
    for i in range(50):
        now[0] += 20
        peers.sink.on_rtp(rtp(22, i, i, 96), now[0])
    rembs: list[int] = []
    for _ in range(200):
        await asyncio.sleep(0.002)
        rembs = [
            p.bitrate
            for data in peers.publisher_peer.sent
            for p in parse_rtcp(data)
            if isinstance(p, Remb)
        ]
        if len(rembs) >= 2:
            break
    assert rembs and set(rembs) == {participant_module.PUBLISHER_MAX_BITRATE}
    await pub.close()
    await sub.close()


async def test_an_overflowing_uplink_pauses_the_publishers_video(fast_loops: None) -> None:
    peers = FakePeers()
    now = [1000]
    registry = RoomRegistry(peers=peers, clock=lambda: now[0], rng=random.Random(1))
    room = registry.get_or_create("r")
    events: list[RoomEvent] = []
    pub = await room.join("a", "A", "participant", events.append)
    await pub.publish("offer")
    assert peers.sink is not None
    transport_seq = 0
    for i in range(2000):
        # every 100 ms: 6 packets sent, 3 lost, ~46 kbit/s arriving (an edge uplink)
        now[0] += 100
        for j in range(3):
            peers.sink.on_rtp(rtp(22, 3 * i + j, transport_seq, 96), now[0])
            transport_seq += 2
        await asyncio.sleep(0.002)
        if any(isinstance(e, PublisherLayers) and e.paused for e in events):
            break
    assert pub.producers["video"].uplink_paused
    assert any(isinstance(e, PublisherLayers) and e.paused for e in events)
    assert registry.metrics.uplink_video_pauses == 1
    await pub.close()


async def test_a_missing_packet_is_asked_for_again_without_waiting_for_the_rtcp_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(participant_module, "RTCP_INTERVAL_S", 3600)  # never, in this test
    monkeypatch.setattr(participant_module, "UPLINK_FEEDBACK_INTERVAL_S", 0.002)
    peers = FakePeers()
    now = [1000]
    registry = RoomRegistry(peers=peers, clock=lambda: now[0], rng=random.Random(1))
    pub = await registry.get_or_create("r").join("a", "A", "participant", lambda e: None)
    await pub.publish("offer")
    assert peers.sink is not None
    for seq in (0, 1, 3):  # 2 is lost: NACKed at once
        peers.sink.on_rtp(rtp(22, seq, seq, 96), now[0])

    def nacked() -> list[int]:
        return [
            s
            for data in peers.publisher_peer.sent
            for p in parse_rtcp(data)
            if isinstance(p, Nack)
            for s in p.lost
        ]

    assert nacked() == [2]
    now[0] += participant_module.UPSTREAM_NACK_RETRY_MS
    for _ in range(200):
        await asyncio.sleep(0.002)
        if len(nacked()) > 1:
            break
    assert nacked() == [2, 2]
    assert pub.producers["video"].uplink_late_ms(now[0]) == 0  # nothing repaired yet
    now[0] += 150
    peers.sink.on_rtp(rtp(22, 2, 4, 96), now[0])  # the repair, 150 ms after the second NACK
    late = participant_module.UPSTREAM_NACK_RETRY_MS + 150
    assert pub.producers["video"].uplink_late_ms(now[0]) == late  # since 1 came
    await pub.close()
