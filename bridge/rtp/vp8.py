"""VP8 RTP payload descriptor (RFC 7741 §4.2) and key frame detection (§4.3).

RFC 7741 §4.2 payload descriptor::

         0 1 2 3 4 5 6 7
        +-+-+-+-+-+-+-+-+
        |X|R|N|S|R| PID | (REQUIRED)
        +-+-+-+-+-+-+-+-+
   X:   |I|L|T|K| RSV   | (OPTIONAL)
        +-+-+-+-+-+-+-+-+
   I:   |M| PictureID   | (OPTIONAL; M=1: 15-bit PictureID, one more byte)
        +-+-+-+-+-+-+-+-+
   L:   |   TL0PICIDX   | (OPTIONAL)
        +-+-+-+-+-+-+-+-+
   T/K: |TID|Y| KEYIDX  | (OPTIONAL; present if T or K)
        +-+-+-+-+-+-+-+-+

RFC 7741 §4.3 payload header (first byte after the descriptor when S=1 and PID=0)::

        |Size0|H| VER |P|    P=0: key frame (inverse key frame flag)
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.rtp.errors import RtpParseError


@dataclass(frozen=True, slots=True)
class Vp8Descriptor:
    start_of_partition: bool
    partition_id: int
    picture_id: int | None
    tl0_pic_idx: int | None
    temporal_id: int | None
    layer_sync: bool
    key_idx: int | None
    header_size: int  # descriptor size in bytes
    is_keyframe: bool


def _short(size: int, need: int) -> RtpParseError:
    return RtpParseError("bad_vp8", f"VP8 payload too short: {size} bytes, need {need}")


def parse_vp8_descriptor(payload: bytes | memoryview) -> Vp8Descriptor:
    """Parse the descriptor at the start of a VP8 RTP payload; raises RtpParseError."""
    size = len(payload)
    if size < 1:
        raise _short(size, 1)
    b0 = payload[0]
    start = bool(b0 & 0x10)
    pid = b0 & 0x07
    pos = 1
    picture_id = tl0 = tid = key_idx = None
    layer_sync = False
    if b0 & 0x80:  # X: extension byte follows
        if size < 2:
            raise _short(size, 2)
        x = payload[1]
        pos = 2
        if x & 0x80:  # I: PictureID
            if size < pos + 1:
                raise _short(size, pos + 1)
            m = payload[pos]
            if m & 0x80:  # M: 15-bit PictureID
                if size < pos + 2:
                    raise _short(size, pos + 2)
                picture_id = ((m & 0x7F) << 8) | payload[pos + 1]
                pos += 2
            else:
                picture_id = m & 0x7F
                pos += 1
        if x & 0x40:  # L: TL0PICIDX
            if size < pos + 1:
                raise _short(size, pos + 1)
            tl0 = payload[pos]
            pos += 1
        if x & 0x30:  # T or K: TID/Y/KEYIDX byte
            if size < pos + 1:
                raise _short(size, pos + 1)
            tk = payload[pos]
            pos += 1
            if x & 0x20:
                tid = tk >> 6
                layer_sync = bool(tk & 0x20)
            if x & 0x10:
                key_idx = tk & 0x1F
    if size <= pos:
        raise RtpParseError("bad_vp8", f"VP8 payload empty after {pos}-byte payload descriptor")
    keyframe = start and pid == 0 and not payload[pos] & 0x01
    return Vp8Descriptor(
        start_of_partition=start,
        partition_id=pid,
        picture_id=picture_id,
        tl0_pic_idx=tl0,
        temporal_id=tid,
        layer_sync=layer_sync,
        key_idx=key_idx,
        header_size=pos,
        is_keyframe=keyframe,
    )
