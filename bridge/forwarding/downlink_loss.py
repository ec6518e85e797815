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

A stream of which nothing arrives at all leaves no trace in the reports: the highest
sequence number stops, and "lost" is only counted up to it. That is what a weak link
does to video under overload: its queue (bench.linkemu's tbf, like a real modem's) has
room for a 200-byte audio packet long before it has room for a 1200-byte video one, so
the video starves while the audio comes through at a few percent loss (bench.weaklink
edge: 30 s with not one video packet through, every report saying 0 % loss on it, and
the estimate held far above the link). So with ``sent_highest`` (the highest sequence
number sent at each report) a report that shows no progress for ``STARVED_AFTER_MS``
counts everything sent before then as lost. The count then starts again from there, so
the same packets are not counted again when the stream comes back.
"""

from __future__ import annotations

# Sent this long ago and still nothing new arrived: lost. Reports come far more often
# than once a second (every NACK carries them), and a packet sent just before one is
# still on its way at the next (rural-3g: 150 ms round trip plus queue).
STARVED_AFTER_MS = 1000


class DownlinkLossMeter:
    __slots__ = ("_last",)

    def __init__(self) -> None:
        # (lost, highest, skipped, sent highest, at ms) at the last report that moved
        self._last: tuple[int, int, int, int | None, int] | None = None

    def on_report(
        self,
        packets_lost: int,
        highest_sequence: int,
        skipped: int,
        sent_highest: int | None = None,
        now_ms: int = 0,
    ) -> tuple[int, int] | None:
        """(lost on the downlink, expected) since the previous report; None: nothing to
        compare. ``skipped`` counts the outgoing sequence numbers never sent so far (the
        caller derives it: outgoing span minus packets sent); ``sent_highest`` the highest
        one sent by ``now_ms`` (None: no starvation check). Callers sum the results over
        streams: a packet-weighted loss, so a 50 packet/s audio stream does not outweigh
        the video beside it."""
        last = self._last
        current = (packets_lost, highest_sequence, skipped, sent_highest, now_ms)
        if last is None:
            self._last = current
            return None
        expected = highest_sequence - last[1]
        if expected > 0:
            self._last = current
            # a gap filled late (skipped shrank) was never counted lost: do not add it back
            lost = (packets_lost - last[0]) - max(0, skipped - last[2])
            return min(expected, max(0, lost)), expected
        sent_before = last[3]
        if sent_before is None or sent_before <= last[1]:
            # Nothing was on its way: wait from here, from what is already counted (a
            # starved tail counted lost put that past the report's highest).
            self._last = (last[0], last[1], last[2], sent_highest, now_ms)
            return None
        if now_ms - last[4] < STARVED_AFTER_MS:
            return None  # what was on its way may still arrive
        # Nothing new arrived of what was sent a while ago: lost. Count on from there, as
        # if the report had said so.
        starved = sent_before - last[1]
        self._last = (last[0] + starved, sent_before, last[2], sent_highest, now_ms)
        return starved, starved
