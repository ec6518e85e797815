"""Two synthetic sites over real ICE/DTLS/SRTP: what one publishes reaches the other
byte for byte, with each consumer's own SSRC and a continuous sequence."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bridge.clock import monotonic_ms
from signaling.app import REGISTRY, SETTINGS


@pytest.mark.parametrize(
    "server", [{"fanout_lanes": True}, {"fanout_lanes": False}], indirect=True, ids=str
)
async def test_payloads_arrive_byte_identical(site, server) -> None:  # type: ignore[no-untyped-def]
    """Also through a fan-out lane (media/fanout_lane.py), and with lanes turned off."""
    alice, bob = site("alice"), site("bob")
    await alice.join()
    await bob.join()
    await alice.publish()
    await asyncio.sleep(1.0)  # let bob's subscriber PC connect
    await alice.stream(3.0)
    await asyncio.sleep(0.5)

    video = bob.received_for("alice", "video")
    audio = bob.received_for("alice", "audio")
    assert len(video) > 20, f"bob got {len(video)} video packets"
    assert len(audio) > 50, f"bob got {len(audio)} audio packets"
    sent_video = set(alice.sent_payloads["video"])
    sent_audio = set(alice.sent_payloads["audio"])
    assert all(p in sent_video for *_, p in video), "a video payload was altered"
    assert all(p in sent_audio for *_, p in audio), "an audio payload was altered"
    # forwarding starts at a keyframe: VP8 descriptor S=1 and payload header P=0
    assert video[0][3][0] & 0x10 and not video[0][3][1] & 0x01
    seqs = [seq for seq, *_ in video]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
    metrics = server.app[REGISTRY].metrics
    assert metrics.rtp_packets_out >= len(video) + len(audio)
    if server.app[SETTINGS].fanout_lanes:  # the lanes sent most of it
        assert metrics.lane_packets_out > metrics.rtp_packets_out // 2
    else:
        assert metrics.lane_packets_out == 0


async def test_layer_rates_and_clock_share_one_time_base(site, server) -> None:  # type: ignore[no-untyped-def]
    """Arrival times from the adapter and the bridge clock must be one base: the measured
    rate of a stream the allocator sees is close to what the publisher sends."""
    alice, bob = site("alice"), site("bob")
    await alice.join()
    await bob.join()
    await alice.publish()
    await asyncio.sleep(1.0)
    streaming = asyncio.create_task(alice.stream(3.0))
    await asyncio.sleep(2.0)
    registry = server.app[REGISTRY]
    producer = next(iter(registry.rooms.values())).participants["alice"].producers["audio"]
    measured = producer.layer_bitrates(monotonic_ms())[0]
    await streaming
    payloads = alice.sent_payloads["audio"]
    # 20 ms frames: 50 packets a second, each with its 12-byte RTP header
    sent_bps = (sum(map(len, payloads)) / len(payloads) + 12) * 8 * 50
    assert 0.5 < measured / sent_bps < 1.5, (measured, sent_bps)
