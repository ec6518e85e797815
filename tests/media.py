"""Pre-encoded media for synthetic sites: real VP8 and Opus bitstreams, RTP-packetized.

Encoding happens once here, in the test client; the bridge never decodes or encodes.
"""

from __future__ import annotations

import fractions
import struct
from functools import cache

import av
import numpy as np


@cache
def vp8_frames(count: int = 30, width: int = 320, height: int = 180) -> tuple[bytes, ...]:
    """`count` VP8 frames; frame 0 is a keyframe, the rest inter frames."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, 30)
    codec.options = {"g": "1000", "deadline": "realtime", "cpu-used": "8"}
    frames: list[bytes] = []
    for i in range(count):
        image = np.zeros((height, width, 3), dtype=np.uint8)
        image[:, :, 0] = (np.arange(width) * 3 + i * 8) % 256
        image[:, :, 1] = (np.arange(height)[:, None] * 2 + i * 4) % 256
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        frames.extend(bytes(p) for p in codec.encode(frame))
    frames.extend(bytes(p) for p in codec.encode(None))
    return tuple(frames[:count])


@cache
def opus_frames(count: int = 50) -> tuple[bytes, ...]:
    """`count` 20 ms Opus frames of a 440 Hz tone."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate = 48000
    codec.layout = "mono"
    codec.format = "s16"
    codec.time_base = fractions.Fraction(1, 48000)
    out: list[bytes] = []
    t = np.arange(960 * (count + 10)) / 48000
    pcm = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    for i in range(count + 10):
        frame = av.AudioFrame.from_ndarray(
            pcm[None, i * 960 : (i + 1) * 960], format="s16", layout="mono"
        )
        frame.sample_rate = 48000
        frame.pts = i * 960
        out.extend(bytes(p) for p in codec.encode(frame))
    return tuple(out[:count])


def vp8_payloads(frame: bytes, max_size: int = 1000) -> list[bytes]:
    """RFC 7741 §4.2: a one-byte descriptor (S=1 on the first packet, PID 0) per chunk."""
    chunks = [frame[i : i + max_size] for i in range(0, len(frame), max_size)]
    return [bytes([0x10 if i == 0 else 0x00]) + chunk for i, chunk in enumerate(chunks)]


def rtp_packet(
    payload_type: int, seq: int, timestamp: int, ssrc: int, payload: bytes, marker: bool = False
) -> bytes:
    """RFC 3550 §5.1 fixed header, no CSRC, no extension."""
    return (
        struct.pack(
            "!BBHII",
            0x80,
            (0x80 if marker else 0) | payload_type,
            seq & 0xFFFF,
            timestamp & 0xFFFFFFFF,
            ssrc,
        )
        + payload
    )
