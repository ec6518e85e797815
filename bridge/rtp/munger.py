"""Per-consumer RTP sequence number / timestamp rewriting (LiveKit's "rtpmunger").

Each consumer sends a stream whose 16-bit sequence numbers (RFC 3550 §5.1) stay
contiguous and whose 32-bit timestamps keep advancing, even when the incoming stream is
paused, switched or restarted. Internally everything is extended (64-bit) and offset
based: ``out = in - offset``; offsets change only at a *resync*.
"""

from __future__ import annotations

_SEQ_MASK = 0xFFFF
_TS_MASK = 0xFFFFFFFF


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
        "_resync_point",
        "_seq_offset",
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
        self._seq_offset = 0
        self._ts_offset = 0
        self._resync_point = 0
        self._highest_out_seq = initial_sequence - 1
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
        self, ext_seq: int, ext_ts: int, *, resync: bool, ts_advance: int
    ) -> tuple[int, int, int] | None:
        """Return (out_ext_seq, out_seq16, out_ts32), or None to drop.

        ``resync``: recompute offsets so this packet follows the last outgoing one
        (seq + 1, timestamp + ``ts_advance``). The first packet always resyncs to the
        initial values. Without resync, packets older than the last resync packet are
        dropped; duplicates and reordered packets after it pass (retransmissions).
        """
        if not self._started or resync:
            if self._started:
                out_seq = self._highest_out_seq + 1
                out_ts = self._last_out_ts + max(ts_advance, 1)
            else:
                self._started = True
                out_seq = self._initial_sequence
                out_ts = self._initial_timestamp
            self._seq_offset = ext_seq - out_seq
            self._ts_offset = ext_ts - out_ts
            self._resync_point = ext_seq
            self._highest_out_seq = out_seq
            self._last_out_ts = out_ts
            return out_seq, out_seq & _SEQ_MASK, out_ts & _TS_MASK
        if ext_seq < self._resync_point:
            return None
        out_seq = ext_seq - self._seq_offset
        out_ts = ext_ts - self._ts_offset
        if out_seq > self._highest_out_seq:
            self._highest_out_seq = out_seq
            self._last_out_ts = out_ts
        return out_seq, out_seq & _SEQ_MASK, out_ts & _TS_MASK
