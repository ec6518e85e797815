"""Loss on the bridge -> subscriber leg alone, from the subscriber's receiver reports.

A report block (RFC 3550 §6.4.1) counts every sequence number the subscriber never got,
including the ones the bridge never sent: packets lost between the publisher and the
bridge leave gaps that the munger keeps (so the subscriber can NACK them). Counting those
as downlink loss would cut a subscriber's estimate for its publisher's bad uplink.
Subtracting the gaps we forwarded leaves what the downlink lost. The gaps are counted up
to the report's own highest sequence number (``SequenceMap.missing_between``). Counted up
to what the bridge had sent when the report arrived, gaps the subscriber had not reached
yet were subtracted one report early and came back as downlink loss in the next (a fiber
viewer of a publisher on a lossy uplink read 60-95 % video loss, and its video paused).
"""

from __future__ import annotations


class DownlinkLossMeter:
    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[int, int, int] | None = None  # (lost, highest, skipped) at last RR

    def on_report(
        self, packets_lost: int, highest_sequence: int, skipped: int
    ) -> tuple[int, int] | None:
        """(lost on the downlink, expected) since the previous report; None: nothing to
        compare. ``skipped`` counts the outgoing sequence numbers never sent so far (the
        caller derives it: outgoing span minus packets sent). Callers sum the results over
        streams: a packet-weighted loss, so a 50 packet/s audio stream does not outweigh
        the video beside it."""
        last = self._last
        self._last = (packets_lost, highest_sequence, skipped)
        if last is None:
            return None
        expected = highest_sequence - last[1]
        if expected <= 0:
            return None
        # a gap filled late (skipped shrank) was never counted lost: do not add it back
        lost = (packets_lost - last[0]) - max(0, skipped - last[2])
        return min(expected, max(0, lost)), expected
