"""``python -m bench.weaklink``: weak-link benchmark (issue 3). See bench/weaklink/__init__.py."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.harness.media import make_media_files
from bench.linkemu import load_profiles

from . import report
from .run import RunResult, RunSpec, run_once

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
    p.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    p.add_argument("--logs", type=Path, help="keep bridge logs here (default: a temp dir)")
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
    machine = report.machine()
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results: list[RunResult] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="weaklink-") as tmp:
        logs = args.logs or Path(tmp)
        media = make_media_files(Path(tmp) / "media", *CAMERA, seconds=4)
        for i, spec in enumerate(specs, start=1):
            label = f"{spec.profile.name}-{spec.direction}-{'on' if spec.adaptive else 'off'}"
            print(f"[{i}/{len(specs)}] {label}: {spec.duration_s:.0f} s ...", flush=True)
            try:
                result = await run_once(spec, media, logs / label)
            except Exception as exc:
                traceback.print_exc()
                failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:300]}")
                continue
            results.append(result)
            print(report.row(result), "\n", report.evidence(result), flush=True)
    print()
    print(report.table(results))
    for f in failures:
        print(f"FAILED {f}")
    if not args.no_docs and results:
        text = report.section(command, machine, date, results)
        notes = "\n".join(f"- run failed: {f}" for f in failures)
        report.write_section(REPO_ROOT / "docs" / "benchmarks.md", text, notes)
        print("\nwritten to docs/benchmarks.md")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", "bench.weaklink", *argv])
    try:
        return asyncio.run(_main(_args(argv), command))
    except KeyboardInterrupt:
        print("interrupted: namespaces and processes removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
