"""Per-stream receive statistics for RTCP report blocks (RFC 3550 §6.4.1, A.3, A.8)."""

from __future__ import annotations

from bridge.rtp.rtcp_types import ReportBlock

_LOST_MIN = -0x800000  # cumulative lost is a signed 24-bit field (RFC 3550 §6.4.1)
_LOST_MAX = 0x7FFFFF
_HALF_TS = 1 << 31
_TS_RANGE = 1 << 32


class ReceiveStats:
    """Counts, loss and interarrival jitter of one incoming RTP stream.

    Sequence numbers are extended (see ``bridge.rtp.seqnum``); the reported extended
    highest sequence number counts cycles from the first packet's cycle, as in A.1.
    Duplicates count as received (A.3), so ``packets_lost`` may be negative.
    """

    __slots__ = (
        "_base",
        "_clock_rate",
        "_cycle_base",
        "_expected_prior",
        "_highest",
        "_jitter_q4",
        "_last_transit",
        "_received",
        "_received_prior",
    )

    def __init__(self, clock_rate: int) -> None:
        if clock_rate <= 0:
            raise ValueError(f"clock_rate must be > 0, got {clock_rate}")
        self._clock_rate = clock_rate
        self._base: int | None = None
        self._cycle_base = 0
        self._highest = 0
        self._received = 0
        self._expected_prior = 0
        self._received_prior = 0
        self._jitter_q4 = 0  # jitter * 16, A.8 integer form
        self._last_transit: int | None = None

    def update(self, ext_seq: int, rtp_timestamp: int, arrival_ms: int) -> None:
        """Account one received packet (original or retransmitted)."""
        if self._base is None:
            self._base = ext_seq
            self._highest = ext_seq
            self._cycle_base = ext_seq & ~0xFFFF
        elif ext_seq > self._highest:
            self._highest = ext_seq
        elif ext_seq < self._base:
            self._base = ext_seq  # reordered before the first packet: widen the base
        self._received += 1
        # A.8: D = (Rj - Ri) - (Sj - Si); J += (|D| - J) / 16, both in timestamp units.
        transit = arrival_ms * self._clock_rate // 1000 - rtp_timestamp
        last = self._last_transit
        self._last_transit = transit
        if last is not None:
            d = (transit - last) % _TS_RANGE  # tolerate 32-bit timestamp wrap
            if d >= _HALF_TS:
                d = _TS_RANGE - d
            self._jitter_q4 += d - ((self._jitter_q4 + 8) >> 4)

    @property
    def packets_received(self) -> int:
        return self._received

    @property
    def packets_expected(self) -> int:
        """A.3: extended highest - base + 1 (0 before the first packet)."""
        if self._base is None:
            return 0
        return self._highest - self._base + 1

    @property
    def packets_lost(self) -> int:
        """A.3 cumulative lost, clamped to the signed 24-bit report field."""
        lost = self.packets_expected - self._received
        return min(max(lost, _LOST_MIN), _LOST_MAX)

    @property
    def jitter(self) -> int:
        """Interarrival jitter in timestamp units (A.8)."""
        return self._jitter_q4 >> 4

    def report_block(self, ssrc: int, lsr: int, dlsr: int) -> ReportBlock:
        """Build a report block; fraction lost covers the interval since the last call (A.3)."""
        expected = self.packets_expected
        expected_interval = expected - self._expected_prior
        received_interval = self._received - self._received_prior
        self._expected_prior = expected
        self._received_prior = self._received
        lost_interval = expected_interval - received_interval
        if expected_interval <= 0 or lost_interval <= 0:
            fraction = 0
        else:
            fraction = min((lost_interval << 8) // expected_interval, 255)
        highest = (self._highest - self._cycle_base) & 0xFFFFFFFF if self._base is not None else 0
        return ReportBlock(
            ssrc=ssrc,
            fraction_lost=fraction,
            packets_lost=self.packets_lost,
            highest_sequence=highest,
            jitter=self.jitter,
            lsr=lsr,
            dlsr=dlsr,
        )
