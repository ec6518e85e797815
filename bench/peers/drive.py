"""One side-by-side measurement: 1 publisher, N subscribers against one server.

Run by bench.peers.compare inside the benchmark namespace (pinned to the clients' core):

    python -m bench.peers.drive --target janus --url http://127.0.0.1:8088 \
        --server-pid 1234 --client-address 10.231.0.2 --n 25

Prints one JSON object: server CPU over the steady window, packets the subscribers
received in it, loss from sequence gaps, and the clients' own CPU (to tell a saturated
client from a saturated server).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from bench.load.media import Media
from bench.load.receiver import LatencyHistogram, StreamCount, received_and_expected
from bridge.aiortc_adapter import AdapterSettings

from .clients import Publisher, Subscriber, Target
from .diemcau_target import DiemcauTarget
from .janus import JanusTarget
from .mediarelay_relay import RelayTarget

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime + stime in ticks) of one process (all its threads), None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15
    return int(fields[1]), int(fields[11]) + int(fields[12])


def cpu_seconds(root: int) -> float:
    """CPU time of `root` and every descendant process still alive."""
    stats: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                stats[int(entry)] = stat
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in stats.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(stats[p][1] for p in tree if p in stats) / CLK_TCK


class _NoLatency(LatencyHistogram):
    """The relay re-encodes: its payloads carry no send-time stamp to read."""

    def add_ns(self, latency_ns: int) -> None:
        return None


def udp_drops() -> int:
    """UDP datagrams this network namespace dropped for full receive buffers (any socket:
    server or clients), from /proc/net/snmp."""
    lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()]
    udp = [line for line in lines if line and line[0] == "Udp:"]
    if len(udp) < 2:
        return 0
    return int(dict(zip(udp[0][1:], udp[1][1:], strict=False)).get("RcvbufErrors", "0"))


def socket_drops(server_root: int) -> tuple[dict[str, int], set[str]]:
    """Drop counters of every UDP socket in this namespace by inode (/proc/net/udp), and
    the inodes of the server's sockets (its processes' fds)."""
    inodes: set[str] = set()
    for pid in {server_root} | _descendants(server_root):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
    drops: dict[str, int] = {}
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 13:
            drops[fields[9]] = int(fields[-1])
    return drops, inodes


def drops_between(
    before: tuple[dict[str, int], set[str]], after: tuple[dict[str, int], set[str]]
) -> tuple[int, int]:
    """(server, clients) drops during the window, on sockets open at both ends of it."""
    server = clients = 0
    for inode, count in after[0].items():
        if inode not in before[0]:
            continue
        delta = count - before[0][inode]
        if inode in before[1] or inode in after[1]:
            server += delta
        else:
            clients += delta
    return server, clients


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                parents[int(entry)] = stat[0]
    tree, frontier = set(), [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return tree


def make_target(args: argparse.Namespace) -> Target:
    if args.target == "janus":
        return JanusTarget(args.url, name=args.label)
    if args.target == "relay":
        return RelayTarget(args.url, name=args.label)
    if args.target == "diemcau":
        return DiemcauTarget(args.url, args.secret, name=args.label)
    raise SystemExit(f"unknown target {args.target}")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = AdapterSettings(ice_addresses=(args.client_address,))
    target = make_target(args)
    # The relay decodes what it receives: no send-time stamp after its payloads.
    publisher = Publisher(settings, Media.camera(), stamped=args.target != "relay")
    latency = LatencyHistogram() if publisher.stamped else _NoLatency()
    rng = random.Random(5)
    subscribers: list[Subscriber] = []
    extra: list[Subscriber] = []
    tasks: list[asyncio.Task[None]] = []

    def subscriber() -> Subscriber:
        return Subscriber(settings, latency, rng.getrandbits(32) or 1)

    async def report() -> None:  # receiver reports about once a second, like a browser
        while True:
            await asyncio.sleep(1.0)
            for s in subscribers:
                s.receiver.send_report()
            if args.verbose:
                got = sum(c.received for s in subscribers for c in s.receiver.counts().values())
                other = sum(s.receiver.other_packets for s in subscribers)
                states = ",".join(sorted({s.state for s in subscribers}))
                first = subscribers[0].receiver.counts() if subscribers else {}
                per = " ".join(str(c.received) for c in first.values())
                print(
                    f"t={time.monotonic() - t0:.0f}s rx={got} other={other} {states}"
                    f" first subscriber per stream: {per}; publisher sent {publisher.sent}"
                    f" (failed {publisher.send_failed})",
                    file=sys.stderr,
                )

    result: dict[str, Any] = {"server": args.label, "n": args.n}
    t0 = time.monotonic()
    try:
        await target.open()
        if isinstance(target, DiemcauTarget):
            # the bridge may offer the publisher a (here empty) subscriber PC too
            extra.append(subscriber())
            target.answer_publisher_offers(extra[0].answer)
        await publisher.connect(target)
        publisher.start()
        await target.publisher_up()
        await asyncio.sleep(1.0)
        failed = 0
        sem = asyncio.Semaphore(args.join_concurrency)

        async def join_one() -> None:
            nonlocal failed
            sub = subscriber()
            subscribers.append(sub)
            async with sem:
                try:
                    await target.subscribe(sub.answer)
                except Exception as exc:
                    failed += 1
                    print(f"subscriber join failed: {type(exc).__name__}: {exc}", file=sys.stderr)

        tasks.append(asyncio.create_task(report()))
        await asyncio.gather(*(join_one() for _ in range(args.n)))
        result["join_s"] = round(time.monotonic() - t0, 1)
        # wait until every subscriber gets media (or the deadline)
        deadline = time.monotonic() + args.media_timeout
        while time.monotonic() < deadline:
            if all(s.receiver.first_packet_ns is not None for s in subscribers):
                break
            await asyncio.sleep(0.2)
        result["receiving"] = sum(s.receiver.first_packet_ns is not None for s in subscribers)
        result["join_failed"] = failed
        await asyncio.sleep(args.warmup)

        def snap() -> tuple[float, float, list[dict[int, StreamCount]], int, float]:
            return (
                cpu_seconds(args.server_pid),
                time.process_time(),
                [s.receiver.counts() for s in subscribers],
                publisher.sent,
                time.monotonic(),
            )

        load0 = Path("/proc/loadavg").read_text().split()[0]
        drops0, split0 = udp_drops(), socket_drops(args.server_pid)
        cpu0, own0, counts0, sent0, t_start = snap()
        hist0 = latency.copy()
        await asyncio.sleep(args.window)
        cpu1, own1, counts1, sent1, t_end = snap()
        hist = latency.minus(hist0)
        wall = t_end - t_start
        received, expected = received_and_expected(counts0, counts1)
        stamped = publisher.stamped
        load1 = Path("/proc/loadavg").read_text().split()[0]
        drops1, split1 = udp_drops(), socket_drops(args.server_pid)
        result.update(
            window_s=round(wall, 1),
            loadavg=f"{load0}-{load1}",
            server_cpu_pct=round(100 * (cpu1 - cpu0) / wall, 1),
            client_cpu_pct=round(100 * (own1 - own0) / wall, 1),
            published_pps=round((sent1 - sent0) / wall, 1),
            received_pps_per_sub=round(received / wall / max(1, len(subscribers)), 1),
            received_packets=received,
            us_per_packet=round(1e6 * (cpu1 - cpu0) / received, 1) if received else None,
            loss_pct=round(max(0.0, 100 * (1 - received / expected)), 2) if expected else None,
            latency_p50_ms=hist.percentile_ms(0.5) if stamped else None,
            latency_p99_ms=hist.percentile_ms(0.99) if stamped else None,
            publisher_send_failed=publisher.send_failed,
            udp_rcvbuf_drops=drops1 - drops0,
            server_socket_drops=drops_between(split0, split1)[0],
            client_socket_drops=drops_between(split0, split1)[1],
            keyframe_requests=publisher.feedback.requests,
            keyframes_sent=publisher.keyframes_sent,
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await publisher.stop()
        await target.close()
        await asyncio.gather(
            publisher.close(), *(s.close() for s in subscribers + extra), return_exceptions=True
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="one side-by-side measurement")
    parser.add_argument("--target", choices=("janus", "relay", "diemcau"), required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", default="")
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--client-address", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument("--media-timeout", type=float, default=20.0)
    parser.add_argument("--join-concurrency", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="per-second counts on stderr")
    args = parser.parse_args()
    args.label = args.label or args.target
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
