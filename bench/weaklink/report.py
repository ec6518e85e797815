"""The results table (Markdown, printed and written into docs/benchmarks.md)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from . import metrics
from .run import RunResult, StepResult

SECTION = "## Weak links (issue 3)"

REFERENCE = """\
Reference figures, copied from issue 3 (measured by the issue's author on this kind of
machine with the same profiles, Chromium 156, VP8 + Opus defaults, subscriber behind the
link, 60 s); not re-measured here:

- **Plain peer-to-peer Chromium → Chromium** (libwebrtc congestion control end to end):
  edge: audio concealment 4.8-7.1 %, video 180p at 3-5 fps with 19-26 freezes;
  rural-3g: 1.6-2.7 %, 180p at 29 fps; collapse: 4-17 s to settle after a step with
  5-7 s freezes, and 51 s to get back to 360p after the link recovers.
- **Janus 1.1.2 VideoRoom** (no per-subscriber adaptation): edge 13.8 % and no video at
  all; rural-3g 5-8 % and no video; after a collapse, video stays frozen.
- **Targets**: edge — audio concealment < 3 % with video paused cleanly; rural-3g —
  concealment < 1.5 % with video at least 180p and under one freeze per minute; collapse —
  adapted within 3 s of each step with no freeze over 1 s, and back to full quality within
  8 s of the link recovering; outage — media back within 5 s of the link returning;
  others' received bitrate changes < 10 % while one site collapses.
"""

DEFINITIONS = """\
How to read a row. Each run: a publisher with a 960x540 fake camera (Chromium sends
135p/270p/540p simulcast), the bridge in its own namespace, and the measured viewer behind
the shaped link (`down`) or the publisher behind it and the viewer on fiber (`up`); viewers
show the publisher full-window (1280x720). Every 500 ms each page samples its own getStats.
*audio rx/sent*: audio packets the viewer received / the publisher sent over the run;
*conceal*: concealedSamples / totalSamplesReceived; *freezes*: Chromium's freezeCount
(totalFreezesDuration); *time per layer*: seconds in which frames of that height were
decoded (over the last 1 s), *paused* = no frames and the bridge said the video is paused
for this site, *stalled* = no frames and nothing said; *longest stall*: longest stalled
stretch; *steps* (stepped profiles): the state just before and at the end of each step,
*settled* = time to the last change within the step if the state then held >= 3 s,
*full in* = time to get back to the layer held before the first step, *audio/video in* =
time for media to arrive again after the outage; *others Δ*: worst change of the unshaped
viewer's received bitrate during a step against its last 5 s before the first step (on
stepped profiles that viewer joins 20 s before the site under test);
*same id*: every page kept one participant id (no rejoin).
"""

HEADER = (
    "| profile | dir | adaptive | audio rx/sent | conceal | freezes (s) | time per layer "
    "| longest stall | steps | others Δ | same id |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def _s(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} s"


def _step(s: StepResult) -> str:
    arrow = {"worse": "↓", "better": "↑", "back": "⏎"}[s.kind]
    moves = " → ".join("?" if x is None else metrics.state_label(x) for x in (s.before, s.after))
    settled = "never" if s.settle_s is None else _s(s.settle_s)
    text = f"{s.at_s:g}s{arrow} {moves}, settled {settled}"
    if s.longest_stall_s:
        text += f", stall {s.longest_stall_s:.1f} s"
    if s.kind == "better":
        text += f", full in {_s(s.recover_s) if s.recover_s is not None else 'never'}"
    if s.kind == "back":
        text += f", audio in {_s(s.audio_back_s)}, video in {_s(s.video_back_s)}"
    return text


def _link_states(changes: Sequence[tuple[float, str, float | None]]) -> str:
    return ", ".join(
        f"{t:.1f}s {s}" + (f" ({k:g} kbit/s)" if k is not None else "") for t, s, k in changes
    )


def _layers(time_per_state: dict[int, float]) -> str:
    return (
        ", ".join(
            f"{metrics.state_label(k)} {v:.0f}s"
            for k, v in sorted(time_per_state.items(), key=lambda kv: -kv[0])
        )
        or "-"
    )


def row(r: RunResult) -> str:
    a = r.audio
    conceal = "-" if a.concealed_pct is None else f"{a.concealed_pct:.1f} %"
    layers = _layers(r.time_per_state)
    others = "-" if r.others_change_pct is None else f"{r.others_change_pct:+.0f} %"
    cells = [
        r.spec.profile.name,
        r.spec.direction,
        "on" if r.spec.adaptive else "off",
        f"{a.received}/{a.expected}",
        conceal,
        f"{r.freezes} ({r.freeze_s:.1f})",
        layers,
        f"{r.longest_stall_s:.1f} s",
        "; ".join(_step(s) for s in r.steps) or "-",
        others,
        "yes" if r.same_participant else "NO",
    ]
    return "| " + " | ".join(cells) + " |"


def evidence(r: RunResult) -> str:
    """What the bridge told the site and what the publisher sent (for reading a row)."""
    states = _link_states(r.link_states)
    sent = ", ".join(f"{rid or '-'} {kbps:.0f}" for rid, kbps in r.sent_kbps.items())
    limits = ", ".join(f"{k} {v}" for k, v in sorted(r.limits.items()))
    rates = ", ".join(
        f"{t:.0f}s {'-' if bwe is None else f'{bwe:.0f}'}/{sent:.0f}"
        for t, bwe, sent in r.publisher_rates
    )
    other = ""
    if r.others_audio is not None:
        conceal = r.others_audio.concealed_pct
        other = (
            f"; the unshaped viewer: concealment "
            f"{'-' if conceal is None else f'{conceal:.1f} %'}, {_layers(r.others_time_per_state)}"
            f", link_state {_link_states(r.others_link_states) or 'never sent'}"
        )
    timeline = ", ".join(f"{a:.0f}-{b:.0f}s {metrics.state_label(x)}" for a, b, x in r.timeline)
    return (
        f"- {r.spec.profile.name} {r.spec.direction} adaptive "
        f"{'on' if r.spec.adaptive else 'off'}: received {timeline or '-'}; "
        f"link_state {states or 'never sent'}; "
        f"publisher sent kbit/s per layer {sent or '-'}"
        + (f" (qualityLimitationReason samples: {limits})" if limits else "")
        + (f"; publisher estimate/sent kbit/s {rates}" if rates else "")
        + other
        + f"; audio first heard {r.audio_wait_s:.1f} s after joining; ran {r.seconds:.0f} s"
        + ("" if r.bridge_cpu_pct is None else f"; bridge CPU {r.bridge_cpu_pct:.0f} %")
    )


def table(results: Sequence[RunResult]) -> str:
    return "\n".join([HEADER, *(row(r) for r in results)])


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    chromium = subprocess.run(
        [os.environ.get("DIEMCAU_CHROMIUM", "/usr/bin/chromium"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), kernel {platform.release()}, Python "
        f"{platform.python_version()}, {chromium or 'Chromium ?'}; load average "
        f"{load:.1f} when the bench started (the cores are shared with other jobs)"
    )


def section(command: str, machine_text: str, date: str, results: Sequence[RunResult]) -> str:
    return "\n".join(
        [
            SECTION,
            "",
            REFERENCE,
            f"Measured by diemcau: `{command}` on {date}; {machine_text}.",
            "",
            DEFINITIONS,
            table(results),
            "",
            "What the bridge told the subscriber (`link_state` changes, seconds from the start"
            " of the measurement) and what the publisher sent:",
            "",
            *(evidence(r) for r in results),
            "",
        ]
    )


def write_section(doc: Path, text: str, notes: str) -> None:
    """Put ``text`` + ``notes`` in place of the section in ``doc`` (up to its first
    ``### `` subsection, which are the sessions' notes and stay, or the next ``## ``
    heading), or before "## Not measured yet", or at the end."""
    body = doc.read_text() if doc.exists() else "# Benchmarks\n"
    block = text + "\n" + notes.strip() + "\n\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^###? |\Z)", re.S | re.M)
    if pattern.search(body):
        body = pattern.sub(lambda _: block, body, count=1)
    elif "\n## Not measured yet" in body:
        body = body.replace("\n## Not measured yet", "\n" + block + "## Not measured yet", 1)
    else:
        body = body.rstrip("\n") + "\n\n" + block
    doc.write_text(body)
