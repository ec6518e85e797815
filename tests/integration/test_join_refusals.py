"""Joins that must be refused: each with its error code, reason and close code."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from signaling.app import create_app
from signaling.auth import make_token
from signaling.settings import Settings

from .conftest import SECRET


async def _closed(site) -> int:  # type: ignore[no-untyped-def]
    for _ in range(100):
        if site.close_code is not None:
            return int(site.close_code)
        await asyncio.sleep(0.05)
    raise AssertionError("socket was not closed")


@pytest.mark.parametrize(
    ("token_kwargs", "secret", "code", "close"),
    [
        ({"room": "other"}, SECRET, "token_wrong_room", 4403),
        ({"ttl_s": -1}, SECRET, "token_expired", 4401),
        ({}, "x" * 40, "token_invalid", 4401),
    ],
)
async def test_bad_tokens(site, token_kwargs, secret, code, close) -> None:  # type: ignore[no-untyped-def]
    args = {"room": "r1", "identity": "i", "name": "n", **token_kwargs}
    bad = site("i", token=make_token(secret, **args))
    await bad.connect()
    await bad.send({"type": "join", "v": 1, "token": bad._token})
    error = await bad.wait_for("error")
    assert error["code"] == code and error["reason"]
    assert await _closed(bad) == close


async def test_garbage_token_and_wrong_version(site) -> None:  # type: ignore[no-untyped-def]
    garbage = site("g", token="not.a.jwt")
    await garbage.connect()
    await garbage.send({"type": "join", "v": 1, "token": "not.a.jwt"})
    assert (await garbage.wait_for("error"))["code"] == "token_invalid"
    assert await _closed(garbage) == 4401
    old = site("o")
    await old.connect()
    await old.send({"type": "join", "v": 0, "token": old._token})
    assert (await old.wait_for("error"))["code"] == "unsupported_version"
    assert await _closed(old) == 4400


async def test_message_before_join_is_refused(site) -> None:  # type: ignore[no-untyped-def]
    early = site("e")
    await early.connect()
    await early.send({"type": "ping"})
    assert (await early.wait_for("error"))["code"] == "not_joined"
    assert await _closed(early) == 4400


async def test_silent_socket_times_out(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    settings = Settings(
        jwt_secret=SECRET, data_dir=tmp_path, ice_addresses=("127.0.0.1",), join_timeout_s=0.2
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        async with http.ws_connect(server.make_url("/ws?room=r1")) as ws:
            message = await ws.receive_json(timeout=5)
            assert message["code"] == "join_timeout"
            await ws.receive(timeout=5)
            assert ws.close_code == 4408
    finally:
        await server.close()


async def test_room_is_required(server, http) -> None:  # type: ignore[no-untyped-def]
    async with http.get(server.make_url("/ws")) as resp:
        assert resp.status == 400
        assert "room" in await resp.text()
