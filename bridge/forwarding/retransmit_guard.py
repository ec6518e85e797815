"""Which NACKed packets to resend: each at most once per round trip, and retransmissions
within a share of what the consumer sends.

A receiver repeats its NACK for a packet still missing (libwebrtc: about every RTT as it
estimates it). On a congested link the real round trip grows with the queue, and every
answer is one more copy on a link that is already too full: in bench.weaklink a
subscriber behind 400 kbit/s was sent 600-800 kbit/s for seconds after an upgrade failed,
most of it retransmissions. libwebrtc's sender does both (RTPSender::ReSendPacket: not
again within one RTT; RetransmissionRateLimiter: a rate cap).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetransmitSettings:
    min_interval_ms: int = 100  # when the RTT is not known yet, or tiny (loopback)
    max_tracked: int = 1024
    # Retransmitted bytes per window at most this share of the media bytes of the window
    # before (plus a floor, so a lost keyframe can still be repaired at a stream's start).
    max_share: float = 0.5
    floor_bytes: int = 12_000
    window_ms: int = 1000


class RetransmitGuard:
    __slots__ = ("_budget", "_last", "_settings", "_spent", "_window")

    def __init__(self, settings: RetransmitSettings) -> None:
        self._settings = settings
        self._last: dict[int, int] = {}  # extended sequence number -> resent at ms
        self._window: tuple[int, int] | None = None  # (started ms, media bytes then)
        self._budget = settings.floor_bytes
        self._spent = 0

    def allow(
        self, ext_seq: int, size: int, now_ms: int, rtt_ms: int | None, media_bytes: int
    ) -> str | None:
        """None to resend; else why not ("nack_repeat", "nack_budget").
        ``media_bytes``: total bytes of media (not retransmissions) sent so far."""
        s = self._settings
        interval = max(s.min_interval_ms, rtt_ms or 0)
        last = self._last.get(ext_seq)
        if last is not None and now_ms - last < interval:
            return "nack_repeat"
        window = self._window
        if window is None or now_ms - window[0] >= s.window_ms:
            sent = 0 if window is None else media_bytes - window[1]
            self._budget = max(s.floor_bytes, int(sent * s.max_share))
            self._spent = 0
            self._window = (now_ms, media_bytes)
        if self._spent + size > self._budget:
            return "nack_budget"
        self._spent += size
        if len(self._last) >= s.max_tracked:
            self._last = {k: t for k, t in self._last.items() if now_ms - t < interval}
        self._last[ext_seq] = now_ms
        return None
