"""What a listening site does with forwarded media: count, time and report it, no decoding.

Per packet: the RTP fixed header (RFC 3550 §5.1) gives SSRC and sequence number; the
payload's last 8 bytes are the publisher's send time (bench.load.media.stamp), so
``now - stamp`` is the forwarding latency (both ends share CLOCK_MONOTONIC). Like a
browser, a listener sends receiver reports (RFC 3550 §6.4.2) about once a second and
NACKs (RFC 4585 §6.2.1) for video gaps.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bridge.media.peer import RemoteTrack
from bridge.rtp.nack import NackTracker
from bridge.rtp.receive_stats import ReceiveStats
from bridge.rtp.rtcp import build_nack, build_receiver_report
from bridge.rtp.seqnum import SequenceUnwrapper

from .media import STAMP_SIZE

_SEQ_SSRC = struct.Struct("!H4xI")  # from byte 2: sequence number, timestamp, SSRC
_STAMP = struct.Struct("!Q")
BIN_US = 50  # latency histogram resolution
_BINS = 20_000  # up to 1 s; later packets count in the last bin


class LatencyHistogram:
    """Forwarding latencies in BIN_US-wide bins: cheap to add, merge and summarise."""

    def __init__(self) -> None:
        self.bins = [0] * _BINS

    def add_ns(self, latency_ns: int) -> None:
        self.bins[min(latency_ns // (BIN_US * 1000), _BINS - 1)] += 1

    def count(self) -> int:
        return sum(self.bins)

    def percentile_ms(self, fraction: float) -> float | None:
        """Upper edge of the bin holding the ``fraction`` quantile, None if empty."""
        total = self.count()
        if total == 0:
            return None
        rank, seen = fraction * total, 0
        for i, n in enumerate(self.bins):
            seen += n
            if seen >= rank:
                return (i + 1) * BIN_US / 1000
        return _BINS * BIN_US / 1000

    def minus(self, earlier: LatencyHistogram) -> LatencyHistogram:
        out = LatencyHistogram()
        out.bins = [a - b for a, b in zip(self.bins, earlier.bins, strict=True)]
        return out

    def copy(self) -> LatencyHistogram:
        out = LatencyHistogram()
        out.bins = list(self.bins)
        return out


class _Stream:
    __slots__ = ("nacks", "received", "seq", "stats")

    def __init__(self, track: RemoteTrack):
        self.seq = SequenceUnwrapper()
        self.stats = ReceiveStats(track.clock_rate)
        self.nacks = NackTracker() if track.kind == "video" else None
        self.received = 0


@dataclass(frozen=True, slots=True)
class StreamCount:
    """Media packets received on the forwarded streams, and the highest extended seq."""

    received: int
    highest: int


class LoadReceiver:
    """The subscriber PC's packet sink of one listening site."""

    def __init__(self, latency: LatencyHistogram, feedback_ssrc: int):
        self._latency = latency
        self._feedback_ssrc = feedback_ssrc
        self._streams: dict[int, _Stream] = {}
        self._send: Callable[[bytes], bool] = lambda data: False
        self.first_packet_ns: int | None = None
        self.other_packets = 0  # RTX and SSRCs not (yet) in an answered offer

    def expect(self, tracks: Iterable[RemoteTrack], send_feedback: Callable[[bytes], bool]) -> None:
        """The tracks of the answered offer; RTCP goes out through ``send_feedback``."""
        self._send = send_feedback
        for track in tracks:
            if track.ssrc is not None and track.ssrc not in self._streams:
                self._streams[track.ssrc] = _Stream(track)

    def on_rtp(self, data: bytes, arrival_ms: int) -> None:
        now = time.monotonic_ns()
        seq, ssrc = _SEQ_SSRC.unpack_from(data, 2)
        stream = self._streams.get(ssrc)
        if stream is None:
            self.other_packets += 1
            return
        if self.first_packet_ns is None:
            self.first_packet_ns = now
        ext = stream.seq.unwrap(seq)
        stream.received += 1
        stream.stats.update(ext, int.from_bytes(data[4:8]), arrival_ms)
        if stream.nacks is not None:
            missing = stream.nacks.on_packet(ext, arrival_ms)
            if missing:
                self._send(build_nack(self._feedback_ssrc, ssrc, [s & 0xFFFF for s in missing]))
        # the bridge sends no padding (the publisher adds none): the stamp ends the packet
        self._latency.add_ns(now - _STAMP.unpack_from(data, len(data) - STAMP_SIZE)[0])

    def on_rtcp(self, data: bytes) -> None:
        return None  # sender reports: a browser would use them for lip sync

    def send_report(self) -> None:
        """One receiver report (RFC 3550 §6.4.2) about every stream that has media."""
        blocks = [
            s.stats.report_block(ssrc, 0, 0)
            for ssrc, s in self._streams.items()
            if s.stats.packets_received
        ]
        if blocks:
            self._send(build_receiver_report(self._feedback_ssrc, blocks[:31]))

    def counts(self) -> dict[int, StreamCount]:
        return {
            ssrc: StreamCount(s.received, s.seq.highest or 0) for ssrc, s in self._streams.items()
        }


def received_and_expected(
    before: list[dict[int, StreamCount]], after: list[dict[int, StreamCount]]
) -> tuple[int, int]:
    """Packets received and expected (highest seq advance) between two snapshots of the
    listeners' ``counts()``, over the streams that already had media at the first."""
    received = expected = 0
    for then, now in zip(before, after, strict=True):
        for ssrc, a in now.items():
            b = then.get(ssrc)
            if b is not None and b.received:
                expected += a.highest - b.highest
                received += a.received - b.received
    return received, expected
