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


# A stream that has not reported for this long no longer counts toward what the link
# delivers (its last report said what it did then). Chromium reports audio about every
# 5 s, and video every second and with every NACK.
DELIVERY_STALE_MS = 6000


class DeliveryWindow:
    """The rate a subscriber's link delivers, from report blocks: each stream's bytes
    over the time its own reports cover, summed over its streams. Browsers report each
    stream on its own schedule, so one span for all spread the video's bytes over the
    audio's five seconds (a first try cut the collapse profile's 250k step to 101k), and
    a window's reports alone left out the audio, whose report fell in another window (to
    128k, and the video paused)."""

    __slots__ = ("_latest", "_window")

    def __init__(self) -> None:
        # SSRC -> [bytes, covered from (ms), last report (ms)], this window's
        self._window: dict[int, list[int]] = {}
        # SSRC -> (bps, at ms): each stream's rate over its last window with reports
        self._latest: dict[int, tuple[int, int]] = {}

    def add(self, ssrc: int, loss: ReportedLoss, now_ms: int) -> None:
        covered = loss.covered_from_ms
        if covered is None or now_ms <= covered:
            return  # a stream's first report: its span is not known
        stream = self._window.get(ssrc)
        if stream is None:
            self._window[ssrc] = [loss.delivered_bytes, covered, now_ms]
        else:
            stream[0] += loss.delivered_bytes
            stream[2] = now_ms

    def take_bps(self, now_ms: int) -> int | None:
        """The rate delivered (None: no stream's is known), and a new window."""
        for ssrc, (sent, first, last) in self._window.items():
            self._latest[ssrc] = (sent * 8000 // (last - first), last)
        self._window = {}
        self._latest = {
            ssrc: latest
            for ssrc, latest in self._latest.items()
            if now_ms - latest[1] <= DELIVERY_STALE_MS
        }
        if not self._latest:
            return None
        return sum(bps for bps, _ in self._latest.values())
