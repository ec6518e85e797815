"""Is a probe's padding queueing at the subscriber's bottleneck? Judged from the browser's
transport-cc feedback on the padding alone.

A probe (probe_gate.py) is otherwise judged on receiver reports, once a second, and on
the round trip they carry: a probe 10-15 % over a link's rate shows there only once the
bottleneck's queue is full and drops. On rural-3g (400 kbit/s, a queue of ~130 ms) the
padding for 270p at 30 fps overloaded the link for 0.6-0.9 s before it failed, and the
video froze (bench.weaklink). The probe's padding carries transport-wide sequence numbers
(draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), so the browser reports when each
one arrived, about every 100 ms (§3.1): a queue that builds shows as later and later
arrivals relative to when the padding left, long before it overflows.

Only padding is numbered: Chromium routes each packet by its extensions, and media
without the number still feeds the receive-side estimate its REMB carries.

The judgement compares the median one-way delay (arrival - send; the two clocks' offset
cancels) of the probe's first ``window`` reported packets with that of its latest
``window``: medians, because the link's jitter moves single packets by tens of ms, and
the threshold is at least the spread the first window showed (rural-3g: +-25 ms, edge
+-40 ms). Loss of the padding (a queue already full) fails it too.

Pure: send times in ms of the bridge clock, arrival times in µs of the browser's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

_MAX_TRACKED = 4096  # padding packets of one probe awaiting a report (~20 s at 200 pkt/s)


@dataclass(frozen=True, slots=True)
class PaddingDelaySettings:
    window: int = 8  # reported packets in each of the two windows compared
    # The latest window's median this much later than the first's (or the first window's
    # spread, if that is larger): the bottleneck queues.
    min_growth_ms: float = 30.0
    # More of the padding lost than this, over at least loss_min_packets reported.
    max_loss: float = 0.1
    loss_min_packets: int = 20

    def __post_init__(self) -> None:
        if self.window < 2:
            raise ValueError(f"window must be at least 2 packets, got {self.window}")


class PaddingDelay:
    """Numbers the padding of one subscriber's probes and judges their feedback."""

    __slots__ = ("_first", "_latest", "_lost", "_next", "_reported", "_sent", "_settings")

    def __init__(self, settings: PaddingDelaySettings | None = None) -> None:
        self._settings = settings or PaddingDelaySettings()
        self._next = 0  # the next transport-wide sequence number (16 bits)
        self._sent: dict[int, int] = {}  # sequence number -> send ms, of the running probe
        self._first: list[float] = []  # one-way delays (ms), the probe's first window
        self._latest: deque[float] = deque(maxlen=self._settings.window)
        self._reported = 0
        self._lost = 0

    @property
    def next_sequence(self) -> int:
        """The number the next padding packet carries."""
        return self._next

    def start(self) -> None:
        """A new probe: what earlier probes' padding showed no longer counts."""
        self._sent.clear()
        self._first.clear()
        self._latest.clear()
        self._reported = self._lost = 0

    def on_sent(self, now_ms: int) -> None:
        """The packet numbered ``next_sequence`` left (numbers must have no gaps the
        receiver would read as loss: a packet that was not sent keeps its number)."""
        if len(self._sent) < _MAX_TRACKED:
            self._sent[self._next] = now_ms
        self._next = (self._next + 1) & 0xFFFF

    def on_feedback(self, arrivals: Sequence[tuple[int, int | None]]) -> int:
        """One transport-cc feedback packet's (sequence number, arrival µs or None: lost).
        Returns how many of the running probe's packets it reported on."""
        window = self._settings.window
        sent = self._sent
        reported = 0
        for sequence, arrival_us in arrivals:
            send_ms = sent.pop(sequence, None)
            if send_ms is None:
                continue  # not this probe's, or reported already
            reported += 1
            if arrival_us is None:
                self._lost += 1
                continue
            delay = arrival_us / 1000 - send_ms
            if len(self._first) < window:
                self._first.append(delay)
            else:
                self._latest.append(delay)
        self._reported += reported
        return reported

    @property
    def queued(self) -> bool:
        """The running probe's padding shows a queue building, or was lost."""
        s = self._settings
        if self._reported >= s.loss_min_packets and self._lost > self._reported * s.max_loss:
            return True
        if len(self._latest) < s.window:
            return False
        first = self._first
        threshold = max(s.min_growth_ms, max(first) - min(first))
        return median(self._latest) - median(first) > threshold

    def describe(self) -> str:
        """What the running probe's judgement rests on, for logs (the clocks' offset makes
        the delays themselves meaningless: their growth is not)."""
        first, latest = self._first, self._latest
        if not first or not latest:
            growth = "-"
        else:
            grew, spread = median(latest) - median(first), max(first) - min(first)
            growth = f"{grew:+.0f} ms, first spread {spread:.0f} ms"
        return f"lost {self._lost}/{self._reported}, delay growth {growth}"
