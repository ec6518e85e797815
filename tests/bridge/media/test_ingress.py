"""PublisherIngress: simulcast layers are bound to SSRCs by their RID header extension
(RFC 8852), RTX by repaired-RID (RFC 4588 unwrapped), and garbage is counted."""

from __future__ import annotations

import dataclasses
import struct

from bridge.forwarding.forwarder import InboundPacket
from bridge.media.ingress import PublisherIngress
from bridge.media.peer import RemoteTrack
from bridge.media.producer import Producer
from bridge.metrics import BridgeMetrics
from bridge.rtp.forwarded import ForwardingTemplate
from bridge.rtp.transport_feedback import TransportFeedback

TRACK = RemoteTrack(
    kind="video",
    mid="1",
    ssrc=None,
    rtx_ssrc=None,
    payload_type=96,
    rtx_payload_type=97,
    clock_rate=90000,
    rids=("q", "h", "f"),
    rid_ext_id=10,
    repaired_rid_ext_id=11,
)
KEY_PAYLOAD = bytes([0x10, 0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A])  # S=1, VP8 keyframe (P=0)


def packet(
    ssrc: int,
    seq: int,
    pt: int = 96,
    ext: tuple[int, bytes] | None = None,
    payload: bytes = KEY_PAYLOAD,
) -> bytes:
    header = struct.pack("!BBHII", 0x90 if ext else 0x80, pt, seq, 1000, ssrc)
    if ext:
        ext_id, value = ext
        # RFC 8285 §4.2 one-byte form: id(4) | len-1(4), padded to 32 bits
        element = bytes([(ext_id << 4) | (len(value) - 1)]) + value
        element += b"\x00" * (-len(element) % 4)
        header += struct.pack("!HH", 0xBEDE, len(element) // 4) + element
    return header + payload


class Recorder:
    def __init__(self) -> None:
        self.got: list[InboundPacket] = []
        self.producer: Producer | None = None
        self.max_spatial = 2
        self.layer_mask = 0b111  # every layer

    def forward(self, template: ForwardingTemplate, pkt: InboundPacket) -> bool:
        self.got.append(pkt)
        return False

    def restart(self, layer_index: int | None = None) -> None:
        return None

    def relay_sender_report(self, report: object, layer_index: int) -> None:
        return None


def setup(
    track: RemoteTrack = TRACK, feedback: TransportFeedback | None = None
) -> tuple[PublisherIngress, Producer, Recorder, BridgeMetrics]:
    metrics = BridgeMetrics()
    producer = Producer(
        participant_id="p",
        track=track,
        feedback_ssrc=1,
        send_upstream=lambda b: True,
        metrics=metrics,
    )
    recorder = Recorder()
    producer.consumers.append(recorder)  # type: ignore[arg-type]
    ingress = PublisherIngress(metrics, feedback or TransportFeedback(1))
    ingress.reindex([producer])
    return ingress, producer, recorder, metrics


def test_layers_learn_their_ssrc_from_the_rid_extension() -> None:
    ingress, producer, rec, metrics = setup()
    ingress.route_rtp(packet(111, 5, ext=(10, b"h")), 0)
    ingress.route_rtp(packet(111, 6), 1)  # later packets need not repeat the RID
    ingress.route_rtp(packet(222, 9, ext=(10, b"f")), 2)
    assert [layer.ssrc for layer in producer.layers] == [None, 111, 222]
    assert [p.spatial for p in rec.got] == [1, 1, 2]
    assert rec.got[0].keyframe
    ingress.route_rtp(packet(333, 1), 3)  # no RID, unknown SSRC
    ingress.route_rtp(packet(444, 1, ext=(10, b"zz")), 4)  # a RID nobody offered
    assert metrics.rtp_dropped["unknown_ssrc"] == 1
    assert metrics.rtp_dropped["unknown_rid"] == 1
    assert len(rec.got) == 3


def test_rtx_found_by_repaired_rid_is_unwrapped_to_its_layer() -> None:
    ingress, producer, rec, _ = setup()
    ingress.route_rtp(packet(111, 5, ext=(10, b"q")), 0)
    osn = struct.pack("!H", 7)
    ingress.route_rtp(packet(999, 70, pt=97, ext=(11, b"q"), payload=osn + KEY_PAYLOAD), 1)
    assert producer.layers[0].rtx_ssrc == 999
    assert [p.ext_seq & 0xFFFF for p in rec.got] == [5, 7]
    assert producer.layers[0].cache.get(rec.got[1].ext_seq) is not None


def test_padding_only_rtx_is_dropped_as_padding_not_as_bad_rtx() -> None:
    """Chromium probes its uplink with padding-only packets on the RTX stream (P bit, no
    original sequence number); a one-byte payload cannot hold one and is malformed."""
    ingress, _, rec, metrics = setup()
    ingress.route_rtp(packet(111, 5, ext=(10, b"q")), 0)
    padding = bytearray(packet(999, 70, pt=97, ext=(11, b"q"), payload=bytes(10) + b"\x0b"))
    padding[0] |= 0x20  # P: the last octet counts the padding (all 11 payload octets)
    ingress.route_rtp(bytes(padding), 1)
    ingress.route_rtp(packet(999, 71, pt=97, ext=(11, b"q"), payload=b"\x00"), 2)
    assert metrics.rtp_dropped["rtx_padding"] == 1
    assert metrics.rtp_dropped["bad_rtx"] == 1
    assert [p.ext_seq & 0xFFFF for p in rec.got] == [5]


def test_malformed_packets_are_counted_by_reason() -> None:
    ingress, _, rec, metrics = setup()
    ingress.route_rtp(b"\x80\x60\x00", 0)
    ingress.route_rtp(packet(111, 1, ext=(10, b"q"), payload=b""), 1)  # empty VP8 payload
    assert metrics.rtp_dropped["too_short"] == 1
    assert metrics.rtp_dropped["bad_vp8"] == 1
    assert rec.got == []


def test_transport_wide_sequence_numbers_are_recorded_for_every_packet() -> None:
    feedback = TransportFeedback(1)
    track = dataclasses.replace(TRACK, rids=(), ssrc=111, transport_cc_ext_id=12)
    ingress, *_ = setup(track, feedback)
    ingress.route_rtp(packet(111, 1, ext=(12, b"\x00\x05")), 100)
    ingress.route_rtp(packet(555, 1, ext=(12, b"\x00\x07")), 104)  # a probe on an unknown SSRC
    ingress.route_rtp(packet(111, 2), 105)  # no transport-wide number: nothing to report
    (report,) = feedback.build(111)
    base, count = struct.unpack_from("!HH", report, 12)
    assert (base, count) == (5, 3)  # 5 and 7 received, 6 lost
