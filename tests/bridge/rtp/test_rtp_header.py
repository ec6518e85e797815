from __future__ import annotations

import struct

import pytest

from bridge.rtp.errors import RtpParseError
from bridge.rtp.header import (
    find_extension,
    is_rtcp,
    padding_packet,
    parse_rtp_header,
    restamp_abs_send_time,
    rewrite_packet,
    unwrap_rtx,
    wrap_rtx,
)


def make_rtp(
    *,
    pt: int = 96,
    marker: bool = False,
    seq: int = 1000,
    ts: int = 123456,
    ssrc: int = 0x11223344,
    csrcs: tuple[int, ...] = (),
    ext: tuple[int, bytes] | None = None,
    payload: bytes = b"\x01\x02\x03\x04",
    padding: int = 0,
) -> bytes:
    b0 = 0x80 | len(csrcs) | (0x20 if padding else 0) | (0x10 if ext else 0)
    out = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    out += b"".join(struct.pack("!I", c) for c in csrcs)
    if ext is not None:
        profile, body = ext
        assert len(body) % 4 == 0
        out += struct.pack("!HH", profile, len(body) // 4) + body
    out += payload
    if padding:
        out += b"\x00" * (padding - 1) + bytes([padding])
    return out


def test_parse_minimal_header() -> None:
    data = bytes.fromhex("80e0 03e8 0001e240 11223344 01020304")
    h = parse_rtp_header(data)
    assert h.payload_type == 96
    assert h.marker is True
    assert h.sequence_number == 1000
    assert h.timestamp == 123456
    assert h.ssrc == 0x11223344
    assert (h.payload_offset, h.payload_end) == (12, 16)
    assert (h.extension_profile, h.extension_offset, h.extension_length) == (0, 0, 0)


def test_parse_csrcs_extension_and_padding() -> None:
    data = make_rtp(csrcs=(1, 2), ext=(0xBEDE, b"\x10\xaa\x00\x00"), payload=b"xyz", padding=5)
    h = parse_rtp_header(data)
    assert h.extension_profile == 0xBEDE
    assert h.extension_offset == 12 + 8 + 4
    assert h.extension_length == 4
    assert h.payload_offset == 12 + 8 + 8
    assert data[h.payload_offset : h.payload_end] == b"xyz"


@pytest.mark.parametrize(
    ("data", "reason", "message"),
    [
        (b"\x80" * 7, "too_short", "RTP packet too short: 7 bytes, need 12"),
        (
            bytes.fromhex("40600001000000000000000000"),
            "bad_version",
            "RTP version 1, expected 2",
        ),
        (
            bytes.fromhex("83600001000000000000000000000000"),
            "too_short",
            "RTP packet too short: 16 bytes, need 24 for 3 CSRCs",
        ),
        (
            bytes.fromhex("906000010000000000000000bede"),
            "bad_extension",
            "RTP header extension header needs 4 bytes, 2 remaining",
        ),
        (
            bytes.fromhex("906000010000000000000000bede000a00000000"),
            "bad_extension",
            "RTP header extension of 40 bytes exceeds remaining 4 bytes",
        ),
    ],
)
def test_parse_errors(data: bytes, reason: str, message: str) -> None:
    with pytest.raises(RtpParseError) as info:
        parse_rtp_header(data)
    assert info.value.reason == reason
    assert str(info.value) == message


def test_padding_longer_than_payload() -> None:
    data = bytearray(make_rtp(payload=b"\x00" * 20))
    data[0] |= 0x20
    data[-1] = 200
    with pytest.raises(RtpParseError) as info:
        parse_rtp_header(bytes(data))
    assert info.value.reason == "bad_padding"
    assert str(info.value) == "RTP padding length 200 exceeds payload of 20 bytes"


def test_zero_padding_length_rejected() -> None:
    data = bytearray(make_rtp(payload=b"\x01\x00"))
    data[0] |= 0x20
    with pytest.raises(RtpParseError, match="RTP padding length 0 is invalid"):
        parse_rtp_header(bytes(data))


def test_padding_may_fill_whole_payload() -> None:
    h = parse_rtp_header(make_rtp(payload=b"", padding=4))
    assert h.payload_offset == h.payload_end == 12


@pytest.mark.parametrize(
    ("second", "expected"),
    [(191, False), (192, True), (200, True), (223, True), (224, False), (96, False)],
)
def test_is_rtcp(second: int, expected: bool) -> None:
    assert is_rtcp(bytes([0x80, second, 0, 1])) is expected


def test_is_rtcp_short_input() -> None:
    assert is_rtcp(b"\x80") is False


def test_find_one_byte_extensions() -> None:
    # id 1 len 1 (2 bytes), padding zero, id 3 len 3 (4 bytes), zero padding
    body = bytes.fromhex("11aabb0033010203040000")
    body += b"\x00" * (-len(body) % 4)
    data = make_rtp(ext=(0xBEDE, body))
    h = parse_rtp_header(data)
    assert find_extension(data, h, 1) == b"\xaa\xbb"
    assert find_extension(data, h, 3) == b"\x01\x02\x03\x04"
    assert find_extension(data, h, 2) is None


def test_one_byte_id_15_stops_parsing() -> None:
    body = bytes.fromhex("f0aa21bbcc000000")  # id 15 first: id 2 after it is not read
    data = make_rtp(ext=(0xBEDE, body))
    assert find_extension(data, parse_rtp_header(data), 2) is None


def test_one_byte_element_overrun() -> None:
    body = bytes.fromhex("00000013")  # id 1 declares 4 bytes, block ends
    data = make_rtp(ext=(0xBEDE, body))
    with pytest.raises(RtpParseError) as info:
        find_extension(data, parse_rtp_header(data), 5)
    assert info.value.reason == "bad_extension"
    assert str(info.value) == (
        "RTP header extension element 1 of 4 bytes exceeds remaining 0 bytes"
    )


def test_find_two_byte_extensions() -> None:
    body = bytes.fromhex("0102aabb 00 0500 0703616263 00".replace(" ", ""))
    body += b"\x00" * (-len(body) % 4)
    data = make_rtp(ext=(0x1000, body))
    h = parse_rtp_header(data)
    assert find_extension(data, h, 1) == b"\xaa\xbb"
    assert find_extension(data, h, 5) == b""
    assert find_extension(data, h, 7) == b"abc"
    assert find_extension(data, h, 9) is None
    assert find_extension(make_rtp(ext=(0x100F, body)), h, 7) == b"abc"  # appbits ignored


def test_two_byte_element_overrun() -> None:
    data = make_rtp(ext=(0x1000, bytes.fromhex("0109aabb")))
    with pytest.raises(RtpParseError) as info:
        find_extension(data, parse_rtp_header(data), 1)
    assert info.value.reason == "bad_extension"


def test_unknown_profile_and_no_extension_yield_none() -> None:
    data = make_rtp(ext=(0xABCD, b"\x11\xaa\x00\x00"))
    assert find_extension(data, parse_rtp_header(data), 1) is None
    plain = make_rtp()
    assert find_extension(plain, parse_rtp_header(plain), 1) is None


def test_rewrite_packet_strips_csrcs_and_extensions_keeps_marker_and_padding() -> None:
    data = make_rtp(
        marker=True, csrcs=(7,), ext=(0xBEDE, b"\x10\xaa\x00\x00"), payload=b"PAY", padding=3
    )
    h = parse_rtp_header(data)
    out = rewrite_packet(
        data, h, payload_type=100, sequence_number=65535, timestamp=0xFFFFFFFF, ssrc=0xCAFEBABE
    )
    assert out == bytes.fromhex("a0e4ffffffffffffcafebabe") + b"PAY\x00\x00\x03"
    h2 = parse_rtp_header(out)
    assert data[h.payload_offset : h.payload_end] == out[h2.payload_offset : h2.payload_end]
    assert isinstance(out, bytes)


def test_rewrite_packet_without_marker_or_padding() -> None:
    data = make_rtp(seq=5, payload=b"abc")
    out = rewrite_packet(
        data, parse_rtp_header(data), payload_type=111, sequence_number=6, timestamp=7, ssrc=8
    )
    assert out == bytes.fromhex("806f0006 00000007 00000008".replace(" ", "")) + b"abc"


def test_rewrite_packet_rejects_bad_payload_type() -> None:
    data = make_rtp()
    with pytest.raises(ValueError, match="payload type 128"):
        rewrite_packet(
            data, parse_rtp_header(data), payload_type=128, sequence_number=0, timestamp=0, ssrc=0
        )


def test_wrap_rtx_layout() -> None:
    data = make_rtp(marker=True, seq=0xBEEF, ts=0x01020304, payload=b"media", padding=2)
    out = wrap_rtx(
        data, parse_rtp_header(data), rtx_payload_type=97, rtx_sequence_number=9, rtx_ssrc=0x99
    )
    # RFC 4588 §4: no padding, RTX PT/seq/ssrc, original ts/marker, OSN, payload
    assert out == bytes.fromhex("80e10009 01020304 00000099 beef".replace(" ", "")) + b"media"


def test_rtx_round_trip() -> None:
    data = make_rtp(marker=True, seq=40000, ts=77, payload=b"\x10\x20\x30")
    h = parse_rtp_header(data)
    rtx = wrap_rtx(data, h, rtx_payload_type=97, rtx_sequence_number=1, rtx_ssrc=5)
    back = unwrap_rtx(rtx, parse_rtp_header(rtx), payload_type=96, ssrc=0x11223344)
    assert back == data


def test_unwrap_rtx_too_short() -> None:
    rtx = make_rtp(pt=97, payload=b"\x01")
    with pytest.raises(RtpParseError) as info:
        unwrap_rtx(rtx, parse_rtp_header(rtx), payload_type=96, ssrc=1)
    assert info.value.reason == "bad_rtx"
    assert "1 bytes, need 2" in str(info.value)


def test_a_padding_packet_is_all_padding_with_abs_send_time() -> None:
    """RFC 3550 §5.1: P bit, the last octet counts the padding; nothing left as payload.
    The abs-send-time element (id 3) sits where restamp_abs_send_time looks for it."""
    packet = padding_packet(97, 65535, 1234, 0xCAFE, (3 << 4) | 2, 200, now_ms=1500)
    header = parse_rtp_header(bytes(packet))
    assert (header.payload_type, header.sequence_number, header.ssrc) == (97, 65535, 0xCAFE)
    assert header.payload_offset == header.payload_end  # no payload, no RTX OSN
    assert len(packet) - header.payload_end == 200 and packet[-1] == 200
    stamp = find_extension(bytes(packet), header, 3)
    assert stamp == (((1500 << 18) // 1000) & 0xFFFFFF).to_bytes(3, "big")
    restamp_abs_send_time(packet, 2000)
    assert find_extension(bytes(packet), header, 3) != stamp


def test_a_padding_packet_can_carry_a_transport_wide_sequence_number() -> None:
    """draft-holmer-rmcat-transport-wide-cc-extensions-01 §2: a two-byte element; the
    abs-send-time element stays where it was."""
    packet = padding_packet(97, 7, 0, 1, (3 << 4) | 2, 40, now_ms=1500, transport_seq=(5, 65537))
    header = parse_rtp_header(bytes(packet))
    assert find_extension(bytes(packet), header, 5) == b"\x00\x01"
    assert find_extension(bytes(packet), header, 3) is not None
    assert len(packet) - header.payload_end == 40
    plain = padding_packet(97, 7, 0, 1, (3 << 4) | 2, 40, now_ms=1500)
    assert find_extension(bytes(plain), parse_rtp_header(bytes(plain)), 5) is None
    with pytest.raises(ValueError, match=r"1\.\.14"):
        padding_packet(97, 7, 0, 1, 0, 40, 0, transport_seq=(15, 1))


def test_padding_must_fit_its_count_octet() -> None:
    for bad in (0, 256):
        with pytest.raises(ValueError, match="padding"):
            padding_packet(97, 1, 0, 1, 0, bad, 0)
