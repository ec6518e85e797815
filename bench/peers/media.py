"""Pre-encoded media for the side-by-side benchmark: VP8 640x360 ~500 kbit/s + Opus.

Encoded once per process (a few seconds of libvpx) and then sent in a loop, so the
synthetic publisher costs almost nothing per packet. Packetisation as in tests/media.py
(RFC 7741 one-byte descriptor, RFC 3550 fixed header).
"""

from __future__ import annotations

import fractions
import struct
from functools import cache

import av
import numpy as np

FPS = 30
AUDIO_PTIME_S = 0.02
VIDEO_TS_STEP = 90000 // FPS
AUDIO_TS_STEP = 960
VP8_MAX_PAYLOAD = 1200
NOISE_BLOCK = 53
QUANTIZER = 20


@cache
def vp8_frames(count: int = 90, width: int = 640, height: int = 360) -> tuple[bytes, ...]:
    """`count` VP8 frames (~500 kbit/s at 30 fps); frame 0 is the only keyframe."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, FPS)
    codec.bit_rate = 5_000_000  # not the limit: the fixed quantizer sets the rate
    codec.options = {
        "g": "100000",
        "deadline": "realtime",
        "cpu-used": "8",
        "qmin": str(QUANTIZER),
        "qmax": str(QUANTIZER),
    }
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:height, 0:width]
    background = np.empty((height, width, 3), dtype=np.uint8)
    background[:, :, 0] = xx * 255 // width
    background[:, :, 1] = yy * 255 // height
    background[:, :, 2] = 128
    frames: list[bytes] = []
    for i in range(count + 20):
        # a block of fresh noise moving over a static gradient: each inter frame costs
        # about the same (the block), so the rate is steady without rate control
        image = background.copy()
        x = (i * 13) % (width - NOISE_BLOCK)
        y = (i * 7) % (height - NOISE_BLOCK)
        image[y : y + NOISE_BLOCK, x : x + NOISE_BLOCK] = rng.integers(
            0, 256, size=(NOISE_BLOCK, NOISE_BLOCK, 3), dtype=np.uint8
        )
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        frames.extend(bytes(p) for p in codec.encode(frame))
    frames.extend(bytes(p) for p in codec.encode(None))
    return tuple(frames[:count])


@cache
def opus_frames(count: int = 50) -> tuple[bytes, ...]:
    """`count` 20 ms Opus frames (48 kHz mono, ~32 kbit/s) of a 440 Hz tone."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate = 48000
    codec.layout = "mono"
    codec.format = "s16"
    codec.bit_rate = 32000
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


def vp8_payloads(frame: bytes, max_size: int = VP8_MAX_PAYLOAD) -> list[bytes]:
    """RFC 7741 §4.2: a one-byte descriptor (S=1 on the first packet) per chunk."""
    n = max(1, -(-len(frame) // max_size))
    size = -(-len(frame) // n)  # equal-sized chunks
    chunks = [frame[i : i + size] for i in range(0, len(frame), size)]
    return [bytes([0x10 if i == 0 else 0x00]) + chunk for i, chunk in enumerate(chunks)]


def rtp_packet(
    payload_type: int, seq: int, timestamp: int, ssrc: int, payload: bytes, marker: bool
) -> bytes:
    """RFC 3550 §5.1 fixed header, no CSRC, no extension."""
    header = struct.pack(
        "!BBHII",
        0x80,
        (0x80 if marker else 0) | payload_type,
        seq & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc,
    )
    return header + payload


def describe() -> str:
    """One line: what the publisher sends (rates measured on the encoded loop)."""
    video = vp8_frames()
    audio = opus_frames()
    vbits = sum(len(f) for f in video[1:]) * 8 / ((len(video) - 1) / FPS)
    vpkts = sum(len(vp8_payloads(f)) for f in video) / (len(video) / FPS)
    abits = sum(len(f) for f in audio) * 8 / (len(audio) * AUDIO_PTIME_S)
    return (
        f"VP8 640x360 {FPS} fps {vbits / 1000:.0f} kbit/s (inter frames; keyframe"
        f" {len(video[0])} B) {vpkts:.0f} pkt/s + Opus {abits / 1000:.0f} kbit/s 50 pkt/s"
    )
