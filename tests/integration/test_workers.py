"""`diemcau serve --workers 2` as real processes: rooms land on different workers and
media flows in both, relayed signaling through the front, media straight to the worker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from clients import Site

from signaling.auth import make_token
from signaling.workers import free_port, merge_metrics, worker_index

SECRET = "workers-test-secret-0123456789abcdef"


@pytest.fixture
def front(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = dict(
        os.environ,
        DIEMCAU_JWT_SECRET=SECRET,
        DIEMCAU_ADMIN_KEY="workers-test-admin-key",
        DIEMCAU_DATA_DIR=str(tmp_path),
        DIEMCAU_ICE_ADDRESSES="127.0.0.1",
        DIEMCAU_LOG_LEVEL="WARNING",
    )
    cmd = [sys.executable, "-m", "signaling", "serve", "--workers", "2", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)


async def _healthy(http: aiohttp.ClientSession, url: str) -> dict[str, object]:
    for _ in range(1200):  # three Python processes start: slow on a busy machine
        try:
            async with http.get(f"{url}/healthz") as resp:
                if resp.status == 200:
                    body: dict[str, object] = await resp.json()
                    return body
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("front did not come up")


def test_placement_is_stable_and_spreads() -> None:
    assert worker_index("hop-tinh", 2) == worker_index("hop-tinh", 2)
    assert {worker_index(f"room-{i}", 2) for i in range(10)} == {0, 1}


def test_merge_metrics_adds_samples() -> None:
    a = '# TYPE x counter\nx 2\ny{reason="a"} 1\n'
    b = '# TYPE x counter\nx 3\ny{reason="b"} 4\n'
    assert merge_metrics([a, b]) == '# TYPE x counter\nx 5\ny{reason="a"} 1\ny{reason="b"} 4\n'


async def test_two_rooms_on_two_workers(front: str) -> None:
    rooms = [
        "room-0",
        next(
            f"room-{i}"
            for i in range(1, 50)
            if worker_index(f"room-{i}", 2) != worker_index("room-0", 2)
        ),
    ]
    async with aiohttp.ClientSession() as http:
        await _healthy(http, front)
        sites: dict[str, tuple[Site, Site]] = {}
        try:
            for room in rooms:
                pub, sub = (
                    Site(
                        http,
                        front,
                        room,
                        make_token(SECRET, room=room, identity=who, name=who, role="participant"),
                    )
                    for who in ("a", "b")
                )
                sites[room] = (pub, sub)
                await pub.join()
                await sub.join()
                await pub.publish()
            await asyncio.gather(*(pub.stream(1.5) for pub, _ in sites.values()))
            for room, (_, sub) in sites.items():
                assert len(sub.received_for("a", "audio")) > 20, room
                assert len(sub.received_for("a", "video")) > 5, room
            health = await _healthy(http, front)
            assert health["worker_rooms"] == [1, 1]
            async with http.get(f"{front}/metrics") as resp:
                metrics = await resp.text()
            forwarded = next(
                line
                for line in metrics.splitlines()
                if line.startswith("diemcau_rtp_packets_out_total ")
            )
            assert int(forwarded.split()[-1]) > 50
        finally:
            for pub, sub in sites.values():
                await pub.close()
                await sub.close()
