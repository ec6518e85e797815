"""diemcau's signaling (docs/protocol.md, WebSocket /ws) for the side-by-side clients.

The publisher joins as `participant` and publishes; subscribers join as `viewer` and
answer every `subscribe_offer` the bridge sends. Tokens are minted with
signaling.auth.make_token and the server's DIEMCAU_JWT_SECRET.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from typing import Any

import aiohttp

from signaling.auth import make_token

from .clients import Answerer


class _Site:
    def __init__(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        self._http = http
        self._url = url
        self._token = token
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.answer: Answerer | None = None
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.errors: list[dict[str, Any]] = []
        self.me: dict[str, Any] = {}

    async def join(self) -> None:
        self.ws = await self._http.ws_connect(self._url, heartbeat=None)
        self._reader = asyncio.create_task(self._read())
        joined = self._expect("joined")
        await self.send({"type": "join", "v": 1, "token": self._token})
        async with asyncio.timeout(20):
            self.me = (await joined)["self"]

    def _expect(self, kind: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[kind] = future
        return future

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(message))

    async def request(self, message: dict[str, Any], reply: str) -> dict[str, Any]:
        future = self._expect(reply)
        await self.send(message)
        async with asyncio.timeout(20):
            return await future

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            message: dict[str, Any] = json.loads(msg.data)
            kind = message.get("type", "")
            if kind == "subscribe_offer" and self.answer is not None:
                sdp = await self.answer(message["sdp"])
                await self.send({"type": "subscribe_answer", "sdp": sdp, "rev": message["rev"]})
            elif kind == "error":
                self.errors.append(message)
                for waiter in self._waiters.values():
                    if not waiter.done():
                        waiter.set_exception(RuntimeError(f"diemcau error: {message}"))
            future = self._waiters.pop(kind, None)
            if future is not None and not future.done():
                future.set_result(message)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


class DiemcauTarget:
    def __init__(
        self, base_url: str, secret: str, name: str = "diemcau", room: str = "bench"
    ) -> None:
        self.name = name
        self._base = base_url.rstrip("/")
        self._secret = secret
        self._room = room
        self._http: aiohttp.ClientSession | None = None
        self._sites: list[_Site] = []
        self._publisher_answer: Answerer | None = None

    async def open(self) -> None:
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trust_env=False)

    async def _site(self, role: str) -> _Site:
        assert self._http is not None
        ident = f"{role}-{secrets.token_hex(3)}"
        token = make_token(self._secret, room=self._room, identity=ident, name=ident, role=role)
        site = _Site(self._http, f"{self._base}/ws?room={self._room}", token)
        self._sites.append(site)
        return site

    def answer_publisher_offers(self, answer: Answerer) -> None:
        """How the publisher answers offers of others' media (none here, but answer anyway)."""
        self._publisher_answer = answer

    async def publish(self, offer: str) -> str:
        site = await self._site("participant")
        site.answer = self._publisher_answer
        await site.join()
        reply = await site.request({"type": "publish", "sdp": offer}, "publish_answer")
        if site.me["muted"]["audio"]:
            # mics are muted on entry (meeting policy): open it, as bench.load's speaker does
            await site.request({"type": "mute", "kind": "audio", "muted": False}, "mute_changed")
        return str(reply["sdp"])

    async def publisher_up(self) -> None:
        return None

    async def subscribe(self, answer: Answerer) -> None:
        site = await self._site("viewer")
        site.answer = answer
        await site.join()

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self._sites), return_exceptions=True)
        if self._http is not None:
            await self._http.close()
