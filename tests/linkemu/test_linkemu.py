"""Real measurements through ``bench.linkemu.EmulatedLink`` (root; traffic only between
the link's two namespaces). Measured values are printed (``pytest -s`` shows them)."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from bench.linkemu import EmulatedLink, LinkProfile, LinkStep, load_profile, load_profiles
from tests.e2e.netns import skip_or_fail

FAST = 1_000_000  # kbit/s: "no rate limit" for tests that are not about rate


def _require_root() -> None:
    if os.geteuid() != 0:
        skip_or_fail("the link emulator needs root (namespaces, tc, nft, iptables)")


@pytest.fixture(scope="module")
def link() -> Iterator[EmulatedLink]:
    _require_root()
    with EmulatedLink() as lk:
        yield lk


def _ends(link: EmulatedLink, direction: str) -> tuple[str, str, str, str]:
    """(tx ns, tx addr, rx ns, rx addr) of ``direction`` ("down" = bridge -> site)."""
    if direction == "down":
        return link.bridge_ns, link.bridge_addr, link.site_ns, link.site_addr
    return link.site_ns, link.site_addr, link.bridge_ns, link.bridge_addr


def _ns_sock(ns: str, kind: int) -> socket.socket:
    from bench.linkemu import ns_socket

    return ns_socket(ns, socket.AF_INET, kind)


# ---------------------------------------------------------------- measurements


def tcp_goodput_kbps(link: EmulatedLink, direction: str, window: float, skip: float) -> float:
    """TCP payload rate over ``window`` s at the receiver, after ``skip`` s of warm-up."""
    tx_ns, _, rx_ns, rx_addr = _ends(link, direction)
    srv = _ns_sock(rx_ns, socket.SOCK_STREAM)
    cli = _ns_sock(tx_ns, socket.SOCK_STREAM)
    stop = threading.Event()
    samples: list[tuple[float, int]] = []

    def receive() -> None:
        conn, _ = srv.accept()
        conn.settimeout(0.2)
        total, t_first = 0, None
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    data = b"?"  # nothing arrived: just check the clock
                    now = time.monotonic()
                else:
                    if not data:
                        break
                    now = time.monotonic()
                    total += len(data)
                    t_first = t_first or now
                    samples.append((now, total))
                if t_first is not None and now - t_first >= skip + window:
                    break
        stop.set()

    with srv, cli:
        srv.bind((rx_addr, 0))
        srv.listen(1)
        srv.settimeout(5)
        rx = threading.Thread(target=receive)
        rx.start()
        cli.settimeout(5)
        cli.connect(srv.getsockname())
        cli.settimeout(0.2)
        chunk = b"\0" * 16384
        while not stop.is_set():
            try:
                cli.send(chunk)
            except TimeoutError:
                pass
            except OSError:
                break
        rx.join(10)
    t0 = samples[0][0] + skip
    a = next(s for s in samples if s[0] >= t0)
    b = samples[-1]
    return (b[1] - a[1]) * 8 / 1000 / (b[0] - a[0])


def udp_blast(link: EmulatedLink, direction: str, count: int, pps: float = 4000) -> int:
    """Send ``count`` numbered datagrams at about ``pps``; how many distinct ones arrived."""
    tx_ns, tx_addr, rx_ns, rx_addr = _ends(link, direction)
    rx = _ns_sock(rx_ns, socket.SOCK_DGRAM)
    tx = _ns_sock(tx_ns, socket.SOCK_DGRAM)
    with rx, tx:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        rx.bind((rx_addr, 0))
        rx.settimeout(0.5)
        tx.bind((tx_addr, 0))
        dest = rx.getsockname()
        seen: set[int] = set()

        def receive() -> None:
            while True:
                try:
                    seen.add(int.from_bytes(rx.recv(2048)[:4], "big"))
                except TimeoutError:
                    return

        t = threading.Thread(target=receive)
        t.start()
        start = time.monotonic()
        for i in range(count):
            tx.sendto(i.to_bytes(4, "big") + b"\0" * 196, dest)
            ahead = start + (i + 1) / pps - time.monotonic()
            if ahead > 0.002:
                time.sleep(ahead)
        t.join(10)
        return len(seen)


def udp_rtts_ms(link: EmulatedLink, n: int, interval: float = 0.0) -> list[tuple[float, float]]:
    """``n`` sequential UDP ping-pongs site -> bridge -> site: (send time, RTT ms)."""
    a = _ns_sock(link.site_ns, socket.SOCK_DGRAM)
    b = _ns_sock(link.bridge_ns, socket.SOCK_DGRAM)
    out: list[tuple[float, float]] = []
    with a, b:
        b.bind((link.bridge_addr, 0))
        a.bind((link.site_addr, 0))
        a.settimeout(2)
        b.settimeout(0.1)
        stop = threading.Event()

        def echo() -> None:
            while not stop.is_set():
                try:
                    data, addr = b.recvfrom(64)
                except TimeoutError:
                    continue
                b.sendto(data, addr)

        t = threading.Thread(target=echo)
        t.start()
        try:
            for i in range(n):
                t0 = time.monotonic()
                a.sendto(i.to_bytes(4, "big"), b.getsockname())
                while int.from_bytes(a.recv(64), "big") != i:
                    pass
                out.append((t0, (time.monotonic() - t0) * 1000))
                if interval:
                    time.sleep(interval)
        finally:
            stop.set()
            t.join(5)
    return out


# ---------------------------------------------------------------- tests


def test_profiles_load_shared_file() -> None:
    profiles = load_profiles()
    assert {"fiber", "edge", "collapse", "outage"} <= set(profiles)
    edge = profiles["edge"]
    assert edge.steps == (LinkStep(0, 96, 64, 150, 40, 5.0),)
    collapse = profiles["collapse"]
    assert [s.at_s for s in collapse.steps] == [0, 20, 40, 60]
    assert collapse.step_at(45).down_kbps == 80 and collapse.steps[1].jitter_ms == 0
    out = profiles["outage"]
    assert out.steps[1].down_outage and out.steps[1].up_outage and not out.steps[2].down_outage
    with pytest.raises(ValueError):
        LinkStep(loss_pct=101)


def test_not_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(PermissionError, match="root"), EmulatedLink():
        pass


@pytest.mark.netns
def test_rate_each_direction(link: EmulatedLink) -> None:
    step = LinkStep(down_kbps=300, up_kbps=150)
    link.apply(step)
    for direction, target in (("down", step.down_kbps), ("up", step.up_kbps)):
        kbps = tcp_goodput_kbps(link, direction, window=2.5, skip=0.5)
        print(f"rate {direction}: target {target} kbit/s, TCP goodput {kbps:.1f} kbit/s")
        assert 0.75 <= kbps / target <= 1.25, (direction, kbps, target)


@pytest.mark.netns
def test_loss_each_direction(link: EmulatedLink) -> None:
    link.apply(LinkStep(down_kbps=FAST, up_kbps=FAST, loss_pct=10))
    for direction in ("up", "down"):
        got = udp_blast(link, direction, 2000)
        lost = 100 * (2000 - got) / 2000
        print(f"loss {direction}: 10 % configured, {lost:.2f} % of 2000 lost")
        assert 5 <= lost <= 15, (direction, lost)


@pytest.mark.netns
def test_delay_and_jitter(link: EmulatedLink) -> None:
    link.apply(LinkStep(down_kbps=FAST, up_kbps=FAST))
    base = [r for _, r in udp_rtts_ms(link, 20)]
    link.apply(LinkStep(down_kbps=FAST, up_kbps=FAST, delay_ms=50))
    delayed = [r for _, r in udp_rtts_ms(link, 10)]
    link.apply(LinkStep(down_kbps=FAST, up_kbps=FAST, delay_ms=50, jitter_ms=20))
    jittered = [r for _, r in udp_rtts_ms(link, 20)]
    print(
        f"RTT no delay: median {statistics.median(base):.2f} ms;"
        f" 50 ms each way: min {min(delayed):.1f} median {statistics.median(delayed):.1f}"
        f" max {max(delayed):.1f} ms; +-20 ms jitter: {min(jittered):.1f}..{max(jittered):.1f}"
        f" ms, stdev {statistics.stdev(jittered):.1f}"
    )
    assert statistics.median(base) < 20
    assert min(delayed) >= 95
    assert statistics.median(delayed) / statistics.median(base) > 5
    # delays only ever add (a busy machine can add some): bound the low side and the median
    assert min(jittered) >= 100 - 2 * 20 - 5 and 80 <= statistics.median(jittered) <= 125
    assert max(jittered) - min(jittered) > 10


@pytest.mark.netns
async def test_step_change_at_runtime(link: EmulatedLink) -> None:
    s20 = LinkStep(down_kbps=FAST, up_kbps=FAST, delay_ms=20)
    profile = LinkProfile("step", (s20, replace(s20, at_s=1.0, delay_ms=80)))
    applied: list[float] = []
    player = asyncio.create_task(
        link.run_profile(profile, on_step=lambda s: applied.append(time.monotonic()))
    )
    rtts = await asyncio.to_thread(udp_rtts_ms, link, 22, 0.05)
    await player
    assert link.current == profile.steps[1] and len(applied) == 2
    switch = applied[1]
    before = [r for t, r in rtts if t < switch - 0.1 and t > applied[0]]
    after = [r for t, r in rtts if t > switch + 0.05]
    print(
        f"step 20 -> 80 ms: RTT before {statistics.median(before):.1f} ms (n={len(before)}),"
        f" after {statistics.median(after):.1f} ms (n={len(after)})"
    )
    assert before and after
    assert min(before) >= 38 and statistics.median(before) < 60
    assert min(after) >= 155 and statistics.median(after) < 180


@pytest.mark.netns
def test_outage_and_recovery(link: EmulatedLink) -> None:
    outage = load_profile("outage")
    normal, down, back = outage.steps
    # 228-byte frames at 200/s: 365 kbit/s, under the profile's 700/1500 kbit/s
    link.apply(replace(normal, delay_ms=0, loss_pct=0))
    assert udp_blast(link, "up", 60, 200) == 60
    link.apply(replace(down, delay_ms=0))
    got = {d: udp_blast(link, d, 60, 200) for d in ("up", "down")}
    # a TCP connect must fail too
    c = _ns_sock(link.site_ns, socket.SOCK_STREAM)
    s = _ns_sock(link.bridge_ns, socket.SOCK_STREAM)
    with c, s:
        s.bind((link.bridge_addr, 0))
        s.listen()
        c.settimeout(0.5)
        with pytest.raises(OSError):
            c.connect(s.getsockname())
    link.apply(replace(back, delay_ms=0))
    after = {d: udp_blast(link, d, 60, 200) for d in ("up", "down")}
    print(f"outage: received {got} of 60 each way; after recovery {after} of 60")
    assert got == {"up": 0, "down": 0}
    assert min(after.values()) >= 55  # the recovery step has 1 % loss


@pytest.mark.netns
def test_apply_keeps_packets_in_flight(link: EmulatedLink) -> None:
    """Packets held in the delay queues survive a step change (the loss rule is swapped
    in place: re-creating an nft chain would make the kernel flush every nfqueue)."""
    slow = LinkStep(down_kbps=FAST, up_kbps=FAST, delay_ms=300)
    link.apply(slow)
    changer = threading.Timer(0.25, link.apply, (replace(slow, delay_ms=100, loss_pct=0.0),))
    changer.start()
    got = udp_blast(link, "up", 500, pps=1000)
    changer.join()
    print(f"apply during traffic at 300 ms delay: {got}/500 delivered")
    assert got == 500


@pytest.mark.netns
def test_delay_helper_throughput(link: EmulatedLink) -> None:
    link.apply(LinkStep(down_kbps=FAST, up_kbps=FAST, delay_ms=10, jitter_ms=5))
    t0 = time.monotonic()
    got = udp_blast(link, "up", 10000, pps=5000)
    elapsed = time.monotonic() - t0 - 0.5  # the receiver's idle timeout
    print(f"nfqueue throughput: {got}/10000 delivered at 5000 pkt/s offered ({elapsed:.2f} s)")
    assert got >= 9900


@pytest.mark.netns
def test_teardown_leaves_nothing() -> None:
    _require_root()
    lk = EmulatedLink(LinkStep(down_kbps=500, up_kbps=500, delay_ms=30, jitter_ms=5))
    with pytest.raises(RuntimeError, match="boom"), lk:
        names, pids = (lk.site_ns, lk.bridge_ns), lk.helper_pids()
        assert all(os.path.exists(f"/run/netns/{n}") for n in names)
        raise RuntimeError("boom")
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(n in listed for n in names)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    lk.close()  # idempotent
