"""RTP payload for redundant audio (RFC 2198): built by the bridge toward lossy downlinks,
and read from publishers that send it (``split_red``).

A RED payload carries block headers, then the blocks, oldest first (§3). Each redundant
block header is 4 bytes: F=1, block payload type (7 bits), timestamp offset from the
primary (14 bits), block length (10 bits); the last header, the primary's, is 1 byte:
F=0 and its payload type. The packet's own sequence number and timestamp are the
primary's. With one redundant block (the previous Opus frame) a receiver recovers any
single lost packet, which is what random loss on a rural link mostly is; libwebrtc's
NetEq splits such payloads itself. The block payload types are the receiver's Opus type,
written per subscriber (``block_types_at``).
"""

from __future__ import annotations

import struct

from .errors import RtpParseError
from .header import RtpHeader

_BLOCK_HEADER = struct.Struct("!I")
_PLAIN_HEADER = struct.Struct("!BBHII")  # RFC 3550 §5.1 without CSRCs or extension

MAX_TIMESTAMP_OFFSET = (1 << 14) - 1  # §3: 14 bits
MAX_BLOCK_LENGTH = (1 << 10) - 1  # §3: 10 bits


def red_payload(primary: bytes, previous: bytes | None, timestamp_offset: int) -> bytes:
    """The RED payload for ``primary`` with ``previous`` (sent ``timestamp_offset``
    earlier) as its redundant block, or the primary alone if ``previous`` is None or
    cannot be carried (offset or length beyond the header fields). Block payload types
    are left 0 for the sender to write."""
    if (
        previous is None
        or not 0 < timestamp_offset <= MAX_TIMESTAMP_OFFSET
        or len(previous) > MAX_BLOCK_LENGTH
    ):
        return b"\x00" + primary
    word = 0x8000_0000 | (timestamp_offset << 10) | len(previous)
    return word.to_bytes(4, "big") + b"\x00" + previous + primary


def block_types_at(payload: bytes) -> tuple[int, ...]:
    """Offsets in a ``red_payload`` result of the bytes holding F and a block type."""
    return (0, 4) if payload[0] & 0x80 else (0,)


def split_red(
    data: bytes, header: RtpHeader, *, payload_type: int
) -> tuple[bytes, list[tuple[int, bytes]]]:
    """A publisher's RED packet as plain packets of its ``payload_type`` (Opus): the
    primary, with this packet's header and extensions, and per redundant block, oldest
    first, (timestamp offset, its payload) for the caller to place (``plain_packet``).
    Raises RtpParseError ("bad_red") if the block headers overrun the payload."""
    at, end = header.payload_offset, header.payload_end
    blocks: list[tuple[int, int]] = []  # (timestamp offset, length)
    while True:
        if at >= end:
            raise RtpParseError("bad_red", "RED payload ends inside its block headers")
        if not data[at] & 0x80:  # F=0: the primary's 1-byte header (RFC 2198 §3)
            at += 1
            break
        if at + 4 > end:
            raise RtpParseError("bad_red", "RED block header cut short")
        (word,) = _BLOCK_HEADER.unpack_from(data, at)
        blocks.append(((word >> 10) & MAX_TIMESTAMP_OFFSET, word & MAX_BLOCK_LENGTH))
        at += 4
    redundant: list[tuple[int, bytes]] = []
    for offset, length in blocks:
        if at + length > end:
            raise RtpParseError(
                "bad_red",
                f"RED block of {length} bytes overruns the payload by {at + length - end}",
            )
        redundant.append((offset, data[at : at + length]))
        at += length
    primary = bytearray(data[: header.payload_offset])
    primary[0] &= 0xDF  # P=0: the padding is not copied
    primary[1] = (primary[1] & 0x80) | payload_type
    primary += data[at:end]
    return bytes(primary), redundant


def plain_packet(
    payload_type: int, sequence_number: int, timestamp: int, ssrc: int, payload: bytes
) -> bytes:
    """An RTP packet without extensions (a frame recovered from a RED block)."""
    return _PLAIN_HEADER.pack(0x80, payload_type, sequence_number, timestamp, ssrc) + payload
