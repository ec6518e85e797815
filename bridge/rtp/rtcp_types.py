"""RTCP wire constants and value types (RFC 3550 §6, RFC 4585 §6, RFC 5104 §4.3.1,
draft-alvestrand-rmcat-remb-03 §2.2, draft-holmer-rmcat-transport-wide-cc-extensions-01
§3.1). Import them from ``bridge.rtp.rtcp``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PT_SR = 200  # RFC 3550 §6.4.1
PT_RR = 201  # RFC 3550 §6.4.2
PT_SDES = 202  # RFC 3550 §6.5
PT_BYE = 203  # RFC 3550 §6.6
PT_APP = 204  # RFC 3550 §6.7
PT_RTPFB = 205  # RFC 4585 §6.2
PT_PSFB = 206  # RFC 4585 §6.3
FMT_NACK = 1  # RFC 4585 §6.2.1
FMT_PLI = 1  # RFC 4585 §6.3.1
FMT_FIR = 4  # RFC 5104 §4.3.1
FMT_AFB = 15  # RFC 4585 §6.4 (REMB: draft-alvestrand-rmcat-remb-03 §2.2)
FMT_TRANSPORT_CC = 15  # RTPFB, draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1
REMB_ID = b"REMB"

HEADER = struct.Struct("!BBH")
U32 = struct.Struct("!I")
TWO_U32 = struct.Struct("!II")
SR_INFO = struct.Struct("!IQIII")  # RFC 3550 §6.4.1: SSRC, NTP, RTP ts, packets, octets
REPORT_BLOCK = struct.Struct("!IIIIII")  # RFC 3550 §6.4.1 report block, 24 bytes
NACK_FCI = struct.Struct("!HH")  # RFC 4585 §6.2.1: PID, BLP
FIR_FCI = struct.Struct("!IB3x")  # RFC 5104 §4.3.1.1: SSRC, seq nr, 24 bits reserved
REMB_FCI = struct.Struct("!4sBBH")  # REMB §2.2: 'REMB', num SSRC, exp(6)|mantissa(18)
# transport-cc §3.1: base seq, packet status count, reference time(24)|fb pkt count(8)
TRANSPORT_CC_FCI = struct.Struct("!HHI")
I16 = struct.Struct("!h")  # transport-cc §3.1.5: large or negative receive delta


@dataclass(frozen=True, slots=True)
class ReportBlock:
    ssrc: int
    fraction_lost: int  # 8-bit fixed point, lost/expected * 256
    packets_lost: int  # cumulative, signed 24-bit
    highest_sequence: int  # extended highest sequence number received, 32-bit
    jitter: int  # timestamp units
    lsr: int  # middle 32 bits of last SR NTP timestamp
    dlsr: int  # delay since last SR, 1/65536 s


@dataclass(frozen=True, slots=True)
class SenderReport:
    ssrc: int
    ntp_timestamp: int  # 64-bit NTP
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    ssrc: int
    reports: tuple[ReportBlock, ...] = ()


@dataclass(frozen=True, slots=True)
class Nack:
    sender_ssrc: int
    media_ssrc: int
    lost: tuple[int, ...]  # 16-bit sequence numbers, in FCI order


@dataclass(frozen=True, slots=True)
class Pli:
    sender_ssrc: int
    media_ssrc: int


@dataclass(frozen=True, slots=True)
class Fir:
    sender_ssrc: int
    entries: tuple[tuple[int, int], ...]  # (media SSRC, command sequence number)


@dataclass(frozen=True, slots=True)
class Remb:
    sender_ssrc: int
    bitrate: int  # bits per second
    ssrcs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TransportCcFeedback:
    sender_ssrc: int
    media_ssrc: int
    base_sequence: int
    feedback_count: int  # 8-bit feedback packet count
    # (16-bit transport-wide seq, arrival in microseconds on the receiver's clock, or None
    # if not received), one per packet status, from base_sequence on
    arrivals: tuple[tuple[int, int | None], ...]


@dataclass(frozen=True, slots=True)
class Bye:
    ssrcs: tuple[int, ...]


RtcpPacket = SenderReport | ReceiverReport | Nack | Pli | Fir | Remb | TransportCcFeedback | Bye
