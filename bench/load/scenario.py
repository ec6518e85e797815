"""One load scenario against a fresh bridge process: sites join, publishers stream, and
over a steady window the bridge's CPU per forwarded packet, loss, latency and memory
are measured; join times are measured as sites come in."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from dataclasses import dataclass, field

import aiohttp

from signaling.auth import make_token

from .bridge_process import BridgeOptions, BridgeProcess
from .media import Media
from .receiver import LatencyHistogram, LoadReceiver, StreamCount, received_and_expected
from .site import Site

log = logging.getLogger(__name__)

ROOM = "load"
REPORT_INTERVAL_S = 1.0
CLOSE_TIMEOUT_S = 20


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    publishers: int  # sites that publish audio + video (they also receive the others)
    listeners: int  # sites that only receive
    join_concurrency: int = 20  # sites joining at the same time; listeners at once if 0
    rooms: int = 1  # sites are spread round-robin over this many rooms


@dataclass(frozen=True, slots=True)
class RunSettings:
    warmup_s: float = 3.0
    window_s: float = 10.0
    camera: bool = True  # 640x360 ~500 kbit/s; False: tiny test media
    bridge: BridgeOptions = field(default_factory=BridgeOptions)


@dataclass(frozen=True, slots=True)
class Result:
    scenario: str
    sites: int
    publishers: int
    forwarded_pps: float
    us_per_packet: float | None
    bridge_cpu_pct: float
    loss_pct: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    rss_kib_per_site: float
    join_p50_ms: float
    join_p99_ms: float
    media_p50_ms: float | None  # join to first forwarded packet
    media_p99_ms: float | None
    without_media: int  # listeners that got nothing before the window
    generator_cpu_pct: float
    lane_pct: float | None = None  # of the packets forwarded, sent by fan-out lanes


class _LoadSite:
    def __init__(self, site: Site[LoadReceiver], receiver: LoadReceiver):
        self.site = site
        self.receiver = receiver
        self.join_ms = 0.0
        self.connect_ns = 0

    async def join(self) -> None:
        self.connect_ns = time.monotonic_ns()
        await self.site.join()
        self.join_ms = (time.monotonic_ns() - self.connect_ns) / 1e6

    @property
    def media_ms(self) -> float | None:
        first = self.receiver.first_packet_ns
        return None if first is None else (first - self.connect_ns) / 1e6


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


class _Run:
    def __init__(self, scenario: Scenario, settings: RunSettings, http: aiohttp.ClientSession):
        self.scenario = scenario
        self.settings = settings
        self.http = http
        self.bridge = BridgeProcess(settings.bridge)
        self.latency = LatencyHistogram()
        self.media = Media.camera() if settings.camera else Media.small()
        self.rng = random.Random(4)
        self.sites: list[_LoadSite] = []
        self.tasks: list[asyncio.Task[None]] = []

    def _site(self, index: int) -> _LoadSite:
        room = f"{ROOM}-{index % self.scenario.rooms}"
        token = make_token(
            self.bridge.secret,
            room=room,
            identity=f"site-{index}",
            name=f"Site {index}",
            role="participant",
        )
        receiver = LoadReceiver(self.latency, self.rng.getrandbits(32) or 1)
        site = Site(self.http, self.bridge.base_url, room, token, receiver, self.media)
        site.on_tracks = lambda tracks: receiver.expect(tracks, site.send_feedback)
        loaded = _LoadSite(site, receiver)
        self.sites.append(loaded)
        return loaded

    async def _join_all(self, sites: list[_LoadSite], concurrency: int) -> None:
        limit = asyncio.Semaphore(concurrency or len(sites) or 1)

        async def one(site: _LoadSite) -> None:
            async with limit:
                await site.join()

        await asyncio.gather(*(one(s) for s in sites))

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(REPORT_INTERVAL_S)
            for s in self.sites:
                s.receiver.send_report()

    def _counts(self) -> list[dict[int, StreamCount]]:
        return [s.receiver.counts() for s in self.sites]

    async def _wait_for_media(self, listeners: list[_LoadSite]) -> None:
        deadline = time.monotonic() + 20 + 0.1 * len(self.sites)
        while time.monotonic() < deadline:
            if all(s.receiver.first_packet_ns is not None for s in listeners):
                return
            await asyncio.sleep(0.2)

    async def run(self) -> Result:
        sc = self.scenario
        await self.bridge.start(self.http)
        rss0 = self.bridge.rss_kib()
        log.info("%s: bridge up, %d publishers joining", sc.name, sc.publishers)
        publishers = [self._site(i) for i in range(sc.publishers)]
        await self._join_all(publishers, sc.join_concurrency)
        for p in publishers:
            await p.site.publish()
            self.tasks.append(asyncio.create_task(p.site.stream(24 * 3600)))
        log.info("%s: publishing; %d listeners joining", sc.name, sc.listeners)
        listeners = [self._site(sc.publishers + i) for i in range(sc.listeners)]
        self.tasks.append(asyncio.create_task(self._report()))
        await self._join_all(listeners, sc.join_concurrency)
        log.info("%s: joined; waiting for media", sc.name)
        await self._wait_for_media(self.sites[sc.publishers :] or self.sites)
        log.info("%s: warm-up, then a %.0f s window", sc.name, self.settings.window_s)
        await asyncio.sleep(self.settings.warmup_s)
        rss1 = self.bridge.rss_kib()
        counts0, hist0 = self._counts(), self.latency.copy()
        cpu0, gen0, fwd0 = (
            self.bridge.cpu_s(),
            _own_cpu_s(),
            await self.bridge.forwarded_packets(self.http),
        )
        start = time.monotonic()
        await asyncio.sleep(self.settings.window_s)
        cpu1, gen1, fwd1 = (
            self.bridge.cpu_s(),
            _own_cpu_s(),
            await self.bridge.forwarded_packets(self.http),
        )
        wall = time.monotonic() - start
        counts1, hist = self._counts(), self.latency.minus(hist0)
        received, expected = received_and_expected(counts0, counts1)
        forwarded = fwd1[0] - fwd0[0]
        joins = [s.join_ms for s in self.sites]
        media = [m for s in listeners if (m := s.media_ms) is not None]
        return Result(
            scenario=sc.name,
            sites=len(self.sites),
            publishers=sc.publishers,
            forwarded_pps=forwarded / wall,
            us_per_packet=(cpu1 - cpu0) / forwarded * 1e6 if forwarded else None,
            bridge_cpu_pct=(cpu1 - cpu0) / wall * 100,
            loss_pct=max(0.0, 100 * (1 - received / expected)) if expected else None,
            latency_p50_ms=hist.percentile_ms(0.5),
            latency_p99_ms=hist.percentile_ms(0.99),
            rss_kib_per_site=(rss1 - rss0) / max(1, len(self.sites)),
            join_p50_ms=_percentile(joins, 0.5) or 0.0,
            join_p99_ms=_percentile(joins, 0.99) or 0.0,
            media_p50_ms=_percentile(media, 0.5),
            media_p99_ms=_percentile(media, 0.99),
            without_media=sum(s.receiver.first_packet_ns is None for s in listeners),
            generator_cpu_pct=(gen1 - gen0) / wall * 100,
            lane_pct=100 * (fwd1[1] - fwd0[1]) / forwarded if forwarded else None,
        )

    async def close(self) -> None:
        log.info("%s: closing", self.scenario.name)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await asyncio.gather(*(s.site.close() for s in self.sites), return_exceptions=True)
        except TimeoutError:
            log.warning("%s: sites did not close within %d s", self.scenario.name, CLOSE_TIMEOUT_S)
        self.bridge.stop()


async def run_scenario(scenario: Scenario, settings: RunSettings) -> Result:
    """Run one scenario against its own bridge process; everything is stopped after."""
    # one WebSocket per site: no cap on connections (aiohttp's default is 100)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        run = _Run(scenario, settings, http)
        try:
            return await run.run()
        finally:
            await run.close()
