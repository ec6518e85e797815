"""Pre-encoded media for synthetic sites: real VP8 and Opus bitstreams, RTP-packetized.

Encoding happens once here, in the client; the bridge never decodes or encodes. Each
payload carries an 8-byte send time (``stamp``) at its end so a receiver can measure the
forwarding latency: the bridge forwards payloads untouched except for the VP8 payload
descriptor at their start (RFC 7741 §4.2).
"""

from __future__ import annotations

import fractions
import struct
import time
from dataclasses import dataclass
from functools import cache

import av
import numpy as np


@dataclass(frozen=True, slots=True)
class Media:
    """What a synthetic publisher sends, in a loop: VP8 frames (keyframe first), Opus."""

    video: tuple[bytes, ...]
    audio: tuple[bytes, ...]
    picture_ids: bool = False  # VP8 PictureIDs in the descriptor (the bridge rewrites them)

    @staticmethod
    def small() -> Media:
        """320x180, a few kbit/s: enough for functional tests."""
        return Media(vp8_frames(), opus_frames())

    @staticmethod
    def synthetic() -> Media:
        """Camera-sized frames of filler bytes, no encoder: for runs under valgrind. Only
        the first byte matters to the bridge (RFC 6386 §9.1: P=0 marks the keyframe)."""
        video = (b"\x00" + bytes(16_000), *(b"\x01" + bytes(1_900) for _ in range(29)))
        return Media(video, tuple(bytes([0xFC]) + bytes(79) for _ in range(50)), True)

    @staticmethod
    def camera() -> Media:
        """640x360 at ~500 kbit/s (~2 packets a frame), as in issue 4's measurements."""
        return Media(vp8_frames(90, 640, 360, noise=True), opus_frames(), picture_ids=True)


@cache
def vp8_frames(
    count: int = 30, width: int = 320, height: int = 180, noise: bool = False
) -> tuple[bytes, ...]:
    """`count` VP8 frames; frame 0 is a keyframe, the rest inter frames. ``noise`` adds
    grain so that inter frames cost about what a camera's do (~500 kbit/s at 640x360)."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, 30)
    codec.bit_rate = 500_000
    codec.options = {"g": "1000", "deadline": "realtime", "cpu-used": "8"}
    grain = np.random.default_rng(1)
    frames: list[bytes] = []
    for i in range(count):
        image = np.zeros((height, width, 3), dtype=np.uint8)
        image[:, :, 0] = (np.arange(width) * 3 + i * 8) % 256
        image[:, :, 1] = (np.arange(height)[:, None] * 2 + i * 4) % 256
        if noise:
            image[:, :, 2] = grain.integers(0, 48, (height, width), dtype=np.uint8)
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


def vp8_payloads(
    frame: bytes,
    max_size: int = 1000,
    picture_id: int | None = None,
    temporal: tuple[int, int] | None = None,
) -> list[bytes]:
    """RFC 7741 §4.2 descriptor per chunk: S=1 on the first packet, PID 0; with a
    ``picture_id``, X=1 I=1 and a 15-bit PictureID (M=1) as browsers send; with
    ``temporal`` (TL0PICIDX, TID) also L=1 T=1 and those fields (Y set above TID 0)."""
    chunks = [frame[i : i + max_size] for i in range(0, len(frame), max_size)]
    if picture_id is None:
        return [bytes([0x10 if i == 0 else 0x00]) + chunk for i, chunk in enumerate(chunks)]
    fields = struct.pack("!H", 0x8000 | (picture_id & 0x7FFF))
    x = 0x80
    if temporal is not None:
        tl0, tid = temporal
        x |= 0x60
        fields += bytes([tl0 & 0xFF, (tid << 6) | (0x20 if tid else 0)])
    return [bytes([0x90 if i == 0 else 0x80, x]) + fields + chunk for i, chunk in enumerate(chunks)]


_STAMP = struct.Struct("!Q")
STAMP_SIZE = _STAMP.size


def stamp(payload: bytes) -> bytes:
    """``payload`` + the send time (CLOCK_MONOTONIC ns, shared by all local processes)."""
    return payload + _STAMP.pack(time.monotonic_ns())


def stamp_age_ns(packet: bytes, end: int, now_ns: int) -> int:
    """How long ago the stamp ending at ``end`` in ``packet`` was made."""
    return now_ns - int(_STAMP.unpack_from(packet, end - STAMP_SIZE)[0])


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
