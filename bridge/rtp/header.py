"""RTP fixed header parsing and rewriting (RFC 3550 §5.1), header extensions
(RFC 8285 §4), RTX wrapping (RFC 4588 §4) and RTP/RTCP demultiplexing (RFC 5761 §4).

RFC 3550 §5.1 fixed header::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
    |                           timestamp                           |
    |           synchronization source (SSRC) identifier            |
    |            contributing source (CSRC) identifiers (CC x 32)   |

RFC 3550 §5.3.1 extension: 16-bit profile, 16-bit length in 32-bit words, then data.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from bridge.rtp.errors import RtpParseError

_FIXED = struct.Struct("!BBHII")  # RFC 3550 §5.1: V/P/X/CC, M/PT, seq, ts, ssrc
_EXT = struct.Struct("!HH")  # RFC 3550 §5.3.1: profile, length in words
_OSN = struct.Struct("!H")  # RFC 4588 §4: original sequence number
HEADER_FIELDS = struct.Struct("!BHII")  # from byte 1 of the fixed header: M/PT, seq, ts, ssrc
HEADER_SIZE = 12

_ONE_BYTE_PROFILE = 0xBEDE  # RFC 8285 §4.2
_TWO_BYTE_PROFILE_MASK = 0xFFF0  # RFC 8285 §4.3: 0x100 + 4 "appbits"
_TWO_BYTE_PROFILE = 0x1000


@dataclass(frozen=True, slots=True)
class RtpHeader:
    """The parts of an RTP header the SFU needs; offsets index the original bytes."""

    payload_type: int
    marker: bool
    sequence_number: int
    timestamp: int
    ssrc: int
    payload_offset: int  # first payload byte (after CSRCs and header extension)
    payload_end: int  # len(data) minus padding
    extension_profile: int  # 0 if no header extension
    extension_offset: int  # first byte of extension data (after profile/length)
    extension_length: int  # bytes of extension data


def is_rtcp(data: bytes | bytearray) -> bool:
    """RFC 5761 §4: an RTCP packet has its second byte (PT) in 192..223."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def parse_rtp_header(data: bytes) -> RtpHeader:
    """Parse and validate an RTP header; raises RtpParseError."""
    size = len(data)
    if size < HEADER_SIZE:
        raise RtpParseError("too_short", f"RTP packet too short: {size} bytes, need {HEADER_SIZE}")
    b0, b1, seq, ts, ssrc = _FIXED.unpack_from(data, 0)
    version = b0 >> 6
    if version != 2:
        raise RtpParseError("bad_version", f"RTP version {version}, expected 2")
    csrc_count = b0 & 0x0F
    offset = HEADER_SIZE + 4 * csrc_count
    if offset > size:
        raise RtpParseError(
            "too_short",
            f"RTP packet too short: {size} bytes, need {offset} for {csrc_count} CSRCs",
        )
    profile = ext_offset = ext_length = 0
    if b0 & 0x10:  # X bit, RFC 3550 §5.3.1
        if offset + 4 > size:
            raise RtpParseError(
                "bad_extension",
                f"RTP header extension header needs 4 bytes, {size - offset} remaining",
            )
        profile, words = _EXT.unpack_from(data, offset)
        ext_offset = offset + 4
        ext_length = 4 * words
        if ext_offset + ext_length > size:
            raise RtpParseError(
                "bad_extension",
                f"RTP header extension of {ext_length} bytes exceeds remaining "
                f"{size - ext_offset} bytes",
            )
        offset = ext_offset + ext_length
    end = size
    if b0 & 0x20:  # P bit, RFC 3550 §5.1: last octet counts padding octets incl. itself
        padding = data[-1]
        if padding == 0:
            raise RtpParseError("bad_padding", "RTP padding length 0 is invalid")
        if padding > size - offset:
            raise RtpParseError(
                "bad_padding",
                f"RTP padding length {padding} exceeds payload of {size - offset} bytes",
            )
        end = size - padding
    return RtpHeader(
        payload_type=b1 & 0x7F,
        marker=bool(b1 & 0x80),
        sequence_number=seq,
        timestamp=ts,
        ssrc=ssrc,
        payload_offset=offset,
        payload_end=end,
        extension_profile=profile,
        extension_offset=ext_offset,
        extension_length=ext_length,
    )


def find_extension(data: bytes, header: RtpHeader, ext_id: int) -> bytes | None:
    """Return the value of header extension ``ext_id`` or None if absent.

    Supports the one-byte (RFC 8285 §4.2) and two-byte (RFC 8285 §4.3) forms; other
    profiles yield None. Raises RtpParseError("bad_extension") if an element runs
    past the extension block.
    """
    profile = header.extension_profile
    pos = header.extension_offset
    end = pos + header.extension_length
    if profile == _ONE_BYTE_PROFILE:
        # RFC 8285 §4.2: |ID(4)|L(4)| then L+1 bytes; ID 0 is a padding byte, ID 15 stops.
        while pos < end:
            b = data[pos]
            if b == 0:
                pos += 1
                continue
            element_id = b >> 4
            if element_id == 15:
                return None
            length = (b & 0x0F) + 1
            start = pos + 1
            pos = start + length
            if pos > end:
                raise _element_overrun(element_id, length, end - start)
            if element_id == ext_id:
                return bytes(data[start:pos])
        return None
    if profile & _TWO_BYTE_PROFILE_MASK == _TWO_BYTE_PROFILE:
        # RFC 8285 §4.3: |ID(8)|L(8)| then L bytes; ID 0 is a padding byte.
        while pos < end:
            element_id = data[pos]
            if element_id == 0:
                pos += 1
                continue
            if pos + 2 > end:
                raise RtpParseError(
                    "bad_extension", f"RTP header extension element {element_id} has no length byte"
                )
            length = data[pos + 1]
            start = pos + 2
            pos = start + length
            if pos > end:
                raise _element_overrun(element_id, length, end - start)
            if element_id == ext_id:
                return bytes(data[start:pos])
        return None
    return None


def _element_overrun(element_id: int, length: int, remaining: int) -> RtpParseError:
    return RtpParseError(
        "bad_extension",
        f"RTP header extension element {element_id} of {length} bytes exceeds remaining "
        f"{remaining} bytes",
    )


def _check_payload_type(payload_type: int) -> None:
    if not 0 <= payload_type <= 127:
        raise ValueError(f"RTP payload type {payload_type} out of range 0..127")


def rewrite_packet(
    data: bytes,
    header: RtpHeader,
    *,
    payload_type: int,
    sequence_number: int,
    timestamp: int,
    ssrc: int,
) -> bytes:
    """Return a new packet: fresh 12-byte header + ``data[payload_offset:]``."""
    return bytes(
        rewrite_packet_buffer(
            data,
            header,
            payload_type=payload_type,
            sequence_number=sequence_number,
            timestamp=timestamp,
            ssrc=ssrc,
        )
    )


def rewrite_packet_buffer(
    data: bytes,
    header: RtpHeader,
    *,
    payload_type: int,
    sequence_number: int,
    timestamp: int,
    ssrc: int,
) -> bytearray:
    """rewrite_packet, as a mutable buffer for payload patches (VP8 picture ids)."""
    _check_payload_type(payload_type)
    buf = bytearray(forwarding_template(data, header))
    fill_header(
        buf, (0x80 if header.marker else 0) | payload_type, sequence_number, timestamp, ssrc
    )
    return buf


ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
PLAYOUT_DELAY_URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
# 0xBEDE, length 2: two 4-byte elements (id/len byte + 3 value bytes each), abs-send-time
# then playout-delay, which stays four padding bytes (RFC 8285 §4.2) unless a subscriber
# gets one.
VIDEO_EXTENSION_BLOCK = 12
ABS_SEND_TIME_ELEMENT = HEADER_SIZE + 4  # after the 0xBEDE profile and length words
PLAYOUT_DELAY_ELEMENT = ABS_SEND_TIME_ELEMENT + 4


def forwarding_template(
    data: bytes, header: RtpHeader, abs_send_time_ms: int | None = None
) -> bytes:
    """A forwarded packet with its header left to fill (``fill_header``, or
    ``forwarded.ForwardingTemplate.fill`` per subscriber).

    V=2, the P bit kept, CC=0: CSRCs and the publisher's header extensions are stripped
    because extension ids are negotiated per peer. Padding is kept as is.

    With ``abs_send_time_ms`` (video: Chromium's receive-side estimator, which makes its
    REMB, needs it on every packet) a one-byte-header extension block (RFC 8285 §4.2)
    follows the fixed header, holding abs-send-time (seconds in 6.18 fixed point, 24 bits)
    and room for a playout-delay element. The send time is the same for every subscriber;
    its element id is per peer and is written by ``ForwardingTemplate.fill``, as is a
    subscriber's playout delay. The payload then starts ``VIDEO_EXTENSION_BLOCK`` bytes
    later.
    """
    payload = memoryview(data)[header.payload_offset :]
    first = 0x80 | (data[0] & 0x20)
    if abs_send_time_ms is None:
        return bytes((first,)) + bytes(HEADER_SIZE - 1) + payload
    block = b"\xbe\xde\x00\x02\x00" + _abs_send_time(abs_send_time_ms) + bytes(4)
    return bytes((first | 0x10,)) + bytes(HEADER_SIZE - 1) + block + payload


def _abs_send_time(ms: int) -> bytes:
    return (((ms << 18) // 1000) & 0xFFFFFF).to_bytes(3, "big")


def restamp_abs_send_time(buf: bytearray, now_ms: int) -> None:
    """A packet held back (paced) leaves later than its template was stamped: write the
    real send time, or the receiver reads the wait as network queueing (overuse). Leaves
    anything without the template's named abs-send-time element alone (audio, RTCP)."""
    if (
        len(buf) >= HEADER_SIZE + VIDEO_EXTENSION_BLOCK
        and buf[0] & 0x10
        and buf[HEADER_SIZE] == 0xBE
        and buf[HEADER_SIZE + 1] == 0xDE
        and buf[ABS_SEND_TIME_ELEMENT] & 0x0F == 2
        and buf[ABS_SEND_TIME_ELEMENT] >> 4
    ):
        buf[ABS_SEND_TIME_ELEMENT + 1 : ABS_SEND_TIME_ELEMENT + 4] = _abs_send_time(now_ms)


MAX_PADDING = 255  # RFC 3550 §5.1: the last padding octet counts them, itself included


def padding_packet(
    payload_type: int,
    sequence_number: int,
    timestamp: int,
    ssrc: int,
    abs_send_time_element: int,
    padding: int,
    now_ms: int,
    transport_seq: tuple[int, int] | None = None,
) -> bytearray:
    """A packet of padding only (RFC 3550 §5.1: P bit, no payload, ``padding`` octets the
    last of which counts them), for probing a link (on the RTX stream: RFC 4588 gives it
    no original sequence number, and the receiver drops it after counting it).

    It carries the video extension block (``forwarding_template``'s layout) with
    abs-send-time, written from ``abs_send_time_element`` (forwarded.abs_send_time_element;
    0: padding bytes): Chromium's receive-side estimator counts payload and padding of
    every packet stamped so, which is what lets its REMB climb on padding.
    ``transport_seq`` (extension id 1..14, 16-bit number) puts a transport-wide sequence
    number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2) where video has its
    playout delay: the browser then reports this packet's arrival time in transport-cc
    feedback instead of counting it in its REMB.
    """
    if not 1 <= padding <= MAX_PADDING:
        raise ValueError(f"padding must be 1..{MAX_PADDING} octets, got {padding}")
    _check_payload_type(payload_type)
    buf = bytearray(HEADER_SIZE + VIDEO_EXTENSION_BLOCK + padding)
    _FIXED.pack_into(buf, 0, 0xB0, payload_type, sequence_number, timestamp, ssrc)
    _EXT.pack_into(buf, HEADER_SIZE, _ONE_BYTE_PROFILE, VIDEO_EXTENSION_BLOCK // 4 - 1)
    if abs_send_time_element:
        buf[ABS_SEND_TIME_ELEMENT] = abs_send_time_element
        buf[ABS_SEND_TIME_ELEMENT + 1 : ABS_SEND_TIME_ELEMENT + 4] = _abs_send_time(now_ms)
    if transport_seq is not None:
        ext_id, seq = transport_seq
        if not 1 <= ext_id <= 14:
            raise ValueError(f"one-byte extension ids are 1..14, got {ext_id}")
        # id/len byte (length - 1 = 1), the number, one padding octet (RFC 8285 §4.2)
        buf[PLAYOUT_DELAY_ELEMENT] = (ext_id << 4) | 1
        buf[PLAYOUT_DELAY_ELEMENT + 1 : PLAYOUT_DELAY_ELEMENT + 3] = (seq & 0xFFFF).to_bytes(
            2, "big"
        )
    buf[-1] = padding
    return buf


def fill_header(
    buf: bytearray, marker_payload_type: int, sequence_number: int, timestamp: int, ssrc: int
) -> None:
    """Write RFC 3550 §5.1 header bytes 1..11 (M bit | PT, seq, ts, SSRC) into ``buf``."""
    HEADER_FIELDS.pack_into(buf, 1, marker_payload_type, sequence_number, timestamp, ssrc)


def wrap_rtx(
    data: bytes,
    header: RtpHeader,
    *,
    rtx_payload_type: int,
    rtx_sequence_number: int,
    rtx_ssrc: int,
) -> bytes:
    """RFC 4588 §4: RTX packet = header(rtx PT/seq/SSRC, original ts and marker),
    2-byte original sequence number (``header.sequence_number``), original payload
    without padding.
    """
    _check_payload_type(rtx_payload_type)
    payload = memoryview(data)[header.payload_offset : header.payload_end]
    buf = bytearray(HEADER_SIZE + 2 + len(payload))
    _FIXED.pack_into(
        buf,
        0,
        0x80,
        (0x80 if header.marker else 0) | rtx_payload_type,
        rtx_sequence_number,
        header.timestamp,
        rtx_ssrc,
    )
    _OSN.pack_into(buf, HEADER_SIZE, header.sequence_number)
    buf[HEADER_SIZE + 2 :] = payload
    return bytes(buf)


def unwrap_rtx(data: bytes, header: RtpHeader, *, payload_type: int, ssrc: int) -> bytes:
    """Inverse of wrap_rtx (RFC 4588 §4): seq = OSN, given PT/SSRC, timestamp and marker
    from the RTX packet, payload after the OSN (RTX padding dropped).
    """
    _check_payload_type(payload_type)
    payload_size = header.payload_end - header.payload_offset
    if payload_size < 2:
        raise RtpParseError(
            "bad_rtx",
            f"RTX payload too short: {payload_size} bytes, need 2 for the original sequence number",
        )
    (osn,) = _OSN.unpack_from(data, header.payload_offset)
    payload = memoryview(data)[header.payload_offset + 2 : header.payload_end]
    buf = bytearray(HEADER_SIZE + len(payload))
    _FIXED.pack_into(
        buf,
        0,
        0x80,
        (0x80 if header.marker else 0) | payload_type,
        osn,
        header.timestamp,
        ssrc,
    )
    buf[HEADER_SIZE:] = payload
    return bytes(buf)
