"""`python -m bench.load.hotpath`: the bridge's forwarding path in one process, no network.

One publisher's camera media (as bench.load sends it) goes through PublisherIngress ->
Producer -> N Consumers; each consumer's send is real SRTP (libsrtp through the
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
from collections.abc import Callable, Iterator

from bridge.aiortc_adapter import loopback_srtp_sender
from bridge.media.consumer import Consumer
from bridge.media.ingress import PublisherIngress
from bridge.media.peer import Kind, RemoteTrack, SlotParameters
from bridge.media.producer import Producer
from bridge.metrics import BridgeMetrics
from bridge.rtp.transport_feedback import TransportFeedback

from .media import Media, rtp_packet, stamp, vp8_payloads

_TRACKS = {
    "audio": RemoteTrack("audio", "0", 1111, None, 111, None, 48000),
    "video": RemoteTrack("video", "1", 2222, 3333, 96, 97, 90000),
}


class _Slot:
    def __init__(self, kind: Kind, ssrc: int):
        self.kind = kind
        self.parameters = SlotParameters(ssrc, ssrc + 1, 111 if kind == "audio" else 96, None, "c")

    def assign(self, stream_id: str, track_id: str) -> None:
        return None

    def set_active(self, active: bool) -> None:
        return None


def packets(media: Media, seconds: float) -> Iterator[bytes]:
    """The publisher's packets in send order: Opus every 20 ms, VP8 at 30 fps."""
    seq = {"audio": 0, "video": 0}
    audio, video = _TRACKS["audio"], _TRACKS["video"]
    frame = 0
    for tick in range(int(seconds / 0.02)):
        yield rtp_packet(
            audio.payload_type,
            seq["audio"],
            tick * 960,
            audio.ssrc or 0,
            stamp(media.audio[tick % len(media.audio)]),
        )
        seq["audio"] += 1
        while frame * 3 <= tick * 2:  # 30 fps against 50 audio frames a second
            payloads = vp8_payloads(media.video[frame % len(media.video)], picture_id=frame)
            for i, payload in enumerate(payloads):
                yield rtp_packet(
                    video.payload_type,
                    seq["video"],
                    frame * 3000,
                    video.ssrc or 0,
                    stamp(payload),
                    marker=i == len(payloads) - 1,
                )
                seq["video"] += 1
            frame += 1


def run(
    listeners: int, stream: list[bytes], use_socket: bool, aead: bool = False
) -> tuple[float, int]:
    """CPU seconds spent and packets forwarded."""
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
        )
        for track in _TRACKS.values()
    ]
    ingress.reindex(producers)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setblocking(False)
    for i in range(listeners):
        send: Callable[[bytes | bytearray], bool] = loopback_srtp_sender(
            sender if use_socket else None, sink.getsockname(), aead
        )
        for producer in producers:
            slot = _Slot(producer.kind, 10_000 + 4 * i + (producer.kind == "video") * 2)
            consumer = Consumer(
                producer=producer,
                slot=slot,
                send=send,
                clock=lambda: 0,
                metrics=metrics,
                rng=rng,
            )
            producer.consumers.append(consumer)
            assert slot.parameters is not None
            consumer.start(slot.parameters)
    start = time.process_time()
    for n, data in enumerate(stream):
        ingress.route_rtp(data, n)
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
    parser.add_argument("--repeat", type=int, default=5, help="runs; the fastest counts")
    args = parser.parse_args()
    media = Media.synthetic() if args.synthetic else Media.camera()
    stream = list(packets(media, args.seconds))
    costs = []
    for _ in range(args.repeat):
        spent, forwarded = run(args.n, stream, not args.no_socket, args.srtp == "gcm")
        costs.append(spent * 1e6 / forwarded)
    print(
        f"{forwarded} packets forwarded per run; CPU µs per packet: min {min(costs):.2f}, "
        f"all {' '.join(f'{c:.2f}' for c in costs)}"
    )


if __name__ == "__main__":
    main()
