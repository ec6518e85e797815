"""``EmulatedLink``: two network namespaces joined by a shaped veth pair.

::

    site ns                                   bridge ns
    [site_dev site_addr] ====== veth ====== [bridge_dev bridge_addr]
      egress: tbf up_kbps          ->          ingress: nft loss, NFQUEUE delay (up)
      ingress: nft loss, NFQUEUE delay (down) <-          egress: tbf down_kbps

Everything a direction does happens on its path: rate on the sender's egress (tbf), loss
on the receiver's netdev ingress (nftables ``numgen``), delay/jitter in the receiver's
mangle PREROUTING (NFQUEUE -> ``nfqueue_delay`` running in that namespace). Only IPv4
between the two veth ends is delayed (ARP/IPv6 are shaped and lost but not delayed).

Caveats, measured the hard way:

* Unregistering any netfilter hook in a namespace (deleting an nft base chain or table,
  ``iptables -F`` of a now-empty table...) makes the kernel drop every packet held in that
  namespace's nfqueues. ``apply`` therefore only swaps the loss *rule*; do not touch
  netfilter in ``site_ns``/``bridge_ns`` while traffic runs.
* The NFQUEUE rules have no ``--queue-bypass``: if a delay helper dies, its direction
  drops everything (visible, not silently undelayed) and the next ``apply`` raises.
* Rates are tbf's (L2 bytes, 1 kbit = 1000 bit/s); TCP payload measures ~96-98 % of it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .profiles import LinkProfile, LinkStep

REPO_ROOT = Path(__file__).resolve().parents[2]
NETNS_PREFIX = "dle-"
CLONE_NEWNET = 0x40000000
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")

# Links started by this process and not closed yet; closed at exit as a last resort.
_live: set[EmulatedLink] = set()


class LinkEmuError(RuntimeError):
    pass


def _run(argv: Sequence[str], check: bool = True, stdin: str | None = None) -> str:
    res = subprocess.run(
        list(argv), input=stdin, capture_output=True, text=True, timeout=30, check=False
    )
    if check and res.returncode != 0:
        raise LinkEmuError(f"{' '.join(argv)} failed ({res.returncode}): {res.stderr.strip()}")
    return res.stdout


def ns_argv(ns: str, argv: Sequence[str]) -> list[str]:
    """``argv`` run inside namespace ``ns`` (``ip netns exec`` execs: same pid)."""
    return ["ip", "netns", "exec", ns, *argv]


def ns_socket(
    ns: str, family: int = socket.AF_INET, type: int = socket.SOCK_STREAM, proto: int = 0
) -> socket.socket:
    """A socket created inside namespace ``ns`` (usable from any thread afterwards).

    Python 3.11 has no ``os.setns``: a throwaway thread enters the namespace via libc and
    creates the socket; a socket keeps the namespace it was made in.
    """
    out: dict[str, object] = {}

    def work() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, f"setns({ns}): {os.strerror(e)}")
            finally:
                os.close(fd)
            out["sock"] = socket.socket(family, type, proto)
        except BaseException as exc:
            out["err"] = exc

    t = threading.Thread(target=work, name=f"setns-{ns}")
    t.start()
    t.join()
    if "err" in out:
        raise out["err"]  # type: ignore[misc]
    return out["sock"]  # type: ignore[return-value]


def _netns_exists(name: str) -> bool:
    return os.path.exists(f"/run/netns/{name}")


def _netns_pids(name: str) -> list[int]:
    out = _run(["ip", "netns", "pids", name], check=False)
    return [int(p) for p in out.split() if p.isdigit()]


def _kill_netns(name: str) -> None:
    """TERM then KILL every process left in ``name`` (ours: we created the namespace)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _netns_pids(name)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and _netns_pids(name):
            time.sleep(0.05)


@dataclass
class _Helper:
    """One ``nfqueue_delay`` process (a direction's delay) in its receiving namespace."""

    ns: str
    queue: int
    control: Path
    popen: subprocess.Popen[bytes]
    log_path: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError as exc:
            return f"<{exc}>"

    def set(self, delay_ms: float, jitter_ms: float) -> None:
        if not self.alive():
            raise LinkEmuError(
                f"nfqueue_delay in {self.ns} died ({self.popen.returncode}):\n{self.log_tail()}"
            )
        tmp = self.control.with_suffix(".tmp")
        tmp.write_text(json.dumps({"delay_ms": delay_ms, "jitter_ms": jitter_ms}))
        os.replace(tmp, self.control)
        os.kill(self.popen.pid, signal.SIGHUP)

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait(3)
        if self.popen.stdout:
            self.popen.stdout.close()


class EmulatedLink:
    """A shaped link between a new site namespace and a new bridge namespace.

    ``with EmulatedLink(step) as link:`` (or ``async with``) sets everything up and always
    tears it down (namespaces deleted, helpers and anything else left in them killed).
    ``step`` is applied at start; without it the link is unshaped (no rate limit, no
    loss, no delay). ``apply(step)`` changes the link in place; ``run_profile`` plays a
    profile's steps at their times. ``reorder=True`` lets jitter reorder packets (default:
    FIFO, see ``nfqueue_delay``). ``tbf_latency_ms`` is how much queueing tbf holds
    before dropping (the bottleneck buffer). The delay helpers run at ``helper_nice``
    (default -10) so a busy machine (browsers) disturbs the delays less.
    """

    def __init__(
        self,
        step: LinkStep | None = None,
        *,
        prefix: str = NETNS_PREFIX,
        tbf_latency_ms: float = 50.0,
        tbf_burst_bytes: int | None = None,
        reorder: bool = False,
        helper_nice: int | None = -10,
        log_dir: str | os.PathLike[str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.initial = step
        self.prefix = prefix
        self.tbf_latency_ms = tbf_latency_ms
        self.tbf_burst_bytes = tbf_burst_bytes
        self.reorder = reorder
        self.helper_nice = helper_nice
        self.python = python
        self._log_dir = Path(log_dir) if log_dir else None
        tag = secrets.token_hex(3)
        self.site_ns = f"{prefix}{tag}-site"
        self.bridge_ns = f"{prefix}{tag}-bridge"
        self.site_dev = f"le{tag}s"
        self.bridge_dev = f"le{tag}b"
        octet2, n = 201 + secrets.randbelow(54), secrets.randbelow(256)
        self.site_addr = f"10.{octet2}.{n}.1"
        self.bridge_addr = f"10.{octet2}.{n}.2"
        self.prefixlen = 30
        self.current: LinkStep | None = None
        self._nft_table = f"linkemu{tag}"
        self._helpers: dict[str, _Helper] = {}  # "down" (in site ns), "up" (in bridge ns)
        self._loss_tables: set[tuple[str, str]] = set()
        self._namespaces: list[str] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------- lifecycle

    def start(self) -> EmulatedLink:
        if os.geteuid() != 0:
            raise PermissionError(
                "EmulatedLink needs root (network namespaces, tc, nft, iptables): "
                "run as root, as CI does"
            )
        for tool in ("ip", "tc", "nft", "iptables"):
            if shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is None:
                raise LinkEmuError(f"`{tool}` is not installed")
        _live.add(self)
        try:
            self._tmp = tempfile.TemporaryDirectory(prefix="linkemu-")
            for ns in (self.site_ns, self.bridge_ns):
                _run(["ip", "netns", "add", ns])
                self._namespaces.append(ns)
                _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            veth = ["veth", "peer", "name", self.bridge_dev, "netns", self.bridge_ns]
            _run(["ip", "link", "add", self.site_dev, "netns", self.site_ns, "type", *veth])
            for ns, dev, addr in (
                (self.site_ns, self.site_dev, self.site_addr),
                (self.bridge_ns, self.bridge_dev, self.bridge_addr),
            ):
                _run(["ip", "-n", ns, "addr", "add", f"{addr}/{self.prefixlen}", "dev", dev])
                _run(["ip", "-n", ns, "link", "set", dev, "up"])
            first = self.initial or LinkStep(down_kbps=0, up_kbps=0)
            self._helpers["down"] = self._start_helper(self.site_ns, self.site_dev, first)
            self._helpers["up"] = self._start_helper(self.bridge_ns, self.bridge_dev, first)
            if self.initial is not None:
                self.apply(self.initial)
            else:
                self._set_loss(self.site_ns, self.site_dev, 0.0, False)
                self._set_loss(self.bridge_ns, self.bridge_dev, 0.0, False)
        except BaseException:
            self.close()
            raise
        return self

    def _start_helper(self, ns: str, dev: str, step: LinkStep) -> _Helper:
        assert self._tmp is not None
        queue = 1000 + secrets.randbelow(60000)
        control = Path(self._tmp.name) / f"{ns}.json"
        control.write_text(json.dumps({"delay_ms": step.delay_ms, "jitter_ms": step.jitter_ms}))
        log_dir = self._log_dir or Path(self._tmp.name)
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"nfqueue-{ns}.log"
        argv = [self.python, "-m", "bench.linkemu.nfqueue_delay", "--queue", str(queue)]
        argv += ["--delay-ms", str(step.delay_ms), "--jitter-ms", str(step.jitter_ms)]
        argv += ["--control", str(control)] + (["--reorder"] if self.reorder else [])
        if self.helper_nice is not None:
            argv += ["--nice", str(self.helper_nice)]
        env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        env["PYTHONUNBUFFERED"] = "1"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                ns_argv(ns, argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=str(REPO_ROOT),
                env=env,
                start_new_session=True,
            )
        helper = _Helper(ns, queue, control, popen, log_path)
        try:
            assert popen.stdout is not None
            ready, _, _ = select.select([popen.stdout], [], [], 10)
            line = popen.stdout.readline() if ready else b""
            if not line.startswith(b"ready"):
                raise LinkEmuError(f"nfqueue_delay in {ns} did not start:\n{helper.log_tail()}")
            rule = ["PREROUTING", "-i", dev, "-j", "NFQUEUE", "--queue-num", str(queue)]
            _run(ns_argv(ns, ["iptables", "-w", "-t", "mangle", "-A", *rule]))
        except BaseException:
            helper.stop()
            raise
        return helper

    def close(self) -> None:
        """Kill the helpers, delete the namespaces (idempotent; never raises)."""
        if self._closed:
            return
        self._closed = True
        for helper in self._helpers.values():
            with contextlib.suppress(Exception):
                helper.stop()
        for ns in reversed(self._namespaces):
            try:
                _kill_netns(ns)
                _run(["ip", "netns", "del", ns], check=False)
            except Exception as exc:
                print(f"linkemu: cleaning {ns}: {exc}", file=sys.stderr)
        if self._tmp is not None:
            with contextlib.suppress(Exception):
                self._tmp.cleanup()
        _live.discard(self)

    def __enter__(self) -> EmulatedLink:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> EmulatedLink:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.close)

    # ------------------------------------------------------------- shaping

    def apply(self, step: LinkStep) -> None:
        """Put ``step`` in force in both directions (in place; outages drop everything)."""
        if self._closed or not self._helpers:
            raise LinkEmuError("link is not started")
        with self._lock:
            # down: bridge -> site (tbf on the bridge end, loss+delay at the site end)
            for rate, outage, tx_ns, tx_dev, rx_ns, rx_dev, direction in (
                (step.down_kbps, step.down_outage, self.bridge_ns, self.bridge_dev,
                 self.site_ns, self.site_dev, "down"),
                (step.up_kbps, step.up_outage, self.site_ns, self.site_dev,
                 self.bridge_ns, self.bridge_dev, "up"),
            ):  # fmt: skip
                if outage:  # drop first, so the outage starts at once
                    self._set_loss(rx_ns, rx_dev, 100.0, True)
                if rate > 0:
                    self._set_rate(tx_ns, tx_dev, rate)
                self._helpers[direction].set(step.delay_ms, step.jitter_ms)
                if not outage:
                    self._set_loss(rx_ns, rx_dev, step.loss_pct, False)
            self.current = step

    async def apply_async(self, step: LinkStep) -> None:
        await asyncio.to_thread(self.apply, step)

    def _set_rate(self, ns: str, dev: str, kbps: float) -> None:
        bps = round(kbps * 1000)
        burst = self.tbf_burst_bytes or max(4096, int(bps / 8 * 0.005))
        tbf = ["tbf", "rate", f"{bps}bit", "burst", str(burst)]
        tbf += ["latency", f"{self.tbf_latency_ms}ms"]
        _run(["tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", *tbf])

    def _set_loss(self, ns: str, dev: str, loss_pct: float, outage: bool) -> None:
        """Replace (atomically) the ingress loss rule of ``dev``.

        Only the rule is replaced (flush chain + add rule in one transaction), never the
        table or chain: unregistering any netfilter hook in a namespace makes the kernel
        drop every packet held in that namespace's nfqueues (nf_queue_nf_hook_drop).
        """
        t = self._nft_table
        if outage or loss_pct >= 100:
            rule = "counter drop"
        elif loss_pct > 0:
            rule = f"numgen random mod 10000 < {round(loss_pct * 100)} counter drop"
        else:
            rule = "counter"
        if (ns, dev) not in self._loss_tables:
            script = (
                f"table netdev {t} {{\n"
                f"  chain in {{\n"
                f'    type filter hook ingress device "{dev}" priority 0; policy accept;\n'
                f"  }}\n"
                f"}}\n"
            )
            _run(ns_argv(ns, ["nft", "-f", "-"]), stdin=script)
            self._loss_tables.add((ns, dev))
        script = f"flush chain netdev {t} in\nadd rule netdev {t} in {rule}\n"
        _run(ns_argv(ns, ["nft", "-f", "-"]), stdin=script)

    async def run_profile(
        self,
        profile: LinkProfile,
        *,
        time_scale: float = 1.0,
        on_step: Callable[[LinkStep], object] | None = None,
    ) -> None:
        """Apply ``profile``'s steps at ``at_s * time_scale`` seconds from now; returns
        once the last step is applied (it then stays). Run it as a task to play a
        profile alongside a test; cancelling it leaves the current step in force."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for step in profile.steps:
            wait = t0 + step.at_s * time_scale - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.apply_async(step)
            if on_step is not None:
                on_step(step)

    # ------------------------------------------------------------- helpers for users

    def site_socket(self, type: int = socket.SOCK_STREAM) -> socket.socket:
        return ns_socket(self.site_ns, socket.AF_INET, type)

    def bridge_socket(self, type: int = socket.SOCK_STREAM) -> socket.socket:
        return ns_socket(self.bridge_ns, socket.AF_INET, type)

    def helper_pids(self) -> list[int]:
        return [h.popen.pid for h in self._helpers.values()]

    def drop_counters(self) -> dict[str, int]:
        """Packets counted by each receiving side's ingress rule (``down``/``up``):
        dropped ones while lossy, all of them while loss is 0."""
        out = {}
        for direction, ns in (("down", self.site_ns), ("up", self.bridge_ns)):
            text = _run(ns_argv(ns, ["nft", "-j", "list", "table", "netdev", self._nft_table]))
            n = 0
            for item in json.loads(text).get("nftables", []):
                for expr in item.get("rule", {}).get("expr", []):
                    if "counter" in expr:
                        n += int(expr["counter"]["packets"])
            out[direction] = n
        return out


@atexit.register
def _close_leftovers() -> None:
    for link in list(_live):
        with contextlib.suppress(Exception):
            link.close()
