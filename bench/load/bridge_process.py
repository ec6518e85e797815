"""The bridge under test: `diemcau serve` in a child process on loopback, optionally pinned
to one core, with what the load figures need read from /proc and /metrics."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from signaling.workers import free_port

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class BridgeOptions:
    cpu: int | None = 0  # taskset core; None: not pinned
    workers: int = 1
    extra_env: tuple[tuple[str, str], ...] = ()
    # run the bridge from this source tree (e.g. `git archive` of another commit) for A/B
    source: str | None = None


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process (/proc/<pid>/stat fields 14 and 15, proc(5))."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def proc_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


class BridgeProcess:
    """One `diemcau serve` (front plus workers with --workers > 1)."""

    def __init__(self, options: BridgeOptions):
        self.options = options
        self.port = free_port()
        self.secret = secrets.token_urlsafe(32)
        self._dir = tempfile.TemporaryDirectory(prefix="diemcau-load-")
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = (Path(self._dir.name) / "bridge.log").open("wb")
        self.base_url = f"http://127.0.0.1:{self.port}"

    async def start(self, session: aiohttp.ClientSession) -> None:
        env = dict(os.environ)
        env.update(
            DIEMCAU_JWT_SECRET=self.secret,
            DIEMCAU_ADMIN_KEY=secrets.token_urlsafe(16),
            DIEMCAU_DATA_DIR=self._dir.name,
            DIEMCAU_ICE_ADDRESSES="127.0.0.1",
            DIEMCAU_MAX_PARTICIPANTS="5000",
            DIEMCAU_LOG_LEVEL="WARNING",
            DIEMCAU_WORKERS=str(self.options.workers),
            # Synthetic listeners send no REMB; the cost measured is forwarding's, as for
            # Janus, which has no per-subscriber adaptation either.
            DIEMCAU_ADAPTIVE_BITRATE="0",
        )
        env.update(self.options.extra_env)
        cmd = [sys.executable, "-m", "signaling", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port)]
        if self.options.cpu is not None:
            cmd = ["taskset", "-c", str(self.options.cpu), *cmd]
        self._proc = subprocess.Popen(
            cmd, env=env, cwd=self.options.source, stdout=self._log, stderr=subprocess.STDOUT
        )
        for _ in range(1200):  # a Python process importing aiortc: slow on a busy machine
            if self._proc.poll() is not None:
                raise RuntimeError(f"bridge exited: {self.log()}")
            try:
                async with session.get(f"{self.base_url}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"bridge did not come up: {self.log()}")

    def log(self) -> str:
        return (Path(self._dir.name) / "bridge.log").read_text(errors="replace")[-4000:]

    @property
    def pids(self) -> list[int]:
        """The serving processes: the bridge, and its workers if it has any."""
        assert self._proc is not None
        return [self._proc.pid, *children(self._proc.pid)]

    def cpu_s(self) -> float:
        return sum(proc_cpu_s(pid) for pid in self.pids)

    def rss_kib(self) -> int:
        return sum(proc_rss_kib(pid) for pid in self.pids)

    async def forwarded_packets(self, session: aiohttp.ClientSession) -> tuple[int, int]:
        """diemcau_rtp_packets_out_total and, of it, diemcau_lane_packets_out_total (0 on
        a bridge without lanes), summed over workers by the front if any."""
        async with session.get(f"{self.base_url}/metrics") as resp:
            text = await resp.text()

        def total(name: str) -> int:
            return sum(int(line.split()[-1]) for line in text.splitlines() if line.startswith(name))

        return total("diemcau_rtp_packets_out_total"), total("diemcau_lane_packets_out_total")

    def stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._log.close()
        self._dir.cleanup()
