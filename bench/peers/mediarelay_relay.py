"""The naive aiortc relay: decode once, re-encode per subscriber (aiortc's MediaRelay).

What an aiortc user writes first: the publisher's tracks arrive through aiortc's normal
RTCRtpReceiver (jitter buffer, VP8/Opus decoding), `MediaRelay.subscribe()` gives every
subscriber its own proxy track, and each subscriber's RTCRtpSender encodes those frames
again (libvpx + libopus, per subscriber).

    python -m bench.peers.mediarelay_relay --host 127.0.0.1 --port 8090

Signaling (JSON over HTTP):
- POST /publish {"sdp": offer}             -> {"sdp": answer}
- POST /subscribe                          -> {"id": id, "sdp": offer}
- POST /subscribe/{id} {"sdp": answer}     -> {}
- GET /healthz                             -> "ok"

`RelayTarget` is the client side for bench.peers.clients.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from typing import Any

import aiohttp
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .clients import Answerer

# An explicit empty ICE server list: aiortc's default contacts a public STUN server.
_CONFIG = RTCConfiguration(iceServers=[])


class Relay:
    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.tracks: dict[str, MediaStreamTrack] = {}
        self.pcs: set[RTCPeerConnection] = set()
        self.pending: dict[str, RTCPeerConnection] = {}
        self.published = asyncio.Event()
        self.publisher: RTCPeerConnection | None = None
        self.decoded: dict[str, int] = {"audio": 0, "video": 0}
        self.tasks: list[asyncio.Task[None]] = []

    async def _count(self, track: MediaStreamTrack) -> None:
        # Keeps the decoded source drained while nobody subscribes (MediaRelay only
        # reads it once it has a proxy) and counts decoded frames for the log.
        kind = track.kind
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self.decoded[kind] += 1

    async def _log(self) -> None:
        last = dict(self.decoded)
        while True:
            await asyncio.sleep(5)
            now = dict(self.decoded)
            rates = " ".join(f"{k} {(now[k] - last[k]) / 5:.1f}/s" for k in now)
            received = []
            if self.publisher is not None:
                for receiver in self.publisher.getReceivers():
                    for stat in (await receiver.getStats()).values():
                        if stat.type == "inbound-rtp":
                            received.append(f"{stat.kind} {stat.packetsReceived}")
            print(
                f"decoded frames: {rates}; subscribers {len(self.pcs) - 1};"
                f" publisher packets received: {', '.join(received)}",
                flush=True,
            )
            last = now

    async def publish(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        pc = RTCPeerConnection(_CONFIG)
        self.pcs.add(pc)
        self.publisher = pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.tracks[track.kind] = track
            self.tasks.append(asyncio.create_task(self._count(self.relay.subscribe(track))))
            if len(self.tracks) == 2:
                self.published.set()

        await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        self.tasks.append(asyncio.create_task(self._log()))
        return web.json_response({"sdp": pc.localDescription.sdp})

    async def subscribe(self, request: web.Request) -> web.Response:
        async with asyncio.timeout(20):
            await self.published.wait()
        pc = RTCPeerConnection(_CONFIG)
        self.pcs.add(pc)
        for kind in ("audio", "video"):
            pc.addTrack(self.relay.subscribe(self.tracks[kind]))
        await pc.setLocalDescription(await pc.createOffer())
        sub_id = secrets.token_hex(6)
        self.pending[sub_id] = pc
        return web.json_response({"id": sub_id, "sdp": pc.localDescription.sdp})

    async def subscribe_answer(self, request: web.Request) -> web.Response:
        pc = self.pending.pop(request.match_info["sub_id"])
        body: dict[str, Any] = await request.json()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type="answer"))
        return web.json_response({})

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def shutdown(self, app: web.Application) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(pc.close() for pc in self.pcs), return_exceptions=True)


def create_app() -> web.Application:
    relay = Relay()
    app = web.Application()
    app.router.add_post("/publish", relay.publish)
    app.router.add_post("/subscribe", relay.subscribe)
    app.router.add_post("/subscribe/{sub_id}", relay.subscribe_answer)
    app.router.add_get("/healthz", relay.healthz)
    app.on_shutdown.append(relay.shutdown)
    return app


class RelayTarget:
    """Client side of the relay's signaling."""

    def __init__(self, base_url: str, name: str = "aiortc-mediarelay") -> None:
        self.name = name
        self._base = base_url.rstrip("/")
        self._http: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._http = aiohttp.ClientSession(trust_env=False)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self._http is not None
        async with self._http.post(f"{self._base}{path}", json=body) as resp:
            resp.raise_for_status()
            data: dict[str, Any] = await resp.json()
            return data

    async def publish(self, offer: str) -> str:
        return str((await self._post("/publish", {"sdp": offer}))["sdp"])

    async def publisher_up(self) -> None:
        return None

    async def subscribe(self, answer: Answerer) -> None:
        offer = await self._post("/subscribe", {})
        sdp = await answer(str(offer["sdp"]))
        await self._post(f"/subscribe/{offer['id']}", {"sdp": sdp})

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    web.run_app(create_app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
