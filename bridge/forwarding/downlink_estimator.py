"""Per-subscriber downlink bandwidth estimate: GCC loss controller capped by REMB.

Loss-based controller (draft-ietf-rmcat-gcc-02 §6), on the fraction lost ``fl`` that the
subscriber's receiver reports (RFC 3550 §6.4.1) give for the downlink alone, about once a
second (media/downlink.py):

- ``fl < 2 %``: increase, ~8 % per second of elapsed time (libwebrtc's rate, instead of
  the draft's 5 % per report, so the growth does not depend on the RR interval);
- ``2 % <= fl <= 10 %``: hold;
- ``fl > 10 %``: ``rate *= 1 - 0.5 * fl``.

The delay-based part comes from the subscriber itself: its REMB (receive-side estimate,
draft-alvestrand-rmcat-remb) caps the result; a REMB older than ``remb_timeout_ms`` is
ignored. The estimate stays within [min_bps, max_bps].

Start low (``initial_bps``), climb fast: while the REMB is application limited and the
link loses under ``low_loss``, the estimate follows the REMB up (bounded like growth).

Application-limited REMB (only when the caller reports what it sends, ``on_sent``):
Chrome never lets its REMB exceed ~1.5 x the received rate + 10 kbit/s (AimdRateControl).
After a collapse to audio only, a pure "min(loss, REMB)" would therefore never allow
video back. So a REMB at or above ``remb_app_limited_ratio`` x the actual send rate is
read as "link not saturated" and does not cap; the loss-based rate then grows from where
congestion left it (a REMB below the send rate pulls the loss estimate down to it), and its
growth is limited to ``max_send_ratio`` x send rate + ``send_headroom_bps`` so an idle
link does not accumulate an unfounded estimate. Upgrades therefore probe with real media.

Why not transport-cc: with transport-wide feedback (draft-holmer-rmcat-transport-wide-
cc-extensions) the bridge would have to stamp every outgoing packet with a transport
sequence number, record send times, and run the send-side delay-based estimator (arrival
time filter, overuse detector, AIMD) plus probing with padding -- the bulk of GCC, in the
Python hot path. REMB hands us the receiver's delay-based result for free. That send-side
estimator (and padding probes, which would remove the need for the app-limited rule) is
the next step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EstimatorSettings:
    # GCC's start rate: audio plus a low layer. A commune on a 96 kbit/s link must not be
    # flooded at join; a good link climbs by following the subscriber's REMB (see on_remb).
    initial_bps: int = 300_000
    min_bps: int = 30_000
    max_bps: int = 20_000_000
    increase_per_s: float = 0.08
    low_loss: float = 0.02
    high_loss: float = 0.10
    max_increase_interval_ms: int = 2000  # longer RR gaps count as this long
    remb_timeout_ms: int = 5000
    remb_app_limited_ratio: float = 1.4
    # Chromium's AIMD answers overuse with 0.85 x what it receives: a REMB below that share
    # of our send rate is congestion; one between it and the send rate is just lagging.
    remb_congestion_ratio: float = 0.85
    max_send_ratio: float = 2.0
    send_headroom_bps: int = 300_000
    send_window_ms: int = 1000  # minimum span of the send-rate measurement

    def __post_init__(self) -> None:
        if not 0 < self.min_bps <= self.initial_bps <= self.max_bps:
            raise ValueError("need 0 < min_bps <= initial_bps <= max_bps")
        if not 0 <= self.low_loss <= self.high_loss <= 1:
            raise ValueError("need 0 <= low_loss <= high_loss <= 1")


@dataclass(frozen=True, slots=True)
class EstimatorState:
    """What the estimate is made of, for logs and metrics."""

    estimate_bps: int
    loss_bps: int
    remb_bps: int | None  # last REMB received, even if it does not cap
    remb_caps: bool
    send_bps: int | None


class DownlinkEstimator:
    __slots__ = (
        "_last_loss",
        "_last_rr_ms",
        "_loss_bps",
        "_now_ms",
        "_remb",
        "_remb_trusted",
        "_sent_anchor",
        "_sent_bps",
        "_settings",
    )

    def __init__(self, settings: EstimatorSettings) -> None:
        self._settings = settings
        self._loss_bps = float(settings.initial_bps)
        self._last_rr_ms: int | None = None
        self._last_loss = 0.0
        self._remb: tuple[int, int] | None = None  # (bps, received at ms)
        # A browser's first REMBs trail the stream that is just starting (its estimator
        # begins from what it has received so far): trusted once one reaches our send rate.
        self._remb_trusted = False
        self._sent_anchor: tuple[int, int] | None = None  # (bytes total, ms)
        self._sent_bps: int | None = None
        self._now_ms: int | None = None

    # --- inputs ----------------------------------------------------------------------

    def on_remb(self, bitrate_bps: int, now_ms: int) -> None:
        self._tick(now_ms)
        self._remb = (max(0, bitrate_bps), now_ms)
        if self._sent_bps is not None and bitrate_bps >= self._sent_bps:
            self._remb_trusted = True
        self._apply_remb()
        self._follow_remb()

    def on_receiver_report(self, fraction_lost: float, now_ms: int) -> None:
        """Fraction (0..1) of packets lost on the downlink since the last call, over all
        of this subscriber's streams (packet-weighted)."""
        self._tick(now_ms)
        s = self._settings
        last = self._last_rr_ms
        self._last_rr_ms = now_ms if last is None else max(last, now_ms)
        self._last_loss = fraction_lost
        if fraction_lost > s.high_loss:
            self._loss_bps *= 1 - 0.5 * min(fraction_lost, 1.0)
        elif fraction_lost < s.low_loss and last is not None and now_ms > last:
            elapsed_s = min(now_ms - last, s.max_increase_interval_ms) / 1000
            grown = self._loss_bps * (1 + s.increase_per_s) ** elapsed_s
            if self._sent_bps is not None:
                limit = self._sent_bps * s.max_send_ratio + s.send_headroom_bps
                grown = min(grown, max(self._loss_bps, limit))
            self._loss_bps = grown
        self._loss_bps = min(max(self._loss_bps, s.min_bps), s.max_bps)
        self._apply_remb()

    def on_sent(self, bytes_sent_total: int, now_ms: int) -> None:
        """Total bytes sent to this subscriber so far (monotonic counter)."""
        self._tick(now_ms)
        anchor = self._sent_anchor
        if anchor is None or bytes_sent_total < anchor[0]:
            self._sent_anchor = (bytes_sent_total, now_ms)
            return
        span = now_ms - anchor[1]
        if span >= self._settings.send_window_ms:
            self._sent_bps = (bytes_sent_total - anchor[0]) * 8000 // span
            self._sent_anchor = (bytes_sent_total, now_ms)

    # --- outputs ---------------------------------------------------------------------

    @property
    def send_bps(self) -> int | None:
        """Measured send rate (None until ``on_sent`` covered a window)."""
        return self._sent_bps

    @property
    def remb_bps(self) -> int | None:
        """The REMB that currently caps the estimate, or None (absent, old, app-limited)."""
        remb = self._remb
        now = self._now_ms
        if remb is None or now is None or now - remb[1] > self._settings.remb_timeout_ms:
            return None
        if not self._remb_trusted:
            return None
        sent = self._sent_bps
        if sent is not None and remb[0] >= sent * self._settings.remb_app_limited_ratio:
            return None
        return remb[0]

    def state(self) -> EstimatorState:
        remb = self.remb_bps
        return EstimatorState(
            estimate_bps=self.estimate_bps,
            loss_bps=int(self._loss_bps),
            remb_bps=None if self._remb is None else self._remb[0],
            remb_caps=remb is not None and remb < self._loss_bps,
            send_bps=self._sent_bps,
        )

    @property
    def estimate_bps(self) -> int:
        """REMB staleness is judged against the latest input's ``now_ms``."""
        s = self._settings
        rate = self._loss_bps
        remb = self.remb_bps
        if remb is not None:
            rate = min(rate, remb)
        return int(min(max(rate, s.min_bps), s.max_bps))

    def _tick(self, now_ms: int) -> None:
        if self._now_ms is None or now_ms > self._now_ms:
            self._now_ms = now_ms

    def _follow_remb(self) -> None:
        # The subscriber's REMB says the link carries more than we send (Chromium lets it
        # reach ~1.5 x what it receives): without loss, climb to it. That ramps ~1.5x a
        # second, probing with real media, instead of the loss controller's 8 %.
        s = self._settings
        sent, remb = self._sent_bps, self._remb
        if sent is None or remb is None or self._last_loss >= s.low_loss:
            return
        if remb[0] >= sent * s.remb_app_limited_ratio:
            target = min(remb[0], sent * s.max_send_ratio + s.send_headroom_bps, s.max_bps)
            self._loss_bps = max(self._loss_bps, float(target))

    def _apply_remb(self) -> None:
        # Congestion (the receiver gets less than we send): restart growth from REMB.
        sent = self._sent_bps
        remb = self.remb_bps
        if (
            sent is not None
            and remb is not None
            and remb < sent * self._settings.remb_congestion_ratio
            and self._loss_bps > remb
        ):
            self._loss_bps = float(max(remb, self._settings.min_bps))
