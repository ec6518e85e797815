"""Uplink guard: whether a publisher should stop sending video because its uplink cannot
carry audio plus the lowest video layer.

With transport-wide CC (draft-holmer-rmcat-transport-wide-cc-extensions-01) the publisher's
browser runs GCC on our feedback and lowers its own rate and simulcast layers; that is
enough down to about 150 kbit/s. Below that it cannot help: libwebrtc keeps the lowest
layer at its minimum bitrate (its estimate stops near 80 kbit/s, measured over the edge
profile), so audio, video and retransmissions overflow a 64 kbit/s link and the viewers
lose half the audio. Only stopping video keeps audio clear (issue 3, "audio first").

Signals, over the last second of transport feedback (what we reported to the browser),
judged every 500 ms: the fraction of transport-wide sequence numbers lost and the RTP bytes
received. The uplink overflows when the loss is high while what arrives is less than audio
plus the lowest layer need: then waiting for GCC will not help. A link that carries more
(rural-3g at 200 kbit/s) also loses a lot for a second or two while GCC comes down from
its start rate; its received rate tells it apart. Resuming is the only real probe (paused,
only audio flows): video comes back after a hold that doubles while resumes keep failing
(like the downlink estimator's back-off), or earlier when audio alone arrives clean.

Pure: counts and times come in, a decision comes out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UplinkSettings:
    # Loss and rate are judged over the last ``span_windows`` windows, every window.
    window_ms: int = 500
    span_windows: int = 2
    min_packets: int = 20  # a span with fewer says nothing
    congested_loss: float = 0.12  # random loss of the profiles is 0-8 %
    # Received below this (RTP bytes, audio included) while congested: Opus (~32 kbit/s)
    # plus the lowest layer at libwebrtc's minimum do not fit with their overhead.
    video_floor_bps: int = 100_000
    first_hold_ms: int = 10_000
    max_hold_ms: int = 40_000
    # Paused again this soon after a resume: the resume failed, the next hold doubles.
    failed_resume_ms: int = 6000
    # Paused, only audio flows: if it loses (almost) nothing for a few seconds the link has
    # recovered (the weak profiles lose 3-8 % at random), so video comes back before the
    # hold ends; not again after such an early resume failed, until one succeeds (a clean
    # but narrow link would otherwise flap).
    clean_loss: float = 0.01
    clean_windows: int = 8
    min_clean_packets: int = 150
    min_pause_ms: int = 3000

    def __post_init__(self) -> None:
        if self.window_ms <= 0 or self.span_windows < 1:
            raise ValueError("window_ms must be > 0 and span_windows >= 1")
        if not 0 < self.congested_loss <= 1:
            raise ValueError(f"congested_loss must be in (0, 1], got {self.congested_loss}")
        if not 0 < self.first_hold_ms <= self.max_hold_ms:
            raise ValueError("need 0 < first_hold_ms <= max_hold_ms")


class UplinkGuard:
    """Feed it transport feedback counts as they are reported; read ``video_paused``."""

    __slots__ = (
        "_after_silence",
        "_bytes",
        "_early_ok",
        "_hold_ms",
        "_hold_until",
        "_lost",
        "_paused_at",
        "_received",
        "_resumed_at",
        "_resumed_early",
        "_settings",
        "_span",
        "_window_start",
        "video_paused",
    )

    def __init__(self, settings: UplinkSettings | None = None) -> None:
        self._settings = settings or UplinkSettings()
        self.video_paused = False
        self._window_start: int | None = None
        self._received = self._lost = self._bytes = 0
        self._span: list[tuple[int, int, int, int]] = []  # (received, lost, bytes, ms)
        self._after_silence = False  # the last window had no arrivals (outage, no media)
        self._hold_ms = self._settings.first_hold_ms
        self._hold_until = 0
        self._resumed_at: int | None = None
        self._paused_at = 0
        self._resumed_early = False
        self._early_ok = True

    def on_feedback(self, now_ms: int, received: int, lost: int, received_bytes: int) -> bool:
        """Counts reported since the last call; True if ``video_paused`` changed."""
        s = self._settings
        if self.video_paused and now_ms >= self._hold_until:
            self._resume(now_ms, early=False)
            return True
        if self._window_start is None:
            self._reset_window(now_ms)
        self._received += received
        self._lost += lost
        self._bytes += received_bytes
        assert self._window_start is not None
        duration = now_ms - self._window_start
        if duration < s.window_ms:
            return False
        window = (self._received, self._lost, self._bytes, duration)
        self._reset_window(now_ms)
        if window[0] == 0 or self._after_silence:
            # the window after silence reports what was lost during it: an outage is
            # not congestion
            self._after_silence = window[0] == 0
            self._span.clear()
            return False
        self._span = [*self._span, window][-max(s.span_windows, s.clean_windows) :]
        if self.video_paused:
            if self._early_ok and now_ms - self._paused_at >= s.min_pause_ms and self._clean():
                self._resume(now_ms, early=True)
                return True
            return False
        if not self._overflowing():
            return False
        failed = self._resumed_at is not None and now_ms - self._resumed_at <= s.failed_resume_ms
        self._hold_ms = min(self._hold_ms * 2, s.max_hold_ms) if failed else s.first_hold_ms
        if failed and self._resumed_early:
            self._early_ok = False
        elif not failed:
            self._early_ok = True
        self._hold_until = now_ms + self._hold_ms
        self._paused_at = now_ms
        self.video_paused = True
        self._span.clear()
        return True

    def _resume(self, now_ms: int, early: bool) -> None:
        self.video_paused = False
        self._resumed_at = now_ms
        self._resumed_early = early
        self._span.clear()
        self._reset_window(now_ms)

    def _clean(self) -> bool:
        s = self._settings
        totals = self._totals(s.clean_windows)
        if totals is None:
            return False
        received, lost, _, _ = totals
        return received + lost >= s.min_clean_packets and lost <= s.clean_loss * (received + lost)

    def _overflowing(self) -> bool:
        s = self._settings
        totals = self._totals(s.span_windows)
        if totals is None:
            return False
        received, lost, size, duration = totals
        if received + lost < s.min_packets or duration <= 0:
            return False
        rate_bps = size * 8000 // duration
        return lost / (received + lost) >= s.congested_loss and rate_bps < s.video_floor_bps

    def _totals(self, windows: int) -> tuple[int, int, int, int] | None:
        """(received, lost, bytes, ms) over the last ``windows`` windows; None if fewer."""
        span = self._span[-windows:]
        if len(span) < windows:
            return None
        received, lost, size, duration = (sum(column) for column in zip(*span, strict=True))
        return received, lost, size, duration

    def _reset_window(self, now_ms: int) -> None:
        self._window_start = now_ms
        self._received = self._lost = self._bytes = 0
