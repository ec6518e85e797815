"""RTCP compound packet parsing: SR, RR, BYE (RFC 3550 §6), NACK, PLI (RFC 4585 §6), FIR
(RFC 5104 §4.3.1), REMB (draft-alvestrand-rmcat-remb-03 §2.2) and transport-wide congestion
control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).

RFC 3550 §6.4.1 common header (every RTCP packet)::

     0                   1                   2                   3
    |V=2|P|  RC/FMT |      PT       |  length (32-bit words - 1)    |

SDES, APP, unknown packet types and unknown feedback FMTs are length-validated and
skipped. Builders live in ``bridge.rtp.rtcp_build`` and are re-exported here.
"""

from __future__ import annotations

import struct

from bridge.rtp.errors import RtcpParseError
from bridge.rtp.rtcp_build import (
    build_bye,
    build_fir,
    build_nack,
    build_pli,
    build_receiver_report,
    build_remb,
    build_sdes_cname,
    build_sender_report,
)
from bridge.rtp.rtcp_types import (
    FIR_FCI,
    FMT_AFB,
    FMT_FIR,
    FMT_NACK,
    FMT_PLI,
    FMT_TRANSPORT_CC,
    HEADER,
    I16,
    NACK_FCI,
    PT_APP,
    PT_BYE,
    PT_PSFB,
    PT_RR,
    PT_RTPFB,
    PT_SDES,
    PT_SR,
    REMB_FCI,
    REMB_ID,
    REPORT_BLOCK,
    SR_INFO,
    TRANSPORT_CC_FCI,
    TWO_U32,
    U32,
    Bye,
    Fir,
    Nack,
    Pli,
    ReceiverReport,
    Remb,
    ReportBlock,
    RtcpPacket,
    SenderReport,
    TransportCcFeedback,
)

__all__ = [
    "Bye",
    "Fir",
    "Nack",
    "Pli",
    "ReceiverReport",
    "Remb",
    "ReportBlock",
    "RtcpPacket",
    "SenderReport",
    "TransportCcFeedback",
    "build_bye",
    "build_fir",
    "build_nack",
    "build_pli",
    "build_receiver_report",
    "build_remb",
    "build_sdes_cname",
    "build_sender_report",
    "parse_rtcp",
]


def _err(reason: str, message: str) -> RtcpParseError:
    return RtcpParseError(reason, message)


def _need(kind: str, size: int, need: int, detail: str = "") -> None:
    if size < need:
        raise _err("too_short", f"RTCP {kind} too short: {size} bytes, need {need}{detail}")


def _report_blocks(data: bytes, pos: int, count: int) -> tuple[ReportBlock, ...]:
    blocks = []
    for _ in range(count):
        ssrc, lost_word, highest, jitter, lsr, dlsr = REPORT_BLOCK.unpack_from(data, pos)
        lost = lost_word & 0xFFFFFF
        if lost & 0x800000:  # signed 24-bit, RFC 3550 §6.4.1
            lost -= 0x1000000
        blocks.append(ReportBlock(ssrc, lost_word >> 24, lost, highest, jitter, lsr, dlsr))
        pos += 24
    return tuple(blocks)


def _check_sdes(data: bytes, pos: int, end: int, count: int) -> None:
    """RFC 3550 §6.5: chunks of SSRC + items (type, length, text), END item, pad to 4."""
    for chunk in range(count):
        if pos + 4 > end:
            raise _err("bad_length", f"RTCP SDES chunk {chunk} exceeds packet")
        pos += 4
        while True:
            if pos >= end:
                raise _err("bad_length", f"RTCP SDES chunk {chunk} has no END item")
            if data[pos] == 0:
                pos = (pos + 4) & ~3  # END item plus padding to the next 32-bit word
                break
            if pos + 2 > end or pos + 2 + data[pos + 1] > end:
                raise _err("bad_length", f"RTCP SDES item in chunk {chunk} exceeds packet")
            pos += 2 + data[pos + 1]
    if pos > end:
        raise _err("bad_length", "RTCP SDES chunk padding exceeds packet")


def _parse_one(data: bytes, pos: int, end: int, count: int, pt: int) -> RtcpPacket | None:
    size = end - pos
    if pt == PT_SR:
        _need("SR", size, 28 + 24 * count, f" for {count} report blocks")
        ssrc, ntp, rtp_ts, packets, octets = SR_INFO.unpack_from(data, pos + 4)
        blocks = _report_blocks(data, pos + 28, count)
        return SenderReport(ssrc, ntp, rtp_ts, packets, octets, blocks)
    if pt == PT_RR:
        _need("RR", size, 8 + 24 * count, f" for {count} report blocks")
        (ssrc,) = U32.unpack_from(data, pos + 4)
        return ReceiverReport(ssrc, _report_blocks(data, pos + 8, count))
    if pt == PT_SDES:
        _check_sdes(data, pos + 4, end, count)
        return None
    if pt == PT_BYE:
        # RFC 3550 §6.6: SC SSRCs, then optional length-prefixed reason
        _need("BYE", size, 4 + 4 * count, f" for {count} SSRCs")
        ssrcs = struct.unpack_from(f"!{count}I", data, pos + 4)
        reason_pos = pos + 4 + 4 * count
        if reason_pos < end and reason_pos + 1 + data[reason_pos] > end:
            raise _err("bad_length", f"RTCP BYE reason of {data[reason_pos]} bytes exceeds packet")
        return Bye(tuple(ssrcs))
    if pt == PT_APP:
        _need("APP", size, 12)  # RFC 3550 §6.7: SSRC, 4-byte name
        return None
    if pt in (PT_RTPFB, PT_PSFB):
        # RFC 4585 §6.1: sender SSRC, media source SSRC, FCI
        _need("feedback", size, 12)
        sender, media = TWO_U32.unpack_from(data, pos + 4)
        fci = size - 12
        if pt == PT_RTPFB:
            if count == FMT_NACK:
                return _parse_nack(data, pos + 12, fci, sender, media)
            if count == FMT_TRANSPORT_CC:
                return _parse_transport_cc(data, pos + 12, end, sender, media)
            return None
        if count == FMT_PLI:  # RFC 4585 §6.3.1: no FCI
            return Pli(sender, media)
        if count == FMT_FIR:
            return _parse_fir(data, pos + 12, fci, sender)
        if count == FMT_AFB and fci >= 4 and data[pos + 12 : pos + 16] == REMB_ID:
            return _parse_remb(data, pos + 12, fci, sender)
    return None


def _parse_nack(data: bytes, pos: int, fci: int, sender: int, media: int) -> Nack:
    # RFC 4585 §6.2.1: PID(16) BLP(16); bit i of BLP => PID + i + 1 lost (mod 2^16)
    if fci < 4 or fci % 4:
        raise _err("bad_length", f"RTCP NACK FCI of {fci} bytes, need a positive multiple of 4")
    lost: list[int] = []
    for offset in range(pos, pos + fci, 4):
        pid, blp = NACK_FCI.unpack_from(data, offset)
        lost.append(pid)
        for bit in range(16):
            if blp >> bit & 1:
                lost.append((pid + bit + 1) & 0xFFFF)
    return Nack(sender, media, tuple(lost))


def _parse_fir(data: bytes, pos: int, fci: int, sender: int) -> Fir:
    # RFC 5104 §4.3.1.1: FCI entries of SSRC(32), Seq nr(8), Reserved(24)
    if fci < 8 or fci % 8:
        raise _err("bad_length", f"RTCP FIR FCI of {fci} bytes, need a positive multiple of 8")
    entries = tuple(FIR_FCI.unpack_from(data, offset) for offset in range(pos, pos + fci, 8))
    return Fir(sender, entries)


def _parse_remb(data: bytes, pos: int, fci: int, sender: int) -> Remb:
    # draft-alvestrand-rmcat-remb-03 §2.2: 'REMB', Num SSRC(8), BR Exp(6), BR Mantissa(18)
    _need("REMB FCI", fci, 8)
    _, num, b1, low = REMB_FCI.unpack_from(data, pos)
    _need("REMB FCI", fci, 8 + 4 * num, f" for {num} SSRCs")
    mantissa = ((b1 & 0x03) << 16) | low
    ssrcs = struct.unpack_from(f"!{num}I", data, pos + 8)
    return Remb(sender, mantissa << (b1 >> 2), tuple(ssrcs))


_ONE_BIT_SHIFTS = range(13, -1, -1)  # transport-cc §3.1.4, S=0: 14 one-bit symbols
_TWO_BIT_SHIFTS = range(12, -1, -2)  # S=1: 7 two-bit symbols


def _parse_transport_cc(
    data: bytes, pos: int, end: int, sender: int, media: int
) -> TransportCcFeedback:
    # draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1: base seq(16), packet status
    # count(16), reference time(24, 64 ms units; unsigned as in libwebrtc), fb pkt count(8)
    _need("transport-cc FCI", end - pos, 8)
    base, count, word = TRANSPORT_CC_FCI.unpack_from(data, pos)
    if count == 0:
        raise _err("bad_fci", "RTCP transport-cc packet status count is 0")
    pos += 8
    # §3.1.2 symbols: 0 not received, 1 small delta, 2 large or negative delta, 3 reserved
    symbols: list[int] = []
    while (left := count - len(symbols)) > 0:
        if pos + 2 > end:
            raise _err(
                "bad_length",
                f"RTCP transport-cc status chunks exceed packet: {count - left} of {count}"
                " statuses read",
            )
        chunk = data[pos] << 8 | data[pos + 1]
        pos += 2
        if not chunk & 0x8000:  # §3.1.3 run length chunk: T=0, S(2), run length(13)
            symbols += [chunk >> 13] * min(chunk & 0x1FFF, left)
        elif chunk & 0x4000:  # §3.1.4 status vector chunk, S=1
            symbols += [chunk >> shift & 3 for shift in _TWO_BIT_SHIFTS[:left]]
        else:  # S=0; symbols beyond the status count are ignored
            symbols += [chunk >> shift & 1 for shift in _ONE_BIT_SHIFTS[:left]]
    if 3 in symbols:
        seq = (base + symbols.index(3)) & 0xFFFF
        raise _err("bad_fci", f"RTCP transport-cc reserved status symbol 3 for sequence {seq}")
    # §3.1.5 receive deltas, 250 us units: 1 byte unsigned (small), 2 bytes signed (large)
    need = symbols.count(1) + 2 * symbols.count(2)
    if pos + need > end:
        raise _err(
            "bad_length",
            f"RTCP transport-cc receive deltas of {need} bytes exceed packet: {end - pos} left",
        )
    units = (word >> 8) * 256  # reference time: 64 ms = 256 units of 250 us
    arrivals: list[tuple[int, int | None]] = []
    for i, symbol in enumerate(symbols):
        seq = (base + i) & 0xFFFF
        if symbol == 0:
            arrivals.append((seq, None))
            continue
        if symbol == 1:
            units += data[pos]
            pos += 1
        else:
            units += I16.unpack_from(data, pos)[0]
            pos += 2
        arrivals.append((seq, units * 250))
    return TransportCcFeedback(sender, media, base, word & 0xFF, tuple(arrivals))


def parse_rtcp(data: bytes) -> list[RtcpPacket]:
    """Parse a compound RTCP packet; raises RtcpParseError on malformed input."""
    total = len(data)
    _need("packet", total, 4)
    packets: list[RtcpPacket] = []
    pos = 0
    while pos < total:
        remaining = total - pos
        if remaining < 4:
            raise _err(
                "too_short", f"RTCP packet too short: {remaining} bytes at offset {pos}, need 4"
            )
        b0, pt, length = HEADER.unpack_from(data, pos)
        version = b0 >> 6
        if version != 2:
            raise _err("bad_version", f"RTCP version {version}, expected 2")
        size = (length + 1) * 4
        if size > remaining:
            raise _err(
                "bad_length",
                f"RTCP length field {length} words exceeds remaining {remaining} bytes",
            )
        end = pos + size
        if b0 & 0x20:  # P bit, RFC 3550 §6.4.1: last octet counts padding octets
            padding = data[end - 1]
            if padding == 0 or padding > size - 4:
                raise _err(
                    "bad_padding",
                    f"RTCP padding length {padding} invalid for packet body of {size - 4} bytes",
                )
            end -= padding
        packet = _parse_one(data, pos, end, b0 & 0x1F, pt)
        if packet is not None:
            packets.append(packet)
        pos += size
    return packets
