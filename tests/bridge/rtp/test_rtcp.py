from __future__ import annotations

from collections.abc import Callable

import pytest
from rtcp_hex import h

from bridge.rtp.errors import RtcpParseError
from bridge.rtp.rtcp import (
    Bye,
    Fir,
    Nack,
    Pli,
    ReceiverReport,
    Remb,
    ReportBlock,
    RtcpPacket,
    SenderReport,
    build_bye,
    build_fir,
    build_nack,
    build_pli,
    build_receiver_report,
    build_remb,
    build_sdes_cname,
    build_sender_report,
    parse_rtcp,
)

BLOCK = ReportBlock(
    ssrc=0x55667788,
    fraction_lost=0x40,
    packets_lost=-1,
    highest_sequence=0x0001FFFF,
    jitter=0x10,
    lsr=0x01020304,
    dlsr=0x00010000,
)
BLOCK_HEX = "55667788 | 40ffffff | 0001ffff | 00000010 | 01020304 | 00010000"


# ------------------------------------------------------------------ byte-exact builders


def test_sender_report_bytes() -> None:
    out = build_sender_report(0x11223344, 0x0102030405060708, 0xAABBCCDD, 5, 1000)
    assert out == h("80c80006 | 11223344 | 0102030405060708 | aabbccdd | 00000005 | 000003e8")


def test_sender_report_with_block_bytes() -> None:
    out = build_sender_report(0x11223344, 0x0102030405060708, 0xAABBCCDD, 5, 1000, [BLOCK])
    assert out == h(
        "81c8000c | 11223344 | 0102030405060708 | aabbccdd | 00000005 | 000003e8 |" + BLOCK_HEX
    )


def test_receiver_report_bytes() -> None:
    assert build_receiver_report(1, [BLOCK]) == h("81c90007 00000001" + BLOCK_HEX)
    assert build_receiver_report(1) == h("80c90001 00000001")


def test_nack_bytes_across_wrap() -> None:
    out = build_nack(1, 2, [20, 1, 65534, 0, 65535])
    # PID 65534, BLP bits 0..2 = 65535, 0, 1; then PID 20
    assert out == h("81cd0004 | 00000001 | 00000002 | fffe0007 | 00140000")


def test_pli_bytes() -> None:
    assert build_pli(1, 2) == h("81ce0002 00000001 00000002")


def test_remb_bytes() -> None:
    out = build_remb(1, 1_000_000, [0x12345678])
    # 1e6 = 250000 << 2: exp 2, mantissa 0x3d090
    assert out == h("8fce0005 | 00000001 | 00000000 | 52454d42 | 010bd090 | 12345678")


def test_fir_bytes() -> None:
    assert build_fir(1, 0xABCDEF01, 7) == h("84ce0004 00000001 00000000 abcdef01 07000000")


def test_bye_bytes() -> None:
    assert build_bye([0xDEADBEEF]) == h("81cb0001 deadbeef")


@pytest.mark.parametrize(
    ("cname", "expected"),
    [
        ("ab", "81ca0003 00000009 01026162 00000000"),
        ("abc", "81ca0003 00000009 01036162 63000000"),
        ("abcdef", "81ca0004 00000009 01066162 63646566 00000000"),
    ],
)
def test_sdes_cname_bytes(cname: str, expected: str) -> None:
    out = build_sdes_cname(9, cname)
    assert out == h(expected)
    assert parse_rtcp(out) == []  # SDES is validated and skipped


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize(
    ("packet", "expected"),
    [
        (
            build_sender_report(7, 1 << 63, 0xFFFFFFFF, 0, 0, [BLOCK, BLOCK]),
            SenderReport(7, 1 << 63, 0xFFFFFFFF, 0, 0, (BLOCK, BLOCK)),
        ),
        (build_receiver_report(8, [BLOCK]), ReceiverReport(8, (BLOCK,))),
        (build_receiver_report(8), ReceiverReport(8, ())),
        (build_pli(1, 2), Pli(1, 2)),
        (build_fir(1, 2, 300), Fir(1, ((2, 300 & 0xFF),))),
        (build_remb(3, 262143, [1, 2]), Remb(3, 262143, (1, 2))),
        (build_remb(3, 0, []), Remb(3, 0, ())),
        (build_bye([1, 2, 3]), Bye((1, 2, 3))),
        (build_nack(4, 5, [100]), Nack(4, 5, (100,))),
        (build_nack(4, 5, range(100, 117)), Nack(4, 5, tuple(range(100, 117)))),
        (build_nack(4, 5, [65535, 0]), Nack(4, 5, (65535, 0))),
    ],
)
def test_round_trip(packet: bytes, expected: RtcpPacket) -> None:
    assert parse_rtcp(packet) == [expected]


def test_nack_masks_extended_seqs_and_dedupes() -> None:
    (nack,) = parse_rtcp(build_nack(1, 2, [65536 + 5, 5, 131072 + 6]))
    assert nack == Nack(1, 2, (5, 6))


def test_nack_spreads_over_entries() -> None:
    lost = [10, 26, 27, 60]
    (nack,) = parse_rtcp(build_nack(1, 2, lost))
    assert nack == Nack(1, 2, (10, 26, 27, 60))
    assert len(build_nack(1, 2, lost)) == 12 + 4 * 3  # 10 (+26), 27, 60


def test_nack_builder_requires_a_seq() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_nack(1, 2, [])


def test_parse_nack_blp_wraps_to_zero() -> None:
    # PID 65535, BLP 0x8001: 65535+1 -> 0 and 65535+16 -> 15 (aiortc leaves 65536, 65551)
    (nack,) = parse_rtcp(h("81cd0003 00000001 00000002 ffff8001"))
    assert nack == Nack(1, 2, (65535, 0, 15))


def test_remb_rounds_down_and_keeps_18_bit_mantissa() -> None:
    (remb,) = parse_rtcp(build_remb(1, 1_000_001, [9]))
    assert isinstance(remb, Remb)
    assert remb.bitrate == 1_000_000
    (big,) = parse_rtcp(build_remb(1, 10**12, []))
    assert isinstance(big, Remb)
    assert 0 <= 10**12 - big.bitrate < 10**12 >> 17


@pytest.mark.parametrize(
    "call",
    [
        lambda: build_remb(1, -1, []),
        lambda: build_bye(list(range(32))),
        lambda: build_receiver_report(1, [BLOCK] * 32),
        lambda: build_sdes_cname(1, "x" * 256),
    ],
)
def test_builder_argument_errors(call: Callable[[], bytes]) -> None:
    with pytest.raises(ValueError):
        call()


def test_packets_lost_clamped_to_24_bits() -> None:
    block = ReportBlock(1, 0, -10_000_000, 0, 0, 0, 0)
    (rr,) = parse_rtcp(build_receiver_report(1, [block]))
    assert isinstance(rr, ReceiverReport)
    assert rr.reports[0].packets_lost == -0x800000
    block = ReportBlock(1, 0, 10_000_000, 0, 0, 0, 0)
    (rr,) = parse_rtcp(build_receiver_report(1, [block]))
    assert isinstance(rr, ReceiverReport)
    assert rr.reports[0].packets_lost == 0x7FFFFF


# ------------------------------------------------------------------ compound and skipping


def test_compound_chrome_like() -> None:
    data = (
        build_receiver_report(1, [BLOCK])
        + build_sdes_cname(1, "chrome-cname")
        + build_remb(1, 500_000, [0x1234])
        + build_nack(1, 0x1234, [7, 9])
    )
    assert parse_rtcp(data) == [
        ReceiverReport(1, (BLOCK,)),
        Remb(1, 500_000, (0x1234,)),
        Nack(1, 0x1234, (7, 9)),
    ]


@pytest.mark.parametrize(
    "skipped",
    [
        h("83cd0004 00000001 00000000 00000002 04000028"),  # RTPFB FMT 3 (TMMBR)
        h("8fce0003 00000001 00000000 41424344"),  # AFB that is not REMB
        h("85ce0002 00000001 00000002"),  # PSFB FMT 5 (TSTR)
        h("80cf0002 00000001 00000000"),  # XR (RFC 3611): unknown PT
        h("80cc0002 00000001 6e616d65"),  # APP
    ],
)
def test_unknown_types_are_skipped(skipped: bytes) -> None:
    assert parse_rtcp(skipped + build_pli(1, 2)) == [Pli(1, 2)]


def test_bye_with_reason() -> None:
    assert parse_rtcp(h("82cb0003 00000001 00000002 02686900")) == [Bye((1, 2))]


def test_padding_is_ignored() -> None:
    # PLI with P bit and 4 bytes of padding (last byte = 4)
    assert parse_rtcp(h("a1ce0003 00000001 00000002 00000004")) == [Pli(1, 2)]


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("data", "reason", "message"),
    [
        (h("80c900"), "too_short", "RTCP packet too short: 3 bytes, need 4"),
        (
            build_pli(1, 2) + h("80c9"),
            "too_short",
            "RTCP packet too short: 2 bytes at offset 12, need 4",
        ),
        (h("40c90001 00000001"), "bad_version", "RTCP version 1, expected 2"),
        (
            h("80c90028 00000001 00000000"),
            "bad_length",
            "RTCP length field 40 words exceeds remaining 12 bytes",
        ),
        (
            h("81c90001 00000001"),
            "too_short",
            "RTCP RR too short: 8 bytes, need 32 for 1 report blocks",
        ),
        (
            h("81c80006 00000001 00000000 00000000 00000000 00000000 00000000"),
            "too_short",
            "RTCP SR too short: 28 bytes, need 52 for 1 report blocks",
        ),
        (h("81cd0001 00000001"), "too_short", "RTCP feedback too short: 8 bytes, need 12"),
        (
            h("81cd0002 00000001 00000002"),
            "bad_length",
            "RTCP NACK FCI of 0 bytes, need a positive multiple of 4",
        ),
        (
            h("84ce0003 00000001 00000000 00000002"),
            "bad_length",
            "RTCP FIR FCI of 4 bytes, need a positive multiple of 8",
        ),
        (
            h("8fce0005 00000001 00000000 52454d42 020bd090 00000001"),
            "too_short",
            "RTCP REMB FCI too short: 12 bytes, need 16 for 2 SSRCs",
        ),
        (
            h("8fce0003 00000001 00000000 52454d42"),
            "too_short",
            "RTCP REMB FCI too short: 4 bytes, need 8",
        ),
        (h("82cb0001 00000001"), "too_short", "RTCP BYE too short: 8 bytes, need 12 for 2 SSRCs"),
        (
            h("81cb0002 00000001 05686900"),
            "bad_length",
            "RTCP BYE reason of 5 bytes exceeds packet",
        ),
        (h("80cc0001 00000001"), "too_short", "RTCP APP too short: 8 bytes, need 12"),
        (
            h("a1ce0002 00000001 00000009"),
            "bad_padding",
            "RTCP padding length 9 invalid for packet body of 8 bytes",
        ),
        (
            h("a1ce0002 00000001 00000000"),
            "bad_padding",
            "RTCP padding length 0 invalid for packet body of 8 bytes",
        ),
        (h("81ca0001 00000001"), "bad_length", "RTCP SDES chunk 0 has no END item"),
        (h("81ca0002 00000001 010a6162"), "bad_length", "RTCP SDES item in chunk 0 exceeds packet"),
        (h("82ca0002 00000001 00000000"), "bad_length", "RTCP SDES chunk 1 exceeds packet"),
    ],
)
def test_parse_errors(data: bytes, reason: str, message: str) -> None:
    with pytest.raises(RtcpParseError) as info:
        parse_rtcp(data)
    assert info.value.reason == reason
    assert str(info.value) == message
