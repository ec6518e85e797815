"""A fan-out lane: the consumers of one producer layer that map its packets by fixed
offsets, served together.

A consumer whose forwarder is steady (``Forwarder.steady_after``: forwarding its target
layer, nothing pending, the last packet the newest it has seen) maps every newer packet
of that layer by constant offsets: the outgoing sequence number, timestamp, PictureID and
TL0PICIDX each move by the incoming stream's step. For those consumers the per-subscriber
path (the forwarding decision, the mungers, the template fill: most of the interpreter's
~20 µs a packet and subscriber, docs/benchmarks.md) is the same arithmetic N times. The
lane does it once per packet for all of them with numpy, every member's header bytes in
one array, and leaves each member one call: its send.

What a member's own objects would have recorded (the forwarder's and mungers' highest
numbers, the NACK map, the sender report's counters) is written to them when the consumer
next needs them (``Consumer.catch_up``), from the lane's log of the packets it sent.

A member at a lower frame rate than the stream's (a VP8 temporal layer it does not
forward, RFC 7741 §4.2 TID) skips that layer's packets as its forwarder would: its
sequence numbers and PictureIDs close up over them (``RtpMunger.skip``,
``Vp8Munger.skip``), which the lane counts per temporal layer.

A packet the lane cannot map by offsets (not newer than the last one in every number, a
7-bit PictureID, a descriptor of another shape) dissolves it: every member catches up,
and the producer forwards that packet to each consumer on its own as before. Members
rejoin at the end of a later frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt

from bridge.forwarding.forwarder import InboundPacket
from bridge.rtp.forwarded import ForwardingTemplate
from bridge.rtp.header import ABS_SEND_TIME_ELEMENT, PLAYOUT_DELAY_ELEMENT
from bridge.rtp.vp8_munger import unwrap

from .peer import SendPacket

if TYPE_CHECKING:
    from .consumer import Consumer

T = TypeVar("T")

# The log is written into the members (and cleared) before a member's mungers could
# unwrap its newest TL0PICIDX (8 bits, RFC 7741 §4.2) wrongly: well inside half its range.
MAX_LOG = 512
MAX_TL0_STEPS = 64


# VP8 TIDs are 2 bits (RFC 7741 §4.2)
_TEMPORAL_LAYERS = 4


@dataclass(frozen=True, slots=True)
class MemberRow:
    """What one member writes into every packet: fixed while it is in the lane."""

    # out extended seq = in extended seq - (seq_offset + the lane's skipped packets
    # above `temporal`)
    seq_offset: int
    timestamp_offset: int  # out timestamp = (in extended timestamp - this) mod 2^32
    # out PictureID = (lane's extended PictureID - (this + the lane's skipped pictures
    # above `temporal`)) mod 2^15
    picture_id_offset: int
    tl0_offset: int  # out TL0PICIDX = (lane's extended TL0PICIDX - this) mod 2^8
    payload_type: int
    ssrc: int
    abs_send_time_element: int  # ForwardingTemplate.fill's; video members have one
    playout_delay: bytes  # 4 bytes, zeros without
    temporal: int  # the highest VP8 temporal layer it forwards


def _swap_remove(items: list[T], i: int) -> None:
    items[i] = items[-1]
    del items[-1]


class _Columns:
    """The members' rows as numpy columns, rebuilt when the membership changes."""

    __slots__ = (
        "abs_send_time",
        "lowest_temporal",
        "picture_id",
        "playout",
        "receivers",
        "seq",
        "ssrc",
        "temporal",
        "timestamp",
        "tl0",
        "word0",
    )

    def __init__(self, rows: list[MemberRow], sends: list[SendPacket]) -> None:
        def column(values: list[int]) -> npt.NDArray[np.int64]:
            return np.array(values, dtype=np.int64)

        self.seq = column([r.seq_offset for r in rows])
        self.timestamp = column([r.timestamp_offset for r in rows])
        self.picture_id = column([r.picture_id_offset for r in rows])
        self.tl0 = column([r.tl0_offset for r in rows])
        self.word0 = column([r.payload_type << 16 for r in rows])
        self.ssrc = column([r.ssrc for r in rows])
        self.abs_send_time = np.array([r.abs_send_time_element for r in rows], dtype=np.uint8)
        self.temporal = column([r.temporal for r in rows])
        self.lowest_temporal = min(r.temporal for r in rows)
        # per packet TID: (row, member's send) of the members that forward it
        self.receivers = [
            [
                (i, send)
                for i, (r, send) in enumerate(zip(rows, sends, strict=True))
                if r.temporal >= t
            ]
            for t in range(_TEMPORAL_LAYERS)
        ]
        playout = [r.playout_delay for r in rows]
        self.playout: npt.NDArray[np.uint8] | None = (
            np.frombuffer(b"".join(playout), dtype=np.uint8).reshape(len(rows), 4)
            if any(any(p) for p in playout)
            else None
        )


class FanoutLane:
    __slots__ = (
        "_columns",
        "_rows",
        "_sends",
        "_skipped_packets",
        "_skipped_pictures",
        "base",
        "last",
        "members",
        "octets",
        "picture_ids",
        "records",
        "sizes",
        "tl0s",
    )

    def __init__(self) -> None:
        self.members: list[Consumer] = []
        self._rows: list[MemberRow] = []
        self._sends: list[SendPacket] = []
        self._columns: _Columns | None = None
        # the newest packet every member has forwarded (through the lane or at its join)
        self.last: InboundPacket | None = None
        # the log: packets the lane sent from absolute index `base` on, each one's
        # PictureID and TL0PICIDX extended in the lane's own numbering, and the running
        # totals of payload octets and bytes sent (for the members' counters)
        self.base = 0
        self.records: list[InboundPacket] = []
        self.picture_ids: list[int] = [0]
        self.tl0s: list[int] = [0]
        self.octets: list[int] = [0]
        self.sizes: list[int] = [0]
        # [t]: packets (pictures) of a temporal layer above t the lane has had, which a
        # member forwarding up to layer t skipped
        self._skipped_packets = np.zeros(_TEMPORAL_LAYERS, dtype=np.int64)
        self._skipped_pictures = np.zeros(_TEMPORAL_LAYERS, dtype=np.int64)

    @property
    def count(self) -> int:
        """Absolute index after the newest packet in the log."""
        return self.base + len(self.records)

    def join(
        self,
        consumer: Consumer,
        packet: InboundPacket,
        out: tuple[int, int, int | None, int | None],
        fields: tuple[int, int, int, bytes, int],
        send: SendPacket,
    ) -> MemberRow | None:
        """``consumer`` forwarded ``packet`` (the current one) as ``out`` (out extended
        seq, timestamp, PictureID, TL0PICIDX) and is steady: it joins, with the row
        returned. None (it stays out) if the lane is serving another packet, or the
        packet's shape is not one the lane maps. ``fields``: payload type, SSRC,
        abs-send-time element, playout delay element, highest temporal layer."""
        if packet.picture_id is not None and packet.picture_id_bits != 15:
            return None
        if self.members:
            if packet is not self.last:
                return None
        else:
            self._start(packet, 1 << 15, 256)
            self._skipped_packets[:] = self._skipped_pictures[:] = 0
        out_ext_seq, timestamp, picture_id, tl0_pic_idx = out
        payload_type, ssrc, abs_send_time, playout, temporal = fields
        row = MemberRow(
            seq_offset=packet.ext_seq - out_ext_seq - int(self._skipped_packets[temporal]),
            timestamp_offset=packet.ext_timestamp - timestamp,
            picture_id_offset=self.picture_ids[-1]
            - (picture_id or 0)
            - int(self._skipped_pictures[temporal]),
            tl0_offset=self.tl0s[-1] - (tl0_pic_idx or 0),
            payload_type=payload_type,
            ssrc=ssrc,
            abs_send_time_element=abs_send_time,
            playout_delay=playout or bytes(4),
            temporal=temporal,
        )
        self._rows.append(row)
        self.members.append(consumer)
        self._sends.append(send)
        self._columns = None
        return row

    def _start(self, packet: InboundPacket, picture_id_ext: int, tl0_ext: int) -> None:
        """An empty log after ``packet``, whose numbers extend to these."""
        self.last = packet
        self.base = self.count
        self.records = []
        self.picture_ids = [picture_id_ext + (packet.picture_id or 0)]
        self.tl0s = [tl0_ext + (packet.tl0_pic_idx or 0)]
        self.octets = [0]
        self.sizes = [0]

    def remove(self, consumer: Consumer) -> None:
        """Take one member out; it then catches up from the log (Consumer.left_lane)."""
        i = self.members.index(consumer)
        _swap_remove(self.members, i)
        _swap_remove(self._rows, i)
        _swap_remove(self._sends, i)
        self._columns = None

    def dissolve(self) -> None:
        """Every member catches up and leaves: the packet in hand goes to each on its
        own."""
        members = self.members
        self.members, self._rows, self._sends = [], [], []
        self._columns = None
        for consumer in members:
            consumer.left_lane()

    def _extended(self, packet: InboundPacket) -> tuple[int, int] | None:
        """The packet's PictureID and TL0PICIDX in the lane's numbering, if it is newer
        than ``last`` in every number and of the same shape; else None."""
        last = self.last
        if last is None or packet.ext_seq <= last.ext_seq:
            return None
        pid, tl0 = packet.picture_id, packet.tl0_pic_idx
        if (pid is None) != (last.picture_id is None) or (tl0 is None) != (
            last.tl0_pic_idx is None
        ):
            return None
        pid_ext = self.picture_ids[-1]
        if pid is not None:
            if packet.picture_id_bits != 15:
                return None
            pid_ext = unwrap(pid, pid_ext, 15)
            if pid_ext < self.picture_ids[-1]:  # older: RFC 7741 PictureIDs only grow
                return None
        tl0_ext = self.tl0s[-1]
        if tl0 is not None:
            tl0_ext = unwrap(tl0, tl0_ext, 8)
            if tl0_ext < self.tl0s[-1]:
                return None
        return pid_ext, tl0_ext

    def forward(self, template: ForwardingTemplate, packet: InboundPacket) -> int:
        """Send ``packet`` to every member; how many sends worked. A packet the lane
        cannot map dissolves it first (0, and the members are the caller's again)."""
        numbers = self._extended(packet)
        if numbers is None:
            self.dissolve()
            return 0
        columns = self._columns
        if columns is None:
            columns = self._columns = _Columns(self._rows, self._sends)
        pid_ext, tl0_ext = numbers
        rows = self._headers(template, packet, columns, pid_ext, tl0_ext)
        size = template.size
        flat = rows.data.cast("B")
        sent = 0
        index = self.count
        tid = packet.temporal or 0
        if tid <= columns.lowest_temporal:  # every member forwards it
            at = 0
            for i, send in enumerate(self._sends):
                if send(flat[at : at + size]):
                    sent += 1
                else:  # never left: the member takes it out of its NACK map and counters
                    self.members[i].lane_failed.append(index)
                at += size
        else:
            for i, send in columns.receivers[tid]:
                if send(flat[i * size : (i + 1) * size]):
                    sent += 1
                else:
                    self.members[i].lane_failed.append(index)
            # the others skipped it: their numbers close up behind it
            self._skipped_packets[:tid] += 1
            if pid_ext > self.picture_ids[-1]:  # a new picture (its first packet here)
                self._skipped_pictures[:tid] += 1
        self.last = packet
        self.records.append(packet)
        self.picture_ids.append(pid_ext)
        self.tl0s.append(tl0_ext)
        self.octets.append(self.octets[-1] + template.payload_octets)
        self.sizes.append(self.sizes[-1] + template.size)
        if len(self.records) >= MAX_LOG or tl0_ext - self.tl0s[0] >= MAX_TL0_STEPS:
            for consumer in self.members:
                consumer.catch_up()
            # the numbering goes on: the members' offsets are in it
            pid_base = pid_ext - (packet.picture_id or 0)
            self._start(packet, pid_base, tl0_ext - (packet.tl0_pic_idx or 0))
        return sent

    def _headers(
        self,
        template: ForwardingTemplate,
        packet: InboundPacket,
        columns: _Columns,
        pid_ext: int,
        tl0_ext: int,
    ) -> npt.NDArray[np.uint8]:
        """Every member's packet, one per row: the template with its fields written in
        (what ``ForwardingTemplate.fill`` writes for one)."""
        data = template.data
        n = len(self._rows)
        rows = np.empty((n, len(data)), dtype=np.uint8)
        rows[:] = np.frombuffer(data, dtype=np.uint8)
        # RFC 3550 §5.1: V/P/X/CC, M/PT and seq | timestamp | SSRC, big-endian words
        fields = np.empty((n, 3), dtype=">u4")
        skipped = self._skipped_packets[columns.temporal]
        fields[:, 0] = (
            ((data[0] << 24) | (template.marker_bit << 16))
            + columns.word0
            + ((packet.ext_seq - columns.seq - skipped) & 0xFFFF)
        )
        fields[:, 1] = (packet.ext_timestamp - columns.timestamp) & 0xFFFFFFFF
        fields[:, 2] = columns.ssrc
        rows[:, :12] = fields.view(np.uint8)
        if template.extension_block:
            rows[:, ABS_SEND_TIME_ELEMENT] = columns.abs_send_time
            if columns.playout is not None:
                rows[:, PLAYOUT_DELAY_ELEMENT : PLAYOUT_DELAY_ELEMENT + 4] = columns.playout
        at = template.picture_id_at
        if at and packet.picture_id is not None:
            skipped = self._skipped_pictures[columns.temporal]
            pid = ((pid_ext - columns.picture_id - skipped) & 0x7FFF) | 0x8000
            rows[:, at] = pid >> 8
            rows[:, at + 1] = pid & 0xFF
        at = template.tl0_pic_idx_at
        if at and packet.tl0_pic_idx is not None:
            rows[:, at] = (tl0_ext - columns.tl0) & 0xFF
        return rows
