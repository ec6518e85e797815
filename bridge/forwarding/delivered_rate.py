"""What one stream's packets delivered over a subscriber's link, from its receiver reports.

A report block (RFC 3550 §6.4.1) says how far the stream's sequence numbers got (the
extended highest) and how many of them never arrived (the cumulative number lost): the
first's rise since the last block less the second's is how many packets arrived since.
Times the mean size of what was sent since the last block, that is the bytes the link
delivered, and over a second or more its rate: what the link carries, where sending
more only fills its queue.

The bridge's own send rate says something else once the link falls: measured over the
second before, it still held the old rate. On the collapse profile's 250k step, 68 %
loss of a 1.8 Mbit/s send rate read as 585k getting through, above the REMB's own 421k,
and the estimate stayed over 400k for 3 s while 270p and its retransmissions stalled
(bench.weaklink). What arrived then was ~250k.
"""

from __future__ import annotations

# Rates are measured over at least this long: a NACK's report every ~50 ms covers a
# packet or two.
DELIVERED_WINDOW_MS = 1000
# A rate measured longer ago than this is 0: Chromium's audio reports come every ~5 s,
# and a stream that stopped (muted, paused) gets no more reports 8 s after its last packet.
DELIVERED_FRESH_MS = 10_000


class DeliveredRate:
    __slots__ = ("_anchor_ms", "_bps", "_bytes", "_mean", "_reported", "_sent")

    def __init__(self) -> None:
        self._reported: tuple[int, int] | None = None  # (highest, lost) in the last block
        self._sent: tuple[int, int] | None = None  # (bytes, packets) sent at the last report
        self._mean = 0.0  # bytes per packet sent between the last two reports that moved
        self._anchor_ms: int | None = None  # the window's start
        self._bytes = 0.0  # delivered since the window's start
        self._bps: tuple[int, int] | None = None  # (bps, at ms) over the last full window

    def on_report(
        self,
        highest_sequence: int,
        packets_lost: int,
        bytes_sent: int,
        packets_sent: int,
        now_ms: int,
    ) -> None:
        """A report block's extended highest sequence number and cumulative number of
        packets lost; ``bytes_sent`` and ``packets_sent`` count what the stream sent so
        far (monotonic)."""
        reported = self._reported
        received = 0
        if reported is None or highest_sequence >= reported[0]:
            self._reported = (highest_sequence, packets_lost)
            if reported is not None:
                # duplicates lower the cumulative loss (RFC 3550 §6.4.1): never below 0
                moved = highest_sequence - reported[0]
                received = max(0, min(moved, moved - (packets_lost - reported[1])))
        sent = self._sent
        self._sent = (bytes_sent, packets_sent)
        if sent is not None and packets_sent > sent[1]:
            self._mean = (bytes_sent - sent[0]) / (packets_sent - sent[1])
        anchor = self._anchor_ms
        if anchor is None:
            self._anchor_ms = now_ms
            return
        self._bytes += received * self._mean
        span = now_ms - anchor
        if span >= DELIVERED_WINDOW_MS:
            self._bps = (int(self._bytes * 8000 / span), now_ms)
            self._bytes = 0.0
            self._anchor_ms = now_ms

    def bps(self, now_ms: int) -> int | None:
        """Over the last window of at least ``DELIVERED_WINDOW_MS``; None before one, 0 if
        it ended more than ``DELIVERED_FRESH_MS`` ago."""
        rate = self._bps
        if rate is None:
            return None
        return 0 if now_ms - rate[1] > DELIVERED_FRESH_MS else rate[0]
