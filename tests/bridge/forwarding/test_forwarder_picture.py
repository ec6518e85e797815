"""InboundPacket.picture: a forwarder that reuses the mapping of the picture it mapped
last decides exactly as one that maps every packet."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from bridge.forwarding.forwarder import Forwarder, InboundPacket
from bridge.rtp.munger import RtpMunger


def _trace(rng: random.Random) -> list[InboundPacket]:
    """Three simulcast layers of VP8 with L1T3 temporal layers, 1-3 packets a picture,
    PictureIDs that wrap, some packets duplicated or swapped with the next one; each
    packet carries its picture's token as the producer makes it (one object a picture)."""
    seqs = {0: 65_000, 1: 3_000, 2: 40_000}
    pids = {0: 32_700, 1: 100, 2: 20_000}
    tl0s = {0: 250, 1: 0, 2: 77}
    packets: list[InboundPacket] = []
    for frame in range(300):
        tid = (0, 2, 1, 2)[frame % 4]
        key = frame % 90 == 0
        for layer in (0, 1, 2):
            if tid == 0:
                tl0s[layer] = (tl0s[layer] + 1) & 0xFF
            picture = (pids[layer], tl0s[layer], 15)
            count = rng.randint(1, 3)
            for i in range(count):
                seqs[layer] += 1
                packets.append(
                    InboundPacket(
                        ext_seq=seqs[layer],
                        ext_timestamp=1_000_000 * layer + 3000 * frame,
                        arrival_ms=33 * frame,
                        keyframe=key and i == 0,
                        marker=i == count - 1,
                        spatial=layer,
                        temporal=tid,
                        layer_sync=tid > 0 and frame % 8 == 1,
                        picture_id=pids[layer],
                        tl0_pic_idx=tl0s[layer],
                        picture=picture,
                    )
                )
            pids[layer] = (pids[layer] + 1) & 0x7FFF
    for i in range(len(packets) - 1):
        if rng.random() < 0.03:
            packets[i], packets[i + 1] = packets[i + 1], packets[i]
        elif rng.random() < 0.03:
            packets[i + 1] = packets[i]
    return packets


@pytest.mark.parametrize("seed", range(8))
def test_picture_token_changes_no_decision(seed: int) -> None:
    rng = random.Random(seed)
    packets = _trace(rng)
    with_token = Forwarder("video", RtpMunger(7, 1234), 90000)
    without = Forwarder("video", RtpMunger(7, 1234), 90000)
    forwarded = 0
    for n, packet in enumerate(packets):
        if n % 150 == 0:  # the allocator moves the target now and then
            spatial = rng.choice((None, 0, 1, 2, 2))
            temporal = rng.randint(0, 2)
            for forwarder in (with_token, without):
                forwarder.set_target(spatial, temporal)
        decision = with_token.on_packet(packet)
        assert decision == without.on_packet(replace(packet, picture=None)), n
        forwarded += isinstance(decision, tuple)
    assert forwarded > len(packets) // 20  # the trace exercised forwarding, not only drops
