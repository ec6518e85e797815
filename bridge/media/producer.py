"""Producer: one incoming media source of a publisher, fanned out to its consumers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bridge.forwarding.forwarder import InboundPacket
from bridge.forwarding.keyframe_throttle import KeyframeRequestThrottle
from bridge.metrics import BridgeMetrics
from bridge.rtp.header import RtpHeader
from bridge.rtp.nack import NackTracker
from bridge.rtp.packet_cache import PacketCache
from bridge.rtp.receive_stats import ReceiveStats
from bridge.rtp.rtcp import ReportBlock, SenderReport, build_nack, build_pli
from bridge.rtp.seqnum import SequenceUnwrapper, TimestampUnwrapper
from bridge.rtp.vp8 import is_vp8_keyframe

from .peer import RemoteTrack

if TYPE_CHECKING:
    from .consumer import Consumer

# >= 1 s of media at the top rates diemcau carries (2.5 Mbit/s video is ~250 packets/s);
# aiortc keeps only 128, too few for a 300 ms RTT link.
CACHE_PACKETS = {"audio": 256, "video": 2048}
# A jump larger than this is a restarted encoder, not loss.
RESTART_GAP = 3000


class Producer:
    def __init__(
        self,
        *,
        participant_id: str,
        track: RemoteTrack,
        feedback_ssrc: int,
        send_upstream: Callable[[bytes], bool],
        metrics: BridgeMetrics,
    ):
        self.participant_id = participant_id
        self.track = track
        self.kind = track.kind
        self.id = f"{participant_id}-{track.kind}"
        self.muted = False
        self.consumers: list[Consumer] = []
        self.cache = PacketCache(CACHE_PACKETS[track.kind])
        self.last_sender_report: SenderReport | None = None
        self._feedback_ssrc = feedback_ssrc
        self._send_upstream = send_upstream
        self._metrics = metrics
        self._seq = SequenceUnwrapper()
        self._ts = TimestampUnwrapper()
        self._stats = ReceiveStats(track.clock_rate)
        self._nacks = NackTracker() if track.kind == "video" else None
        self._keyframes = KeyframeRequestThrottle()
        self._highest = -1
        self._lsr = 0
        self._lsr_ms = 0

    @property
    def ssrc(self) -> int | None:
        return self.track.ssrc

    def on_rtp(self, data: bytes, header: RtpHeader, arrival_ms: int) -> None:
        ext_seq = self._seq.unwrap(header.sequence_number)
        ext_ts = self._ts.unwrap(header.timestamp)
        if self._highest >= 0 and abs(ext_seq - self._highest) > RESTART_GAP:
            self._restart(header, arrival_ms)
            ext_seq = self._seq.unwrap(header.sequence_number)
            ext_ts = self._ts.unwrap(header.timestamp)
        self._highest = max(self._highest, ext_seq)
        self._stats.update(ext_seq, header.timestamp, arrival_ms)
        if self._nacks is not None:
            missing = self._nacks.on_packet(ext_seq, arrival_ms)
            if missing:
                self._request_retransmission(missing)
        self.cache.put(ext_seq, data)
        if self.muted:
            return
        keyframe = self.kind == "video" and is_vp8_keyframe(data, header)
        packet = InboundPacket(
            ext_seq=ext_seq,
            ext_timestamp=ext_ts,
            arrival_ms=arrival_ms,
            keyframe=keyframe,
            marker=header.marker,
        )
        for consumer in self.consumers:
            consumer.forward(data, header, packet)

    def _restart(self, header: RtpHeader, arrival_ms: int) -> None:
        self._seq = SequenceUnwrapper()
        self._ts = TimestampUnwrapper()
        self._stats = ReceiveStats(self.track.clock_rate)
        if self._nacks is not None:
            self._nacks = NackTracker()
        self._highest = -1
        for consumer in self.consumers:
            consumer.restart()

    def _request_retransmission(self, missing: list[int]) -> None:
        if self.ssrc is None:
            return
        self._metrics.nacks_sent += 1
        self._send_upstream(
            build_nack(self._feedback_ssrc, self.ssrc, [s & 0xFFFF for s in missing])
        )

    def request_keyframe(self, now_ms: int) -> None:
        """Ask the publisher for a keyframe, at most once per ~300 ms."""
        if self.kind != "video" or self.ssrc is None:
            return
        if self._keyframes.should_send(now_ms):
            self._metrics.keyframe_requests += 1
            self._send_upstream(build_pli(self._feedback_ssrc, self.ssrc))

    def on_sender_report(self, report: SenderReport, now_ms: int) -> None:
        self.last_sender_report = report
        self._lsr = (report.ntp_timestamp >> 16) & 0xFFFFFFFF
        self._lsr_ms = now_ms
        for consumer in self.consumers:
            consumer.relay_sender_report(report)

    def report_block(self, now_ms: int) -> ReportBlock | None:
        """RFC 3550 §6.4.1 reception report for this source, or None before any packet."""
        if self.ssrc is None or self._stats.packets_received == 0:
            return None
        dlsr = ((now_ms - self._lsr_ms) * 65536 // 1000) if self._lsr else 0
        return self._stats.report_block(self.ssrc, self._lsr, dlsr)

    def due_retransmissions(self, now_ms: int, rtt_ms: int) -> None:
        if self._nacks is not None:
            due = self._nacks.due(now_ms, rtt_ms)
            if due:
                self._request_retransmission(due)

    def set_muted(self, muted: bool, now_ms: int) -> None:
        if muted == self.muted:
            return
        self.muted = muted
        for consumer in self.consumers:
            if muted:
                consumer.pause()
            else:
                consumer.resume()
        if not muted:
            self.request_keyframe(now_ms)
