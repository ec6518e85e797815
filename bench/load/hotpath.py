"""`python -m bench.load.hotpath`: the bridge's forwarding path in one process, no network.

One publisher's camera media (as bench.load sends it) goes through PublisherIngress ->
Producer -> N Consumers; video then passes each listener's pacer (PacedSender at a rate
it never has to wait for, as toward a subscriber whose estimate is well above the
stream); each send is real SRTP (libsrtp through the
adapter's in-place session, with a fixed key) and, unless --no-socket, a real sendto to
a loopback UDP socket nobody reads. Prints CPU µs per forwarded packet: repeatable
enough to compare one change at a time on a busy machine (run it under
`valgrind --tool=callgrind` for instruction counts).
"""

from __future__ import annotations

import argparse
import random
import socket
import time
from collections.abc import Iterator

from bridge.aiortc_adapter import loopback_srtp_sender
from bridge.media.consumer import Consumer
from bridge.media.ingress import PublisherIngress
from bridge.media.paced_sender import PacedSender
from bridge.media.peer import Kind, RemoteTrack, SendPacket, SlotParameters
from bridge.media.producer import Producer
from bridge.metrics import BridgeMetrics
from bridge.rtp.transport_feedback import TransportFeedback

from .media import Media, rtp_packet, stamp, vp8_payloads

_TRACKS = {
    "audio": RemoteTrack("audio", "0", 1111, None, 111, None, 48000),
    "video": RemoteTrack("video", "1", 2222, 3333, 96, 97, 90000),
}
# --simulcast: three layers, SSRCs learned from the RID header extension (as from Chromium)
_RIDS = ("q", "h", "f")
_RID_EXT_ID = 10
# Packets between two reads of every consumer's bytes_sent: half a second of ~130/s.
_READ_EVERY = 65
# A subscriber's pacer at the estimator's ceiling: one packet per ms of it never waits.
_PACING_BPS = 20_000_000
_SIMULCAST = RemoteTrack("video", "1", None, None, 96, 97, 90000, _RIDS, _RID_EXT_ID)


class _Slot:
    def __init__(self, kind: Kind, ssrc: int):
        self.kind = kind
        audio = kind == "audio"
        # video with abs-send-time, as every Chromium subscriber negotiates it
        self.parameters = SlotParameters(
            ssrc, ssrc + 1, 111 if audio else 96, None, "c", None if audio else 3
        )

    def assign(self, stream_id: str, track_id: str) -> None:
        return None

    def set_active(self, active: bool) -> None:
        return None


def _with_rid(packet: bytes, rid: str) -> bytes:
    """``packet`` (no CSRC, no extension) with an RFC 8285 §4.2 one-byte RID element."""
    element = bytes([(_RID_EXT_ID << 4) | (len(rid) - 1)]) + rid.encode()
    element += bytes(-len(element) % 4)
    block = b"\xbe\xde" + (len(element) // 4).to_bytes(2, "big") + element
    return bytes([packet[0] | 0x10]) + packet[1:12] + block + packet[12:]


def _simulcast_layers(frame: bytes) -> list[tuple[int, str, bytes]]:
    """(SSRC, RID, frame) per layer: a quarter of the bytes per step down (the area of
    half the width and height), the first byte (key frame flag) kept."""
    video = _TRACKS["video"].ssrc or 0
    top = len(_RIDS) - 1
    return [
        (video + i, rid, frame[: max(2, len(frame) >> (2 * (top - i)))])
        for i, rid in enumerate(_RIDS)
    ]


# --temporal-layers: VP8 L1T3, the TIDs of four frames in a row (RFC 7741 §4.2)
_TEMPORAL_PATTERN = (0, 2, 1, 2)


def packets(
    media: Media, seconds: float, simulcast: bool = False, temporal_layers: bool = False
) -> Iterator[bytes]:
    """The publisher's packets in send order: Opus every 20 ms, VP8 at 30 fps (one
    stream, or three simulcast layers; with ``temporal_layers``, each in L1T3)."""
    seq: dict[int, int] = {}
    audio, video = _TRACKS["audio"], _TRACKS["video"]
    frame = 0
    for tick in range(int(seconds / 0.02)):
        audio_ssrc = audio.ssrc or 0
        yield rtp_packet(
            audio.payload_type,
            seq.setdefault(audio_ssrc, 0),
            tick * 960,
            audio_ssrc,
            stamp(media.audio[tick % len(media.audio)]),
        )
        seq[audio_ssrc] += 1
        while frame * 3 <= tick * 2:  # 30 fps against 50 audio frames a second
            whole = media.video[frame % len(media.video)]
            layers = _simulcast_layers(whole) if simulcast else [(video.ssrc or 0, "", whole)]
            for ssrc, rid, layer_frame in layers:
                temporal = None
                if temporal_layers:
                    tid = _TEMPORAL_PATTERN[frame % len(_TEMPORAL_PATTERN)]
                    temporal = (frame // len(_TEMPORAL_PATTERN), tid)
                payloads = vp8_payloads(layer_frame, picture_id=frame, temporal=temporal)
                for i, payload in enumerate(payloads):
                    packet = rtp_packet(
                        video.payload_type,
                        seq.setdefault(ssrc, 0),
                        frame * 3000,
                        ssrc,
                        stamp(payload),
                        marker=i == len(payloads) - 1,
                    )
                    yield _with_rid(packet, rid) if rid else packet
                    seq[ssrc] += 1
            frame += 1


def run(
    listeners: int,
    stream: list[bytes],
    use_socket: bool,
    aead: bool = False,
    simulcast: bool = False,
    lanes: bool = True,
    frame_rates: bool = False,
) -> tuple[float, int]:
    """CPU seconds spent and packets forwarded. With ``simulcast``, listener i receives
    video layer i mod 3; with ``frame_rates``, temporal layers up to i mod 3 (7.5, 15 or
    30 fps of an L1T3 stream); without ``lanes``, each consumer forwards each packet on
    its own (media/fanout_lane.py)."""
    metrics = BridgeMetrics()
    rng = random.Random(1)
    ingress = PublisherIngress(metrics, TransportFeedback(1))
    producers = [
        Producer(
            participant_id="p",
            track=track,
            feedback_ssrc=1,
            send_upstream=lambda d: True,
            metrics=metrics,
            lanes=lanes,
        )
        for track in (_TRACKS["audio"], _SIMULCAST if simulcast else _TRACKS["video"])
    ]
    ingress.reindex(producers)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setblocking(False)
    now = [0]  # ms: the index of the packet being routed, as route_rtp is told

    def clock() -> int:
        return now[0]

    for i in range(listeners):
        send: SendPacket = loopback_srtp_sender(
            sender if use_socket else None, sink.getsockname(), aead
        )
        pacer = PacedSender(clock, metrics)
        pacer.connect(send)
        pacer.set_rate(_PACING_BPS)
        for producer in producers:
            slot = _Slot(producer.kind, 10_000 + 4 * i + (producer.kind == "video") * 2)
            consumer = Consumer(
                producer=producer,
                slot=slot,
                send=pacer.send if producer.kind == "video" else send,
                clock=clock,
                metrics=metrics,
                rng=rng,
            )
            producer.consumers.append(consumer)
            assert slot.parameters is not None
            consumer.start(slot.parameters)
            if producer.kind == "video" and (simulcast or frame_rates):
                consumer.set_target(i % len(_RIDS) if simulcast else 0, i % 3 if frame_rates else 2)
    start = time.process_time()
    consumers = [c for producer in producers for c in producer.consumers]
    for n, data in enumerate(stream):
        now[0] = n
        ingress.route_rtp(data, n)
        if n % _READ_EVERY == 0:
            # what each subscriber's allocator reads twice a second: a lane's members
            # then write their part of its log back (NACK map, counters)
            for consumer in consumers:
                consumer.bytes_sent  # noqa: B018
    spent = time.process_time() - start
    sink.close()
    sender.close()
    return spent, metrics.rtp_packets_out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.hotpath")
    parser.add_argument("--n", type=int, default=200, help="listeners")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of media")
    parser.add_argument("--no-socket", action="store_true", help="SRTP but no sendto")
    parser.add_argument("--synthetic", action="store_true", help="filler media, no encoder")
    parser.add_argument(
        "--srtp",
        choices=("cm-sha1", "gcm"),
        default="cm-sha1",
        help="SRTP profile: AES128_CM_SHA1_80, or AEAD_AES_256_GCM (aiortc peers negotiate it)",
    )
    parser.add_argument(
        "--simulcast", action="store_true", help="three video layers, listener i gets i mod 3"
    )
    parser.add_argument(
        "--frame-rates",
        action="store_true",
        help="VP8 in L1T3; listener i forwards temporal layers up to i mod 3 (7.5/15/30 fps)",
    )
    parser.add_argument(
        "--no-lanes", action="store_true", help="every consumer on its own (no fan-out lanes)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs; the fastest counts")
    args = parser.parse_args()
    media = Media.synthetic() if args.synthetic else Media.camera()
    stream = list(packets(media, args.seconds, args.simulcast, args.frame_rates))
    costs = []
    for _ in range(args.repeat):
        spent, forwarded = run(
            args.n,
            stream,
            not args.no_socket,
            args.srtp == "gcm",
            args.simulcast,
            not args.no_lanes,
            args.frame_rates,
        )
        costs.append(spent * 1e6 / forwarded)
    print(
        f"{forwarded} packets forwarded per run; CPU µs per packet: min {min(costs):.2f}, "
        f"all {' '.join(f'{c:.2f}' for c in costs)}"
    )


if __name__ == "__main__":
    main()
