"""Network namespaces and processes inside them (e2e tests and benchmarks).

Every namespace made here has only ``lo`` up, so nothing started inside it can reach
anything but its own loopback (and whatever veth the caller adds). Everything is torn down
by name/pid, never by pattern.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.linkemu import ns_argv

REPO_ROOT = Path(__file__).resolve().parents[2]
NETNS_PREFIX = "dct-"

# Namespaces created by this process, removed at exit if a teardown never ran.
_created: set[str] = set()

_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")


def netns_problem() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root (run as root, as CI does)"
    if shutil.which("ip") is None:
        return "`ip` (iproute2) is not installed"
    return None


def clean_env(
    extra: Mapping[str, str] | None = None, drop_prefixes: Sequence[str] = ()
) -> dict[str, str]:
    """The current environment without proxy settings (nothing may leave the namespace)
    and without variables starting with any of ``drop_prefixes``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in _PROXY_VARS and not k.startswith(tuple(drop_prefixes))
    }
    env["PYTHONUNBUFFERED"] = "1"
    if extra:
        env.update(extra)
    return env


def _run(argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, timeout=30)


def netns_pids(name: str) -> list[int]:
    res = _run(["ip", "netns", "pids", name], check=False)
    return [int(p) for p in res.stdout.split() if p.strip().isdigit()]


def _kill_pids(pids: Sequence[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def create_netns(prefix: str = NETNS_PREFIX) -> str:
    """Create a uniquely named namespace with only ``lo`` up; return its name."""
    problem = netns_problem()
    if problem is not None:
        raise PermissionError(problem)
    for _ in range(5):
        name = prefix + secrets.token_hex(4)
        res = _run(["ip", "netns", "add", name], check=False)
        if res.returncode == 0:
            break
        if "File exists" not in res.stderr:
            raise RuntimeError(f"ip netns add {name} failed: {res.stderr.strip()}")
    else:
        raise RuntimeError("could not find a free namespace name")
    _created.add(name)
    try:
        _run(["ip", "-n", name, "link", "set", "lo", "up"])
    except BaseException:
        delete_netns(name)
        raise
    return name


def delete_netns(name: str) -> None:
    """Kill every process still in the namespace (TERM, then KILL), then delete it."""
    pids = netns_pids(name)
    if pids:
        _kill_pids(pids, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and netns_pids(name):
            time.sleep(0.1)
        _kill_pids(netns_pids(name), signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and netns_pids(name):
            time.sleep(0.1)
    res = _run(["ip", "netns", "del", name], check=False)
    if res.returncode != 0 and "No such file" not in res.stderr:
        print(f"warning: ip netns del {name}: {res.stderr.strip()}", file=sys.stderr)
    _created.discard(name)


@atexit.register
def _cleanup_leftovers() -> None:
    for name in list(_created):
        with contextlib.suppress(Exception):
            delete_netns(name)


@contextlib.contextmanager
def netns_context(prefix: str = NETNS_PREFIX) -> Iterator[str]:
    name = create_netns(prefix)
    try:
        yield name
    finally:
        delete_netns(name)


# ---------------------------------------------------------------- processes


@dataclass
class NsProcess:
    """A process started inside a namespace, its output captured to ``log_path``."""

    ns: str
    argv: list[str]
    log_path: Path
    popen: subprocess.Popen[bytes]
    _log: object = field(repr=False, default=None)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, max_chars: int = 8000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"<cannot read {self.log_path}: {exc}>"
        return text[-max_chars:]

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the process group, then SIGKILL; always reaps."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)
        log = self._log
        if log is not None and hasattr(log, "close"):
            log.close()
        return self.popen.returncode


def start_process(
    ns: str,
    argv: Sequence[str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    drop_env_prefixes: Sequence[str] = (),
) -> NsProcess:
    """Start ``argv`` inside ``ns`` (``ip netns exec`` execs, so the pid is the program's).

    Inherited variables starting with one of ``drop_env_prefixes`` are not passed on.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("ab")
    full = ns_argv(ns, argv)
    log.write(f"$ {' '.join(full)}\n".encode())
    log.flush()
    popen = subprocess.Popen(
        full,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=clean_env(env, drop_env_prefixes),
        cwd=str(cwd or REPO_ROOT),
        start_new_session=True,
    )
    return NsProcess(ns=ns, argv=list(argv), log_path=log_path, popen=popen, _log=log)


_PROBE = (
    "import sys, urllib.request\n"
    "opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
    "try:\n"
    "    r = opener.open(sys.argv[1], timeout=2)\n"
    "    sys.stdout.write(r.read().decode())\n"
    "    sys.exit(0 if r.status == 200 else 1)\n"
    "except Exception as e:\n"
    "    print(e, file=sys.stderr); sys.exit(1)\n"
)


async def http_ok_in_ns(ns: str, url: str) -> tuple[bool, str]:
    """One GET of ``url`` from inside ``ns``; (answered 200, error text)."""
    ok, _, err = await http_get_in_ns(ns, url)
    return ok, err


async def http_get_in_ns(ns: str, url: str) -> tuple[bool, str, str]:
    """One GET of ``url`` from inside ``ns``; (answered 200, body, error text)."""
    proc = await asyncio.create_subprocess_exec(
        *ns_argv(ns, [sys.executable, "-c", _PROBE, url]),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 10)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False, "", "probe timed out"
    return proc.returncode == 0, out.decode(errors="replace"), err.decode(errors="replace").strip()


async def wait_http_ok(
    ns: str, url: str, timeout: float = 20.0, proc: NsProcess | None = None
) -> None:
    """Poll ``url`` from inside ``ns`` until it answers 200; fail with the log if not."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = ""
    while True:
        if proc is not None and not proc.alive():
            raise AssertionError(
                f"{proc.argv[:4]} exited with {proc.popen.returncode} before {url} answered;"
                f" log {proc.log_path}:\n{proc.log_tail()}"
            )
        ok, last = await http_ok_in_ns(ns, url)
        if ok:
            return
        if loop.time() >= deadline:
            tail = f"; log {proc.log_path}:\n{proc.log_tail()}" if proc else ""
            raise AssertionError(f"{url} in netns {ns} not 200 after {timeout:.0f}s: {last}{tail}")
        await asyncio.sleep(0.25)


# ---------------------------------------------------------------- the bridge server


@dataclass
class BridgeServer:
    ns: str
    port: int
    secret: str
    data_dir: Path
    process: NsProcess

    @property
    def url(self) -> str:
        return self.url_via("127.0.0.1")

    def url_via(self, address: str) -> str:
        """The server's URL as reached on ``address`` (it must listen there)."""
        return f"http://{address}:{self.port}"

    def stop(self) -> int | None:
        return self.process.stop()


async def start_bridge(
    ns: str,
    port: int,
    env: Mapping[str, str],
    log_path: Path,
    data_dir: Path,
    timeout: float = 20.0,
    embedded_defaults: bool = False,
    host: str = "127.0.0.1",
) -> BridgeServer:
    """Run ``python -m signaling serve`` in ``ns`` on host:port; wait for /healthz (asked
    on 127.0.0.1, so ``host`` must be 127.0.0.1 or 0.0.0.0).

    ``env`` must hold DIEMCAU_JWT_SECRET; DIEMCAU_ICE_ADDRESSES defaults to 127.0.0.1 and
    DIEMCAU_DATA_DIR to ``data_dir``.

    ``embedded_defaults=True``: plain ``python -m signaling serve`` (no --host/--port, so
    ``port`` must be 8080), no DIEMCAU_* variable inherited and none set but
    DIEMCAU_DATA_DIR (and whatever ``env`` holds); ``secret`` is then read from the file the
    server generated in ``data_dir``.
    """
    if embedded_defaults:
        assert port == 8080, "the embedded default port is 8080"
        # Fresh, like a first run: the server must create it (and the secret) itself.
        full_env = {"DIEMCAU_DATA_DIR": str(data_dir), **env}
        argv = [sys.executable, "-m", "signaling", "serve"]
        drop: tuple[str, ...] = ("DIEMCAU_",)
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        full_env = {
            "DIEMCAU_ICE_ADDRESSES": "127.0.0.1",
            "DIEMCAU_DATA_DIR": str(data_dir),
            **env,
        }
        argv = [
            sys.executable,
            "-m",
            "signaling",
            "serve",
            "--host",
            host,
            "--port",
            str(port),
        ]
        drop = ()
    proc = start_process(ns, argv, log_path, env=full_env, cwd=REPO_ROOT, drop_env_prefixes=drop)
    try:
        await wait_http_ok(ns, f"http://127.0.0.1:{port}/healthz", timeout, proc)
        secret = full_env.get("DIEMCAU_JWT_SECRET") or (
            (data_dir / "jwt-secret").read_text().strip()
        )
    except BaseException:
        proc.stop()
        raise
    return BridgeServer(ns=ns, port=port, secret=secret, data_dir=data_dir, process=proc)
