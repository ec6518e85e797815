"""Hold every packet of one NFQUEUE for ``delay ± jitter`` ms, then accept it.

    python -m bench.linkemu.nfqueue_delay --queue N --delay-ms D --jitter-ms J \\
        [--control FILE] [--reorder] [--max-queue 20000] [--nice -10]

Talks raw netlink (NETLINK_NETFILTER, nfnetlink_queue) with only the standard library;
run it in the namespace whose ``iptables ... -j NFQUEUE --queue-num N`` rule feeds it.
Once bound it prints one line ``ready queue=N`` on stdout (and nothing else there); logs
go to stderr.

Each packet's hold is ``delay + uniform(-jitter, +jitter)`` (never below 0). By default
the queue stays FIFO: a packet is never released before the one queued ahead of it, so
jitter never reorders (a burst then spreads less than the jitter and its mean delay is a
little above ``delay``, like a real bottleneck queue). ``--reorder`` gives each packet its
own independent delay, which does reorder.

``--control FILE`` holds JSON ``{"delay_ms": D, "jitter_ms": J}``; it is re-read on
SIGHUP and whenever its mtime changes (polled twice a second). New values apply to
packets queued from then on. SIGTERM/SIGINT: accept everything still held, unbind, exit 0.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import errno
import heapq
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time
from collections.abc import Iterator

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5
SO_RCVBUFFORCE = 33

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 1
NLM_F_ACK = 4

NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQNL_MSG_VERDICT_BATCH = 3
MSG_PACKET = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET
MSG_VERDICT = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT
MSG_CONFIG = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG
MSG_VERDICT_BATCH = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH

NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQA_CFG_F_GSO = 4  # hand GSO packets over whole instead of segmenting them first
NFQNL_CFG_CMD_BIND = 1
NFQNL_CFG_CMD_UNBIND = 2
NFQNL_COPY_META = 1
NF_ACCEPT = 1
NLA_TYPE_MASK = 0x3FFF

DEBUG = bool(os.environ.get("LINKEMU_DEBUG"))

_NLHDR = struct.Struct("=IHHII")
_NLA = struct.Struct("=HH")


def _attr(kind: int, data: bytes) -> bytes:
    pad = -len(data) % 4
    return _NLA.pack(4 + len(data), kind) + data + b"\0" * pad


def _msg(msg_type: int, flags: int, queue: int, attrs: bytes, seq: int = 0) -> bytes:
    body = bytes((socket.AF_UNSPEC, 0)) + struct.pack("!H", queue) + attrs
    return _NLHDR.pack(_NLHDR.size + len(body), msg_type, flags, seq, 0) + body


def _verdict(queue: int, packet_id: int, batch: bool) -> bytes:
    hdr = _attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))
    return _msg(MSG_VERDICT_BATCH if batch else MSG_VERDICT, NLM_F_REQUEST, queue, hdr)


class NfQueue:
    """One bound nfnetlink queue (copy mode META: packet ids only, no payload)."""

    def __init__(self, queue: int, max_queue: int) -> None:
        self.queue = queue
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        # A lost notification drops that packet in the kernel; never fail the socket for it.
        self.sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
        self.sock.bind((0, 0))
        self._seq = 0
        self._buf = bytearray(1 << 16)
        cmd = _attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, socket.AF_INET))
        self._request(cmd)
        self._request(_attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0xFFFF, NFQNL_COPY_META)))
        self._request(_attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", max_queue)))
        flags = struct.pack("!I", NFQA_CFG_F_GSO)
        with contextlib.suppress(OSError):  # GSO passthrough is only an optimisation
            self._request(_attr(NFQA_CFG_FLAGS, flags) + _attr(NFQA_CFG_MASK, flags))
        self.sock.setblocking(False)

    def _request(self, attrs: bytes) -> None:
        """Send one config message with NLM_F_ACK and raise on a netlink error."""
        self._seq += 1
        self.sock.send(_msg(MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, self.queue, attrs, self._seq))
        while True:
            n = self.sock.recv_into(self._buf)
            for mtype, off, _length in _messages(self._buf, n):
                if mtype == NLMSG_ERROR:
                    (err,) = struct.unpack_from("=i", self._buf, off + _NLHDR.size)
                    if err:
                        raise OSError(-err, f"nfqueue {self.queue} config: {os.strerror(-err)}")
                    return

    def read_ids(self) -> list[int]:
        """Ids of all packets queued so far (non-blocking; [] if none)."""
        ids: list[int] = []
        buf = self._buf
        while True:
            try:
                n = self.sock.recv_into(buf)
            except BlockingIOError:
                return ids
            except OSError as exc:  # ENOBUFS despite NO_ENOBUFS: those packets are gone
                if exc.errno == errno.ENOBUFS:
                    continue
                raise
            for mtype, off, length in _messages(buf, n):
                if mtype != MSG_PACKET:
                    if mtype == NLMSG_ERROR:
                        (err,) = struct.unpack_from("=i", buf, off + _NLHDR.size)
                        print(f"nfqueue_delay: netlink error {err}", file=sys.stderr)
                    continue
                a, end = off + _NLHDR.size + 4, off + length
                while a + 4 <= end:
                    alen, akind = _NLA.unpack_from(buf, a)
                    if alen < 4:
                        break
                    if akind & NLA_TYPE_MASK == NFQA_PACKET_HDR:
                        ids.append(struct.unpack_from("!I", buf, a + 4)[0])
                        break
                    a += (alen + 3) & ~3

    def accept(self, packet_ids: list[int], batch: bool) -> None:
        """Accept ``packet_ids``; ``batch``: one VERDICT_BATCH for all ids <= the last."""
        if batch:
            data = _verdict(self.queue, packet_ids[-1], True)
        else:
            data = b"".join(_verdict(self.queue, i, False) for i in packet_ids)
        self.sock.setblocking(True)
        try:
            self.sock.send(data)
        finally:
            self.sock.setblocking(False)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.setblocking(True)
            self.sock.send(
                _msg(
                    MSG_CONFIG,
                    NLM_F_REQUEST,
                    self.queue,
                    _attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_UNBIND, 0)),
                )
            )
        self.sock.close()


def _messages(buf: bytearray, n: int) -> Iterator[tuple[int, int, int]]:
    off = 0
    while off + _NLHDR.size <= n:
        length, mtype, _flags, _seq, _pid = _NLHDR.unpack_from(buf, off)
        if length < _NLHDR.size:
            return
        if mtype != NLMSG_DONE:
            yield mtype, off, length
        off += (length + 3) & ~3


def _read_control(path: str, delay: float, jitter: float) -> tuple[float, float]:
    try:
        with open(path) as f:
            data = json.load(f)
        return float(data.get("delay_ms", delay)), float(data.get("jitter_ms", jitter))
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        print(f"nfqueue_delay: control file {path}: {exc}; keeping", file=sys.stderr)
        return delay, jitter


def run(args: argparse.Namespace) -> int:
    delay, jitter = float(args.delay_ms), float(args.jitter_ms)
    control_mtime = 0.0
    if args.control:
        with contextlib.suppress(OSError):
            control_mtime = os.stat(args.control).st_mtime_ns
            delay, jitter = _read_control(args.control, delay, jitter)

    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)  # the wakeup fd carries the signal number

    q = NfQueue(args.queue, args.max_queue)
    print(f"ready queue={args.queue}", flush=True)
    print(f"nfqueue_delay: queue {args.queue} delay {delay} jitter {jitter}", file=sys.stderr)

    fifo: collections.deque[tuple[float, int]] = collections.deque()
    heap: list[tuple[float, int]] = []
    pending = heap if args.reorder else fifo
    last_release = 0.0
    total = max_held = 0
    next_poll = time.monotonic() + 0.5
    running = True
    rnd = random.Random()
    while running:
        now = time.monotonic()
        if pending:
            due: list[int] = []
            if args.reorder:
                while heap and heap[0][0] <= now:
                    due.append(heapq.heappop(heap)[1])
                due.sort()
            else:
                while fifo and fifo[0][0] <= now:
                    due.append(fifo.popleft()[1])
            if due:
                q.accept(due, batch=not args.reorder)
                if DEBUG:
                    print(f"{now:.4f} accept {due}", file=sys.stderr)
        timeout = min(pending[0][0] - now, 0.5) if pending else 0.5
        readable, _, _ = select.select([q.sock, wake_r], [], [], max(timeout, 0.0))
        now = time.monotonic()
        reload = False
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                for signum in wake_r.recv(64):
                    if signum == signal.SIGHUP:
                        reload = True
                    elif signum in (signal.SIGTERM, signal.SIGINT):
                        running = False
        if args.control and now >= next_poll:
            next_poll = now + 0.5
            with contextlib.suppress(OSError):
                mtime = os.stat(args.control).st_mtime_ns
                reload = reload or mtime != control_mtime
                control_mtime = mtime
        if reload and args.control:
            delay, jitter = _read_control(args.control, delay, jitter)
            print(f"nfqueue_delay: delay {delay} jitter {jitter}", file=sys.stderr)
        if q.sock in readable:
            for pid in q.read_ids():
                hold = delay + rnd.uniform(-jitter, jitter) if jitter > 0 else delay
                release = now + max(hold, 0.0) / 1000.0
                if args.reorder:
                    heapq.heappush(heap, (release, pid))
                else:
                    release = max(release, last_release)
                    last_release = release
                    fifo.append((release, pid))
                total += 1
                if DEBUG:
                    print(f"{now:.4f} got {pid} release {release:.4f}", file=sys.stderr)
            max_held = max(max_held, len(pending))

    if pending:  # let what is held through rather than drop it
        ids = sorted(i for _, i in pending)
        q.accept(ids, batch=not args.reorder)
    q.close()
    print(f"nfqueue_delay: exit; {total} packets, at most {max_held} held", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.linkemu.nfqueue_delay")
    p.add_argument("--queue", type=int, required=True, help="NFQUEUE number (0-65535)")
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    p.add_argument("--control", help='JSON {"delay_ms": D, "jitter_ms": J}, re-read on SIGHUP')
    p.add_argument("--reorder", action="store_true", help="independent delays (may reorder)")
    p.add_argument("--max-queue", type=int, default=20000, help="kernel queue length")
    p.add_argument("--nice", type=int, help="set this niceness (negative needs root)")
    args = p.parse_args(argv)
    if not 0 <= args.queue <= 65535:
        p.error("--queue must be 0..65535")
    if args.nice is not None:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, args.nice)
        except OSError as exc:
            print(f"nfqueue_delay: cannot set nice {args.nice}: {exc}", file=sys.stderr)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
