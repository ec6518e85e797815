"""Where the sites of a weak-link run sit.

::

    site ns  ==shaped veth (EmulatedLink)==  bridge ns  ==plain veth==  fiber ns

The bridge runs in the bridge namespace and listens on both veths. The "fiber" side is
unshaped: the fiber profile (20/10 Mbit/s, 10 ms) is far above what one meeting sends, so
leaving it unshaped changes nothing but the CPU its delay helper would cost.
"""

from __future__ import annotations

import asyncio
import ipaddress
import subprocess
from types import TracebackType

from bench.harness.netns import create_netns, delete_netns
from bench.linkemu import EmulatedLink, LinkStep
from bench.linkemu.link import LinkEmuError

FIBER_PREFIX = "dwf-"


class Topology:
    """``async with Topology(step) as topo``: the shaped link (``topo.link``) and a fiber
    namespace attached to its bridge namespace; everything deleted on exit."""

    def __init__(self, step: LinkStep) -> None:
        self.link = EmulatedLink(step)
        self.fiber_ns = ""
        self.fiber_addr = ""  # the fiber site's address
        self.bridge_fiber_addr = ""  # the bridge's address on the fiber veth

    @property
    def bridge_ns(self) -> str:
        return self.link.bridge_ns

    @property
    def site_ns(self) -> str:
        return self.link.site_ns

    def _attach_fiber(self) -> None:
        # The next /30 after the link's own (10.x.y.0/30): 10.x.y.4/30.
        net = ipaddress.ip_network(f"{self.link.site_addr}/30", strict=False)
        base = net.network_address + 4
        self.fiber_addr, self.bridge_fiber_addr = str(base + 1), str(base + 2)
        self.fiber_ns = create_netns(FIBER_PREFIX)
        tag = self.fiber_ns.removeprefix(FIBER_PREFIX)[:6]
        fdev, bdev = f"wf{tag}f", f"wf{tag}b"
        steps = [
            ["ip", "link", "add", fdev, "netns", self.fiber_ns, "type", "veth",
             "peer", "name", bdev, "netns", self.bridge_ns],
            ["ip", "-n", self.fiber_ns, "addr", "add", f"{self.fiber_addr}/30", "dev", fdev],
            ["ip", "-n", self.bridge_ns, "addr", "add", f"{self.bridge_fiber_addr}/30",
             "dev", bdev],
            ["ip", "-n", self.fiber_ns, "link", "set", fdev, "up"],
            ["ip", "-n", self.bridge_ns, "link", "set", bdev, "up"],
        ]  # fmt: skip
        for argv in steps:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
            if res.returncode != 0:
                raise LinkEmuError(f"{' '.join(argv)}: {res.stderr.strip()}")

    def start(self) -> Topology:
        try:
            self.link.start()
            self._attach_fiber()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self.fiber_ns:
            delete_netns(self.fiber_ns)
            self.fiber_ns = ""
        self.link.close()

    async def __aenter__(self) -> Topology:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.close)
