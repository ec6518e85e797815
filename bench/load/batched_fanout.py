"""How far can batching the fan-out go? The bridge's forwarding path against a bound.

``python -m bench.load.batched_fanout [--n 100] [--seconds 5] [--repeat 3]``: the same
packets (bench.load.hotpath's synthetic camera and Opus) to N listeners, two ways, CPU µs
per forwarded packet for each (process time), AEAD_AES_256_GCM, a real sendto:

- *bridge*: ``bench.load.hotpath`` (ingress, producer, a consumer and forwarder per
  listener, its pacer, the fan-out lanes that serve steady consumers, the peer's SRTP
  and send);
- *sketch*: per incoming packet, numpy works out every listener's sequence number,
  timestamp and SSRC at once (an offset each), and a Python loop hands each listener's
  header and the payload to the same SRTP and send path
  (``bridge.aiortc_adapter.loopback_srtp_sender``).

The sketch leaves out what the bridge's lanes still do per listener (pacing, the NACK
map and counters written back, VP8 PictureID rewriting, header extensions), so it is a
bound on what batching the per-listener work can buy, not a design.
"""

from __future__ import annotations

import argparse
import socket
import time
from collections.abc import Callable

import numpy as np

from bridge.aiortc_adapter import loopback_srtp_sender
from bridge.rtp.header import parse_rtp_header

from .hotpath import packets, run
from .media import Media


def sketch(listeners: int, stream: list[bytes]) -> tuple[float, int]:
    """CPU seconds spent and packets sent by the sketch."""
    rng = np.random.default_rng(1)
    seq_offsets = rng.integers(0, 1 << 15, listeners, dtype=np.int64)
    ts_offsets = rng.integers(0, 1 << 31, listeners, dtype=np.int64)
    # one SSRC per listener and stream: the incoming SSRC (audio and video differ) added
    ssrc_bases = rng.integers(1, 1 << 30, listeners, dtype=np.int64) * 4
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setblocking(False)
    sends: list[Callable[[bytes | bytearray], bool]] = [
        loopback_srtp_sender(sender, sink.getsockname(), aead=True) for _ in range(listeners)
    ]
    fields = np.zeros((listeners, 3), dtype=">u4")  # seq (with V/P/X/CC/M/PT), ts, SSRC
    sent = 0
    start = time.process_time()
    for data in stream:
        h = parse_rtp_header(data)
        # RFC 3550 §5.1: byte 0 without the extension bit, M/PT, seq | timestamp | SSRC
        first = ((data[0] & 0xEF) << 24) | (data[1] << 16)
        fields[:, 0] = first | ((h.sequence_number + seq_offsets + h.ssrc) & 0xFFFF)
        fields[:, 1] = (h.timestamp + ts_offsets) & 0xFFFFFFFF
        fields[:, 2] = ssrc_bases + h.ssrc
        headers = fields.tobytes()
        payload = data[h.payload_offset :]
        for i, send in enumerate(sends):
            sent += send(headers[12 * i : 12 * i + 12] + payload)
    spent = time.process_time() - start
    sink.close()
    sender.close()
    return spent, sent


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.batched_fanout")
    parser.add_argument("--n", type=int, default=100, help="listeners")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of media")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stream = list(packets(Media.synthetic(), args.seconds))
    print("| run | bridge µs/pkt | sketch µs/pkt | ratio |")
    print("|---|---|---|---|")
    for i in range(args.repeat):
        bridge_s, bridge_n = run(args.n, stream, use_socket=True, aead=True)
        sketch_s, sketch_n = sketch(args.n, stream)
        bridge_us = bridge_s * 1e6 / bridge_n
        sketch_us = sketch_s * 1e6 / sketch_n
        print(f"| {i + 1} | {bridge_us:.2f} | {sketch_us:.2f} | {sketch_us / bridge_us:.2f} |")


if __name__ == "__main__":
    main()
