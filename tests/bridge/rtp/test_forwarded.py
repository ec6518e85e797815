from __future__ import annotations

import pytest

from bridge.rtp.forwarded import (
    ForwardingTemplate,
    abs_send_time_element,
    playout_delay_element,
)
from bridge.rtp.header import find_extension, parse_rtp_header
from bridge.rtp.vp8 import parse_vp8_descriptor
from tests.bridge.rtp.test_rtp_header import make_rtp


def _filled(ms: int | None, ext_id: int | None, playout_delay: bytes = b"") -> bytes:
    data = make_rtp(marker=True, ext=(0xBEDE, b"\x10\xaa\x00\x00"), payload=b"PAY", padding=2)
    template = ForwardingTemplate(data, parse_rtp_header(data), ms)
    element = abs_send_time_element(ext_id)
    return bytes(template.fill(96, 1, 2, 3, element, playout_delay, None, None))


def test_header_fields_and_stripped_extensions() -> None:
    out = _filled(None, None)
    # V=2, P kept, X and CC cleared; marker from the incoming packet
    assert out[:12] == bytes.fromhex("a0e00001 00000002 00000003".replace(" ", ""))
    assert out[12:] == b"PAY\x00\x02"


def test_carries_abs_send_time() -> None:
    out = _filled(1500, 3)  # 1.5 s = 0x060000 in 6.18 fixed point
    # two elements' room: abs-send-time, then four padding bytes (no playout delay)
    assert out[12:24] == bytes.fromhex("bede0002 32060000 00000000".replace(" ", ""))
    h = parse_rtp_header(out)
    assert out[0] & 0x10 and out[0] & 0x20  # X and P set
    assert find_extension(out, h, 3) == bytes.fromhex("060000")
    assert out[h.payload_offset : h.payload_end] == b"PAY"


def test_abs_send_time_wraps_at_64_seconds() -> None:
    assert _filled(64_000, 1)[17:20] == b"\x00\x00\x00"
    assert _filled(64_001, 1)[17:20] == (262).to_bytes(3, "big")


@pytest.mark.parametrize("ast_id", [3, None])
def test_carries_a_subscribers_playout_delay(ast_id: int | None) -> None:
    out = _filled(1500, ast_id, playout_delay_element(5, 400))
    h = parse_rtp_header(out)
    # 12 bits each of 10-ms units: min 400 ms, max 10 s (libwebrtc's default maximum)
    assert find_extension(out, h, 5) == ((40 << 12) | 1000).to_bytes(3, "big")
    assert (find_extension(out, h, 3) is not None) == (ast_id is not None)
    assert out[h.payload_offset : h.payload_end] == b"PAY"


def test_playout_delay_element() -> None:
    assert playout_delay_element(12, 0) == bytes((0xC2,)) + (1000).to_bytes(3, "big")
    assert playout_delay_element(1, 99_999)[1:] == ((1000 << 12) | 1000).to_bytes(3, "big")
    assert playout_delay_element(None, 400) == b""
    assert playout_delay_element(15, 400) == b""  # no one-byte form for id 15


@pytest.mark.parametrize("ext_id", [None, 0, 15])
def test_a_peer_without_a_one_byte_abs_send_time_id_gets_padding(ext_id: int | None) -> None:
    out = _filled(1500, ext_id)
    h = parse_rtp_header(out)
    assert out[16:20] == bytes(4)  # RFC 8285 §4.2: zero bytes are padding
    assert find_extension(out, h, 3) is None
    assert out[h.payload_offset : h.payload_end] == b"PAY"


def test_payload_octets_leave_out_header_and_padding() -> None:
    data = make_rtp(csrcs=(7,), ext=(0xBEDE, b"\x10\xaa\x00\x00"), payload=b"PAYLOAD", padding=3)
    template = ForwardingTemplate(data, parse_rtp_header(data), 0)
    assert template.payload_octets == 7
    assert template.size == 12 + 12 + 7 + 3


def desc(pid: bytes, tl0: bool = True) -> bytes:
    x = 0x80 | (0x40 if tl0 else 0) | 0x20
    return bytes([0x90, x]) + pid + (b"\x21" if tl0 else b"") + b"\x40" + b"\x00"


def _vp8(payload: bytes, picture_id: int | None, tl0: int | None, ms: int | None = 0) -> bytes:
    data = make_rtp(payload=payload)
    header = parse_rtp_header(data)
    vp8 = parse_vp8_descriptor(data[header.payload_offset :])
    template = ForwardingTemplate(data, header, ms, vp8)
    return bytes(template.fill(96, 1, 2, 3, abs_send_time_element(2), b"", picture_id, tl0))[
        12 if ms is None else 24 :
    ]


@pytest.mark.parametrize("ms", [None, 0])
def test_rewrites_15_bit_picture_id_and_tl0(ms: int | None) -> None:
    out = _vp8(desc(b"\x81\x02"), 0x1234, 0x56, ms)
    d = parse_vp8_descriptor(out)
    assert (d.picture_id, d.tl0_pic_idx, d.temporal_id) == (0x1234, 0x56, 1)
    assert len(out) == len(desc(b"\x81\x02"))


def test_7_bit_picture_id_keeps_its_width() -> None:
    out = _vp8(desc(b"\x05"), 0x1234, None)
    d = parse_vp8_descriptor(out)
    assert (d.picture_id, d.tl0_pic_idx) == (0x34, 0x21)


def test_fields_absent_or_not_given_are_left_alone() -> None:
    assert _vp8(b"\x10\x00", 1, 2) == b"\x10\x00"  # no X byte
    assert _vp8(desc(b"\x81\x02", tl0=False), 3, 9) == desc(b"\x80\x03", tl0=False)
    assert _vp8(desc(b"\x81\x02"), None, None) == desc(b"\x81\x02")
    # without the descriptor, nothing in the payload is touched
    data = make_rtp(payload=desc(b"\x81\x02"))
    template = ForwardingTemplate(data, parse_rtp_header(data))
    assert template.fill(96, 1, 2, 3, 0, b"", 5, 6)[12:] == desc(b"\x81\x02")
