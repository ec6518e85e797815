"""Transport-wide CC feedback parsing (draft-holmer-rmcat-transport-wide-cc-extensions-01
§3.1): the bridge's own builder round-tripped through ``parse_rtcp``, hand-made packets for
each chunk type, and malformed input."""

from __future__ import annotations

import random
import struct

import pytest
from rtcp_hex import h

from bridge.rtp.errors import RtcpParseError
from bridge.rtp.rtcp import (
    ReceiverReport,
    Remb,
    ReportBlock,
    TransportCcFeedback,
    build_receiver_report,
    build_remb,
    parse_rtcp,
)
from bridge.rtp.transport_feedback import TransportFeedback


def build(arrivals: list[tuple[int, int]], sender: int = 1, media: int = 2) -> list[bytes]:
    """Feedback from the real builder for (16-bit seq, arrival ms) in arrival order."""
    fb = TransportFeedback(sender)
    for seq, ms in arrivals:
        fb.on_packet(seq, ms)
    return fb.build(media)


def parse_one(packet: bytes) -> TransportCcFeedback:
    (parsed,) = parse_rtcp(packet)
    assert isinstance(parsed, TransportCcFeedback)
    return parsed


def expected(
    base: int, count: int, arrivals: list[tuple[int, int]]
) -> list[tuple[int, int | None]]:
    """Arrival times in us: the builder's reference is floor(first ms / 64) * 64 ms, so
    below the 24-bit wrap of the reference (2^30 ms) they come back exactly as ms * 1000."""
    by_seq = dict(arrivals)
    out: list[tuple[int, int | None]] = []
    for i in range(count):
        seq = (base + i) & 0xFFFF
        ms = by_seq.get(seq)
        out.append((seq, None if ms is None else ms * 1000))
    return out


def chunk(packet: bytes, index: int) -> int:
    return int(struct.unpack_from("!H", packet, 20 + 2 * index)[0])


# ------------------------------------------------------------------ builder round trips


def test_all_received_with_small_deltas() -> None:
    arrivals = [(100 + i, 5000 + i) for i in range(20)]
    (packet,) = build(arrivals, sender=0x11111111, media=0x22222222)
    assert parse_one(packet) == TransportCcFeedback(
        0x11111111, 0x22222222, 100, 0, tuple(expected(100, 20, arrivals))
    )


def test_losses_in_run_length_chunks() -> None:
    arrivals = [(s, 1000 + s) for s in range(0, 20)] + [(s, 1000 + s) for s in range(50, 53)]
    (packet,) = build(arrivals)
    assert chunk(packet, 0) == (1 << 13) | 20  # §3.1.3: 20 x "small delta"
    assert chunk(packet, 1) == (0 << 13) | 30  # 30 x "not received"
    parsed = parse_one(packet)
    assert parsed.base_sequence == 0
    assert list(parsed.arrivals) == expected(0, 53, arrivals)


def test_reordered_packet_gets_a_negative_delta_in_a_two_bit_vector() -> None:
    arrivals = [(7, 2000), (9, 2001), (8, 2003)]  # 9 arrives before 8
    (packet,) = build(arrivals)
    assert chunk(packet, 0) >> 14 == 0b11  # two-bit status vector (§3.1.4)
    assert list(parse_one(packet).arrivals) == [(7, 2_000_000), (8, 2_003_000), (9, 2_001_000)]


def test_large_delta() -> None:
    arrivals = [(1, 640), (2, 641), (3, 741), (4, 742)]  # 3: +100 ms = 400 units > 255
    (packet,) = build(arrivals)
    assert list(parse_one(packet).arrivals) == expected(1, 4, arrivals)


def test_sequence_wraps_across_65535() -> None:
    arrivals = [(65533, 10_000), (65534, 10_001), (0, 10_003), (1, 10_004)]  # 65535 lost
    (packet,) = build(arrivals)
    parsed = parse_one(packet)
    assert parsed.base_sequence == 65533
    assert list(parsed.arrivals) == [
        (65533, 10_000_000),
        (65534, 10_001_000),
        (65535, None),
        (0, 10_003_000),
        (1, 10_004_000),
    ]


def test_rtcp_padding_from_the_builder_is_removed() -> None:
    (packet,) = build([(1, 64)])  # 20 + 2 (chunk) + 1 (delta) -> 1 byte of padding
    assert packet[0] & 0x20 and packet[-1] == 1
    assert parse_one(packet) == TransportCcFeedback(1, 2, 1, 0, ((1, 64_000),))


def test_feedback_count_and_reference_past_its_24_bit_wrap() -> None:
    fb = TransportFeedback(1)
    fb.on_packet(1, 100)
    fb.build(2)
    arrival = (1 << 30) + 5 * 64 + 10  # the reference time wraps at 2^24 * 64 ms
    fb.on_packet(2, arrival)
    parsed = parse_one(fb.build(2)[0])
    assert parsed.feedback_count == 1
    assert parsed.arrivals == ((2, (arrival - (1 << 30)) * 1000),)


def test_random_arrivals_round_trip() -> None:
    for seed in range(30):
        rng = random.Random(seed)
        fb = TransportFeedback(1)
        seq = rng.randrange(0, 65536)
        now = rng.randrange(0, 1 << 29)  # below the reference wrap
        sent: dict[int, int] = {}
        parsed: list[tuple[int, int | None]] = []
        for _ in range(rng.randrange(1, 6)):
            batch = []
            for _ in range(rng.randrange(1, 400)):
                now += rng.choice((0, 1, 2, 5, 70, 300))
                if rng.random() > 0.2:
                    batch.append((seq & 0xFFFF, now))
                seq += 1
            if rng.random() < 0.3:
                rng.shuffle(batch)
            for s, ms in batch:
                fb.on_packet(s, ms)
                sent[s] = ms
            for packet in fb.build(2):
                parsed += parse_one(packet).arrivals
        for s, us in parsed:
            assert us == (None if s not in sent else sent[s] * 1000), (seed, s)


def test_compound_receiver_report_and_transport_cc() -> None:
    block = ReportBlock(2, 0, 0, 100, 0, 0, 0)
    (feedback,) = build([(5, 1000), (6, 1001)])
    data = build_receiver_report(1, [block]) + feedback + build_remb(1, 300_000, [2])
    assert parse_rtcp(data) == [
        ReceiverReport(1, (block,)),
        TransportCcFeedback(1, 2, 5, 0, ((5, 1_000_000), (6, 1_001_000))),
        Remb(1, 300_000, (2,)),
    ]


# ------------------------------------------------------------------ hand-made packets


@pytest.mark.parametrize(
    ("data", "expected_feedback"),
    [
        (
            # run length chunk of 8191 "small delta" (§3.1.3), only 2 of them counted
            h("8fcd0005 00000001 00000002 | 0005 0002 000002 07 | 3fff 0408"),
            TransportCcFeedback(1, 2, 5, 7, ((5, 129_000), (6, 131_000))),
        ),
        (
            # one-bit vector (§3.1.4): received, not received, received
            h("8fcd0005 00000001 00000002 | 000a 0003 ffffff ff | a800 0102"),
            TransportCcFeedback(
                1,
                2,
                10,
                255,
                ((10, 0xFFFFFF * 64_000 + 250), (11, None), (12, 0xFFFFFF * 64_000 + 750)),
            ),
        ),
        (
            # two-bit vector: large delta -4 units, small delta +8 units, then a small delta
            # and a reserved symbol beyond the status count (ignored); 3 bytes of padding
            h("afcd0006 00000001 00000002 | ffff 0002 000001 00 | e700 fffc 08 | 000003"),
            TransportCcFeedback(1, 2, 0xFFFF, 0, ((65535, 63_000), (0, 65_000))),
        ),
    ],
)
def test_hand_made_packets(data: bytes, expected_feedback: TransportCcFeedback) -> None:
    assert parse_rtcp(data) == [expected_feedback]


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("data", "reason", "message"),
    [
        (
            h("8fcd0003 00000001 00000002 00010002"),
            "too_short",
            "RTCP transport-cc FCI too short: 4 bytes, need 8",
        ),
        (
            h("8fcd0004 00000001 00000002 00010000 00000100"),
            "bad_fci",
            "RTCP transport-cc packet status count is 0",
        ),
        (
            h("8fcd0004 00000001 00000002 00010002 20010000"),
            "bad_length",
            "RTCP transport-cc status chunks exceed packet: 0 of 2 statuses read",
        ),
        (
            h("afcd0005 00000001 00000002 00010010 00000000 | 2001 0002"),
            "bad_length",
            "RTCP transport-cc status chunks exceed packet: 1 of 16 statuses read",
        ),
        (
            h("afcd0005 00000001 00000002 00010002 00000000 | b000 05 01"),
            "bad_length",
            "RTCP transport-cc receive deltas of 2 bytes exceed packet: 1 left",
        ),
        (
            h("afcd0005 00000001 00000002 00010001 00000000 | e000 05 01"),
            "bad_length",
            "RTCP transport-cc receive deltas of 2 bytes exceed packet: 1 left",
        ),
        (
            h("8fcd0005 00000001 00000002 00010002 00000000 | 6002 0000"),
            "bad_fci",
            "RTCP transport-cc reserved status symbol 3 for sequence 1",
        ),
        (
            h("8fcd0005 00000001 00000002 ffff0002 00000000 | dc00 0400"),
            "bad_fci",
            "RTCP transport-cc reserved status symbol 3 for sequence 0",
        ),
    ],
)
def test_parse_errors(data: bytes, reason: str, message: str) -> None:
    with pytest.raises(RtcpParseError) as info:
        parse_rtcp(data)
    assert info.value.reason == reason
    assert str(info.value) == message


def test_a_malformed_transport_cc_fails_the_whole_compound() -> None:
    bad = h("8fcd0004 00000001 00000002 00010002 20010000")
    with pytest.raises(RtcpParseError):
        parse_rtcp(build_receiver_report(1) + bad)
