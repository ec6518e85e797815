"""The forwarded packet: one template per incoming packet, filled in per subscriber.

Whatever is the same for every subscriber of a packet is worked out once, when the
producer makes the ``ForwardingTemplate``: the bytes (``header.forwarding_template``:
fresh fixed header, the payload, abs-send-time for video), the marker bit, the
payload octets a sender report counts (RFC 3550 §6.4.1), and where the VP8 PictureID
and TL0PICIDX sit and how wide the PictureID is (RFC 7741 §4.2). ``fill`` then only
writes one subscriber's values into a copy: M|PT, seq, timestamp, SSRC (RFC 3550 §5.1),
the abs-send-time element's id (RFC 8285 §4.2), its playout delay, PictureID and
TL0PICIDX. It runs for every packet and subscriber, so it is one call with no parsing.
"""

from __future__ import annotations

import struct

from bridge.rtp.header import (
    ABS_SEND_TIME_ELEMENT,
    HEADER_FIELDS,
    HEADER_SIZE,
    PLAYOUT_DELAY_ELEMENT,
    VIDEO_EXTENSION_BLOCK,
    RtpHeader,
    forwarding_template,
)
from bridge.rtp.red import block_types_at, red_payload
from bridge.rtp.vp8 import Vp8Descriptor
from bridge.rtp.vp8_munger import picture_id_bits

_WIDE_PICTURE_ID = struct.Struct("!H")  # M bit set, then 15 bits (RFC 7741 §4.2)
_NO_ELEMENT = bytes(4)


def abs_send_time_element(ext_id: int | None) -> int:
    """The first byte of a peer's abs-send-time element: its id and length - 1 = 2
    (RFC 8285 §4.2). 0 for a peer that did not negotiate it, or negotiated an id the
    one-byte form cannot carry: ``fill`` then turns the element into padding."""
    if ext_id is None or not 1 <= ext_id <= 14:
        return 0
    return (ext_id << 4) | 2


# libwebrtc's default maximum playout delay; the element's fields are 12 bits of 10 ms.
PLAYOUT_DELAY_MAX_MS = 10_000
_PLAYOUT_DELAY_UNIT_MS = 10


def playout_delay_element(ext_id: int | None, min_ms: int) -> bytes:
    """A video playout-delay element (webrtc.org "playout-delay": id/len byte, then 12
    bits each of minimum and maximum delay in 10 ms units) asking the receiver to hold
    frames at least ``min_ms`` (0: no minimum), at most libwebrtc's default maximum. Empty
    when the peer did not negotiate it or its id does not fit the one-byte form."""
    if ext_id is None or not 1 <= ext_id <= 14:
        return b""
    low = min(max(min_ms, 0), PLAYOUT_DELAY_MAX_MS) // _PLAYOUT_DELAY_UNIT_MS
    high = PLAYOUT_DELAY_MAX_MS // _PLAYOUT_DELAY_UNIT_MS
    return bytes(((ext_id << 4) | 2,)) + ((low << 12) | high).to_bytes(3, "big")


class ForwardingTemplate:
    """One incoming packet as every subscriber gets it, less the per-subscriber fields."""

    __slots__ = (
        "_red",
        "_red_source",
        "_wide_picture_id",
        "data",
        "extension_block",
        "marker_bit",
        "payload_octets",
        "picture_id_at",
        "size",
        "tl0_pic_idx_at",
    )

    def __init__(
        self,
        data: bytes,
        header: RtpHeader,
        abs_send_time_ms: int | None = None,
        vp8: Vp8Descriptor | None = None,
    ):
        """``data``/``header``: the incoming packet; ``abs_send_time_ms``: see
        ``forwarding_template``; ``vp8``: its parsed descriptor, if the PictureID and
        TL0PICIDX are to be rewritten per subscriber."""
        self.data = forwarding_template(data, header, abs_send_time_ms)
        self.size = len(self.data)
        self.extension_block = abs_send_time_ms is not None
        payload_at = HEADER_SIZE + (VIDEO_EXTENSION_BLOCK if self.extension_block else 0)
        self.payload_octets = header.payload_end - header.payload_offset
        self.marker_bit = 0x80 if header.marker else 0
        # 0: the packet has no such field
        self.picture_id_at = self.tl0_pic_idx_at = 0
        self._wide_picture_id = False
        if vp8 is not None:
            at = payload_at + 2  # required byte, X byte (both needed for I or L)
            if vp8.picture_id is not None:
                self.picture_id_at = at
                self._wide_picture_id = picture_id_bits(vp8) == 15
                at += 2 if self._wide_picture_id else 1
            if vp8.tl0_pic_idx is not None:
                self.tl0_pic_idx_at = at
        self._red_source: tuple[bytes, bytes, int] | None = None
        self._red: tuple[int, ForwardingTemplate] | None = None

    def allow_redundancy(self, primary: bytes, previous: bytes, timestamp_offset: int) -> None:
        """Audio: ``redundant()`` may carry ``previous`` (the publisher's packet just
        before, ``timestamp_offset`` earlier) beside this packet's payload ``primary``."""
        self._red_source = (primary, previous, timestamp_offset)

    def redundant(self, block_payload_type: int) -> ForwardingTemplate:
        """This packet as RFC 2198 RED (rtp/red.py) whose blocks are of the subscriber's
        ``block_payload_type``; built once per packet, for the first subscriber that
        asks. Without ``allow_redundancy`` the primary block goes alone."""
        cached = self._red
        if cached is not None and cached[0] == block_payload_type:
            return cached[1]
        source = self._red_source
        if source is None:
            payload = red_payload(bytes(self.data[HEADER_SIZE:]), None, 0)
        else:
            payload = red_payload(*source)
        buf = bytearray(payload)
        for at in block_types_at(payload):
            buf[at] = (buf[at] & 0x80) | block_payload_type
        red = ForwardingTemplate.__new__(ForwardingTemplate)
        red.data = self.data[:HEADER_SIZE] + bytes(buf)
        red.size = len(red.data)
        red.payload_octets = len(buf)
        red.extension_block = False
        red.marker_bit = self.marker_bit
        red.picture_id_at = red.tl0_pic_idx_at = 0
        red._wide_picture_id = False
        red._red_source = None
        red._red = None
        self._red = (block_payload_type, red)
        return red

    def fill(
        self,
        payload_type: int,
        sequence_number: int,
        timestamp: int,
        ssrc: int,
        abs_send_time_element: int,
        playout_delay: bytes,
        picture_id: int | None,
        tl0_pic_idx: int | None,
    ) -> bytearray:
        """A copy with one subscriber's fields written in.

        ``abs_send_time_element`` comes from ``abs_send_time_element()``, ``playout_delay``
        from ``playout_delay_element()`` (video; empty: padding stays). A 7-bit
        PictureID gets the low 7 bits of ``picture_id``, a 15-bit one the low 15;
        ``None`` (and a field the packet lacks) leaves the incoming value.
        """
        buf = bytearray(self.data)
        HEADER_FIELDS.pack_into(
            buf, 1, self.marker_bit | payload_type, sequence_number, timestamp, ssrc
        )
        if self.extension_block:
            if abs_send_time_element:
                buf[ABS_SEND_TIME_ELEMENT] = abs_send_time_element
            else:
                buf[ABS_SEND_TIME_ELEMENT : ABS_SEND_TIME_ELEMENT + 4] = _NO_ELEMENT
            if playout_delay:
                buf[PLAYOUT_DELAY_ELEMENT : PLAYOUT_DELAY_ELEMENT + 4] = playout_delay
        at = self.picture_id_at
        if at and picture_id is not None:
            if self._wide_picture_id:
                _WIDE_PICTURE_ID.pack_into(buf, at, 0x8000 | (picture_id & 0x7FFF))
            else:
                buf[at] = picture_id & 0x7F
        at = self.tl0_pic_idx_at
        if at and tl0_pic_idx is not None:
            buf[at] = tl0_pic_idx & 0xFF
        return buf
