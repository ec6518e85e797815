"""Loss on the bridge -> subscriber leg alone, from the subscriber's receiver reports.

A report block (RFC 3550 §6.4.1) counts every sequence number the subscriber never got,
including the ones the bridge never sent: packets lost between the publisher and the
bridge leave gaps that the munger keeps (so the subscriber can NACK them). Counting those
as downlink loss would cut a subscriber's estimate for its publisher's bad uplink.
Subtracting the gaps we forwarded leaves what the downlink lost.
"""

from __future__ import annotations


class DownlinkLossMeter:
    __slots__ = ("_highest", "_last", "_skipped")

    def __init__(self) -> None:
        self._highest: int | None = None  # highest outgoing extended seq sent
        self._skipped = 0  # outgoing seqs jumped over (never sent)
        self._last: tuple[int, int, int] | None = None  # (lost, highest, skipped) at last RR

    def on_sent(self, out_ext_seq: int) -> None:
        highest = self._highest
        if highest is None or out_ext_seq > highest:
            if highest is not None:
                self._skipped += out_ext_seq - highest - 1
            self._highest = out_ext_seq

    def on_report(self, packets_lost: int, highest_sequence: int) -> tuple[int, int] | None:
        """(lost on the downlink, expected) since the previous report; None: nothing to
        compare. Callers sum these over streams: a packet-weighted loss, so a 50 packet/s
        audio stream does not outweigh the video beside it."""
        last = self._last
        self._last = (packets_lost, highest_sequence, self._skipped)
        if last is None:
            return None
        expected = highest_sequence - last[1]
        if expected <= 0:
            return None
        lost = (packets_lost - last[0]) - (self._skipped - last[2])
        return min(expected, max(0, lost)), expected
