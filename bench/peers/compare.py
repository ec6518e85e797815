"""Side by side, same run, same clients, same media: Janus (default and event_loops=1),
the naive aiortc MediaRelay relay, and diemcau.

    .venv/bin/python -m bench.peers.compare --n 10,25,50

For each N and each server (interleaved, so drift hits all alike): start the server in
the benchmark namespace pinned to one core, run bench.peers.drive (1 publisher of VP8
640x360 ~500 kbit/s + Opus, N subscribers) pinned to another core, stop the server.
Prints a table (Markdown) and the ratios to Janus with event_loops=1; --out keeps the
raw JSON. Needs root (namespaces; apt-get install janus when missing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.netns import REPO_ROOT, NsProcess, clean_env, ns_argv, start_process, wait_http_ok

from . import janus
from .netns import CLIENT_ADDRESS, SERVER_ADDRESS, SERVER_IF, veth_namespace

SERVERS = ("janus", "janus-el1", "relay", "diemcau")
LABELS = {
    "janus": "Janus 1.1.2 default",
    "janus-el1": "Janus 1.1.2 event_loops=1",
    "relay": "aiortc MediaRelay relay",
    "diemcau": "diemcau",
}


@dataclass
class Running:
    process: NsProcess
    target: str
    url: str
    secret: str = ""


async def start_server(
    kind: str, ns: str, workdir: Path, core: int, log_dir: Path, port: int, nice: int, src: Path
) -> Running:
    pin = ["nice", "-n", str(nice), "taskset", "-c", str(core)]
    pythonpath = {"PYTHONPATH": str(src)}
    log = log_dir / f"{kind}-{port}.log"
    if kind.startswith("janus"):
        folder = janus.write_config(
            workdir / f"janus-{port}",
            http_port=port,
            ice_interface=SERVER_IF,
            event_loops=1 if kind == "janus-el1" else None,
        )
        proc = start_process(ns, [*pin, *janus.janus_argv(folder)], log)
        running = Running(proc, "janus", f"http://127.0.0.1:{port}")
        health = f"{running.url}/janus/info"
    elif kind == "relay":
        argv = [sys.executable, "-m", "bench.peers.mediarelay_relay", "--port", str(port)]
        proc = start_process(ns, [*pin, *argv], log, env=pythonpath, cwd=src)
        running = Running(proc, "relay", f"http://127.0.0.1:{port}")
        health = f"{running.url}/healthz"
    elif kind == "diemcau":
        secret = secrets.token_urlsafe(32)
        env = {
            "DIEMCAU_JWT_SECRET": secret,
            "DIEMCAU_DATA_DIR": str(workdir / f"diemcau-{port}"),
            "DIEMCAU_ICE_ADDRESSES": SERVER_ADDRESS,
            "DIEMCAU_LOG_LEVEL": "WARNING",
            "DIEMCAU_ADAPTIVE_BITRATE": "0",  # as bench.load: forwarding cost alone
            **pythonpath,
        }
        cli = Path(sys.executable).parent / "diemcau"
        argv = [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)]
        proc = start_process(ns, [*pin, *argv], log, env=env, cwd=src)
        running = Running(proc, "diemcau", f"http://127.0.0.1:{port}", secret)
        health = f"{running.url}/healthz"
    else:
        raise ValueError(kind)
    try:
        await wait_http_ok(ns, health, 30, proc)
    except BaseException:
        proc.stop()
        raise
    return running


async def drive(
    ns: str,
    running: Running,
    kind: str,
    n: int,
    core: int,
    args: argparse.Namespace,
    log: Path,
    src: Path,
) -> dict[str, Any]:
    argv = [
        "nice",
        "-n",
        str(args.nice),
        "taskset",
        "-c",
        str(core),
        sys.executable,
        "-m",
        "bench.peers.drive",
        "--target",
        running.target,
        "--label",
        kind,
        "--url",
        running.url,
        "--server-pid",
        str(running.process.pid),
        "--client-address",
        CLIENT_ADDRESS,
        "--n",
        str(n),
        "--warmup",
        str(args.warmup),
        "--window",
        str(args.window),
    ]
    if running.secret:
        argv.append(f"--secret={running.secret}")  # it may start with "-"
    if args.verbose:
        argv.append("--verbose")
    with log.open("ab") as err:
        proc = await asyncio.create_subprocess_exec(
            *ns_argv(ns, argv),
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            env=clean_env({"PYTHONPATH": str(src)}),
            cwd=str(src),
            start_new_session=True,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), args.window + args.warmup + 180)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    if proc.returncode != 0:
        return {"server": kind, "n": n, "error": f"driver exited {proc.returncode}, see {log}"}
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def _fmt(value: Any, suffix: str = "") -> str:
    return "—" if value is None else f"{value}{suffix}"


def us_per_forwarded(r: dict[str, Any]) -> float | None:
    """Server CPU per packet it sent: received + dropped at the clients' full sockets
    (a starved load generator must not make a server look slower)."""
    drops = r.get("client_socket_drops")
    if not r.get("us_per_packet") or drops is None:
        return None
    received = int(r["received_packets"])
    return round(float(r["us_per_packet"]) * received / (received + int(drops)), 1)


def table(results: Sequence[dict[str, Any]], ns_list: Sequence[int]) -> str:
    lines = [
        "| server | N | µs CPU / received pkt | µs / forwarded pkt | server CPU % | loss % "
        "| rx pkt/s per sub | UDP drops server / clients | client CPU % | latency p50 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        label = LABELS.get(r["server"], r["server"])
        if "error" in r or "skipped" in r:
            lines.append(
                f"| {label} | {r['n']} | {r.get('skipped') or r.get('error')} | | | | | | | |"
            )
            continue
        receiving = "" if r["receiving"] == r["n"] else f" ({r['receiving']}/{r['n']} got media)"
        lines.append(
            f"| {label} | {r['n']} | {_fmt(r['us_per_packet'])} | {_fmt(us_per_forwarded(r))} "
            f"| {r['server_cpu_pct']} "
            f"| {_fmt(r['loss_pct'])}{receiving} | {r['received_pps_per_sub']} "
            f"| {r.get('server_socket_drops', '?')} / {r.get('client_socket_drops', '?')} "
            f"| {r['client_cpu_pct']} | {_fmt(r.get('latency_p50_ms'))} |"
        )
    lines += [
        "",
        "CPU per forwarded packet relative to Janus event_loops=1 at the same N:",
        "",
        "| N | " + " | ".join(LABELS[s] for s in SERVERS) + " |",
    ]
    lines.append("|---" * (len(SERVERS) + 1) + "|")
    for n in ns_list:
        by = {r["server"]: r for r in results if r["n"] == n and r.get("us_per_packet")}

        def cost(r: dict[str, Any]) -> float | None:
            value: float | None = us_per_forwarded(r) or r.get("us_per_packet")
            return value

        ref = cost(by["janus-el1"]) if "janus-el1" in by else None
        cells = []
        for s in SERVERS:
            v = cost(by[s]) if s in by else None
            cells.append("—" if v is None or not ref else f"{v / ref:.2f}x")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def snapshot(rev: str, into: Path) -> Path:
    """The tree of commit `rev`, exported: servers and clients run from it, so edits in
    the working tree during a run change nothing measured."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", rev],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def revision(rev: str) -> str:
    """The diemcau revision measured: commit `rev`, or the working tree if rev is ""."""
    git = ["git", "-C", str(REPO_ROOT)]
    if rev:
        out = subprocess.run([*git, "rev-parse", "--short", rev], capture_output=True, text=True)
        return out.stdout.strip()
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no", "bridge", "signaling"],
        capture_output=True,
        text=True,
    )
    return head.stdout.strip() + (" + uncommitted bridge/signaling changes" if dirty.stdout else "")


def machine() -> str:
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    model = ""
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip()
    return f"nproc {nproc}, {model}, kernel {kernel}, Python {sys.version.split()[0]}"


async def main_async(args: argparse.Namespace) -> int:
    ns_list = [int(x) for x in args.n.split(",") if x]
    servers = [s for s in args.servers.split(",") if s]
    for s in servers:
        if s not in SERVERS:
            raise SystemExit(f"unknown server {s}; choose from {', '.join(SERVERS)}")
    version = janus.ensure_janus() if any(s.startswith("janus") for s in servers) else ""
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    measured = revision(args.rev)  # before the run: HEAD may move while it runs
    print(
        f"# side by side, {started}; {machine()}; {version}; diemcau {measured}",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    port = 18100
    with tempfile.TemporaryDirectory(prefix="dcpeers-") as tmp, veth_namespace() as ns:
        workdir = Path(tmp)
        log_dir = Path(args.logs) if args.logs else workdir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        src = snapshot(args.rev, workdir / "src") if args.rev else REPO_ROOT
        for n in ns_list:
            for kind in servers:
                if kind == "relay" and n > args.relay_max_n:
                    results.append({"server": kind, "n": n, "skipped": "not run (saturates)"})
                    continue
                port += 1
                running = await start_server(
                    kind, ns, workdir, args.server_core, log_dir, port, args.nice, src
                )
                try:
                    result = await drive(
                        ns, running, kind, n, args.client_core, args, log_dir / "drive.log", src
                    )
                finally:
                    running.process.stop()
                results.append(result)
                print(json.dumps(result), flush=True)
        print()
        print(table(results, ns_list))
        if args.out:
            Path(args.out).write_text(
                json.dumps(
                    {
                        "started": started,
                        "machine": machine(),
                        "janus": version,
                        "diemcau": measured,
                        "results": results,
                    },
                    indent=1,
                )
            )
        if not args.logs:
            for path in sorted(log_dir.iterdir()):
                if any(w in path.read_text(errors="replace") for w in ("Traceback", "[ERR]")):
                    print(f"\n--- {path.name} (tail)\n{path.read_text(errors='replace')[-3000:]}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", default="10,25,50", help="subscriber counts, comma-separated")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--relay-max-n", type=int, default=10, help="skip the relay above this N")
    parser.add_argument("--window", type=float, default=15.0, help="steady window, seconds")
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--client-core", type=int, default=0)
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of servers and clients (negative: favour them over other load)",
    )
    parser.add_argument(
        "--rev",
        default="HEAD",
        help="run servers and clients from this commit (git archive); '' = the working tree",
    )
    parser.add_argument("--out", help="write the raw results (JSON) here")
    parser.add_argument("--logs", help="keep server and driver logs in this folder")
    parser.add_argument("--verbose", action="store_true", help="drivers log per-second counts")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
