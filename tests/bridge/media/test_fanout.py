"""Producer -> Consumers: one template per incoming packet, each subscriber's own header,
and the bridge's packets/bytes out counted once per packet for the sends that worked."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

from bridge.forwarding.forwarder import InboundPacket
from bridge.media.consumer import Consumer
from bridge.media.paced_sender import PacedSender
from bridge.media.peer import Kind, RemoteTrack, SlotParameters
from bridge.media.producer import Producer
from bridge.metrics import BridgeMetrics
from bridge.rtp.forwarded import ForwardingTemplate
from bridge.rtp.header import find_extension, parse_rtp_header
from bridge.rtp.rtcp import parse_rtcp
from bridge.rtp.rtcp_types import ReportBlock, SenderReport
from bridge.rtp.vp8 import parse_vp8_descriptor
from tests.bridge.rtp.test_red import parse_red

VIDEO = RemoteTrack("video", "1", 2222, None, 96, None, 90000)
KEY = bytes([0x00, 0x9D, 0x01, 0x2A])  # VP8 payload header with P=0 (key frame), RFC 7741 §4.3


class StaticSlot:
    """A send slot whose negotiated parameters are given (no peer connection)."""

    def __init__(self, kind: Kind, parameters: SlotParameters):
        self.kind = kind
        self.parameters = parameters

    def assign(self, stream_id: str, track_id: str) -> None:
        return None

    def set_active(self, active: bool) -> None:
        return None


def make_producer(track: RemoteTrack, metrics: BridgeMetrics, lanes: bool = True) -> Producer:
    return Producer(
        participant_id="p",
        track=track,
        feedback_ssrc=1,
        send_upstream=lambda data: True,
        metrics=metrics,
        lanes=lanes,
    )


def _consumer(
    producer: Producer,
    params: SlotParameters,
    send: Callable[[bytes | bytearray], bool],
    metrics: BridgeMetrics,
    rng: random.Random,
) -> Consumer:
    return Consumer(
        producer=producer,
        slot=StaticSlot("video", params),
        send=send,
        clock=lambda: 0,
        metrics=metrics,
        rng=rng,
    )


def _vp8_packet(seq: int, picture_id: int, key: bool) -> bytes:
    # RFC 7741 §4.2: S=1 PID 0, X: I, 15-bit PictureID
    descriptor = bytes([0x90, 0x80]) + struct.pack("!H", 0x8000 | picture_id)
    payload = descriptor + (KEY if key else b"\x01\x02\x03")
    return struct.pack("!BBHII", 0x80, 0x80 | 96, seq, 3000 * seq, 2222) + payload


def test_each_subscriber_gets_its_own_header_and_failed_sends_are_not_counted() -> None:
    metrics = BridgeMetrics()
    producer = make_producer(VIDEO, metrics)
    sent: dict[int, list[bytes]] = {1000: [], 2000: []}
    rng = random.Random(3)
    for ssrc, abs_id, works in ((1000, 3, True), (2000, None, True), (3000, 4, False)):
        # subscriber 1000 negotiated playout-delay (id 5) and is on a lossy link
        delay_id = 5 if ssrc == 1000 else None
        params = SlotParameters(
            ssrc, ssrc + 1, 100 + ssrc // 1000, None, "c", abs_id, playout_delay_id=delay_id
        )

        def send(data: bytes | bytearray, ssrc: int = ssrc, works: bool = works) -> bool:
            if works:
                sent[ssrc].append(bytes(data))
            return works

        consumer = _consumer(producer, params, send, metrics, rng)
        consumer.start(params)
        consumer.set_playout_delay(400 if ssrc == 1000 else 0)
        producer.consumers.append(consumer)
    layer = producer.layers[0]
    for seq in range(3):
        data = _vp8_packet(seq, 500 + seq, key=seq == 0)
        producer.on_rtp(data, parse_rtp_header(data), 10 * seq, layer)

    for ssrc, abs_id in ((1000, 3), (2000, None)):
        packets = sent[ssrc]
        headers = [parse_rtp_header(p) for p in packets]
        assert [h.ssrc for h in headers] == [ssrc] * 3
        assert {h.payload_type for h in headers} == {100 + ssrc // 1000}
        assert all(h.marker for h in headers)
        seqs = [h.sequence_number for h in headers]
        assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
        # the first PictureID forwarded keeps its value, later ones follow it
        pids = [
            parse_vp8_descriptor(p[h.payload_offset :]).picture_id
            for p, h in zip(packets, headers, strict=True)
        ]
        assert pids == [500, 501, 502]
        # abs-send-time: arrival 20 ms = 0x00051E in 6.18 fixed point, under the peer's id
        value = None if abs_id is None else find_extension(packets[2], headers[2], abs_id)
        assert value == (None if abs_id is None else (20 * 262144 // 1000).to_bytes(3, "big"))
        # the playout delay only where negotiated: min 400 ms, max 10 s, in 10-ms units
        delay = find_extension(packets[0], headers[0], 5)
        assert delay == (((40 << 12) | 1000).to_bytes(3, "big") if ssrc == 1000 else None)
    # the two subscribers' random sequence numbers differ
    assert sent[1000][0][2:4] != sent[2000][0][2:4]
    size = len(sent[1000][0])
    assert metrics.rtp_packets_out == 6
    assert metrics.rtp_bytes_out == 2 * sum(len(p) for p in sent[1000])
    assert size == 12 + 12 + 4 + len(KEY)
    assert [c.bytes_sent for c in producer.consumers] == [
        sum(len(p) for p in sent[1000]),
        sum(len(p) for p in sent[2000]),
        0,
    ]
    assert [c.stats().packets_sent for c in producer.consumers] == [3, 3, 0]


SIMULCAST = RemoteTrack("video", "1", None, None, 96, None, 90000, rids=("q", "h", "f"))


def _simulcast_consumer() -> tuple[Producer, Consumer, list[int]]:
    metrics = BridgeMetrics()
    # each consumer on its own: in a lane, the producer would not call its forward
    producer = make_producer(SIMULCAST, metrics, lanes=False)
    params = SlotParameters(1000, 1001, 96, None, "c", 3)
    consumer = _consumer(producer, params, lambda data: True, metrics, random.Random(1))
    producer.consumers.append(consumer)
    called: list[int] = []
    forward = consumer.forward

    def counting(template: ForwardingTemplate, packet: InboundPacket) -> bool:
        called.append(packet.spatial)
        return forward(template, packet)

    consumer.forward = counting  # type: ignore[method-assign]
    return producer, consumer, called


def _send_layers(producer: Producer, seq: int, key: bool = False) -> None:
    for layer in producer.layers:
        data = _vp8_packet(seq, seq, key)
        producer.on_rtp(data, parse_rtp_header(data), seq, layer)


def test_a_consumer_is_handed_only_the_layers_it_forwards_or_switches_to() -> None:
    producer, consumer, called = _simulcast_consumer()
    assert consumer.layer_mask == 0  # not started: nothing
    _send_layers(producer, 0, key=True)
    assert called == []
    consumer.start(SlotParameters(1000, 1001, 96, None, "c", 3))
    assert consumer.layer_mask == 0b001  # waiting for a key frame of layer 0
    _send_layers(producer, 1, key=True)
    assert called == [0] and consumer.current_spatial == 0
    called.clear()
    consumer.set_target(2, 2)  # switching up: layer 0 keeps flowing until 2's key frame
    assert consumer.layer_mask == 0b101
    _send_layers(producer, 2)
    assert called == [0, 2]
    _send_layers(producer, 3, key=True)
    assert consumer.current_spatial == 2
    # 1, 2, 3 on layer 0 (layer 0 comes first in each round), then 3 on layer 2
    assert consumer.stats().packets_sent == 4
    consumer.set_target(2, 2)
    assert consumer.layer_mask == 0b100
    consumer.set_target(None, 2)  # paused by the allocator
    assert consumer.layer_mask == 0
    consumer.set_target(1, 2)
    consumer.pause()  # the producer was muted
    assert consumer.layer_mask == 0
    consumer.resume()
    assert consumer.layer_mask == 0b010
    consumer.restart()
    assert consumer.layer_mask == 0b010


def test_the_temporal_layers_come_from_the_stream_not_from_what_was_forwarded() -> None:
    """A consumer paused since its join forwards nothing; its ladder still needs the
    temporal steps (without them its cheapest step is a whole layer)."""
    producer, consumer, _ = _simulcast_consumer()
    assert consumer.temporal_layers == 1
    for seq, tid in enumerate((0, 2, 1)):
        # RFC 7741 §4.2: X with I and T; 15-bit PictureID; TID in the T/K byte's top bits
        descriptor = bytes([0x90, 0xA0]) + struct.pack("!HB", 0x8000 | seq, tid << 6)
        data = struct.pack("!BBHII", 0x80, 96, seq, 3000 * seq, 2222) + descriptor + b"\x01"
        producer.on_rtp(data, parse_rtp_header(data), seq, producer.layers[0])
    assert consumer.layer_mask == 0  # never started: handed nothing
    assert consumer.temporal_layers == 3


def _recording_consumer(
    seed: int, params: SlotParameters | None = None
) -> tuple[BridgeMetrics, Producer, Consumer, list[bytes]]:
    """A video producer with one started consumer whose sent packets are kept (``params``:
    without RTX by default)."""
    metrics = BridgeMetrics()
    producer = make_producer(VIDEO, metrics)
    sent: list[bytes] = []
    params = params or SlotParameters(1000, 1001, 100, None, "c", None)
    consumer = _consumer(
        producer,
        params,
        lambda data: sent.append(bytes(data)) is None,
        metrics,
        random.Random(seed),
    )
    consumer.start(params)
    producer.consumers.append(consumer)
    return metrics, producer, consumer, sent


def test_a_retransmission_carries_the_picture_id_the_subscriber_saw() -> None:
    """After a pause the munger keeps PictureIDs continuous (506 goes out as 503); a NACK
    for that packet must be answered with 503 too, not the publisher's 506."""
    metrics, producer, consumer, sent = _recording_consumer(5)
    layer = producer.layers[0]

    def feed(seq: int, key: bool) -> None:
        data = _vp8_packet(seq, 500 + seq, key=key)
        producer.on_rtp(data, parse_rtp_header(data), 10 * seq, layer)

    for seq in range(3):
        feed(seq, key=seq == 0)
    consumer.pause()
    for seq in range(3, 6):
        feed(seq, key=False)
    consumer.resume()
    feed(6, key=True)

    def picture_id(packet: bytes) -> int:
        h = parse_rtp_header(packet)
        d = parse_vp8_descriptor(memoryview(packet)[h.payload_offset : h.payload_end])
        assert d.picture_id is not None
        return d.picture_id

    forwarded = sent[-1]
    assert picture_id(forwarded) != 506  # munged: continuous with what went before
    consumer.on_nack((parse_rtp_header(forwarded).sequence_number,))
    resent = sent[-1]
    assert resent is not forwarded
    assert picture_id(resent) == picture_id(forwarded)

    def payload(packet: bytes) -> bytes:
        h = parse_rtp_header(packet)
        return packet[h.payload_offset : h.payload_end]

    assert payload(resent) == payload(forwarded)
    # paused by the allocator: old pictures are of no use, and the link had no room
    consumer.set_target(None, 2)
    count = len(sent)
    consumer.on_nack((parse_rtp_header(forwarded).sequence_number,))
    assert len(sent) == count
    assert metrics.rtp_dropped["nack_not_forwarding"] == 1


AUDIO = RemoteTrack("audio", "0", 3333, None, 111, None, 48000)


def _opus_packet(seq: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 111, seq, 960 * seq, 3333) + f"opus-{seq}".encode()


def test_red_carries_the_previous_packet_only_where_negotiated_and_wanted() -> None:
    metrics = BridgeMetrics()
    producer = make_producer(AUDIO, metrics)
    sent: dict[str, list[bytes]] = {"red": [], "declined": [], "not wanted": []}
    for name, red_pt in (("red", 63), ("declined", None), ("not wanted", 63)):
        params = SlotParameters(1000, 1001, 96, None, "c", None, red_payload_type=red_pt)
        out = sent[name]
        consumer = _consumer(
            producer, params, lambda data, out=out: out.append(bytes(data)) is None, metrics,
            random.Random(2),
        )  # fmt: skip
        consumer.start(params)
        consumer.set_redundancy(name != "not wanted")
        assert consumer.redundant == (name == "red")
        producer.consumers.append(consumer)
    layer = producer.layers[0]
    for seq in (1, 2, 4):  # 3 was lost on the uplink: 4 has no previous packet to carry
        data = _opus_packet(seq)
        producer.on_rtp(data, parse_rtp_header(data), 20 * seq, layer)

    red = [(parse_rtp_header(p).payload_type, parse_red(p[12:])) for p in sent["red"]]
    assert red == [
        (63, [(96, 0, b"opus-1")]),
        (63, [(96, 960, b"opus-1"), (96, 0, b"opus-2")]),
        (63, [(96, 0, b"opus-4")]),
    ]
    for name in ("declined", "not wanted"):
        assert [(p[1] & 0x7F, p[12:]) for p in sent[name]] == [
            (96, b"opus-1"), (96, b"opus-2"), (96, b"opus-4")
        ]  # fmt: skip
    # what the downlink estimate counts as sent is what went out, RED included
    assert producer.consumers[0].bytes_sent == sum(len(p) for p in sent["red"])


def test_packets_from_before_the_key_frame_that_resumed_are_not_resent() -> None:
    """A resume (or a switch to another layer) starts at a key frame: the pictures before
    it are of no use, so a NACK for them is not answered; one for a newer packet is."""
    metrics, producer, consumer, sent = _recording_consumer(6)
    layer = producer.layers[0]

    def feed(seqs: range, key: int) -> None:
        for seq in seqs:
            data = _vp8_packet(seq, 500 + seq, key=seq == key)
            producer.on_rtp(data, parse_rtp_header(data), 10 * seq, layer)

    feed(range(3), key=0)
    old = [parse_rtp_header(p).sequence_number for p in sent]
    consumer.pause()
    consumer.resume()
    feed(range(5, 7), key=5)
    new = parse_rtp_header(sent[-1]).sequence_number
    count = len(sent)
    assert consumer.on_nack((*old, new)) == 4  # all four were sent to it: its link lost them
    assert metrics.rtp_dropped["nack_before_keyframe"] == 3
    assert len(sent) == count + 1  # the packet after the key frame


def test_a_packet_that_never_left_is_forgotten() -> None:
    """Dropped by the pacer after the forwarder numbered it: not in the sent map, so the
    subscriber's report of it is a gap, not downlink loss, and a NACK finds nothing."""
    metrics, producer, consumer, sent = _recording_consumer(4)
    for seq in range(3):
        data = _vp8_packet(seq, 500 + seq, key=seq == 0)
        producer.on_rtp(data, parse_rtp_header(data), 10 * seq, producer.layers[0])
    last = parse_rtp_header(sent[-1]).sequence_number
    consumer.unsent(last)
    assert consumer.on_nack((last,)) == 0  # never sent: not its link's loss
    assert metrics.rtp_dropped["nack_miss"] == 1 and len(sent) == 3


def _forwarding_consumer(
    now: list[int],
) -> tuple[Consumer, list[bytes], list[bytes]]:
    """A video consumer that forwarded one key frame; what it sent as media and as RTCP."""
    metrics = BridgeMetrics()
    producer = make_producer(VIDEO, metrics)
    media: list[bytes] = []
    rtcp: list[bytes] = []
    params = SlotParameters(1000, 1001, 100, None, "c", 3)
    consumer = Consumer(
        producer=producer,
        slot=StaticSlot("video", params),
        send=lambda p: media.append(bytes(p)) is None,
        send_rtcp=lambda p: rtcp.append(bytes(p)) is None,
        clock=lambda: now[0],
        metrics=metrics,
        rng=random.Random(1),
    )
    consumer.start(params)
    producer.consumers.append(consumer)
    data = _vp8_packet(0, 500, key=True)
    producer.on_rtp(data, parse_rtp_header(data), 0, producer.layers[0])
    return consumer, media, rtcp


def test_sender_reports_skip_the_media_pacer() -> None:
    """Video goes through the subscriber's pacer; its SRs must not wait behind it (a
    stale NTP/RTP pair, and a round trip that measures the bridge's own queue)."""
    consumer, media, rtcp = _forwarding_consumer([0])
    consumer.relay_sender_report(SenderReport(2222, 1 << 32, 0, 1, 10, ()), 0)
    assert len(media) == 1 and parse_rtp_header(media[0]).ssrc == 1000
    assert len(rtcp) == 1 and rtcp[0][1] == 200  # RFC 3550 §6.4.1: PT=200 SR


def test_one_round_trip_per_sender_report() -> None:
    """The receiver repeats the last SR's LSR until a new SR comes: toward paused video
    (no SRs) a repeated report is no new round trip."""
    now = [0]
    consumer, _, _ = _forwarding_consumer(now)
    ntp = 7 << 32
    consumer.relay_sender_report(SenderReport(2222, ntp, 0, 1, 10, ()), 0)
    lsr = (ntp >> 16) & 0xFFFFFFFF
    now[0] = 400
    consumer.on_report_block(ReportBlock(1000, 0, 0, 1, 0, lsr, 65536 // 4), now[0])
    assert consumer.take_rtt_sample() == 150  # 400 ms, of which 250 in the receiver
    now[0] = 1400  # the same SR echoed again a second later: nothing new
    consumer.on_report_block(ReportBlock(1000, 0, 0, 1, 0, lsr, 65536 + 65536 // 4), now[0])
    assert consumer.take_rtt_sample() is None
    assert consumer.rtt_ms == 150


def test_a_refreshed_sender_report_carries_the_last_ones_clocks_forward() -> None:
    """No SR for a second: one of the last relayed SR's NTP/RTP pair, moved on by the
    time since, and a report echoing it measures a round trip."""
    now = [0]
    consumer, _, rtcp = _forwarding_consumer(now)
    ntp = 7 << 32
    consumer.relay_sender_report(SenderReport(2222, ntp, 90_000, 1, 10, ()), 0)
    relayed = parse_rtcp(rtcp[-1])[0]
    assert isinstance(relayed, SenderReport)
    now[0] = 900
    consumer.refresh_sender_report(now[0])
    assert len(rtcp) == 1  # one went out less than a second ago
    now[0] = 1500
    consumer.refresh_sender_report(now[0])
    refreshed = parse_rtcp(rtcp[-1])[0]
    assert isinstance(refreshed, SenderReport) and len(rtcp) == 2
    assert refreshed.ntp_timestamp == ntp + (1500 << 32) // 1000
    assert refreshed.rtp_timestamp == (relayed.rtp_timestamp + 90_000 * 1500 // 1000) & 0xFFFFFFFF
    lsr = (refreshed.ntp_timestamp >> 16) & 0xFFFFFFFF
    now[0] = 1800
    consumer.on_report_block(ReportBlock(1000, 0, 0, 1, 0, lsr, 65536 // 4), now[0])
    assert consumer.take_rtt_sample() == 50  # 300 ms, of which 250 in the receiver


def test_playout_delay_only_once_asked_and_reset_to_zero_after() -> None:
    """A clean link's packets carry no playout delay; once one was asked, going back to
    none is said explicitly (the browser keeps the last value it saw)."""
    metrics = BridgeMetrics()
    producer = make_producer(VIDEO, metrics)
    sent: list[bytes] = []
    params = SlotParameters(1000, 1001, 100, None, "c", 3, playout_delay_id=5)
    consumer = _consumer(
        producer, params, lambda p: sent.append(bytes(p)) is None, metrics, random.Random(2)
    )
    consumer.start(params)
    producer.consumers.append(consumer)
    delays = []
    for seq, delay in enumerate((0, 400, 0)):
        consumer.set_playout_delay(delay)
        data = _vp8_packet(seq, 500 + seq, key=seq == 0)
        producer.on_rtp(data, parse_rtp_header(data), 10 * seq, producer.layers[0])
        delays.append(find_extension(sent[-1], parse_rtp_header(sent[-1]), 5))
    assert delays == [None, ((40 << 12) | 1000).to_bytes(3, "big"), (1000).to_bytes(3, "big")]


def test_a_packet_that_failed_to_send_is_no_downlink_loss() -> None:
    """A send that fails (the pacer full on a collapsed link) used a sequence number the
    subscriber then reports lost: that gap is the bridge's, not the link's."""
    metrics = BridgeMetrics()
    producer = make_producer(VIDEO, metrics)
    sent: list[bytes] = []
    params = SlotParameters(1000, 1001, 100, None, "c", 3)
    works = [True]

    def send(p: bytes | bytearray) -> bool:
        if works[0]:
            sent.append(bytes(p))
        return works[0]

    consumer = _consumer(producer, params, send, metrics, random.Random(4))
    consumer.start(params)
    producer.consumers.append(consumer)
    for seq in range(6):
        works[0] = seq != 3  # the fourth packet never leaves
        data = _vp8_packet(seq, 500 + seq, key=seq == 0)
        producer.on_rtp(data, parse_rtp_header(data), 10 * seq, producer.layers[0])
    first = parse_rtp_header(sent[0]).sequence_number
    last = parse_rtp_header(sent[-1]).sequence_number
    assert last - first == 5 and len(sent) == 5
    consumer.on_report_block(ReportBlock(1000, 0, 0, first, 0, 0, 0), 0)
    # the subscriber got all but the one never sent
    assert consumer.on_report_block(ReportBlock(1000, 0, 1, last, 0, 0, 0), 1000) == (0, 5)


def test_what_the_reports_say_arrived_is_measured_per_stream_rtx_included() -> None:
    """Of 10 video packets sent between two reports a second apart, the second says 4
    were lost: 6 of their mean size arrived. The RTX stream's padding adds its own."""
    _, producer, consumer, sent = _recording_consumer(
        9, SlotParameters(1000, 1001, 100, 101, "c", 3)
    )
    data = _vp8_packet(0, 500, key=True)
    producer.on_rtp(data, parse_rtp_header(data), 0, producer.layers[0])
    first = parse_rtp_header(sent[0]).sequence_number
    consumer.on_report_block(ReportBlock(1000, 0, 0, first, 0, 0, 0), 0)
    consumer.on_rtx_report_block(ReportBlock(1001, 0, 0, 5, 0, 0, 0), 0)
    assert consumer.delivered_bps(0) is None
    for seq in range(1, 11):
        data = _vp8_packet(seq, 500 + seq, key=False)
        producer.on_rtp(data, parse_rtp_header(data), 10 * seq, producer.layers[0])
    media = sent[1:]
    assert len(media) == 10
    consumer.on_report_block(ReportBlock(1000, 0, 4, first + 10, 0, 0, 0), 1000)
    mean = sum(map(len, media)) / 10
    assert consumer.delivered_bps(1000) == int(6 * mean * 8)
    rtx = consumer.send_padding(200, 1000) + consumer.send_padding(200, 1000)
    consumer.on_rtx_report_block(ReportBlock(1001, 0, 1, 7, 0, 0, 0), 2000)  # 1 of 2 lost
    consumer.on_report_block(ReportBlock(1000, 0, 4, first + 10, 0, 0, 0), 2000)
    # no more video; of the padding one packet, over the 2 s since the RTX stream's first
    assert consumer.delivered_bps(2000) == rtx // 2 * 8 // 2


def test_padding_goes_on_the_rtx_stream_and_counts_as_video_the_remb_sees() -> None:
    metrics = BridgeMetrics()
    producer = make_producer(VIDEO, metrics)
    sent: list[bytes] = []
    params = SlotParameters(1000, 1001, 100, 101, "c", 3)
    consumer = _consumer(
        producer, params, lambda p: sent.append(bytes(p)) is None, metrics, random.Random(6)
    )
    assert not consumer.can_pad  # not negotiated yet
    consumer.start(params)
    assert consumer.can_pad
    assert consumer.send_padding(200, 0) == len(sent[0]) == 12 + 12 + 200
    consumer.send_padding(100, 0)
    first, second = (parse_rtp_header(p) for p in sent)
    assert (first.payload_type, first.ssrc) == (101, 1001)
    assert second.sequence_number == (first.sequence_number + 1) & 0xFFFF
    assert find_extension(sent[0], first, 3) is not None  # abs-send-time: the REMB counts it
    assert consumer.bytes_sent == sum(map(len, sent)) and consumer.rtx_bytes == 0
    assert metrics.padding_bytes == consumer.bytes_sent
    # the RTX stream's reports: all of it sent, nothing of it arriving, is loss
    block = ReportBlock(1001, 0, 0, first.sequence_number - 1, 0, 0, 0)
    consumer.on_rtx_report_block(block, 0)
    assert consumer.on_rtx_report_block(block, 1000) == (2, 2)


def test_no_padding_without_rtx() -> None:
    _, _, consumer, sent = _recording_consumer(7)
    assert not consumer.can_pad
    assert consumer.send_padding(200, 0) == 0 and sent == []


def test_a_paused_streams_dropped_tail_is_given_back_so_the_resume_has_no_gap() -> None:
    """The pacer held the last two packets when the video was paused and dropped them:
    the resumed stream continues right after the last packet that left, or Chromium
    counts the numbers in between as lost (96 % in its first report after a resume)."""
    _, producer, consumer, sent = _recording_consumer(8)
    for seq in range(5):
        data = _vp8_packet(seq, 500 + seq, key=seq == 0)
        producer.on_rtp(data, parse_rtp_header(data), 10 * seq, producer.layers[0])
    out = [parse_rtp_header(p).sequence_number for p in sent]
    consumer.set_target(None, 2)  # paused for bandwidth
    for dropped in reversed(out[3:]):  # the pacer never sent the last two
        consumer.unsent(dropped)
    consumer.set_target(0, 2)
    data = _vp8_packet(10, 510, key=True)
    producer.on_rtp(data, parse_rtp_header(data), 100, producer.layers[0])
    assert parse_rtp_header(sent[-1]).sequence_number == (out[2] + 1) & 0xFFFF


def test_only_the_newest_unsent_numbers_are_given_back() -> None:
    _, producer, consumer, sent = _recording_consumer(9)
    for seq in range(5):
        data = _vp8_packet(seq, 500 + seq, key=seq == 0)
        producer.on_rtp(data, parse_rtp_header(data), 10 * seq, producer.layers[0])
    out = [parse_rtp_header(p).sequence_number for p in sent]
    consumer.set_target(None, 2)
    consumer.unsent(out[1])  # not the tail: stays a gap
    consumer.set_target(0, 2)
    data = _vp8_packet(10, 510, key=True)
    producer.on_rtp(data, parse_rtp_header(data), 100, producer.layers[0])
    assert parse_rtp_header(sent[-1]).sequence_number == (out[4] + 1) & 0xFFFF


def test_retransmissions_go_to_the_repair_queue_and_not_twice_while_one_waits() -> None:
    metrics = BridgeMetrics()
    producer = make_producer(VIDEO, metrics)
    sent: list[bytes] = []
    repaired: list[tuple[bytes, tuple[int, int]]] = []
    waiting: set[tuple[int, int]] = set()

    class Queue:
        def send_repair(self, packet: bytes | bytearray, key: tuple[int, int]) -> bool:
            repaired.append((bytes(packet), key))
            waiting.add(key)
            return True

        def repair_pending(self, key: tuple[int, int]) -> bool:
            return key in waiting

        def drop_stream(self, ssrc: int) -> list[int]:
            return []

    params = SlotParameters(1000, 1001, 100, None, "c", None)
    consumer = Consumer(
        producer=producer,
        slot=StaticSlot("video", params),
        send=lambda data: sent.append(bytes(data)) is None,
        clock=lambda: 0,
        queue=Queue(),
        metrics=metrics,
        rng=random.Random(3),
    )
    consumer.start(params)
    producer.consumers.append(consumer)
    for seq in range(3):
        data = _vp8_packet(seq, 500 + seq, key=seq == 0)
        producer.on_rtp(data, parse_rtp_header(data), 10 * seq, producer.layers[0])
    lost = parse_rtp_header(sent[1]).sequence_number
    consumer.on_nack((lost,))
    assert len(sent) == 3 and len(repaired) == 1  # not through the media path
    packet, (ssrc, ext) = repaired[0]
    assert ssrc == 1000 and ext & 0xFFFF == lost
    assert parse_rtp_header(packet).sequence_number == lost
    consumer.on_nack((lost,))  # asked again while its copy waits in the pacer
    assert len(repaired) == 1 and metrics.rtp_dropped["nack_pending"] == 1


async def test_a_layer_switch_drops_what_of_the_old_layer_still_waits_in_the_pacer() -> None:
    """540p queued for a link that just fell to 250 kbit/s: the 135p key frame leaves
    next, not seconds later, and the dropped packets are gaps, not downlink loss."""
    metrics = BridgeMetrics()
    # each consumer on its own: in a lane, the producer would not call its forward
    producer = make_producer(SIMULCAST, metrics, lanes=False)
    params = SlotParameters(1000, 1001, 96, None, "c", 3)
    now = [0]
    wire: list[bytes] = []
    pacer = PacedSender(lambda: now[0], metrics)
    pacer.connect(lambda data: wire.append(bytes(data)) is None)
    pacer.set_rate(64_000)  # 8 bytes/ms: the burst (1500 bytes) lets a few packets out
    consumer = Consumer(
        producer=producer,
        slot=StaticSlot("video", params),
        send=pacer.send,
        clock=lambda: now[0],
        queue=pacer,
        metrics=metrics,
        rng=random.Random(2),
    )
    consumer.start(params)
    producer.consumers.append(consumer)
    consumer.set_target(2, 2)
    now[0] = 1000
    top = producer.layers[2]
    for seq in range(30):
        data = _vp8_packet(seq, seq, key=seq == 0) + bytes(1000)
        producer.on_rtp(data, parse_rtp_header(data), now[0], top)
    queued = pacer.queued
    assert queued > 20
    waiting = [parse_rtp_header(p).sequence_number for p in wire]
    consumer.set_target(0, 2)
    low = producer.layers[0]
    data = _vp8_packet(100, 100, key=True) + bytes(1000)
    producer.on_rtp(data, parse_rtp_header(data), now[0], low)
    assert metrics.rtp_dropped["pacer_stream_restarted"] == queued
    assert pacer.queued == 1  # the key frame, first in line
    first_dropped = (waiting[-1] + 1) & 0xFFFF
    assert consumer.on_nack((first_dropped,)) == 0  # never sent: no loss on this link
    pacer.close()


def test_a_seven_bit_picture_id_wraps_without_a_drop() -> None:
    """RFC 7741 §4.2, M=0: a 7-bit PictureID wraps after 127. The producer tells the
    forwarder the width; told 15 bits (as it always did), the wrap read as a picture
    32 641 behind and every packet after it was dropped as too old."""
    metrics = BridgeMetrics()
    producer = make_producer(VIDEO, metrics)
    sent: list[bytes] = []
    params = SlotParameters(1000, 1001, 100, None, "c")

    def send(data: bytes | bytearray) -> bool:
        sent.append(bytes(data))
        return True

    consumer = _consumer(producer, params, send, metrics, random.Random(5))
    consumer.start(params)
    producer.consumers.append(consumer)
    for seq in range(8):
        picture_id = (124 + seq) & 0x7F  # 124 .. 127, then 0 .. 3
        # S=1 PID 0, X: I, M=0 and a 7-bit PictureID
        payload = bytes([0x90, 0x80, picture_id]) + (KEY if seq == 0 else b"\x01\x02\x03")
        data = struct.pack("!BBHII", 0x80, 0x80 | 96, seq, 3000 * seq, 2222) + payload
        producer.on_rtp(data, parse_rtp_header(data), 10 * seq, producer.layers[0])
    assert len(sent) == 8
    # the PictureID byte: third of the descriptor, where the payload starts
    picture_ids = [p[parse_rtp_header(p).payload_offset + 2] for p in sent]
    assert picture_ids == [124, 125, 126, 127, 0, 1, 2, 3]
