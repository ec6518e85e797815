"""RTCP packet builders (RFC 3550 §6.4-§6.6, RFC 4585 §6.2.1/§6.3.1, RFC 5104 §4.3.1,
draft-alvestrand-rmcat-remb-03 §2.2). Import them from ``bridge.rtp.rtcp``.

Each builder returns one RTCP packet; concatenate them for a compound packet.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from bridge.rtp.rtcp_types import (
    FIR_FCI,
    FMT_AFB,
    FMT_FIR,
    FMT_NACK,
    FMT_PLI,
    HEADER,
    NACK_FCI,
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
    TWO_U32,
    U32,
    ReportBlock,
)

_MAX_COUNT = 31  # 5-bit RC/SC field, RFC 3550 §6.4.1
_LOST_MIN = -0x800000
_LOST_MAX = 0x7FFFFF
_MANTISSA_MAX = (1 << 18) - 1


def _header(buf: bytearray, count: int, pt: int) -> None:
    # RFC 3550 §6.4.1: V=2, P=0, RC/FMT, PT, length = words - 1
    HEADER.pack_into(buf, 0, 0x80 | count, pt, len(buf) // 4 - 1)


def _check_count(what: str, count: int) -> None:
    if count > _MAX_COUNT:
        raise ValueError(f"RTCP {what}: {count} items, at most {_MAX_COUNT} fit")


def _pack_blocks(buf: bytearray, offset: int, reports: Sequence[ReportBlock]) -> None:
    for r in reports:
        lost = min(max(r.packets_lost, _LOST_MIN), _LOST_MAX) & 0xFFFFFF  # signed 24-bit
        REPORT_BLOCK.pack_into(
            buf, offset, r.ssrc, (r.fraction_lost << 24) | lost,
            r.highest_sequence, r.jitter, r.lsr, r.dlsr,
        )  # fmt: skip
        offset += 24


def build_sender_report(
    ssrc: int,
    ntp_timestamp: int,
    rtp_timestamp: int,
    packet_count: int,
    octet_count: int,
    reports: Sequence[ReportBlock] = (),
) -> bytes:
    """RFC 3550 §6.4.1 SR."""
    _check_count("SR report blocks", len(reports))
    buf = bytearray(28 + 24 * len(reports))
    _header(buf, len(reports), PT_SR)
    SR_INFO.pack_into(buf, 4, ssrc, ntp_timestamp, rtp_timestamp, packet_count, octet_count)
    _pack_blocks(buf, 28, reports)
    return bytes(buf)


def build_receiver_report(ssrc: int, reports: Sequence[ReportBlock] = ()) -> bytes:
    """RFC 3550 §6.4.2 RR (an empty RR is valid)."""
    _check_count("RR report blocks", len(reports))
    buf = bytearray(8 + 24 * len(reports))
    _header(buf, len(reports), PT_RR)
    U32.pack_into(buf, 4, ssrc)
    _pack_blocks(buf, 8, reports)
    return bytes(buf)


def build_sdes_cname(ssrc: int, cname: str) -> bytes:
    """RFC 3550 §6.5.1: one chunk with a CNAME item, END, padded to 32 bits."""
    text = cname.encode()
    if len(text) > 255:
        raise ValueError(f"RTCP SDES CNAME of {len(text)} bytes, at most 255")
    chunk = 4 + 2 + len(text)
    size = 4 + (chunk + 4) // 4 * 4  # at least one null octet (END) then padding
    buf = bytearray(size)
    _header(buf, 1, PT_SDES)
    U32.pack_into(buf, 4, ssrc)
    buf[8] = 1  # CNAME
    buf[9] = len(text)
    buf[10 : 10 + len(text)] = text
    return bytes(buf)


def build_pli(sender_ssrc: int, media_ssrc: int) -> bytes:
    """RFC 4585 §6.3.1 PLI: feedback header only, no FCI."""
    buf = bytearray(12)
    _header(buf, FMT_PLI, PT_PSFB)
    TWO_U32.pack_into(buf, 4, sender_ssrc, media_ssrc)
    return bytes(buf)


def build_fir(sender_ssrc: int, media_ssrc: int, seq_nr: int) -> bytes:
    """RFC 5104 §4.3.1: media source SSRC in the header is 0, the target is in the FCI."""
    buf = bytearray(20)
    _header(buf, FMT_FIR, PT_PSFB)
    TWO_U32.pack_into(buf, 4, sender_ssrc, 0)
    FIR_FCI.pack_into(buf, 12, media_ssrc, seq_nr & 0xFF)
    return bytes(buf)


def _nack_order(lost: Iterable[int]) -> list[int]:
    """Distinct 16-bit seqs in wrap-aware order: start after the largest circular gap."""
    seqs = sorted({s & 0xFFFF for s in lost})
    if len(seqs) < 2:
        return seqs
    best_gap = seqs[0] + 0x10000 - seqs[-1]  # gap across the 65535 -> 0 wrap
    start = 0
    for i in range(1, len(seqs)):
        gap = seqs[i] - seqs[i - 1]
        if gap > best_gap:
            best_gap, start = gap, i
    return seqs[start:] + seqs[:start]


def build_nack(sender_ssrc: int, media_ssrc: int, lost: Iterable[int]) -> bytes:
    """RFC 4585 §6.2.1 Generic NACK; packs seqs (masked to 16 bits) into PID/BLP pairs.

    BLP bit i means PID + i + 1 (mod 2^16) is lost, so one pair can span 65535 -> 0.
    """
    pairs: list[list[int]] = []
    for seq in _nack_order(lost):
        if pairs:
            diff = (seq - pairs[-1][0]) & 0xFFFF
            if 1 <= diff <= 16:
                pairs[-1][1] |= 1 << (diff - 1)
                continue
        pairs.append([seq, 0])
    if not pairs:
        raise ValueError("RTCP NACK needs at least one lost sequence number")
    buf = bytearray(12 + 4 * len(pairs))
    _header(buf, FMT_NACK, PT_RTPFB)
    TWO_U32.pack_into(buf, 4, sender_ssrc, media_ssrc)
    for i, (pid, blp) in enumerate(pairs):
        NACK_FCI.pack_into(buf, 12 + 4 * i, pid, blp)
    return bytes(buf)


def build_remb(sender_ssrc: int, bitrate: int, ssrcs: Sequence[int]) -> bytes:
    """draft-alvestrand-rmcat-remb-03 §2.2 REMB; bitrate = mantissa(18) << exp(6),
    rounded down when it does not fit 18 bits.
    """
    if bitrate < 0:
        raise ValueError(f"REMB bitrate must be >= 0, got {bitrate}")
    if len(ssrcs) > 255:
        raise ValueError(f"REMB: {len(ssrcs)} SSRCs, at most 255 fit")
    exp = 0
    mantissa = bitrate
    while mantissa > _MANTISSA_MAX:
        mantissa >>= 1
        exp += 1
    if exp > 63:
        raise ValueError(f"REMB bitrate {bitrate} too large")
    buf = bytearray(20 + 4 * len(ssrcs))
    _header(buf, FMT_AFB, PT_PSFB)
    TWO_U32.pack_into(buf, 4, sender_ssrc, 0)  # media source SSRC is 0 (§2.2)
    REMB_FCI.pack_into(
        buf, 12, REMB_ID, len(ssrcs), (exp << 2) | (mantissa >> 16), mantissa & 0xFFFF
    )
    struct.pack_into(f"!{len(ssrcs)}I", buf, 20, *ssrcs)
    return bytes(buf)


def build_bye(ssrcs: Sequence[int]) -> bytes:
    """RFC 3550 §6.6 BYE without a reason."""
    _check_count("BYE SSRCs", len(ssrcs))
    buf = bytearray(4 + 4 * len(ssrcs))
    _header(buf, len(ssrcs), PT_BYE)
    struct.pack_into(f"!{len(ssrcs)}I", buf, 4, *ssrcs)
    return bytes(buf)
