"""The README's first command on an ordinary desktop, with the embedded defaults.

`python -m signaling serve` with no DIEMCAU_JWT_SECRET (a secret is generated into
DIEMCAU_DATA_DIR, 0600) and no DIEMCAU_ICE_ADDRESSES (the bridge offers 127.0.0.1 plus every
interface address), in a namespace that looks like a desktop on a LAN (`lo` plus a veth pair
with both ends inside it). Two stock Chromium browsers (no
--allow-loopback-in-peer-connection) open the printed link and a `signaling link` one and
must see and hear each other. Everything stays inside the namespace.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import stat
import subprocess
import sys
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.harness.client import (
    CLIENT_READY,
    DESCRIBE,
    JOIN_FAILED,
    JOIN_TIMEOUT,
    JOINED,
    OPEN_MIC,
    START_JOIN,
)

from .browser import BrowserHandle, WaitTimeout, wait_for
from .netns import REPO_ROOT, BridgeServer, clean_env, ns_argv
from .test_meeting import Site, all_of, sees

pytestmark = [pytest.mark.e2e, pytest.mark.netns]

PORT = 8080  # the embedded default
LINK_PREFIX = "http://127.0.0.1:8080/?room="

# ICE as each browser sees it: both PCs' candidate pairs with their local/remote candidates.
ICE_DESCRIBE = """async () => {
  const d = window.diemcau;
  if (!d) return 'no window.diemcau';
  const out = {};
  for (const [which, pc] of Object.entries(d.pcs)) {
    if (!pc) { out[which] = null; continue; }
    const report = await pc.getStats();
    const byId = new Map();
    report.forEach(r => byId.set(r.id, r));
    const cand = id => {
      const c = byId.get(id);
      return c ? `${c.candidateType} ${c.protocol} ${c.address ?? c.ip}:${c.port}` +
                 (c.networkType ? ` (${c.networkType})` : '') : id;
    };
    const pairs = [], locals = [], remotes = [];
    report.forEach(r => {
      if (r.type === 'candidate-pair') pairs.push({
        local: cand(r.localCandidateId), remote: cand(r.remoteCandidateId), state: r.state,
        nominated: r.nominated, requestsSent: r.requestsSent,
        responsesReceived: r.responsesReceived, requestsReceived: r.requestsReceived,
        bytesSent: r.bytesSent, bytesReceived: r.bytesReceived});
      if (r.type === 'local-candidate') locals.push(cand(r.id));
      if (r.type === 'remote-candidate') remotes.push(cand(r.id));
    });
    out[which] = {connectionState: pc.connectionState, iceConnectionState: pc.iceConnectionState,
                  iceGatheringState: pc.iceGatheringState, locals, remotes, pairs,
                  localSdpCandidates: (pc.localDescription?.sdp || '').split('\\r\\n')
                    .filter(l => l.startsWith('a=candidate')),
                  remoteSdpCandidates: (pc.remoteDescription?.sdp || '').split('\\r\\n')
                    .filter(l => l.startsWith('a=candidate'))};
  }
  return out;
}"""


def _ip(ns: str, *args: str) -> None:
    subprocess.run(["ip", "-n", ns, *args], check=True, capture_output=True, text=True, timeout=30)


def make_desktop_lan(ns: str) -> tuple[str, str]:
    """A veth pair with both ends in ``ns`` (10.201.N.1/30, .2/30), LAN-desktop sysctls.

    Created inside the namespace, so it goes away with it. Returns the two addresses.
    """
    n = random.randint(1, 250)
    a, b = f"10.201.{n}.1", f"10.201.{n}.2"
    _ip(ns, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1")
    _ip(ns, "addr", "add", f"{a}/30", "dev", "lan0")
    _ip(ns, "addr", "add", f"{b}/30", "dev", "lan1")
    _ip(ns, "link", "set", "lan0", "up")
    _ip(ns, "link", "set", "lan1", "up")
    # net.ipv4.conf.* are per namespace: these touch only ``ns``.
    settings = ["net.ipv4.conf.all.accept_local=1"] + [
        f"net.ipv4.conf.{dev}.rp_filter=0" for dev in ("all", "default", "lo", "lan0", "lan1")
    ]
    subprocess.run(
        ns_argv(ns, ["sysctl", "-q", "-w", *settings]),
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return a, b


async def printed_join_link(server: BridgeServer, timeout: float = 10.0) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for line in server.process.log_tail(200_000).splitlines():
            if "join link" in line:
                return line.split(": ", 1)[1].strip()
        if loop.time() >= deadline:
            raise AssertionError(
                f"no 'join link' line in the server's output:\n{server.process.log_tail()}"
            )
        await asyncio.sleep(0.2)


def minted_link(server: BridgeServer, room: str, name: str) -> str:
    """`python -m signaling link` in the bridge's namespace, same data dir, no secret env."""
    env = clean_env({"DIEMCAU_DATA_DIR": str(server.data_dir)}, drop_prefixes=("DIEMCAU_",))
    argv = [sys.executable, "-m", "signaling", "link", "--room", room, "--name", name]
    res = subprocess.run(
        ns_argv(server.ns, argv),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert res.returncode == 0, f"signaling link failed ({res.returncode}): {res.stderr}"
    return res.stdout.strip().splitlines()[-1]


async def ice_report(site: Site) -> str:
    try:
        value = await asyncio.wait_for(site.page.evaluate(ICE_DESCRIBE), 10)
    except Exception as exc:
        value = f"<error: {type(exc).__name__}: {exc}>"
    return f"\nICE of {site.name}: {json.dumps(value, ensure_ascii=False, indent=1)}"


async def open_link_and_join(
    launch_browser: Callable[..., Awaitable[BrowserHandle]], ns: str, url: str, name: str
) -> Site:
    handle = await launch_browser(ns, allow_loopback=False)
    page = await handle.new_page()
    resp = await page.goto(url, timeout=30_000)
    assert resp is not None and resp.ok, f"{name}: GET {url} -> {resp and resp.status}"
    await wait_for(page, CLIENT_READY, 15, what=f"{name}: window.diemcau loaded")
    await page.evaluate(START_JOIN, name)
    site = Site(name=name, handle=handle, page=page)
    try:
        await wait_for(
            page,
            JOINED,
            JOIN_TIMEOUT,
            what=f"{name}: state === 'joined'",
            describe=DESCRIBE,
            fail_if=JOIN_FAILED,
        )
    except WaitTimeout as exc:
        raise WaitTimeout(f"{exc}{await ice_report(site)}") from None
    assert await page.evaluate(OPEN_MIC), f"{name}: the mic did not open"
    self_id = await page.evaluate("() => window.diemcau.selfId")
    assert isinstance(self_id, str) and self_id, f"{name}: bad selfId {self_id!r}"
    site.id = self_id
    return site


async def sees_with_ice(site: Site, others: list[Site]) -> None:
    try:
        await sees(site, others, audio=True)
    except WaitTimeout as exc:
        raise WaitTimeout(f"{exc}{await ice_report(site)}") from None


async def test_readme_quickstart_on_a_lan_desktop(
    netns: str,
    bridge_server: Callable[..., Awaitable[BridgeServer]],
    launch_browser: Callable[..., Awaitable[BrowserHandle]],
) -> None:
    make_desktop_lan(netns)
    # Traffic cannot leave: the namespace has lo and the two ends of its own pair, no more.
    links = subprocess.run(
        ["ip", "-n", netns, "-o", "link", "show"], capture_output=True, text=True, check=True
    ).stdout
    names = sorted(line.split(":")[1].strip().split("@")[0] for line in links.splitlines())
    assert names == ["lan0", "lan1", "lo"], links

    server = await bridge_server(
        netns, PORT, env={"DIEMCAU_LOG_LEVEL": "DEBUG"}, embedded_defaults=True
    )

    # The embedded default secret: generated once into the data dir, owner-only.
    secret_file = server.data_dir / "jwt-secret"
    assert secret_file.is_file(), f"{secret_file} was not created"
    mode = stat.S_IMODE(os.stat(secret_file).st_mode)
    assert mode == 0o600, f"{secret_file} has mode {oct(mode)}, want 0o600"
    assert len(server.secret) >= 32

    link_a = await printed_join_link(server)
    assert link_a.startswith(LINK_PREFIX), link_a
    room = parse_qs(urlsplit(link_a).query)["room"][0]
    link_b = minted_link(server, room, "Xã B")
    assert link_b.startswith(f"{LINK_PREFIX}{room}&"), link_b

    a, b = await all_of(
        open_link_and_join(launch_browser, netns, link_a, "Điểm cầu"),
        open_link_and_join(launch_browser, netns, link_b, "Xã B"),
    )
    assert a.id != b.id, (a.id, b.id)

    await all_of(sees_with_ice(a, [b]), sees_with_ice(b, [a]))
