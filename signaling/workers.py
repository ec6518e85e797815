"""`diemcau serve --workers N`: one bridge process per core, meetings placed across them.

The front process owns the public port and spawns N workers, each a complete bridge
(its own rooms, its own ICE sockets) on an internal loopback port. A room belongs to
worker ``sha256(room) mod N``: the front relays each `/ws?room=R` WebSocket to the
worker that owns R, so all of a room's participants meet in one process. Media never
passes through the front: ICE candidates in the SDP are the worker's own UDP sockets.
Other HTTP (the web client, the admin API) goes to worker 0; /metrics sums the workers'.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import hashlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from .app import MAX_ROOM_NAME, create_app
from .settings import Settings, settings_from_env

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "host"}
_PR_SET_PDEATHSIG = 1  # prctl(2)


def worker_index(room: str, count: int) -> int:
    """The worker that owns ``room``: stable across processes and restarts."""
    digest = hashlib.sha256(room.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass(frozen=True, slots=True)
class Worker:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Workers:
    """The worker processes of one front, started and stopped together."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self.all: list[Worker] = []

    def owner(self, room: str) -> Worker:
        return self.all[worker_index(room, len(self.all))]

    async def start(self, http: aiohttp.ClientSession) -> None:
        # The front binds its own port only after this runs (aiohttp's startup comes
        # first): a free port may be that one, and the front then failed to bind (a
        # test's front on an ephemeral port, seen once in a clean-clone CI run).
        taken = {self._settings.port}
        for _ in range(self._settings.workers):
            port = free_port()
            while port in taken:
                port = free_port()
            taken.add(port)
            env = dict(os.environ)
            env.update(
                DIEMCAU_JWT_SECRET=self._settings.jwt_secret,
                DIEMCAU_ADMIN_KEY=self._settings.admin_key,
                DIEMCAU_PUBLIC_URL=self._settings.base_url,
            )
            cmd = [sys.executable, "-m", "signaling.workers", "--port", str(port)]
            process = subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent)
            self.all.append(Worker(port, process))
        for worker in self.all:
            await _wait_healthy(http, worker)

    def stop(self) -> None:
        for worker in self.all:
            worker.process.terminate()
        for worker in self.all:
            try:
                worker.process.wait(10)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(5)


WORKERS = web.AppKey("workers", Workers)
HTTP = web.AppKey("http", aiohttp.ClientSession)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the front dies, so no worker outlives it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


async def _wait_healthy(http: aiohttp.ClientSession, worker: Worker) -> None:
    for _ in range(1200):
        if worker.process.poll() is not None:
            raise RuntimeError(f"worker on port {worker.port} exited")
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(f"{worker.url}/healthz") as resp:
                if resp.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"worker on port {worker.port} did not come up")


async def _relay_websocket(request: web.Request) -> web.StreamResponse:
    room = request.query.get("room", "")
    if not room or len(room) > MAX_ROOM_NAME:
        raise web.HTTPBadRequest(text="query parameter 'room' is required (at most 128 chars)")
    target = request.app[WORKERS].owner(room)
    async with request.app[HTTP].ws_connect(
        f"{target.url}/ws?{request.query_string}", max_msg_size=0
    ) as upstream:
        client = web.WebSocketResponse(max_msg_size=0)  # the worker enforces the limits
        await client.prepare(request)
        await _pump(client, upstream)
        await client.close(code=upstream.close_code or aiohttp.WSCloseCode.OK)
    return client


async def _pump(client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse) -> None:
    """Relay frames both ways until either side closes."""
    tasks = [
        asyncio.create_task(_copy(upstream, client)),
        asyncio.create_task(_copy(client, upstream)),
    ]
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await upstream.close()


_Socket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


async def _copy(source: _Socket, sink: _Socket) -> None:
    async for msg in source:
        if msg.type == aiohttp.WSMsgType.TEXT:
            await sink.send_str(msg.data)
        elif msg.type == aiohttp.WSMsgType.BINARY:
            await sink.send_bytes(msg.data)


async def _relay_http(request: web.Request) -> web.StreamResponse:
    worker = request.app[WORKERS].all[0]
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
    async with request.app[HTTP].request(
        request.method,
        f"{worker.url}{request.rel_url}",
        headers=headers,
        data=await request.read(),
        allow_redirects=False,
    ) as resp:
        body = await resp.read()
        out = {k: v for k, v in resp.headers.items() if k.lower() not in _HOP_BY_HOP}
        out.pop("Content-Length", None)
        return web.Response(status=resp.status, headers=out, body=body)


def merge_metrics(texts: list[str]) -> str:
    """Prometheus text of several workers: samples with the same name and labels add up."""
    order: list[str] = []
    values: dict[str, int] = {}
    for text in texts:
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                if line not in values and line not in order:
                    order.append(line)
                continue
            key, _, value = line.rpartition(" ")
            if key not in values:
                order.append(key)
                values[key] = 0
            values[key] += int(value)
    return "\n".join(f"{k} {values[k]}" if k in values else k for k in order) + "\n"


async def _metrics(request: web.Request) -> web.Response:
    texts = []
    for worker in request.app[WORKERS].all:
        async with request.app[HTTP].get(f"{worker.url}/metrics") as resp:
            texts.append(await resp.text())
    return web.Response(text=merge_metrics(texts), content_type="text/plain", charset="utf-8")


async def _healthz(request: web.Request) -> web.Response:
    rooms: list[int] = []
    for worker in request.app[WORKERS].all:
        async with request.app[HTTP].get(f"{worker.url}/healthz") as resp:
            rooms.append(int((await resp.json())["rooms"]))
    return web.json_response({"status": "ok", "rooms": sum(rooms), "worker_rooms": rooms})


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        app[HTTP] = http
        await app[WORKERS].start(http)
        try:
            yield
        finally:
            app[WORKERS].stop()


def create_front(settings: Settings) -> web.Application:
    app = web.Application()
    app[WORKERS] = Workers(settings)
    app.cleanup_ctx.append(_lifecycle)
    app.router.add_get("/ws", _relay_websocket)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _healthz)
    app.router.add_route("*", "/{tail:.*}", _relay_http)
    return app


def main(argv: list[str] | None = None) -> None:
    """A worker: a plain bridge on a loopback port, settings from the front's env."""
    parser = argparse.ArgumentParser(prog="python -m signaling.workers")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    settings = settings_from_env(os.environ, host="127.0.0.1", port=args.port)
    web.run_app(create_app(settings), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
