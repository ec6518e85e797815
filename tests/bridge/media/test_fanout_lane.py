"""The fan-out lane sends exactly what each consumer would have sent on its own.

Two producers see the same random traces: one serves steady consumers in lanes
(media/fanout_lane.py), the other forwards every packet per consumer. Each consumer
of one must send the same bytes, in the same order, as its twin of the other (media,
retransmissions, sender reports), and report the same counters and numbers, through
layer switches, temporal steps, pauses, reordered and duplicated packets, wraps of every
number, failed sends, NACKs and receiver reports.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field

import pytest

from bridge.media.consumer import Consumer
from bridge.media.peer import Kind, RemoteTrack, SlotParameters
from bridge.media.producer import Producer
from bridge.metrics import BridgeMetrics
from bridge.rtp.header import parse_rtp_header
from bridge.rtp.rtcp_types import ReportBlock, SenderReport
from tests.bridge.media.test_fanout import StaticSlot, make_producer

SIMULCAST = RemoteTrack("video", "1", None, None, 96, None, 90000, rids=("q", "h", "f"))
AUDIO = RemoteTrack("audio", "0", 3333, None, 111, None, 48000)
KEY = bytes([0x00, 0x9D, 0x01, 0x2A])  # VP8 payload header with P=0 (key frame), RFC 7741 §4.3
TEMPORAL_PATTERN = (0, 2, 1, 2)  # L1T3


@dataclass
class _Sink:
    """One consumer's sends; every ``fail_every``-th one fails (the same in both worlds,
    as long as the consumer sends the same sequence)."""

    fail_every: int
    packets: list[bytes] = field(default_factory=list)
    calls: int = 0

    def send(self, data: bytes | bytearray | memoryview) -> bool:
        self.calls += 1
        if self.fail_every and self.calls % self.fail_every == 0:
            return False
        self.packets.append(bytes(data))
        return True


@dataclass
class _World:
    producer: Producer
    consumers: list[Consumer]
    sinks: list[_Sink]
    metrics: BridgeMetrics


def _params(i: int, kind: Kind) -> SlotParameters:
    if kind == "audio":
        return SlotParameters(5000 + i, 6000 + i, 111, None, "c", None, red_payload_type=63)
    return SlotParameters(
        1000 + i,
        2000 + i,
        96 + i % 2,  # payload types differ between subscribers
        99,
        "c",
        abs_send_time_id=None if i == 3 else 3 + i % 2,  # 3 has none: never in a lane
        playout_delay_id=6,
        transport_cc_id=5,
    )


def _world(track: RemoteTrack, lanes: bool, subscribers: int) -> _World:
    metrics = BridgeMetrics()
    producer = make_producer(track, metrics, lanes)
    sinks = [_Sink(fail_every=(0, 7, 0, 5, 0, 0)[i % 6]) for i in range(subscribers)]
    consumers = []
    for i, sink in enumerate(sinks):
        params = _params(i, track.kind)
        consumer = Consumer(
            producer=producer,
            slot=StaticSlot(track.kind, params),
            send=sink.send,
            clock=lambda: 0,
            metrics=metrics,
            rng=random.Random(100 + i),
        )
        consumer.start(params)
        producer.consumers.append(consumer)
        consumers.append(consumer)
    return _World(producer, consumers, sinks, metrics)


@dataclass
class _Stream:
    """One simulcast layer's RTP numbering, started near every wrap."""

    seq: int
    timestamp: int
    picture_id: int
    tl0: int
    frame: int = 0


def _vp8_frame(stream: _Stream, ssrc: int, key: bool, packets: int) -> list[bytes]:
    # the first 100 frames without temporal layers: they appear while consumers are in
    # their lanes
    pattern = TEMPORAL_PATTERN if stream.frame >= 100 else (0,)
    tid = 0 if key else pattern[stream.frame % len(pattern)]
    if tid == 0:
        stream.tl0 = (stream.tl0 + 1) & 0xFF
    out = []
    for i in range(packets):
        # RFC 7741 §4.2: X; I (15-bit PictureID), L (TL0PICIDX), T (TID, Y)
        start = 0x10 if i == 0 else 0
        descriptor = bytes([0x80 | start, 0xE0]) + struct.pack(
            "!HBB", 0x8000 | stream.picture_id, stream.tl0, (tid << 6) | (0x20 if tid else 0)
        )
        payload = descriptor + (KEY if key and i == 0 else b"\x01\x02\x03") + bytes(i * 7)
        marker = 0x80 if i == packets - 1 else 0
        out.append(
            struct.pack("!BBHII", 0x80, marker | 96, stream.seq, stream.timestamp, ssrc) + payload
        )
        stream.seq = (stream.seq + 1) & 0xFFFF
    stream.picture_id = (stream.picture_id + 1) & 0x7FFF
    stream.timestamp = (stream.timestamp + 3000) & 0xFFFFFFFF
    stream.frame += 1
    return out


def _reorder(packets: list[bytes], rng: random.Random, chance: float = 0.03) -> list[bytes]:
    """Swap neighbours now and then, and repeat a packet now and then."""
    out = list(packets)
    for i in range(len(out) - 1):
        if rng.random() < chance:
            out[i], out[i + 1] = out[i + 1], out[i]
    return [p for p in out for _ in range(2 if rng.random() < chance / 3 else 1)]


def _same(a: _World, b: _World) -> None:
    for i, (x, y) in enumerate(zip(a.consumers, b.consumers, strict=True)):
        assert a.sinks[i].packets == b.sinks[i].packets, f"consumer {i}"
        assert x.stats() == y.stats(), f"consumer {i}"
        assert x.bytes_sent == y.bytes_sent, f"consumer {i}"
        assert x.current_spatial == y.current_spatial


def _media_seqs(sink: _Sink, consumer: Consumer) -> list[int]:
    """Sequence numbers of the last media packets (not RTX, not RTCP) it got."""
    ssrc = consumer.slot.parameters.ssrc if consumer.slot.parameters else -1
    return [
        parse_rtp_header(p).sequence_number
        for p in sink.packets[-30:]
        if int.from_bytes(p[8:12], "big") == ssrc and not 192 <= p[1] <= 223
    ]


def _consumer_events(
    worlds: tuple[_World, _World], rng: random.Random, now: int, video: bool
) -> None:
    i = rng.randrange(len(worlds[0].consumers))
    roll = rng.random()
    for world in worlds:
        consumer = world.consumers[i]
        sink = world.sinks[i]
        if roll < 0.15 and video:
            consumer.set_target(*_targets[i % len(_targets)])
        elif roll < 0.3 and video:
            consumer.set_target(2, 2)
        elif roll < 0.35:
            consumer.set_allocated(False)
        elif roll < 0.5:
            consumer.set_allocated(True)
        elif roll < 0.55 and video:
            consumer.set_playout_delay((0, 300)[now % 2])
        elif roll < 0.6 and not video:
            consumer.set_redundancy(now % 2 == 0)
        elif roll < 0.75:
            # NACK the ten numbers before the last packet it got (some it was never
            # sent: failed sends, or skipped), and one far off
            last = _media_seqs(sink, consumer)[-1:] or [0]
            consumer.on_nack((*((last[0] - k) & 0xFFFF for k in range(1, 11)), 12345))
        elif roll < 0.85:
            seqs = _media_seqs(sink, consumer)
            highest = seqs[-5] if len(seqs) > 5 else 0
            loss = consumer.on_report_block(ReportBlock(1, 3, 2 + now % 5, highest, 5, 0, 0), now)
            other = worlds[1].consumers[i] if world is worlds[0] else None
            assert other is None or loss == other.on_report_block(
                ReportBlock(1, 3, 2 + now % 5, highest, 5, 0, 0), now
            )
            break  # both answered
        elif roll < 0.9:
            consumer.relay_sender_report(SenderReport(1, now << 32, now * 90, 1, 1), 0)
            consumer.relay_sender_report(SenderReport(1, now << 32, now * 90, 1, 1), 1)
        elif roll < 0.95:
            consumer.unsent((consumer.stats().packets_sent * 7) & 0xFFFF)
        else:
            consumer.send_padding(100, now)


_targets: list[tuple[int | None, int]] = [(0, 2), (1, 1), (2, 0), (None, 2), (1, 2), (2, 2)]


@pytest.mark.parametrize("seed", range(12))
def test_a_lane_sends_what_each_consumer_would_have_sent_video(seed: int) -> None:
    """Seeds 9-11 run quiet: consumers seldom look at their state, so the lane's log
    runs long between catch-ups (TL0PICIDX wraps in it), then all switch layers."""
    rng = random.Random(seed)
    quiet = seed >= 9
    worlds = (_world(SIMULCAST, True, 8), _world(SIMULCAST, False, 8))
    # a few consumers follow the allocator's whims, most stay at the top layer
    for world in worlds:
        for i, consumer in enumerate(world.consumers):
            consumer.set_target(*((2, 2) if i % 3 else _targets[i % len(_targets)]))
    streams = [
        _Stream(
            seq=rng.choice((65000, 100)) + 31 * i,
            timestamp=rng.choice((0xFFFF0000, 5)),
            picture_id=rng.choice((32700, 3)) + i,
            tl0=rng.choice((250, 0)),
        )
        for i in range(3)
    ]
    joined = 0
    now = 0
    for frame in range(1200 if quiet else 400):
        now += 33
        key = frame % 60 == 0 or rng.random() < (0.002 if quiet else 0.03)
        for index, stream in enumerate(streams):
            packets = _vp8_frame(stream, 7000 + index, key, rng.randint(1, 4 + 2 * index))
            for data in _reorder(packets, rng, 0.0 if quiet else 0.03):
                for world in worlds:
                    layer = world.producer.layers[index]
                    if layer.ssrc is None:
                        layer.ssrc = 7000 + index
                    world.producer.on_rtp(data, parse_rtp_header(data), now, layer)
        joined = max(joined, sum(len(worlds[0].producer.lane(i).members) for i in range(3)))
        if quiet and frame % 300 == 299:
            # every consumer switches after a long stretch in its lane: the switched
            # stream's numbers continue from what the lane sent
            target = rng.choice(_targets)
            for world in worlds:
                for consumer in world.consumers:
                    consumer.set_target(*target)
        elif rng.random() < (0.003 if quiet else 0.3):
            _consumer_events(worlds, rng, now, video=True)
        if frame % 50 == 0 and not quiet:
            _same(*worlds)
    _same(*worlds)
    # the lanes did serve: most consumers were in one at some point, and most packets
    # went out through them
    assert joined >= 4
    assert worlds[0].metrics.lane_packets_out > worlds[0].metrics.rtp_packets_out // 2
    assert worlds[1].metrics.lane_packets_out == 0
    assert worlds[0].metrics.rtp_packets_out == worlds[1].metrics.rtp_packets_out


def _opus(seq: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 111, seq & 0xFFFF, (960 * seq) & 0xFFFFFFFF, 3333) + bytes(
        40 + seq % 9
    )


@pytest.mark.parametrize("seed", range(6))
def test_a_lane_sends_what_each_consumer_would_have_sent_audio(seed: int) -> None:
    rng = random.Random(seed)
    worlds = (_world(AUDIO, True, 6), _world(AUDIO, False, 6))
    joined = 0
    seq = rng.choice((65500, 0))
    now = 0
    for _ in range(500):
        now += 20
        packets = [_opus(seq + i) for i in range(3)]
        seq += 3
        if rng.random() < 0.02:  # a restart of the publisher's numbering
            seq += 5000
        for data in _reorder(packets, rng):
            for world in worlds:
                layer = world.producer.layers[0]
                world.producer.on_rtp(data, parse_rtp_header(data), now, layer)
        joined = max(joined, len(worlds[0].producer.lane(0).members))
        if rng.random() < 0.2:
            _consumer_events(worlds, rng, now, video=False)
    _same(*worlds)
    assert joined >= 3
    # (a third: RED and pauses keep consumers out for stretches)
    assert worlds[0].metrics.lane_packets_out > worlds[0].metrics.rtp_packets_out // 3
