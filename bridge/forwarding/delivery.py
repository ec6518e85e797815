"""Bytes a subscriber's link delivered, from its receiver reports (RFC 3550 §6.4.1).

A report block says how many of one stream's packets arrived since the previous one
(expected minus lost, ``downlink_loss.py``); at the mean size of what the bridge sent on
that stream since the previous report, that is the bytes the link carried. Summed over a
subscriber's streams and divided by the time the reports cover, it is the rate the link
delivered: on a link that drops what it cannot carry, its capacity. The loss fraction
alone gives that rate only against the rate sent over the same packets; against the send
rate of the last second, on the collapse profile's step from 2 Mbit/s to 250k, it said
428k got through, and the layers chosen from it overloaded the link twice more before the
estimate came down (bench.weaklink).
"""

from __future__ import annotations

from typing import NamedTuple


class ReportedLoss(NamedTuple):
    """What one report block says of its stream since the previous one."""

    lost: int  # on the downlink (downlink_loss.py)
    expected: int
    delivered_bytes: int = 0  # DeliveredBytes
    covered_from_ms: int | None = None  # when the previous report came (None: unknown)


class DeliveredBytes:
    """One stream's delivered bytes per report block that counted packets."""

    __slots__ = ("_mark", "_mean", "_previous_ms")

    def __init__(self) -> None:
        self._mark = (0, 0)  # (bytes, packets) sent at the previous report
        self._mean = 0.0
        self._previous_ms: int | None = None

    def on_report(
        self, delivered_packets: int, bytes_sent: int, packets_sent: int, now_ms: int
    ) -> tuple[int, int | None]:
        """The bytes of the ``delivered_packets`` a report counts since the previous one
        (given the stream's send counters now), and when that previous one came (None:
        this is the first)."""
        bytes_before, packets_before = self._mark
        if packets_sent > packets_before:
            self._mean = (bytes_sent - bytes_before) / (packets_sent - packets_before)
        self._mark = (bytes_sent, packets_sent)
        previous, self._previous_ms = self._previous_ms, now_ms
        return int(max(0, delivered_packets) * self._mean), previous
