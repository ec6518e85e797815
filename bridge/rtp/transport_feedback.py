"""Transport-wide congestion control feedback, receive side
(draft-holmer-rmcat-transport-wide-cc-extensions-01).

A publisher's browser numbers every packet it sends with a transport-wide sequence number
(header extension, §2) and runs its own send-side estimator (GCC with probing) on the
arrival times we report back (§3.1). That is what lets a site's uplink ramp to its top
simulcast layer within seconds and back off on delay before loss; REMB alone (a number the
browser may only approach at ~8 % a second) cannot.

Pure: arrival times come in as milliseconds of the bridge clock; packets come out as bytes.
"""

from __future__ import annotations

import struct

from .rtcp_types import PT_RTPFB
from .seqnum import SequenceUnwrapper

TRANSPORT_CC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
FMT_TRANSPORT_CC = 15  # §3.1
_FIXED = struct.Struct("!BBHIIHHI")  # header, SSRCs, base seq, count, ref time + fb count
_UNITS_PER_MS = 4  # receive deltas are multiples of 250 us (§3.1.5)
_REF_MS = 64  # reference time unit (§3.1)
_MAX_STATUSES = 4096  # per packet; keeps one feedback well under the MTU at 2 bytes/status
_MAX_PENDING = 8192  # arrivals kept when feedback cannot be sent (no transport yet)


class TransportFeedback:
    """Records arrivals of transport-wide sequence numbers and builds feedback packets."""

    __slots__ = ("_arrivals", "_count", "_next", "_sender_ssrc", "_unwrap")

    def __init__(self, sender_ssrc: int) -> None:
        self._sender_ssrc = sender_ssrc
        self._unwrap = SequenceUnwrapper()
        self._arrivals: dict[int, int] = {}  # extended seq -> arrival ms
        self._next: int | None = None  # first extended seq not reported yet
        self._count = 0  # feedback packet count, 8 bits (§3.1)

    def on_packet(self, sequence_number: int, arrival_ms: int) -> None:
        seq = self._unwrap.unwrap(sequence_number)
        if self._next is not None and seq < self._next:
            return  # arrived after we reported it lost; the sender has moved on
        if len(self._arrivals) < _MAX_PENDING:
            self._arrivals.setdefault(seq, arrival_ms)

    def build(self, media_ssrc: int) -> list[bytes]:
        """Feedback for everything recorded since the last call ([] if nothing)."""
        arrivals = self._arrivals
        if not arrivals:
            return []
        start = min(arrivals) if self._next is None else self._next
        end = max(arrivals)
        packets: list[bytes] = []
        while start <= end:
            packet, start = self._packet(media_ssrc, start, end)
            packets.append(packet)
        self._next = end + 1
        arrivals.clear()
        return packets

    def _packet(self, media_ssrc: int, base: int, end: int) -> tuple[bytes, int]:
        """One feedback packet from ``base``; returns it and the first seq not covered."""
        arrivals = self._arrivals
        # deltas start from the reference time, so anchor it at the first received packet
        first = next(s for s in range(base, end + 1) if s in arrivals)
        reference = arrivals[first] // _REF_MS
        previous = reference * _REF_MS * _UNITS_PER_MS
        symbols: list[int] = []
        deltas = bytearray()
        seq = base
        while seq <= end and len(symbols) < _MAX_STATUSES:
            arrival = arrivals.get(seq)
            if arrival is None:
                symbols.append(0)  # not received
            else:
                delta = arrival * _UNITS_PER_MS - previous
                if 0 <= delta <= 0xFF:
                    symbols.append(1)  # small delta, 1 byte (§3.1.5)
                    deltas.append(delta)
                elif -0x8000 <= delta <= 0x7FFF:
                    symbols.append(2)  # large or negative delta, 2 bytes signed
                    deltas += delta.to_bytes(2, "big", signed=True)
                else:
                    break  # too far from the previous one: the next packet re-anchors
                previous = arrival * _UNITS_PER_MS
            seq += 1
        chunks = bytearray()
        for i in range(0, len(symbols), 7):
            # two-bit status vector chunk: T=1, S=1, seven symbols (§3.1.4)
            group = symbols[i : i + 7] + [0] * (7 - len(symbols[i : i + 7]))
            value = 0xC000
            for j, symbol in enumerate(group):
                value |= symbol << (12 - 2 * j)
            chunks += value.to_bytes(2, "big")
        body = len(chunks) + len(deltas)
        padding = -(_FIXED.size + body) % 4
        size = _FIXED.size + body + padding
        buf = bytearray(size)
        _FIXED.pack_into(
            buf,
            0,
            0x80 | (0x20 if padding else 0) | FMT_TRANSPORT_CC,
            PT_RTPFB,
            size // 4 - 1,
            self._sender_ssrc,
            media_ssrc,
            base & 0xFFFF,
            len(symbols),
            ((reference & 0xFFFFFF) << 8) | self._count,
        )
        self._count = (self._count + 1) & 0xFF
        buf[_FIXED.size : _FIXED.size + body] = chunks + deltas
        if padding:
            buf[-1] = padding  # RFC 3550 §6.4.1: the last octet counts the padding
        return bytes(buf), seq
