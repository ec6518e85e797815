"""Malformed SDP, messages and packets from one site: refused with a reason, counted,
and the other participants keep their media."""

from __future__ import annotations

import asyncio
import struct

from signaling.app import REGISTRY


async def _pair(site):  # type: ignore[no-untyped-def]
    a, b = site("a"), site("b")
    await a.join()
    await b.join()
    await a.publish()
    await asyncio.sleep(1.0)
    return a, b


async def test_malformed_sdp_is_refused_and_others_unaffected(site, server) -> None:  # type: ignore[no-untyped-def]
    a, b = await _pair(site)
    bad = site("bad")
    await bad.join()
    await bad.send({"type": "publish", "sdp": "this is not sdp"})
    error = await bad.wait_for("error")
    assert error["code"] == "bad_sdp" and error["reason"]
    await bad.send({"type": "publish", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"})
    await asyncio.sleep(0.2)
    assert sum(m["type"] == "error" for m in bad.messages) == 2
    await a.stream(1.5)
    assert len(b.received_for("a", "video")) > 5
    assert server.app[REGISTRY].metrics.sdp_rejected["publish"] == 2
    # the refused site is still in the meeting and can talk
    await bad.send({"type": "ping"})
    await bad.wait_for("pong")


async def test_bad_messages_get_precise_errors(site) -> None:  # type: ignore[no-untyped-def]
    a = site("a")
    await a.join()
    cases = [
        ("not json", "bad_json"),
        ("[1,2]", "bad_json"),
        ('{"type":"dance"}', "unknown_type"),
        ('{"type":"mute","kind":"audio","muted":"yes"}', "bad_field"),
        ('{"type":"mute","kind":"smell","muted":true}', "bad_field"),
        ('{"type":"subscribe_answer","sdp":"v=0","rev":99}', "stale_answer"),
        ('{"type":"join","v":1,"token":"x"}', "already_joined"),
    ]
    assert a.ws is not None
    for raw, _ in cases:
        await a.ws.send_str(raw)
    await a.send({"type": "ping"})
    await a.wait_for("pong")
    codes = [m["code"] for m in a.messages if m["type"] == "error"]
    assert codes == [code for _, code in cases]
    requests = [m.get("request") for m in a.messages if m["type"] == "error"]
    assert requests == [None, None, None, "mute", "mute", "subscribe_answer", "join"]


async def test_oversized_message_closes_only_that_socket(site) -> None:  # type: ignore[no-untyped-def]
    a, b = await _pair(site)
    big = site("big")
    await big.join()
    assert big.ws is not None
    await big.ws.send_str('{"type":"ping","pad":"' + "x" * 70000 + '"}')
    for _ in range(100):
        if big.close_code is not None:
            break
        await asyncio.sleep(0.05)
    assert big.close_code == 1009
    await a.stream(1.0)
    assert len(b.received_for("a", "audio")) > 20


async def test_garbage_rtp_and_rtcp_are_counted_and_dropped(site, server) -> None:  # type: ignore[no-untyped-def]
    a, b = await _pair(site)
    metrics = server.app[REGISTRY].metrics
    # valid RTP header, but the padding count (255) exceeds the packet
    assert a.send_raw(struct.pack("!BBHII", 0xA0, 111, 1, 1, 1234) + b"\x00" * 8 + b"\xff")
    # RTCP RR whose length field claims 16 words in an 8-byte packet
    assert a.send_raw(struct.pack("!BBHI", 0x81, 201, 16, 1) + b"\x00" * 4)
    # RTP from an SSRC nobody negotiated
    assert a.send_raw(struct.pack("!BBHII", 0x80, 55, 1, 1, 99) + b"hello")
    await a.stream(1.5)
    assert metrics.rtp_dropped["bad_padding"] == 1
    assert metrics.rtcp_dropped["bad_length"] == 1
    assert metrics.rtp_dropped["unknown_ssrc"] == 1
    assert len(b.received_for("a", "video")) > 5
    assert len(b.received_for("a", "audio")) > 30
