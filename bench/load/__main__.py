"""`python -m bench.load --scenario one-to-n --n 25,50,100,200`: run a scenario for each N
against a fresh bridge (pinned to core 0; this generator to core 1) and print a table.

Scenarios (N varies the listeners, or the subscribers of "many"):
- one-to-n: 1 speaker (audio + video) -> N listeners
- many: 10 video publishers <-> N subscribers (default 50)
- province: 5 publishers (speaker + 4 gallery tiles) -> N - 5 listeners (default 150 sites)
- join-storm: 1 speaker streaming, N sites (default 100) join at once: join times
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys

from .bridge_process import BridgeOptions
from .scenario import Result, RunSettings, Scenario, run_scenario

DEFAULT_N = {"one-to-n": "25,50,100,200", "many": "50", "province": "150", "join-storm": "100"}


def scenario(name: str, n: int, publishers: int | None, rooms: int = 1) -> Scenario:
    """The named scenario at size ``n``; with ``rooms`` > 1 each room gets a publisher."""
    match name:
        case "one-to-n":
            pubs = max(publishers or 1, rooms)
            return Scenario(name, publishers=pubs, listeners=n, rooms=rooms)
        case "many":
            return Scenario(name, publishers=publishers or 10, listeners=n)
        case "province":
            pubs = publishers or 5
            return Scenario(name, publishers=pubs, listeners=max(0, n - pubs))
        case "join-storm":
            return Scenario(name, publishers=publishers or 1, listeners=n, join_concurrency=0)
    raise ValueError(f"unknown scenario {name!r}")


COLUMNS = (
    ("sites", "sites", "{:d}"),
    ("pubs", "publishers", "{:d}"),
    ("fwd pkt/s", "forwarded_pps", "{:.0f}"),
    ("µs/pkt", "us_per_packet", "{:.1f}"),
    ("bridge CPU%", "bridge_cpu_pct", "{:.0f}"),
    ("loss %", "loss_pct", "{:.2f}"),
    ("lat p50 ms", "latency_p50_ms", "{:.2f}"),
    ("lat p99 ms", "latency_p99_ms", "{:.2f}"),
    ("KiB/site", "rss_kib_per_site", "{:.0f}"),
    ("join p50/p99 ms", ("join_p50_ms", "join_p99_ms"), "{:.0f}"),
    ("media p50/p99 ms", ("media_p50_ms", "media_p99_ms"), "{:.0f}"),
    ("no media", "without_media", "{:d}"),
    ("gen CPU%", "generator_cpu_pct", "{:.0f}"),
    ("lane %", "lane_pct", "{:.0f}"),
)


def _cell(result: Result, key: str | tuple[str, ...], fmt: str) -> str:
    keys = key if isinstance(key, tuple) else (key,)
    values = [getattr(result, k) for k in keys]
    return "/".join("-" if v is None else fmt.format(v) for v in values)


def table(results: list[Result]) -> str:
    """A Markdown table, one row per run."""
    head = ["scenario", *(c[0] for c in COLUMNS)]
    rows = [[r.scenario, *(_cell(r, key, fmt) for _, key, fmt in COLUMNS)] for r in results]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    p.add_argument("--scenario", choices=sorted(DEFAULT_N), default="one-to-n")
    p.add_argument("--n", help="comma-separated sizes (default per scenario)")
    p.add_argument("--publishers", type=int, help="override the scenario's publisher count")
    p.add_argument("--window", type=float, default=10.0, help="steady window, seconds")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds before the window")
    p.add_argument("--small-media", action="store_true", help="tiny VP8 instead of 640x360")
    p.add_argument("--workers", type=int, default=1, help="bridge worker processes")
    p.add_argument("--rooms", type=int, default=1, help="spread one-to-n over this many rooms")
    p.add_argument("--no-pin", action="store_true", help="do not pin bridge/generator to cores")
    p.add_argument("--bridge-source", help="run the bridge from this source tree (A/B runs)")
    p.add_argument("--json", help="also write the results here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("bench.load").setLevel(logging.INFO)
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2
    if pin:
        os.sched_setaffinity(0, {1})
    settings = RunSettings(
        warmup_s=args.warmup,
        window_s=args.window,
        camera=not args.small_media,
        bridge=BridgeOptions(
            cpu=0 if pin and args.workers == 1 else None,
            workers=args.workers,
            source=args.bridge_source,
        ),
    )
    sizes = [int(n) for n in (args.n or DEFAULT_N[args.scenario]).split(",")]
    results: list[Result] = []
    for n in sizes:
        result = asyncio.run(
            run_scenario(scenario(args.scenario, n, args.publishers, args.rooms), settings)
        )
        results.append(result)
        print(table([result]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(results))
    if args.json:
        with open(args.json, "w") as out:
            json.dump([dataclasses.asdict(r) for r in results], out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
