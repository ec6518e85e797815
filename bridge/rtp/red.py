"""RTP payload for redundant audio (RFC 2198), built by the bridge toward lossy downlinks.

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
