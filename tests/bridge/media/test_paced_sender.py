"""PacedSender on a real event loop with a controlled clock."""

from __future__ import annotations

import asyncio

from bridge.media.paced_sender import PacedSender
from bridge.metrics import BridgeMetrics
from bridge.rtp.header import HEADER_SIZE


def video_packet(size: int) -> bytearray:
    """An RTP packet with the forwarding template's abs-send-time element (id 3)."""
    head = bytearray(HEADER_SIZE)
    head[0] = 0x90
    block = bytearray(b"\xbe\xde\x00\x01\x32\x00\x00\x00")
    return head + block + bytearray(size - HEADER_SIZE - len(block))


async def test_without_a_rate_packets_go_straight_through() -> None:
    sent: list[bytes | bytearray] = []
    pacer = PacedSender(lambda: 0, BridgeMetrics())
    pacer.connect(lambda p: sent.append(p) is None)
    for _ in range(20):
        assert pacer.send(video_packet(1200))
    assert len(sent) == 20


async def test_a_burst_is_spread_at_the_rate_and_restamped() -> None:
    now = [0]
    sent: list[tuple[int, bytes]] = []
    pacer = PacedSender(lambda: now[0], BridgeMetrics())
    pacer.connect(lambda p: sent.append((now[0], bytes(p))) is None)
    pacer.set_rate(480_000)  # 60 bytes/ms: 1200-byte packets every 20 ms
    for _ in range(10):  # a keyframe arriving at once
        assert pacer.send(video_packet(1200))
    assert len(sent) < 10  # only the burst went at once
    for _ in range(30):
        now[0] += 10
        await asyncio.sleep(0.011)
    assert len(sent) == 10
    times = [t for t, _ in sent]
    assert times[-1] >= 9 * 20 - 20  # the last left ~180 ms after the first
    stamps = [int.from_bytes(p[17:20], "big") for _, p in sent]
    assert stamps[-1] > stamps[0]  # each carries the time it really left


async def test_lifting_the_rate_flushes_what_waits() -> None:
    sent: list[bytes | bytearray] = []
    pacer = PacedSender(lambda: 0, BridgeMetrics())
    pacer.connect(lambda p: sent.append(p) is None)
    pacer.set_rate(100_000)
    for _ in range(5):
        pacer.send(video_packet(1200))
    waiting = 5 - len(sent)
    assert waiting > 0
    pacer.set_rate(None)
    assert len(sent) == 5
    pacer.close()


async def test_what_waits_is_dropped_when_video_is_paused() -> None:
    sent: list[bytes | bytearray] = []
    metrics = BridgeMetrics()
    pacer = PacedSender(lambda: 0, metrics)
    pacer.connect(lambda p: sent.append(p) is None)
    pacer.set_rate(96_000)
    for _ in range(10):
        pacer.send(video_packet(1200))
    went = len(sent)
    assert went < 10
    pacer.drop_queued()
    await asyncio.sleep(0.05)
    assert len(sent) == went
    assert metrics.rtp_dropped["pacer_video_paused"] == 10 - went
