"""Per-consumer RTP sequence number / timestamp rewriting (LiveKit's "rtpmunger").

Each consumer sends a stream whose 16-bit sequence numbers (RFC 3550 §5.1) stay
contiguous and whose 32-bit timestamps keep advancing, even when the incoming stream is
paused, switched, restarted or thinned (temporal layers dropped). Internally everything
is extended (64-bit) and offset based: ``out = in - offset``; the timestamp offset
changes only at a *resync*, the sequence offset also grows by one per skipped packet.

Skipped packets (``RtpMunger.skip``): a packet the forwarder drops on purpose must not
leave a hole, or the subscriber NACKs it and its jitter buffer waits for it.

- Skipping the *newest* packet (higher than any seen since the resync) shifts every later
  packet down by one, so the output stays contiguous. Packets between the previous newest
  and the skipped one (lost or late upstream) keep the old offset: if they arrive later
  they fill their places.
- Skipping a packet older than the newest (reordered) cannot shift packets already sent:
  its outgoing number stays unused, a one-packet gap. The subscriber may NACK it (the
  caller finds nothing to resend). Between VP8 frames this is harmless: receivers start
  a frame at its first packet (RFC 7741 §4.2 S bit), not at the previous seq.
- A skipped number is remembered: a duplicate of it later maps to None (drop), never
  onto the number of another packet.
"""

from __future__ import annotations

from bisect import bisect_right

_SEQ_MASK = 0xFFFF
_TS_MASK = 0xFFFFFFFF


class OffsetMap:
    """Piecewise ``out = in - offset(in)`` over extended numbers, with skipped inputs.

    Entries are ``(skip_from, start, offset)``: inputs in ``[skip_from, start)`` were
    skipped, inputs from ``start`` on use ``offset``. At most ``max_entries`` are kept;
    inputs older than the oldest kept entry map to None (too old).
    """

    __slots__ = ("_highest", "_max_entries", "_offsets", "_skip_from", "_starts")

    def __init__(self, max_entries: int = 256) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self._max_entries = max_entries
        self._starts: list[int] = [0]
        self._skip_from: list[int] = [0]
        self._offsets: list[int] = [0]
        self._highest = 0

    def reset(self, first: int, offset: int) -> None:
        """Start over: ``first`` maps to ``first - offset``; anything older to None."""
        self._starts = [first]
        self._skip_from = [first]
        self._offsets = [offset]
        self._highest = first

    @property
    def highest(self) -> int:
        """Highest input mapped or skipped since the reset."""
        return self._highest

    def is_newest(self, value: int) -> bool:
        """``value`` is the highest input and was mapped (not skipped): every later
        input maps by the last offset."""
        return value == self._highest and value >= self._starts[-1]

    def map(self, value: int) -> int | None:
        """Output number for ``value``, or None if it is too old or was skipped."""
        starts = self._starts
        if value >= starts[-1]:  # fast path: at or after the last change
            if value > self._highest:
                self._highest = value
            return value - self._offsets[-1]
        i = bisect_right(starts, value) - 1
        if i < 0 or value >= self._skip_from[i + 1]:
            return None
        return value - self._offsets[i]

    def skip(self, value: int) -> bool:
        """Skip ``value``; True if later inputs shift down (it was the newest)."""
        if value <= self._highest:
            return False  # duplicate or reordered: leaves a gap, see module doc
        self._highest = value
        if self._starts[-1] == value:
            # directly follows the previous skipped run (a reset entry starts at or
            # below highest, so it never matches): extend the run
            self._starts[-1] = value + 1
            self._offsets[-1] += 1
            return True
        self._skip_from.append(value)
        self._starts.append(value + 1)
        self._offsets.append(self._offsets[-1] + 1)
        if len(self._starts) > self._max_entries:
            del self._starts[0], self._skip_from[0], self._offsets[0]
        return True


class RtpMunger:
    """Maps incoming extended seq/timestamps to one consumer's outgoing ones.

    ``initial_sequence`` (< 32768) and ``initial_timestamp`` (32-bit) should be random
    (RFC 3550 §5.1); they are used for the very first forwarded packet. The outgoing
    extended seq starts at ``initial_sequence``.
    """

    __slots__ = (
        "_highest_out_seq",
        "_initial_sequence",
        "_initial_timestamp",
        "_last_out_ts",
        "_resync_out_seq",
        "_seqs",
        "_started",
        "_ts_offset",
    )

    def __init__(self, initial_sequence: int, initial_timestamp: int) -> None:
        if not 0 <= initial_sequence < 32768:
            raise ValueError(f"initial_sequence must be in 0..32767, got {initial_sequence}")
        if not 0 <= initial_timestamp <= _TS_MASK:
            raise ValueError(f"initial_timestamp must be 32-bit, got {initial_timestamp}")
        self._initial_sequence = initial_sequence
        self._initial_timestamp = initial_timestamp
        self._started = False
        self._seqs = OffsetMap()
        self._ts_offset = 0
        self._highest_out_seq = initial_sequence - 1
        self._resync_out_seq = initial_sequence
        self._last_out_ts = initial_timestamp  # extended

    @property
    def started(self) -> bool:
        """True once a packet has been forwarded."""
        return self._started

    @property
    def highest_out_ext_seq(self) -> int:
        """Highest outgoing extended seq (``initial_sequence - 1`` before the first)."""
        return self._highest_out_seq

    @property
    def resync_out_ext_seq(self) -> int:
        """Outgoing extended seq of the last resync packet (the initial one before)."""
        return self._resync_out_seq

    @property
    def last_out_timestamp(self) -> int:
        """32-bit timestamp of the highest outgoing packet (initial value before the first)."""
        return self._last_out_ts & _TS_MASK

    @property
    def timestamp_offset(self) -> int:
        """out_ts = (in_ts - timestamp_offset) mod 2^32; 0 before the first packet."""
        return self._ts_offset & _TS_MASK

    def translate_timestamp(self, ts32: int) -> int:
        """Translate an incoming 32-bit RTP timestamp (e.g. of an SR, RFC 3550 §6.4.1)."""
        return (ts32 - self._ts_offset) & _TS_MASK

    def forward(
        self, ext_seq: int, ext_ts: int, resync: bool, ts_advance: int
    ) -> tuple[int, int, int] | None:
        """Return (out_ext_seq, out_seq16, out_ts32), or None to drop.

        ``resync``: recompute offsets so this packet follows the last outgoing one
        (seq + 1, timestamp + ``ts_advance``). The first packet always resyncs to the
        initial values. Without resync, packets older than the last resync packet and
        skipped packets are dropped; duplicates and reordered packets after it pass
        (retransmissions).
        """
        if not self._started or resync:
            if self._started:
                out_seq = self._highest_out_seq + 1
                out_ts = self._last_out_ts + max(ts_advance, 1)
            else:
                self._started = True
                out_seq = self._initial_sequence
                out_ts = self._initial_timestamp
            self._seqs.reset(ext_seq, ext_seq - out_seq)
            self._ts_offset = ext_ts - out_ts
            self._highest_out_seq = self._resync_out_seq = out_seq
            self._last_out_ts = out_ts
            return out_seq, out_seq & _SEQ_MASK, out_ts & _TS_MASK
        seqs = self._seqs
        if ext_seq >= seqs._starts[-1]:
            # OffsetMap.map's fast path written out: this runs for every packet and
            # subscriber, and the call was a third of this method's cost
            if ext_seq > seqs._highest:
                seqs._highest = ext_seq
            mapped = ext_seq - seqs._offsets[-1]
        else:
            found = seqs.map(ext_seq)
            if found is None:
                return None
            mapped = found
        out_ts = ext_ts - self._ts_offset
        if mapped > self._highest_out_seq:
            self._highest_out_seq = mapped
            self._last_out_ts = out_ts
        return mapped, mapped & _SEQ_MASK, out_ts & _TS_MASK

    def is_newest(self, ext_seq: int) -> bool:
        """``ext_seq`` is the highest input seen since the resync, and mapped (not
        skipped): every later input maps by the current offset."""
        return self._started and self._seqs.is_newest(ext_seq)

    def take_back(self, out_ext_seq: int) -> bool:
        """The newest outgoing number ``out_ext_seq`` never left (dropped before sending):
        the next resync continues from it, so the subscriber sees no gap. False (a gap it
        will see) for any other number."""
        if not self._started or out_ext_seq != self._highest_out_seq:
            return False
        self._highest_out_seq -= 1
        return True

    def skip(self, ext_seq: int) -> bool:
        """The packet ``ext_seq`` is dropped on purpose; keep the output contiguous.

        True if later packets shift down by one (it was the newest since the resync);
        False for reordered/duplicate packets (their number stays a gap, see module doc)
        and before the first forwarded packet.
        """
        if not self._started:
            return False
        return self._seqs.skip(ext_seq)
