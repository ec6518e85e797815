"""The downlink estimator and the allocator in a loop over a modelled link.

Each simulated half second the allocator spends the estimate on one camera (Chromium's
measured simulcast rates, three temporal layers) and one audio stream; the link model
answers like Chromium's receive-side AIMD: counting video only, its REMB grows 8 % a
second up to 1.5 x what arrived + 10 kbit/s and never falls while the link carries what is
sent; on overuse it is 0.85 x what arrived, and the excess is lost. The link's random loss
is in every receiver report.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.forwarding.allocator import AllocatorSettings, AudioDemand, StreamAllocator, VideoDemand
from bridge.forwarding.downlink_estimator import DownlinkEstimator, EstimatorSettings

LAYERS = (150_000, 376_000, 1_500_000)  # 135p, 270p, 540p as bench.weaklink measured
TICK_MS = 500
AUDIO_BPS = AllocatorSettings().audio_bps


@dataclass(frozen=True)
class Trace:
    sent_bps: list[int]  # per tick
    overrun_ticks: int  # ticks in which more was sent than the link carries

    def excess_kbit(self, capacity_bps: int, from_tick: int) -> float:
        """What was sent beyond the link from ``from_tick`` on: what queues and is lost."""
        return sum(max(0, x - capacity_bps) for x in self.sent_bps[from_tick:]) * TICK_MS / 1e6

    def share(self, bps: int, last_ticks: int) -> float:
        tail = self.sent_bps[-last_ticks:]
        return sum(1 for x in tail if x == bps) / len(tail)


def run_link(capacity_bps: list[int], random_loss: float = 0.03) -> Trace:
    """``capacity_bps`` per tick."""
    estimator = DownlinkEstimator(EstimatorSettings())
    allocator = StreamAllocator(AllocatorSettings())
    audio = [AudioDemand("mic", 30, True)]
    current: int | None = None
    total_bytes = video_bytes = 0
    sent: list[int] = []
    overrun = 0
    remb: float | None = None
    for tick, capacity in enumerate(capacity_bps):
        now = tick * TICK_MS
        demand = VideoDemand("cam", 2, 2, LAYERS, current, temporal_layers=3)
        result = allocator.allocate(
            now, estimator.estimate_bps, [demand], audio, audio_only=False, cap_bps=None
        )
        estimator.on_allocated(result.used_bps, now, result.resume_budget_bps)
        current = result.video[0].spatial
        rate = result.used_bps
        sent.append(rate)
        video = rate - AUDIO_BPS * len(audio)
        total_bytes += rate * TICK_MS // 8000
        video_bytes += video * TICK_MS // 8000
        estimator.on_sent(total_bytes, video_bytes, now)
        if rate > capacity:
            overrun += 1
            remb = 0.85 * video * capacity / rate
            loss = (rate - capacity) / rate + random_loss
        else:
            limit = 1.5 * video + 10_000
            grown = limit if remb is None else remb * 1.08 ** (TICK_MS / 1000)
            remb = max(remb or 0.0, min(grown, limit))
            loss = random_loss
        estimator.on_remb(int(remb), now)
        if tick % 2:  # receiver reports once a second
            estimator.on_receiver_report(loss, now)
    return Trace(sent, overrun)


def test_edge_link_pauses_video_and_probes_rarely() -> None:
    """96 kbit/s carries audio but no video layer: after the join, audio only, with few,
    ever rarer and small probes (each only the cheapest video step: 54 kbit beyond the
    link in the 115 s after the join; 68 when a probe could climb several steps)."""
    trace = run_link([96_000] * 240)
    assert trace.excess_kbit(96_000, from_tick=10) <= 60, trace.sent_bps
    assert trace.overrun_ticks <= 24, trace.sent_bps
    assert trace.share(40_000, 120) >= 0.9, trace.sent_bps


def test_rural_link_settles_on_the_best_step_that_fits() -> None:
    """400 kbit/s: 270p at 15 fps (~226k + audio) fits, 270p at 30 fps (~416k) does not."""
    trace = run_link([400_000] * 240)
    assert trace.overrun_ticks <= 12, trace.sent_bps
    assert trace.share(40_000 + int(376_000 * 0.6), 120) >= 0.9, trace.sent_bps


def test_good_link_reaches_the_top_layer() -> None:
    trace = run_link([5_000_000] * 120)
    assert trace.overrun_ticks == 0
    assert trace.sent_bps[-1] == 40_000 + 1_500_000, trace.sent_bps


def test_collapse_and_recovery() -> None:
    """The collapse profile: 2000 -> 250 -> 80 -> 2000 kbit/s, 20 s each. Within 2 s of
    each step down what is sent fits the link, and stays within it but for rare probes;
    after the link recovers the top layer comes back (how fast depends on how long the
    last failed probe made the estimator wait: up to its hold; the model has no path watch,
    and a stale REMB left from before the pause no longer speeds the first probe out of
    it: 60.5 s, against 59.5 when it did)."""
    steps = [2_000_000, 250_000, 80_000]
    trace = run_link([c for c in steps for _ in range(40)] + [2_000_000] * 200)
    for i, capacity in enumerate(steps[1:], start=1):
        stage = trace.sent_bps[40 * i : 40 * (i + 1)]
        assert stage[4] <= capacity, (capacity, stage)
        assert sum(x > capacity for x in stage[4:]) <= 4, (capacity, stage)
    recovered = trace.sent_bps[120:]
    assert recovered.index(40_000 + 1_500_000) <= 121, recovered
