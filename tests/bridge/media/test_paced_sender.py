"""PacedSender on a real event loop with a controlled clock."""

from __future__ import annotations

import asyncio

from bridge.media.paced_sender import PADDING_OVERHEAD, PacedSender
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


async def test_padding_fills_the_rate_asked_and_never_delays_media() -> None:
    now = [0]
    sent: list[tuple[int, int]] = []  # (ms, size)
    pacer = PacedSender(lambda: now[0], BridgeMetrics())
    pacer.connect(lambda p: sent.append((now[0], len(p))) is None)
    pacer.set_rate(400_000)

    def carrier(padding: int, at_ms: int) -> int:
        packet = bytearray(PADDING_OVERHEAD + padding)
        return len(packet) if pacer.send(packet) else 0

    pacer.set_padding(100_000, carrier)
    per_second = []
    for _ in range(2):  # two simulated seconds
        before = len(sent)
        for _ in range(50):
            now[0] += 20
            await asyncio.sleep(0.021)
        per_second.append(sum(size for _, size in sent[before:]))
    # the first 500 ms ramp up from PADDING_RAMP_FLOOR (30 %): ~83 kbit; then ~100 kbit
    assert 0.7 * 12_500 < per_second[0] < 0.93 * 12_500
    assert 0.85 * 12_500 < per_second[1] <= 1.1 * 12_500
    assert max(size for _, size in sent) <= PADDING_OVERHEAD + 255
    # media queued behind the rate: no padding goes out until it has left
    sent.clear()
    for _ in range(6):
        pacer.send(video_packet(1200))
    queued_at = len(sent)
    now[0] += 20
    await asyncio.sleep(0.021)
    assert all(size == 1200 for _, size in sent[queued_at:])
    pacer.set_padding(0, None)
    sent.clear()
    for _ in range(20):
        now[0] += 20
        await asyncio.sleep(0.021)
    assert all(size == 1200 for _, size in sent)  # only the media that waited


async def test_a_retransmission_leaves_before_the_video_that_waits_and_once() -> None:
    """Behind 20 queued video packets at 480 kbit/s a repair would wait ~400 ms; it leaves
    next, and while it waits a second copy of it is refused."""
    now = [0]
    sent: list[bytes | bytearray] = []
    pacer = PacedSender(lambda: now[0], BridgeMetrics())
    pacer.connect(lambda p: sent.append(p) is None)
    pacer.set_rate(480_000)
    for _ in range(20):
        pacer.send(video_packet(1200))
    went = len(sent)
    assert pacer.queued == 20 - went
    repair = bytes(1000)
    assert pacer.send_repair(repair, (9, 77))
    assert pacer.repair_pending((9, 77)) and not pacer.repair_pending((9, 78))
    assert pacer.queued == 21 - went
    now[0] += 25  # room for one packet
    await asyncio.sleep(0.03)
    assert sent[went] is repair  # first out, ahead of the video queued before it
    assert not pacer.repair_pending((9, 77))
    pacer.close()


async def test_an_idle_pacer_resends_at_once_and_drops_waiting_repairs_on_pause() -> None:
    now = [0]
    sent: list[bytes | bytearray] = []
    metrics = BridgeMetrics()
    pacer = PacedSender(lambda: now[0], metrics)
    pacer.connect(lambda p: sent.append(p) is None)
    pacer.set_rate(96_000)
    now[0] = 200  # the bucket has filled
    assert pacer.send_repair(bytes(1000), (9, 1)) and len(sent) == 1
    assert not pacer.repair_pending((9, 1))
    for seq in (2, 3, 4):
        pacer.send_repair(bytes(1000), (9, seq))
    assert pacer.repair_pending((9, 4))
    assert pacer.padding_room() == 0  # padding never goes ahead of a repair either
    assert pacer.drop_queued() == []  # retransmissions carry no new sequence number
    assert not pacer.repair_pending((9, 4)) and pacer.queued == 0
    assert metrics.rtp_dropped["pacer_video_paused"] == 3


async def test_a_stream_that_starts_over_loses_what_waits_of_it_and_only_that() -> None:
    def packet(ssrc: int, seq: int) -> bytearray:
        data = video_packet(1200)
        data[2:4] = seq.to_bytes(2, "big")
        data[8:12] = ssrc.to_bytes(4, "big")
        return data

    sent: list[bytes | bytearray] = []
    metrics = BridgeMetrics()
    pacer = PacedSender(lambda: 0, metrics)
    pacer.connect(lambda p: sent.append(p) is None)
    pacer.set_rate(96_000)
    for seq in (1, 2, 3):
        pacer.send(packet(7, seq))
        pacer.send(packet(8, seq))
    pacer.send_repair(bytes(500), (7, 40))
    pacer.send_repair(bytes(500), (8, 41))
    assert not sent
    assert pacer.drop_stream(7) == [3, 2, 1]
    assert pacer.queued == 4 and not pacer.repair_pending((7, 40))
    assert pacer.repair_pending((8, 41))
    assert metrics.rtp_dropped["pacer_stream_restarted"] == 4
    assert pacer.drop_stream(7) == []
    pacer.close()
