"""Receiver-side NACK generation (RFC 4585 §6.2.1 decides the wire format, this decides
*which* sequence numbers to request and when). Extended sequence numbers throughout.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

MAX_MISSING = 1000  # a bigger gap is treated as a stream restart, not as loss


class NackTracker:
    """Tracks missing packets of one stream.

    ``on_packet`` returns the seqs of a newly detected gap (to NACK at once, counted as
    the first request). ``due`` returns seqs to request again: at most ``max_retries``
    re-requests per seq, each at least max(rtt, 20 ms) after the previous one. Seqs more
    than ``max_age_packets`` behind the highest received are forgotten.

    ``on_repair(now_ms, late_ms)`` hears of each missing packet that arrives after all:
    ``late_ms`` after the packet before its gap (it was due about then).
    """

    __slots__ = ("_highest", "_highest_ms", "_max_age", "_max_retries", "_missing", "_on_repair")

    def __init__(
        self,
        max_age_packets: int = 500,
        max_retries: int = 3,
        on_repair: Callable[[int, int], None] | None = None,
    ) -> None:
        if max_age_packets < 1:
            raise ValueError(f"max_age_packets must be >= 1, got {max_age_packets}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self._max_age = max_age_packets
        self._max_retries = max_retries
        self._on_repair = on_repair
        self._highest: int | None = None
        self._highest_ms = 0  # when the highest arrived
        # ext seq -> [last request ms, re-requests so far, when the packet before the
        # gap arrived]; ascending insertion order
        self._missing: OrderedDict[int, list[int]] = OrderedDict()

    @property
    def missing(self) -> tuple[int, ...]:
        """Currently missing extended seqs, ascending."""
        return tuple(self._missing)

    def on_packet(self, ext_seq: int, now_ms: int) -> list[int]:
        highest = self._highest
        if highest is None:
            self._highest = ext_seq
            self._highest_ms = now_ms
            return []
        if ext_seq <= highest:
            entry = self._missing.pop(ext_seq, None)  # late, reordered or retransmitted
            if entry is not None and self._on_repair is not None:
                self._on_repair(now_ms, now_ms - entry[2])
            return []
        before_gap_ms = self._highest_ms
        self._highest = ext_seq
        self._highest_ms = now_ms
        gap = ext_seq - highest - 1
        if gap > MAX_MISSING:
            self._missing.clear()  # restart (or a huge outage): nothing useful to NACK
            return []
        floor = ext_seq - self._max_age
        missing = self._missing
        while missing:
            oldest = next(iter(missing))
            if oldest >= floor:
                break
            del missing[oldest]
        new = list(range(max(highest + 1, floor), ext_seq))
        for seq in new:
            missing[seq] = [now_ms, 0, before_gap_ms]
        while len(missing) > MAX_MISSING:
            missing.popitem(last=False)
        return new

    def due(self, now_ms: int, rtt_ms: int) -> list[int]:
        interval = max(rtt_ms, 20)
        result: list[int] = []
        exhausted: list[int] = []
        for seq, entry in self._missing.items():
            if entry[1] >= self._max_retries:
                exhausted.append(seq)
            elif now_ms - entry[0] >= interval:
                entry[0] = now_ms
                entry[1] += 1
                result.append(seq)
        for seq in exhausted:
            del self._missing[seq]
        return result
