"""``python -m bench.weaklink``: weak-link benchmark (issue 3). See bench/weaklink/__init__.py."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import FrameType

from bench.harness.media import AUDIO_KINDS, make_media_files
from bench.linkemu import load_profiles

from . import report
from .run import RawRun, RunResult, RunSpec, analyse, run_once

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PROFILES = "edge,rural-3g,collapse,outage"
CAMERA = (960, 540)  # the smallest capture for which Chromium sends 3 simulcast layers


def _args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.weaklink", description=__doc__)
    p.add_argument("--profiles", default=DEFAULT_PROFILES, help="comma-separated profile names")
    p.add_argument("--seconds", type=float, default=60.0, help="per run (stepped profiles: "
                   "at least until 30 s after their last step)")  # fmt: skip
    p.add_argument("--direction", default="down,up", help="down (subscriber behind the "
                   "link), up (publisher behind it) or both")  # fmt: skip
    p.add_argument("--adaptive", default="on", help="DIEMCAU_ADAPTIVE_BITRATE: on, off or on,off")
    p.add_argument("--audio", choices=AUDIO_KINDS, default="tone", help="what the publisher's "
                   "microphone plays: a 440 Hz tone or synthesized speech")  # fmt: skip
    p.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    p.add_argument("--logs", type=Path, help="keep bridge logs and samples.json here")
    p.add_argument(
        "--bridge-debug",
        action="store_true",
        help="DIEMCAU_LOG_LEVEL=DEBUG (the allocator logs its inputs twice a second)",
    )
    p.add_argument(
        "--bridge-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="more bridge environment, e.g. DIEMCAU_TRANSPORT_CC=0 (repeatable)",
    )
    p.add_argument("--reanalyse", type=Path, metavar="LOGS",
                   help="no runs: recompute the table from LOGS/*/samples.json")  # fmt: skip
    return p.parse_args(argv)


async def _main(args: argparse.Namespace, command: str) -> int:
    profiles = load_profiles()
    names = [n.strip() for n in args.profiles.split(",") if n.strip()]
    unknown = [n for n in names if n not in profiles]
    if unknown:
        print(f"unknown profile(s) {unknown}; known: {sorted(profiles)}", file=sys.stderr)
        return 2
    specs = [
        RunSpec(profiles[name], direction.strip(), args.seconds, adaptive.strip() == "on")
        for adaptive in args.adaptive.split(",")
        for name in names
        for direction in args.direction.split(",")
    ]
    bridge_env = {"DIEMCAU_LOG_LEVEL": "DEBUG"} if args.bridge_debug else {}
    for item in args.bridge_env:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("DIEMCAU_"):
            print(f"--bridge-env wants DIEMCAU_NAME=VALUE, got {item!r}", file=sys.stderr)
            return 2
        bridge_env[name] = value
    machine = report.machine()
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results: list[RunResult] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="weaklink-") as tmp:
        logs = args.logs or Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        meta = {"command": command, "machine": machine, "date": date, "failures": failures}
        media = make_media_files(Path(tmp) / "media", *CAMERA, seconds=4, audio=args.audio)
        for i, spec in enumerate(specs, start=1):
            label = f"{spec.profile.name}-{spec.direction}-{'on' if spec.adaptive else 'off'}"
            print(f"[{i}/{len(specs)}] {label}: {spec.duration_s:.0f} s ...", flush=True)
            try:
                result = analyse(await run_once(spec, media, logs / label, bridge_env))
            except Exception as exc:
                traceback.print_exc()
                failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:300]}")
                continue
            results.append(result)
            print(report.row(result), "\n", report.evidence(result), flush=True)
            (logs / "run.json").write_text(json.dumps(meta))
    _finish(args, command, machine, date, results, failures)
    return 1 if failures else 0


def _finish(
    args: argparse.Namespace,
    command: str,
    machine: str,
    date: str,
    results: list[RunResult],
    failures: list[str],
) -> None:
    print()
    print(report.table(results))
    for f in failures:
        print(f"FAILED {f}")
    if not args.no_docs and results:
        text = report.section(command, machine, date, results)
        notes = "\n".join(f"- run failed: {f}" for f in failures)
        report.write_section(REPO_ROOT / "docs" / "benchmarks.md", text, notes)
        print("\nwritten to docs/benchmarks.md")


def _reanalyse(args: argparse.Namespace, command: str) -> int:
    """The table of an earlier run from its saved samples (command, machine and date as
    recorded in LOGS/run.json by that run)."""
    profiles = load_profiles()
    meta = json.loads((args.reanalyse / "run.json").read_text())
    results = [
        analyse(RawRun.from_json(path.read_text(), profiles))
        for path in sorted(args.reanalyse.glob("*/samples.json"))
    ]
    _finish(args, meta["command"], meta["machine"], meta["date"], results, meta["failures"])
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", "bench.weaklink", *argv])
    args = _args(argv)
    if args.reanalyse:
        return _reanalyse(args, command)
    # Ctrl-C and SIGTERM both unwind through the async with blocks (a background job may
    # have inherited SIGINT ignored).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return asyncio.run(_main(args, command))
    except KeyboardInterrupt:
        print("interrupted: namespaces and processes removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
