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

from .rtcp_types import FMT_TRANSPORT_CC, PT_RTPFB
from .seqnum import SequenceUnwrapper

TRANSPORT_CC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
_FIXED = struct.Struct("!BBHIIHHI")  # header, SSRCs, base seq, count, ref time + fb count
_UNITS_PER_MS = 4  # receive deltas are multiples of 250 us (§3.1.5)
_REF_MS = 64  # reference time unit (§3.1)
# Per feedback packet, so it stays under ~1.2 kB (no IP fragments): at most this many
# statuses (286 bytes of two-bit chunks at worst) and this many bytes of receive deltas.
_MAX_STATUSES = 1000
_MAX_DELTA_BYTES = 800
_RUN_MAX = 0x1FFF  # run length is 13 bits (§3.1.3)
_MAX_PENDING = 8192  # arrivals kept when feedback cannot be sent (no transport yet)
# A packet that arrives after a feedback reported it lost (reordered) is reported again,
# received, if it is within this many sequence numbers of the reported range. libwebrtc's
# receive side does the same, and its sender keeps lost packets in its history because
# "they might be reported as received by a later feedback" (transport_feedback_adapter.cc);
# otherwise reordering would count as loss in the sender's estimate.
_LATE_WINDOW = 1000


class TransportFeedback:
    """Records arrivals of transport-wide sequence numbers and builds feedback packets."""

    __slots__ = (
        "_arrivals",
        "_count",
        "_late",
        "_lost",
        "_next",
        "_sender_ssrc",
        "_unwrap",
        "reported_lost",
        "reported_received",
    )

    def __init__(self, sender_ssrc: int) -> None:
        self._sender_ssrc = sender_ssrc
        self._unwrap = SequenceUnwrapper()
        self._arrivals: dict[int, int] = {}  # extended seq -> arrival ms
        self._late: dict[int, int] = {}  # arrived after being reported lost
        self._lost: set[int] = set()  # reported lost, within _LATE_WINDOW of _next
        self._next: int | None = None  # first extended seq not reported yet
        self._count = 0  # feedback packet count, 8 bits (§3.1)
        # what the feedback built so far told the sender (for the uplink guard)
        self.reported_received = 0
        self.reported_lost = 0

    def on_packet(self, sequence_number: int, arrival_ms: int) -> None:
        seq = self._unwrap.unwrap(sequence_number)
        if self._next is not None and seq < self._next:
            if seq in self._lost:
                self._lost.discard(seq)
                self._late[seq] = arrival_ms
            return  # else a duplicate, or too late to matter
        if len(self._arrivals) < _MAX_PENDING:
            self._arrivals.setdefault(seq, arrival_ms)

    def build(self, media_ssrc: int) -> list[bytes]:
        """Feedback for everything recorded since the last call ([] if nothing)."""
        packets: list[bytes] = []
        late, self._late = self._late, {}
        for seq in sorted(late):
            # one status each: a range would report the packets around it lost again
            packets.append(self._packet(media_ssrc, seq, seq, {seq: late[seq]}, count=False)[0])
        arrivals = self._arrivals
        if not arrivals:
            return packets
        start = min(arrivals) if self._next is None else self._next
        end = max(arrivals)
        while start <= end:
            packet, start = self._packet(media_ssrc, start, end, arrivals)
            packets.append(packet)
        self._next = end + 1
        arrivals.clear()
        floor = self._next - _LATE_WINDOW
        if self._lost and min(self._lost) < floor:
            self._lost = {seq for seq in self._lost if seq >= floor}
        return packets

    def _packet(
        self, media_ssrc: int, base: int, end: int, arrivals: dict[int, int], count: bool = True
    ) -> tuple[bytes, int]:
        """One feedback packet from ``base``; returns it and the first seq not covered.
        ``count``: add its statuses to reported_received/reported_lost."""
        # deltas start from the reference time, so anchor it at the first received packet
        first = next(s for s in range(base, end + 1) if s in arrivals)
        reference = arrivals[first] // _REF_MS
        previous = reference * _REF_MS * _UNITS_PER_MS
        symbols: list[int] = []
        deltas = bytearray()
        seq = base
        while seq <= end and len(symbols) < _MAX_STATUSES and len(deltas) < _MAX_DELTA_BYTES:
            arrival = arrivals.get(seq)
            if arrival is None:
                symbols.append(0)  # not received
                if count:
                    self._lost.add(seq)
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
        if count:
            lost = symbols.count(0)
            self.reported_lost += lost
            self.reported_received += len(symbols) - lost
        chunks = _encode_chunks(symbols)
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


def _encode_chunks(symbols: list[int]) -> bytearray:
    """Packet status chunks (§3.1.3, §3.1.4) for ``symbols`` (0 not received, 1 small
    delta, 2 large or negative delta): a run of 14 or more equal symbols is one run-length
    chunk (T=0), otherwise a status vector: 14 one-bit symbols (T=1, S=0) when none of them
    is a large delta, else 7 two-bit symbols (T=1, S=1). A last vector is padded with
    "not received", which the reader ignores beyond the packet status count."""
    out = bytearray()
    i, n = 0, len(symbols)
    while i < n:
        symbol = symbols[i]
        run = 1
        while i + run < n and symbols[i + run] == symbol and run < _RUN_MAX:
            run += 1
        if run >= 14:
            out += ((symbol << 13) | run).to_bytes(2, "big")
            i += run
            continue
        group = symbols[i : i + 14]
        if 2 not in group:
            value = 0x8000
            for j, bit in enumerate(group):
                value |= bit << (13 - j)
            i += 14
        else:
            value = 0xC000
            for j, two in enumerate(symbols[i : i + 7]):
                value |= two << (12 - 2 * j)
            i += 7
        out += value.to_bytes(2, "big")
    return out
