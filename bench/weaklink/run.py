"""One weak-link run: a publisher and a subscriber on either side of a shaped link, for
one profile and one direction, and what the subscriber got."""

from __future__ import annotations

import asyncio
import json
import operator
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

from playwright.async_api import Page

from bench.harness.media import MediaFiles
from bench.linkemu import LinkProfile, LinkStep

from . import metrics, sampler
from .meeting import Meeting, Site
from .topology import Topology

AUDIO_WAIT_S = 30.0  # how long the subscriber may take to hear the publisher at all
RECOVERY_WATCH_S = 30.0  # a stepped profile runs this long after its last step
# The unshaped subscriber's reference bitrate: the last seconds before the first step.
# That viewer climbs from the 300 kbit/s start to 540p over its first 10-20 s (bench runs
# of 2026-11-27); a reference that began 5 s after its join averaged the climb, and every
# collapse run showed a "+55 %" change while its rate stayed within 5 % through all the
# steps. On stepped profiles it now joins OTHERS_SETTLE_S before the site under test.
REFERENCE_S = 5.0
OTHERS_SETTLE_S = 20.0  # the unshaped viewer's head start on stepped profiles
RID_ORDER = "qhf"  # web/js/media.js SIMULCAST_LAYERS, low to high

# Spotlight: the viewer shows only the publisher's tile, as large as the window (1280x720
# by default), so the bridge may send the top layer (dynacast asks for it above 400 px).
SPOTLIGHT = """id => {
  const style = document.createElement('style');
  style.textContent = `.tile:not([data-participant-id="${id}"]) { display: none !important; }`;
  document.head.appendChild(style);
}"""


@dataclass(frozen=True)
class RunSpec:
    profile: LinkProfile
    direction: str  # "down": subscriber behind the link; "up": publisher behind it
    seconds: float
    adaptive: bool

    @property
    def duration_s(self) -> float:
        if len(self.profile.steps) == 1:
            return self.seconds
        return max(self.seconds, self.profile.duration_s + RECOVERY_WATCH_S)

    def rate(self, step: LinkStep) -> float:
        return step.down_kbps if self.direction == "down" else step.up_kbps

    def outage(self, step: LinkStep) -> bool:
        return step.down_outage if self.direction == "down" else step.up_outage


@dataclass(frozen=True)
class StepResult:
    at_s: float
    kind: str  # "worse" (adapt), "better" (recover to the first step's layer), "back" (outage over)
    settle_s: float | None  # state stable from then on (None: never within the step)
    longest_stall_s: float
    before: int | None  # the state (metrics.states) just before the step
    after: int | None  # the state at the end of the step
    recover_s: float | None = None  # "better": back to the first step's layer
    audio_back_s: float | None = None  # "back"
    video_back_s: float | None = None  # "back"


@dataclass(frozen=True)
class RunResult:
    spec: RunSpec
    audio: metrics.AudioResult
    freezes: int
    freeze_s: float
    time_per_state: dict[int, float]
    longest_stall_s: float
    steps: tuple[StepResult, ...]
    others_change_pct: float | None  # worst change of the unshaped subscriber's bitrate
    others_audio: metrics.AudioResult | None  # the unshaped subscriber ("down" runs)
    others_time_per_state: dict[int, float]
    others_link_states: tuple[tuple[float, str, float | None], ...]
    timeline: tuple[tuple[float, float, int], ...]  # metrics.runs of the subscriber
    bridge_cpu_pct: float | None
    same_participant: bool
    link_states: tuple[tuple[float, str, float | None], ...]  # (s, state, kbps) changes
    sent_kbps: dict[str, float]  # what the publisher sent per simulcast layer
    limits: dict[str, int]  # publisher's qualityLimitationReason samples
    # (s, the publisher's own estimate kbit/s or None, what it sent kbit/s, audio included)
    publisher_rates: tuple[tuple[float, float | None, float], ...]
    seconds: float
    audio_wait_s: float


async def _wait_audio(page: Page, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        s = await sampler.latest(page)
        if s is not None and s.audio_packets > 0:
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - start


def _step_results(
    spec: RunSpec, sub: Sequence[sampler.Sample], t0: float
) -> tuple[StepResult, ...]:
    steps = spec.profile.steps
    st = metrics.states(sub)
    first = [(t, s) for t, s in st if t < t0 + steps[1].at_s * 1000] if len(steps) > 1 else []
    reference = max((s for _, s in first[len(first) // 2 :]), default=None)
    out: list[StepResult] = []
    for i, step in enumerate(steps[1:], start=1):
        at = t0 + step.at_s * 1000
        end = t0 + (steps[i + 1].at_s if i + 1 < len(steps) else spec.duration_s) * 1000
        inside = [(t, s) for t, s in st if at <= t < end]
        prev = steps[i - 1]
        if spec.outage(step):
            kind = "worse"
        elif spec.outage(prev):
            kind = "back"
        else:
            kind = "better" if spec.rate(step) > spec.rate(prev) else "worse"
        result = StepResult(
            at_s=step.at_s,
            kind=kind,
            settle_s=metrics.settle_time_s(inside, at),
            longest_stall_s=metrics.longest_stall_s(inside),
            before=next((x for t, x in reversed(st) if t < at), None),
            after=inside[-1][1] if inside else None,
        )
        if kind == "better" and reference is not None:
            # back to the first step's layer (any moving video if it had none)
            ok = partial(operator.le, max(reference, 1))
            result = replace(result, recover_s=metrics.first_time_s(st, at, ok))
        elif kind == "back":
            audio, video = metrics.media_back_s(metrics.window(sub, at, end), at)
            result = replace(result, audio_back_s=audio, video_back_s=video)
        out.append(result)
    return tuple(out)


def _others_change(spec: RunSpec, other: Sequence[sampler.Sample], t0: float) -> float | None:
    steps = spec.profile.steps
    if len(steps) < 2 or not other:
        return None
    first = t0 + steps[1].at_s * 1000
    base = metrics.bitrate_kbps(metrics.window(other, first - REFERENCE_S * 1000, first))
    if not base:
        return None
    worst = 0.0
    for i, step in enumerate(steps[1:], start=1):
        end = steps[i + 1].at_s if i + 1 < len(steps) else spec.duration_s
        rate = metrics.bitrate_kbps(metrics.window(other, t0 + step.at_s * 1000, t0 + end * 1000))
        if rate is not None and abs(rate / base - 1) > abs(worst):
            worst = rate / base - 1
    return 100 * worst


def _link_states(
    sub: Sequence[sampler.Sample], t0: float
) -> tuple[tuple[float, str, float | None], ...]:
    out: list[tuple[float, str, float | None]] = []
    last: tuple[str | None, float | None] = (None, None)
    for s in sub:
        if s.link_state is not None and (s.link_state, s.link_kbps) != last:
            last = (s.link_state, s.link_kbps)
            out.append(((s.t_ms - t0) / 1000, s.link_state, s.link_kbps))
    return tuple(out)


def _layer_bytes(rid: str, s: sampler.Sample) -> float:
    return sum(layer.bytes_sent for layer in s.sent if (layer.rid or "") == rid)


def _sent(pub: Sequence[sampler.Sample]) -> tuple[dict[str, float], dict[str, int]]:
    """Mean kbit/s the publisher sent per simulcast layer (q, h, f), and how often each
    qualityLimitationReason was reported by an active layer."""
    kbps: dict[str, float] = {}
    limits: dict[str, int] = {}
    if len(pub) < 2:
        return kbps, limits
    span = (pub[-1].t_ms - pub[0].t_ms) / 1000
    rids = sorted({layer.rid or "" for s in pub for layer in s.sent}, key=RID_ORDER.find)
    for rid in rids:
        kbps[rid] = metrics.counter_delta(pub, partial(_layer_bytes, rid)) * 8 / 1000 / span
    for s in pub:
        for layer in s.sent:
            if layer.active and layer.limit:
                limits[layer.limit] = limits.get(layer.limit, 0) + 1
    return kbps, limits


def _publisher_rates(
    pub: Sequence[sampler.Sample], t0: float, every_s: float = 10.0
) -> tuple[tuple[float, float | None, float], ...]:
    """Every ``every_s``: the publisher's estimate (availableOutgoingBitrate) then, and the
    kbit/s it sent (all video layers and audio, RTP payload + headers) over the window."""

    def total(s: sampler.Sample) -> int:
        return s.audio_bytes_sent + sum(layer.bytes_sent for layer in s.sent)

    out: list[tuple[float, float | None, float]] = []
    start = next((s for s in pub if s.t_ms >= t0), None)
    while start is not None:
        end = next((s for s in pub if s.t_ms >= start.t_ms + every_s * 1000), None)
        if end is None:
            break
        window = [s for s in pub if start.t_ms <= s.t_ms <= end.t_ms]
        sent = metrics.counter_delta(window, total) * 8 / (end.t_ms - start.t_ms)
        bwe = None if end.publisher_bwe_bps is None else end.publisher_bwe_bps / 1000
        out.append(((end.t_ms - t0) / 1000, bwe, sent))
        start = end
    return tuple(out)


async def _join_sites(
    meeting: Meeting, direction: str, others_settle_s: float
) -> tuple[Site, Site, Site | None]:
    """(publisher, subscriber under test, unshaped other subscriber or None). The other
    subscriber joins ``others_settle_s`` before the one under test."""
    fiber = await meeting.browser("fiber")
    site = await meeting.browser("site")
    if direction == "down":
        pub = await meeting.join(fiber, "fiber", "publisher", "participant")
        other = await meeting.join(fiber, "fiber", "fiber viewer", "viewer")
        await other.page.evaluate(SPOTLIGHT, pub.id)
        await asyncio.sleep(others_settle_s)
        sub = await meeting.join(site, "site", "weak viewer", "viewer")
        return pub, sub, other
    pub = await meeting.join(site, "site", "weak publisher", "participant")
    sub = await meeting.join(fiber, "fiber", "fiber viewer", "viewer")
    return pub, sub, None


@dataclass(frozen=True)
class RawRun:
    """What one run recorded: every page's samples within [t0_ms, t1_ms]."""

    spec: RunSpec
    t0_ms: float
    t1_ms: float
    audio_wait_s: float
    pub: list[sampler.Sample]
    sub: list[sampler.Sample]
    other: list[sampler.Sample]  # the unshaped viewer ("down" runs only)
    bridge_cpu_pct: float | None = None  # the bridge process's CPU over [t0_ms, t1_ms]

    def to_json(self) -> str:
        spec = self.spec
        return json.dumps(
            {
                "profile": spec.profile.name,
                "direction": spec.direction,
                "seconds": spec.seconds,
                "adaptive": spec.adaptive,
                "t0_ms": self.t0_ms,
                "t1_ms": self.t1_ms,
                "audio_wait_s": self.audio_wait_s,
                "bridge_cpu_pct": self.bridge_cpu_pct,
                **{k: [asdict(x) for x in getattr(self, k)] for k in ("pub", "sub", "other")},
            }
        )

    @classmethod
    def from_json(cls, text: str, profiles: dict[str, LinkProfile]) -> RawRun:
        d = json.loads(text)
        spec = RunSpec(profiles[d["profile"]], d["direction"], d["seconds"], d["adaptive"])

        def samples(key: str) -> list[sampler.Sample]:
            return [
                sampler.Sample(**{**x, "sent": tuple(sampler.SentLayer(**y) for y in x["sent"])})
                for x in d[key]
            ]

        return cls(spec, d["t0_ms"], d["t1_ms"], d["audio_wait_s"], samples("pub"),
                   samples("sub"), samples("other"), d.get("bridge_cpu_pct"))  # fmt: skip


def analyse(raw: RawRun) -> RunResult:
    spec, subs, pubs, t0 = raw.spec, raw.sub, raw.pub, raw.t0_ms
    st = metrics.states(subs)
    sent, limits = _sent(pubs)
    return RunResult(
        spec=spec,
        audio=metrics.audio_result(subs, pubs),
        freezes=int(metrics.counter_delta(subs, lambda s: s.freezes)),
        freeze_s=metrics.counter_delta(subs, lambda s: s.freeze_s),
        time_per_state=metrics.time_per_state(st),
        longest_stall_s=metrics.longest_stall_s(st),
        steps=_step_results(spec, subs, t0),
        others_change_pct=_others_change(spec, raw.other, t0),
        others_audio=metrics.audio_result(raw.other, pubs) if raw.other else None,
        others_time_per_state=metrics.time_per_state(metrics.states(raw.other)),
        others_link_states=_link_states(raw.other, t0),
        timeline=tuple(metrics.runs(st, t0)),
        bridge_cpu_pct=raw.bridge_cpu_pct,
        same_participant=all(len({s.self_id for s in xs} - {None}) == 1 for xs in (subs, pubs)),
        link_states=_link_states(subs, t0),
        sent_kbps=sent,
        limits=limits,
        publisher_rates=_publisher_rates(pubs, t0),
        seconds=(raw.t1_ms - t0) / 1000,
        audio_wait_s=raw.audio_wait_s,
    )


async def run_once(
    spec: RunSpec, media: MediaFiles, work_dir: Path, bridge_env: dict[str, str]
) -> RawRun:
    """Run ``spec``; its samples are also saved as ``work_dir``/samples.json."""
    work_dir.mkdir(parents=True, exist_ok=True)
    async with (
        Topology(spec.profile.steps[0]) as topo,
        Meeting(topo, work_dir, media, adaptive=spec.adaptive, env=bridge_env) as meeting,
    ):
        # Stepped profiles: the others are in the meeting, at their best, before the site
        # under test joins and its link steps (their own climb after joining is no change
        # the weak site caused: it read as +30-84 % "others Δ" on the collapse profile).
        settle = OTHERS_SETTLE_S if len(spec.profile.steps) > 1 else 0.0
        pub, sub, other = await _join_sites(meeting, spec.direction, settle)
        viewers = [s for s in (sub, other) if s is not None]
        for site in (pub, *viewers):
            if site is not pub:
                await site.page.evaluate(SPOTLIGHT, pub.id)
            await sampler.install(site.page)
        audio_wait = await _wait_audio(sub.page, AUDIO_WAIT_S)
        cpu0 = meeting.bridge_cpu_s()
        t0 = time.time() * 1000
        player = asyncio.create_task(topo.link.run_profile(spec.profile))
        try:
            await asyncio.sleep(spec.duration_s)
        finally:
            player.cancel()
        t1 = time.time() * 1000
        cpu1 = meeting.bridge_cpu_s()
        samples = {site.name: metrics.window(await sampler.collect(site.page), t0, t1)
                   for site in (pub, *viewers)}  # fmt: skip
    raw = RawRun(
        spec, t0, t1, audio_wait, samples[pub.name], samples[sub.name],
        samples[other.name] if other is not None else [],
        100 * (cpu1 - cpu0) * 1000 / (t1 - t0) if cpu0 is not None and cpu1 is not None else None,
    )  # fmt: skip
    (work_dir / "samples.json").write_text(raw.to_json())
    return raw
