"""Ring buffers keyed by extended sequence number, for answering NACKs.

The caller sizes them to hold at least one second of media (e.g. ~1000 slots for a
720p video layer, more on high-RTT links); older entries are silently overwritten.
Slot = ext_seq % capacity, and the stored ext seq is checked on read, so an
overwritten slot reads as None rather than a wrong packet.
"""

from __future__ import annotations


def _check_capacity(capacity: int) -> None:
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1, got {capacity}")


class PacketCache:
    """Recent packets of one stream by extended sequence number."""

    __slots__ = ("_capacity", "_packets", "_seqs")

    def __init__(self, capacity: int) -> None:
        _check_capacity(capacity)
        self._capacity = capacity
        self._seqs: list[int] = [-1] * capacity
        self._packets: list[bytes | None] = [None] * capacity

    @property
    def capacity(self) -> int:
        return self._capacity

    def put(self, ext_seq: int, packet: bytes) -> None:
        """Store a packet; a packet older than the one in its slot is not stored."""
        if ext_seq < 0:
            raise ValueError(f"extended sequence number must be >= 0, got {ext_seq}")
        index = ext_seq % self._capacity
        if self._seqs[index] > ext_seq:
            return
        self._seqs[index] = ext_seq
        self._packets[index] = packet

    def get(self, ext_seq: int) -> bytes | None:
        index = ext_seq % self._capacity
        if self._seqs[index] != ext_seq:
            return None
        return self._packets[index]

    def clear(self) -> None:
        self._seqs = [-1] * self._capacity
        self._packets = [None] * self._capacity


class SequenceMap:
    """Maps an outgoing extended seq to the incoming extended seq it was forwarded from."""

    __slots__ = ("_capacity", "_in", "_out")

    def __init__(self, capacity: int) -> None:
        _check_capacity(capacity)
        self._capacity = capacity
        self._out: list[int] = [-1] * capacity
        self._in: list[int] = [0] * capacity

    @property
    def capacity(self) -> int:
        return self._capacity

    def put(self, out_ext_seq: int, in_ext_seq: int) -> None:
        """Record a mapping; an entry older than the one in its slot is not stored."""
        if out_ext_seq < 0:
            raise ValueError(f"extended sequence number must be >= 0, got {out_ext_seq}")
        index = out_ext_seq % self._capacity
        if self._out[index] > out_ext_seq:
            return
        self._out[index] = out_ext_seq
        self._in[index] = in_ext_seq

    def put_all(self, out_ext_seqs: list[int], in_ext_seqs: list[int]) -> None:
        """``put`` each pair in order (a fan-out lane's log, written back at once)."""
        out, into, capacity = self._out, self._in, self._capacity
        for out_ext_seq, in_ext_seq in zip(out_ext_seqs, in_ext_seqs, strict=True):
            if out_ext_seq < 0:
                raise ValueError(f"extended sequence number must be >= 0, got {out_ext_seq}")
            index = out_ext_seq % capacity
            if out[index] <= out_ext_seq:
                out[index] = out_ext_seq
                into[index] = in_ext_seq

    def get(self, out_ext_seq: int) -> int | None:
        index = out_ext_seq % self._capacity
        if out_ext_seq < 0 or self._out[index] != out_ext_seq:
            return None
        return self._in[index]

    def discard(self, out_ext_seq: int) -> None:
        """Forget a mapping: that outgoing seq counts as never sent."""
        index = out_ext_seq % self._capacity
        if out_ext_seq >= 0 and self._out[index] == out_ext_seq:
            self._out[index] = -1

    def missing_between(self, after: int, upto: int) -> int:
        """How many outgoing seqs in (``after``, ``upto``] have no mapping (never sent);
        only the last ``capacity`` can be looked up (older ones count as present, also
        those whose slot a newer seq took: a report trails what was sent by the packets
        in flight, and counted as never sent, those hid an edge site's audio loss: its
        reports come every 3-8 s over 150-400 packets of a 256-packet map). Runs once per
        receiver report, over a second of packets: no call per seq."""
        out, capacity = self._out, self._capacity
        first = max(after + 1, upto - capacity + 1)
        return sum(1 for seq in range(first, upto + 1) if out[seq % capacity] < seq)

    def clear(self) -> None:
        self._out = [-1] * self._capacity
        self._in = [0] * self._capacity
