"""bench.weaklink's figures from synthetic page samples (no browser)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bench.linkemu import LinkProfile, LinkStep
from bench.weaklink import metrics, report
from bench.weaklink.run import RawRun, RunSpec, _others_change, analyse
from bench.weaklink.sampler import Sample, SentLayer

ZERO = Sample(
    t_ms=0, self_id="a", state="joined", link_state=None, link_kbps=None, video_paused=False,
    pc=0, audio_packets=0, audio_lost=0, concealed=0, total_samples=0, frames=0, height=None,
    fps=None, freezes=0, freeze_s=0.0, bytes_in=0, audio_sent=0, sent=(),
)  # fmt: skip


def series(frames: list[int], height: int = 360, paused_from: int | None = None) -> list[Sample]:
    """One sample every 500 ms with the given cumulative frame counts (audio 25/sample)."""
    return [
        replace(
            ZERO,
            t_ms=i * 500,
            frames=f,
            height=height,
            audio_packets=25 * i,
            video_paused=paused_from is not None and i >= paused_from,
        )
        for i, f in enumerate(frames)
    ]


def test_counter_delta_restarts_with_a_new_pc() -> None:
    s = [replace(ZERO, audio_packets=n, pc=pc) for n, pc in ((0, 0), (50, 0), (80, 0), (10, 1))]
    assert metrics.counter_delta(s, lambda x: x.audio_packets) == 90


def test_states_moving_paused_stalled() -> None:
    moving = series([0, 10, 20, 30])
    assert {s for _, s in metrics.states(moving)} == {360}
    frozen = series([0, 10, 20, 20, 20, 20, 20])
    assert [s for _, s in metrics.states(frozen)][-1] == metrics.STALLED
    paused = series([0, 10, 20, 20, 20, 20, 20], paused_from=3)
    assert [s for _, s in metrics.states(paused)][-1] == metrics.PAUSED
    assert metrics.longest_stall_s(metrics.states(frozen)) > 0
    assert metrics.longest_stall_s(metrics.states(paused)) == 0


def test_settle_time() -> None:
    st = [(t, 720 if t < 2000 else 180) for t in range(0, 10_000, 500)]
    assert metrics.settle_time_s(st, 1000) == 1.0
    assert metrics.settle_time_s([(t, 180) for t in range(0, 5000, 500)], 0) == 0.0
    flapping = [(t, 180 if (t // 500) % 2 else 360) for t in range(0, 5000, 500)]
    assert metrics.settle_time_s(flapping, 0) is None


def test_media_back_after_outage() -> None:
    s = series([0, 5, 10, 10, 10, 10, 15, 20])
    s = [replace(x, audio_packets=min(x.audio_packets, 50) + (10 if i >= 5 else 0))
         for i, x in enumerate(s)]  # fmt: skip
    assert metrics.media_back_s(s, 1500) == (1.0, 1.5)


def test_audio_result_and_bitrate() -> None:
    sub = [replace(ZERO, t_ms=t, total_samples=t * 48, concealed=t, bytes_in=t * 10)
           for t in (0, 1000, 2000)]  # fmt: skip
    pub = [replace(ZERO, audio_sent=n) for n in (0, 100)]
    a = metrics.audio_result(sub, pub)
    assert a.expected == 100 and round(a.concealed_pct or 0, 2) == round(100 / 48, 2)
    assert metrics.bitrate_kbps(sub) == 80


def test_collapse_run_analysed_and_round_tripped(tmp_path: Path) -> None:
    profile = LinkProfile(
        "c", (LinkStep(0, 2000, 1000), LinkStep(5, 100, 100), LinkStep(12, 2000, 1000))
    )
    spec = RunSpec(profile, "down", 5, True)  # lasts until 30 s after the last step
    # 540p, the step down at 5 s: 180p for 2 s then paused; the step up at 12 s: 180p, 540p
    heights = [540] * 10 + [180] * 4 + [None] * 10 + [180] * 4 + [540] * 56
    moving = [h is not None for h in heights]
    sub = [
        replace(
            ZERO,
            t_ms=i * 500,
            frames=sum(moving[: i + 1]),
            height=h or 180,
            video_paused=h is None,
            audio_packets=25 * i,
        )
        for i, h in enumerate(heights)
    ]
    pub = [replace(ZERO, t_ms=x.t_ms, audio_sent=25 * i,
                   sent=(SentLayer("f", 540, 1000 * i, 30.0, True, "none"),))
           for i, x in enumerate(sub)]  # fmt: skip
    raw = RawRun(spec, 0, sub[-1].t_ms, 1.0, pub, sub, [])
    result = analyse(RawRun.from_json(raw.to_json(), {"c": profile}))
    worse, better = result.steps
    assert worse.kind == "worse" and worse.settle_s is not None
    assert better.kind == "better" and better.recover_s is not None and better.recover_s < 3
    assert result.audio.received == result.audio.expected
    row = report.row(result)
    assert "540p" in row and "paused" in row
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## A\n\nx\n\n## Not measured yet\n\ny\n")
    report.write_section(doc, report.section("cmd", "machine", "today", [result]), "")
    # a session's notes below the table (### subsections) stay
    notes = "### Notes of a session\n\nkept\n\n"
    doc.write_text(doc.read_text().replace("## Not measured yet", notes + "## Not measured yet"))
    report.write_section(doc, report.section("cmd2", "machine", "today", [result]), "")
    text = doc.read_text()
    assert text.count(report.SECTION) == 1 and "cmd2" in text and "`cmd`" not in text
    assert text.index(report.SECTION) < text.index(notes) < text.index("## Not measured yet")


def test_others_change_is_against_the_seconds_before_the_first_step() -> None:
    profile = LinkProfile(
        "c", (LinkStep(0, 2000, 1000), LinkStep(20, 250, 150), LinkStep(40, 2000, 1000))
    )
    spec = RunSpec(profile, "down", 40, True)

    def unshaped(kbps: Callable[[float], float]) -> list[Sample]:
        out, total = [], 0.0
        for i in range(140):  # 70 s, one sample per 500 ms
            total += kbps(i / 2) * 1000 / 8 / 2
            out.append(replace(ZERO, t_ms=i * 500, bytes_in=int(total)))
        return out

    def climbing(t: float) -> float:
        return min(1500.0, 300 + 100 * t)  # its own climb after its join: steady from 12 s

    assert _others_change(spec, unshaped(climbing), 0) == pytest.approx(0, abs=2)
    sagging = unshaped(lambda t: climbing(t) * (0.7 if 20 <= t < 40 else 1))
    assert _others_change(spec, sagging, 0) == pytest.approx(-30, abs=5)


def test_publisher_estimate_and_send_rate_every_10_s() -> None:
    # 1000 bytes of video and 250 of audio per 500 ms sample: 20 kbit/s; estimate 300k
    pub = [
        replace(
            ZERO,
            t_ms=i * 500,
            audio_bytes_sent=250 * i,
            publisher_bwe_bps=300_000.0,
            sent=(SentLayer("q", 180, 1000 * i, 30.0, True, "bandwidth"),),
        )
        for i in range(61)
    ]
    sub = series([i for i in range(61)])
    spec = RunSpec(LinkProfile("p", (LinkStep(0, 500, 200),)), "up", 30, True)
    result = analyse(RawRun(spec, 0, pub[-1].t_ms, 1.0, pub, sub, []))
    assert result.publisher_rates == ((10.0, 300.0, 20.0), (20.0, 300.0, 20.0), (30.0, 300.0, 20.0))
    assert "publisher estimate/sent kbit/s 10s 300/20" in report.evidence(result)
