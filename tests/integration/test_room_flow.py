"""Join, publish, mute, leave and late join with synthetic sites over real WebRTC."""

from __future__ import annotations

import asyncio

from signaling.app import REGISTRY


async def test_late_joiner_receives_everyone_and_leave_is_announced(site) -> None:  # type: ignore[no-untyped-def]
    a, b = site("a"), site("b")
    await a.join()
    await b.join()
    await a.publish()
    await b.publish()
    late = site("late")
    joined = await late.join()
    assert {p["id"] for p in joined["participants"]} == {"a", "b"}
    await asyncio.sleep(1.0)
    await asyncio.gather(a.stream(2.0), b.stream(2.0))
    for sender in ("a", "b"):
        assert len(late.received_for(sender, "video")) > 10, sender
        assert len(late.received_for(sender, "audio")) > 40, sender
    await b.close()
    left = await a.wait_for("participant_left", id="b")
    assert left["id"] == "b"
    await late.wait_for("participant_left", id="b")


async def test_mute_stops_forwarding_and_is_announced(site) -> None:  # type: ignore[no-untyped-def]
    a, b = site("a"), site("b")
    await a.join()
    await b.join()
    await a.publish()
    await asyncio.sleep(1.0)
    await a.stream(1.0)
    before = len(b.received_for("a", "audio"))
    assert before > 20
    await a.send({"type": "mute", "kind": "audio", "muted": True})
    event = await b.wait_for("mute_changed", participant_id="a", kind="audio", muted=True)
    assert event["muted"] is True
    await a.stream(1.0)
    assert len(b.received_for("a", "audio")) - before < 5


async def test_same_identity_replaces_old_session(site) -> None:  # type: ignore[no-untyped-def]
    first = site("x")
    await first.join()
    second = site("x")
    await second.join()
    await first.wait_for("error", code="replaced")
    for _ in range(50):
        if first.close_code is not None:
            break
        await asyncio.sleep(0.05)
    assert first.close_code == 4409


async def test_viewer_may_not_publish(site, server) -> None:  # type: ignore[no-untyped-def]
    viewer = site("v", role="viewer")
    await viewer.join()
    await viewer.send({"type": "publish", "sdp": "v=0\r\n"})
    error = await viewer.wait_for("error")
    assert error["code"] == "forbidden"
    assert server.app[REGISTRY].rooms["r1"].participants["v"].producers == {}
