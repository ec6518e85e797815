"""Per-consumer rewriting of VP8 PictureID and TL0PICIDX (RFC 7741 §4.2).

Receivers (libwebrtc's RtpVp8RefFinder) derive frame references from the PictureID and
TL0PICIDX: a gap in PictureIDs counts as frames "not yet received", and a later non-sync
frame of a higher temporal layer waits for them forever (until a key frame). So when the
forwarder drops temporal layers or switches simulcast layers (each layer has its own
PictureID and TL0PICIDX sequences), both fields must be rewritten to stay continuous:

- PictureID: the offset grows by one per dropped picture (same piecewise ``OffsetMap``
  as the sequence numbers, see bridge/rtp/munger.py for reordering behaviour); at a
  resync (start or layer switch, always at a key frame) the picture follows the last
  outgoing one (+1).
- TL0PICIDX: base layer (TID 0) frames are never dropped, so it only needs a new offset
  at a resync: the key frame's TL0PICIDX follows the last outgoing one (+1).

RFC 7741 §4.2 descriptor (the bytes ``forwarded.ForwardingTemplate.fill`` patches)::

         0 1 2 3 4 5 6 7
        +-+-+-+-+-+-+-+-+
        |X|R|N|S|R| PID |
        +-+-+-+-+-+-+-+-+
   X:   |I|L|T|K| RSV   |
        +-+-+-+-+-+-+-+-+
   I:   |M| PictureID   |   M=1: 15-bit PictureID, low 8 bits in the next byte
        +-+-+-+-+-+-+-+-+
   L:   |   TL0PICIDX   |
        +-+-+-+-+-+-+-+-+
"""

from __future__ import annotations

from bridge.rtp.munger import OffsetMap
from bridge.rtp.vp8 import Vp8Descriptor

PICTURE_ID_MASK = 0x7FFF  # outgoing PictureIDs are 15-bit; 7-bit packets keep the low 7
_TL0_RANGE = 256


def picture_id_bits(descriptor: Vp8Descriptor) -> int:
    """7 or 15: the PictureID width (RFC 7741 §4.2 M bit) of a parsed descriptor.

    Derived from the descriptor size: 1 (required byte) + 1 (X byte) + PictureID bytes
    + 1 if L + 1 if T or K. Returns 15 when there is no PictureID.
    """
    if descriptor.picture_id is None:
        return 15
    size = descriptor.header_size - 2
    size -= descriptor.tl0_pic_idx is not None
    size -= descriptor.temporal_id is not None or descriptor.key_idx is not None
    return 7 if size == 1 else 15


def unwrap(value: int, highest: int, bits: int) -> int:
    """Extended value of ``value`` (``bits`` wide) nearest to ``highest``."""
    rng = 1 << bits
    diff = (value - highest) & (rng - 1)
    if diff >= rng >> 1:
        diff -= rng
    return highest + diff


class Vp8Munger:
    """Rewritten (PictureID, TL0PICIDX) for one consumer's forwarded VP8 packets.

    The first picture keeps its incoming values; outgoing values are returned as
    15-bit PictureID and 8-bit TL0PICIDX (None where the packet has no such field).
    """

    __slots__ = (
        "_pid_out_highest",
        "_pids",
        "_pids_started",
        "_tl0",
        "_tl0_out_highest",
    )

    def __init__(self) -> None:
        self._pids = OffsetMap()
        self._pids_started = False
        self._pid_out_highest = 0  # extended
        self._tl0: tuple[int, int] | None = None  # (highest incoming ext, offset)
        self._tl0_out_highest = 0  # extended

    def forward(
        self,
        picture_id: int | None,
        tl0_pic_idx: int | None,
        resync: bool,
        picture_id_bits: int = 15,
    ) -> tuple[int | None, int | None] | None:
        """Outgoing (picture_id, tl0_pic_idx) for a forwarded packet.

        ``resync``: the packet starts a new incoming stream (start, layer switch or
        restart; a key frame). Returns None if the picture was dropped (``skip``) or
        is older than the last resync: the caller drops the packet.
        """
        # Every subscriber maps each new picture: one frame, unwrap written out (two
        # calls and a max() made it ~2.5 µs a picture). The packets of a picture after
        # its first are the forwarder's (InboundPacket.picture).
        pid_out: int | None = None
        if picture_id is not None:
            pids = self._pids
            rng = 1 << picture_id_bits
            if resync or not self._pids_started:
                ext = (picture_id & (rng - 1)) + rng
                mapped = self._pid_out_highest + 1 if self._pids_started else picture_id
                pids.reset(ext, ext - mapped)
                self._pids_started = True
            else:
                highest = pids.highest
                diff = (picture_id - highest) & (rng - 1)  # unwrap
                found = pids.map(highest + diff - rng if diff >= rng >> 1 else highest + diff)
                if found is None:
                    return None
                mapped = found
            if mapped > self._pid_out_highest:
                self._pid_out_highest = mapped
            pid_out = mapped & PICTURE_ID_MASK
        tl0_out: int | None = None
        if tl0_pic_idx is not None:
            tl0 = self._tl0
            if resync or tl0 is None:
                ext = (tl0_pic_idx & 0xFF) + _TL0_RANGE
                tl0_mapped = tl0_pic_idx if tl0 is None else self._tl0_out_highest + 1
                self._tl0 = (ext, ext - tl0_mapped)
                self._tl0_out_highest = tl0_mapped
            else:
                highest, offset = tl0
                diff = (tl0_pic_idx - highest) & 0xFF  # unwrap
                ext = highest + diff - _TL0_RANGE if diff >= 0x80 else highest + diff
                tl0_mapped = ext - offset
                if ext > highest:
                    self._tl0 = (ext, offset)
                if tl0_mapped > self._tl0_out_highest:
                    self._tl0_out_highest = tl0_mapped
            tl0_out = tl0_mapped & 0xFF
        return pid_out, tl0_out

    def is_newest(self, picture_id: int | None, tl0_pic_idx: int | None, bits: int) -> bool:
        """These values, just mapped, are the highest seen (the PictureID mapped, not
        skipped): later ones map by the current offsets."""
        if picture_id is not None:
            pids = self._pids
            if not self._pids_started or not pids.is_newest(unwrap(picture_id, pids.highest, bits)):
                return False
        if tl0_pic_idx is not None:
            tl0 = self._tl0
            if tl0 is None or unwrap(tl0_pic_idx, tl0[0], 8) != tl0[0]:
                return False
        return True

    def skip(self, picture_id: int | None, *, picture_id_bits: int = 15) -> None:
        """A packet of this picture is dropped on purpose (e.g. its temporal layer).

        Later pictures shift down so the outgoing PictureIDs stay contiguous; all packets
        of a dropped picture may be passed, only the first counts.
        """
        if picture_id is None or not self._pids_started:
            return
        self._pids.skip(unwrap(picture_id, self._pids.highest, picture_id_bits))
