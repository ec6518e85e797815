"""A meeting across a ``Topology``: the bridge in its namespace, Chromium sites on either
side of the shaped link, all stopped on exit (also on error or Ctrl-C)."""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from playwright.async_api import Page, async_playwright

from bench.harness.browser import BrowserHandle, launch_in_netns
from bench.harness.client import open_and_join
from bench.harness.media import MediaFiles
from bench.harness.netns import BridgeServer, http_get_in_ns, start_bridge
from bench.harness.tokens import make_token

from .topology import Topology

ROOM = "weaklink"
PORT = 8080
# The veth addresses are plain http origins; viewers never ask for the camera, so Chromium
# would hide their host candidates behind mDNS names the bridge cannot resolve.
CHROMIUM_ARGS = ("--disable-features=WebRtcHideLocalIpsWithMdns",)


@dataclass
class Site:
    name: str
    page: Page
    id: str


class Meeting:
    """``async with Meeting(topo, work_dir, media, adaptive=..) as m``: then
    ``await m.browser(side)`` and ``await m.join(browser, side, name, role)``."""

    def __init__(
        self,
        topo: Topology,
        work_dir: Path,
        media: MediaFiles,
        *,
        adaptive: bool,
        env: dict[str, str] | None = None,
    ) -> None:
        self.topo = topo
        self.work_dir = work_dir
        self.media = media
        self.adaptive = adaptive
        self.env = dict(env or {})  # more bridge environment (e.g. DIEMCAU_LOG_LEVEL)
        self.bridge: BridgeServer | None = None
        self._pw_cm: Any = None
        self._pw: Any = None
        self._browsers: list[BrowserHandle] = []
        self._joined = 0

    def _ns_and_address(self, side: str) -> tuple[str, str]:
        """(namespace, the bridge's address seen from there) of side "site" or "fiber"."""
        if side == "site":
            return self.topo.site_ns, self.topo.link.bridge_addr
        return self.topo.fiber_ns, self.topo.bridge_fiber_addr

    async def start(self) -> Meeting:
        env = {
            "DIEMCAU_JWT_SECRET": secrets.token_urlsafe(32),
            "DIEMCAU_ICE_ADDRESSES": f"{self.topo.link.bridge_addr},{self.topo.bridge_fiber_addr}",
            "DIEMCAU_ADAPTIVE_BITRATE": "1" if self.adaptive else "0",
            **self.env,
        }
        self.bridge = await start_bridge(
            self.topo.bridge_ns,
            PORT,
            env,
            log_path=self.work_dir / "bridge.log",
            data_dir=self.work_dir / "bridge-data",
            host="0.0.0.0",
        )
        self._pw_cm = async_playwright()
        self._pw = await self._pw_cm.__aenter__()
        return self

    async def browser(self, side: str) -> BrowserHandle:
        ns, address = self._ns_and_address(side)
        assert self.bridge is not None
        origin = self.bridge.url_via(address)
        handle = await launch_in_netns(
            self._pw,
            ns,
            self.work_dir / "wrappers",
            self.media,
            extra_args=[*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={origin}"],
        )
        self._browsers.append(handle)
        return handle

    async def join(self, handle: BrowserHandle, side: str, name: str, role: str) -> Site:
        """Open a page in ``handle`` and join as ``name`` (role participant or viewer)."""
        assert self.bridge is not None
        _, address = self._ns_and_address(side)
        self._joined += 1
        token = make_token(self.bridge.secret, ROOM, sub=f"site-{self._joined}", name=name,
                           role=role)  # fmt: skip
        page = await handle.new_page()
        url = f"{self.bridge.url_via(address)}/?room={ROOM}&token={token}"
        self_id = await open_and_join(page, url, name, open_mic=role != "viewer")
        return Site(name=name, page=page, id=self_id)

    def bridge_cpu_s(self) -> float | None:
        """CPU seconds (user + system) the bridge process has used so far."""
        if self.bridge is None:
            return None
        try:
            fields = Path(f"/proc/{self.bridge.process.pid}/stat").read_text().rsplit(")", 1)[1]
        except OSError:
            return None
        utime, stime = fields.split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")

    def bridge_log_tail(self, n: int = 20000) -> str:
        return self.bridge.process.log_tail(n) if self.bridge else ""

    async def close(self) -> None:
        if self.bridge is not None:
            # what the bridge counted (drops, NACK answers, probes), kept beside its log;
            # a bridge that is already gone leaves none, and the browsers still close
            with contextlib.suppress(OSError):
                ok, body, _ = await http_get_in_ns(self.bridge.ns, f"{self.bridge.url}/metrics")
                if ok:
                    (self.work_dir / "metrics.txt").write_text(body)
        for handle in reversed(self._browsers):
            await handle.close()
        self._browsers.clear()
        if self._pw_cm is not None:
            with contextlib.suppress(Exception):
                await self._pw_cm.__aexit__(None, None, None)
            self._pw_cm = None
        if self.bridge is not None:
            self.bridge.stop()

    async def __aenter__(self) -> Meeting:
        try:
            return await self.start()
        except BaseException:
            await self.close()
            raise

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
