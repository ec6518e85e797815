from __future__ import annotations

import struct

import pytest

from bridge.rtp.errors import RtpParseError
from bridge.rtp.vp8 import Vp8Descriptor, parse_vp8_descriptor

# X=1 S=1 PID=0 | I L T K | M + 15-bit PictureID 0x1234 | TL0PICIDX 0x56 | TID=2 Y=1 KEYIDX=5
FULL = bytes([0x90, 0xF0, 0x92, 0x34, 0x56, 0xA5])
KEY_HEADER = b"\x50"  # RFC 7741 §4.3: P bit (LSB) 0 => key frame
INTER_HEADER = b"\x51"


def rtp(payload: bytes, padding: int = 0) -> bytes:
    b0 = 0x80 | (0x20 if padding else 0)
    pad = b"\x00" * (padding - 1) + bytes([padding]) if padding else b""
    return struct.pack("!BBHII", b0, 96, 1, 2, 3) + payload + pad


def test_full_descriptor() -> None:
    d = parse_vp8_descriptor(FULL + KEY_HEADER + b"rest")
    assert d == Vp8Descriptor(
        start_of_partition=True,
        partition_id=0,
        picture_id=0x1234,
        tl0_pic_idx=0x56,
        temporal_id=2,
        layer_sync=True,
        key_idx=5,
        header_size=6,
        is_keyframe=True,
    )


def test_minimal_descriptor_interframe() -> None:
    d = parse_vp8_descriptor(b"\x10" + INTER_HEADER)
    assert d.header_size == 1
    assert d.start_of_partition is True
    assert d.picture_id is None and d.tl0_pic_idx is None
    assert d.temporal_id is None and d.key_idx is None and d.layer_sync is False
    assert d.is_keyframe is False


def test_seven_bit_picture_id_from_memoryview() -> None:
    d = parse_vp8_descriptor(memoryview(bytes([0x90, 0x80, 0x7F]) + KEY_HEADER))
    assert d.picture_id == 127
    assert d.header_size == 3
    assert d.is_keyframe is True


def test_k_without_t_gives_key_idx_only() -> None:
    d = parse_vp8_descriptor(bytes([0x80, 0x10, 0xE3]) + KEY_HEADER)
    assert (d.temporal_id, d.layer_sync, d.key_idx) == (None, False, 3)
    assert d.is_keyframe is False  # S=0


def test_t_without_k_gives_temporal_id_only() -> None:
    d = parse_vp8_descriptor(bytes([0x90, 0x20, 0x5F]) + INTER_HEADER)
    assert (d.temporal_id, d.layer_sync, d.key_idx) == (1, False, None)


@pytest.mark.parametrize("b0", [0x00, 0x11, 0x14])  # S=0, or PID != 0
def test_not_keyframe_unless_start_of_partition_zero(b0: int) -> None:
    d = parse_vp8_descriptor(bytes([b0]) + KEY_HEADER)
    assert d.is_keyframe is False
    assert d.partition_id == b0 & 7


@pytest.mark.parametrize("cut", range(len(FULL) + 1))
def test_truncated_descriptor_raises(cut: int) -> None:
    with pytest.raises(RtpParseError) as info:
        parse_vp8_descriptor(FULL[:cut])
    assert info.value.reason == "bad_vp8"


def test_truncated_error_message() -> None:
    with pytest.raises(RtpParseError, match="VP8 payload too short: 3 bytes, need 4"):
        parse_vp8_descriptor(FULL[:3])
    with pytest.raises(RtpParseError, match="VP8 payload empty after 6-byte payload descriptor"):
        parse_vp8_descriptor(FULL)
