"""bench.syscalls.sendmmsg runs and both ways deliver every datagram (no timing asserted)."""

from __future__ import annotations

from bench.syscalls.sendmmsg import run


def test_both_ways_send_every_datagram() -> None:
    plain, batched = run(n=4, rounds=3)  # raises unless every datagram arrived
    assert plain >= 0 and batched >= 0
