"""``python -m bench.weaklink.pageload --profiles edge,rural-3g --runs 2``: how long a site
behind each profile's link waits for the meeting page (first visit, empty cache).

For each run a fresh Chromium in the site namespace opens the join link and waits until
the client can join (``window.diemcau.join``); the page reports its own Navigation and
Resource Timing: *ready* (page start to joinable), *load* (the load event), the bytes
that crossed the link (transferSize: headers and compressed bodies), the files, and the
downlink the page measured (web/js/link-hint.js: what it sends with its join).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.harness.client import CLIENT_READY
from bench.harness.media import make_media_files
from bench.harness.tokens import make_token
from bench.linkemu import load_profiles

from .meeting import ROOM, Meeting
from .topology import Topology

_TIMINGS = """async () => {
  const nav = performance.getEntriesByType('navigation')[0];
  const files = performance.getEntriesByType('resource');
  const { measuredDownlinkKbps } = await import('/js/link-hint.js');
  return {
    ready_ms: performance.now(),
    load_ms: nav.loadEventEnd,
    bytes: files.reduce((sum, e) => sum + e.transferSize, nav.transferSize),
    files: files.length + 1,
    hint_kbps: measuredDownlinkKbps(),
  };
}"""


@dataclass(frozen=True)
class PageLoad:
    profile: str
    ready_s: float
    load_s: float
    bytes: int
    files: int
    hint_kbps: int | None


async def measure(profile: str, runs: int, work_dir: Path) -> list[PageLoad]:
    """``runs`` first visits of the page over ``profile``'s first step."""
    media = make_media_files(work_dir / "media", 320, 180)
    results: list[PageLoad] = []
    steps = load_profiles()[profile].steps
    async with (
        Topology(steps[0]) as topo,
        Meeting(topo, work_dir / profile, media, adaptive=True) as meeting,
    ):
        assert meeting.bridge is not None
        for run in range(runs):
            browser = await meeting.browser("site")
            try:
                page = await browser.new_page()
                token = make_token(meeting.bridge.secret, ROOM, sub=f"pageload-{run}",
                                   name="pageload", role="participant")  # fmt: skip
                url = f"{meeting.bridge.url_via(topo.link.bridge_addr)}/?room={ROOM}&token={token}"
                await page.goto(url, timeout=180_000)
                await page.wait_for_function(CLIENT_READY, timeout=180_000)
                t = await page.evaluate(_TIMINGS)
            finally:
                await browser.close()
            results.append(
                PageLoad(
                    profile,
                    t["ready_ms"] / 1000,
                    t["load_ms"] / 1000,
                    t["bytes"],
                    t["files"],
                    t["hint_kbps"],
                )
            )
    return results


def table(results: list[PageLoad]) -> str:
    lines = [
        "| profile | ready s | load s | bytes over the link | files | measured kbit/s |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.profile} | {r.ready_s:.2f} | {r.load_s:.2f} | {r.bytes} | {r.files} "
        f"| {'-' if r.hint_kbps is None else r.hint_kbps} |"
        for r in results
    ]
    return "\n".join(lines)


async def _main(profiles: list[str], runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="diemcau-pageload-") as tmp:
        results: list[PageLoad] = []
        for profile in profiles:
            results += await measure(profile, runs, Path(tmp))
    print(table(results))


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.weaklink.pageload", description=__doc__)
    p.add_argument("--profiles", default="edge,rural-3g,satellite,fiber")
    p.add_argument("--runs", type=int, default=2)
    args = p.parse_args()
    names = [n.strip() for n in args.profiles.split(",") if n.strip()]
    unknown = sorted(set(names) - set(load_profiles()))
    if unknown:
        p.error(f"unknown profiles {unknown}; known: {sorted(load_profiles())}")
    asyncio.run(_main(names, args.runs))


if __name__ == "__main__":
    main()
