"""RED payloads (RFC 2198) the bridge builds, read back by an independent parser."""

from __future__ import annotations

import struct

import pytest

from bridge.rtp.forwarded import ForwardingTemplate
from bridge.rtp.header import parse_rtp_header
from bridge.rtp.red import MAX_BLOCK_LENGTH, MAX_TIMESTAMP_OFFSET, block_types_at, red_payload


def parse_red(payload: bytes) -> list[tuple[int, int, bytes]]:
    """(block PT, timestamp offset, data) per block, oldest first, as a receiver reads
    RFC 2198 §3: 4-byte headers while F is set, then the 1-byte primary header."""
    headers: list[tuple[int, int, int]] = []
    at = 0
    while payload[at] & 0x80:
        (word,) = struct.unpack_from("!I", payload, at)
        headers.append(((word >> 24) & 0x7F, (word >> 10) & 0x3FFF, word & 0x3FF))
        at += 4
    primary_pt = payload[at] & 0x7F
    at += 1
    blocks = []
    for pt, offset, length in headers:
        blocks.append((pt, offset, payload[at : at + length]))
        at += length
    blocks.append((primary_pt, 0, payload[at:]))
    return blocks


def test_one_redundant_block_then_the_primary() -> None:
    payload = bytearray(red_payload(b"now!", b"before", 960))
    for at in block_types_at(bytes(payload)):
        payload[at] |= 111
    assert parse_red(bytes(payload)) == [(111, 960, b"before"), (111, 0, b"now!")]


@pytest.mark.parametrize(
    ("previous", "offset"),
    [
        (None, 960),
        (b"x", 0),  # the same timestamp: not an earlier frame
        (b"x", MAX_TIMESTAMP_OFFSET + 1),
        (b"x" * (MAX_BLOCK_LENGTH + 1), 960),
    ],
)
def test_the_primary_goes_alone_when_the_previous_cannot_be_carried(
    previous: bytes | None, offset: int
) -> None:
    payload = red_payload(b"now!", previous, offset)
    assert block_types_at(payload) == (0,)
    assert parse_red(payload) == [(0, 0, b"now!")]


def test_the_largest_fields_still_fit() -> None:
    previous = b"p" * MAX_BLOCK_LENGTH
    assert parse_red(red_payload(b"n", previous, MAX_TIMESTAMP_OFFSET)) == [
        (0, MAX_TIMESTAMP_OFFSET, previous),
        (0, 0, b"n"),
    ]


def test_a_red_template_keeps_the_header_fields_a_subscriber_fills() -> None:
    data = struct.pack("!BBHII", 0x80, 0x80 | 111, 7, 960 * 7, 42) + b"opus-7"
    template = ForwardingTemplate(data, parse_rtp_header(data))
    template.allow_redundancy(b"opus-7", b"opus-6", 960)
    red = template.redundant(96)
    assert template.redundant(96) is red  # built once per packet
    out = red.fill(63, 1234, 5678, 99, 0, b"", None, None)
    header = parse_rtp_header(bytes(out))
    assert (header.payload_type, header.sequence_number, header.timestamp) == (63, 1234, 5678)
    assert header.marker and header.ssrc == 99
    assert parse_red(bytes(out[header.payload_offset :])) == [
        (96, 960, b"opus-6"),
        (96, 0, b"opus-7"),
    ]
    assert red.payload_octets == len(out) - 12
    # a subscriber with another Opus payload type gets its own blocks
    assert parse_red(template.redundant(111).data[12:])[0][0] == 111
    # without a previous packet: the primary alone, still as RED
    plain = ForwardingTemplate(data, parse_rtp_header(data)).redundant(96)
    assert parse_red(plain.data[12:]) == [(96, 0, b"opus-7")]
