"""ReceiveLayer: one incoming RTP stream of a producer (a simulcast layer, or its only one).

Each layer has its own SSRC, sequence and timestamp space, loss statistics, NACK state and
packet cache; a producer with simulcast has up to three.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.forwarding.keyframe_throttle import KeyframeRequestThrottle
from bridge.rtp.nack import NackTracker
from bridge.rtp.packet_cache import PacketCache
from bridge.rtp.receive_stats import ReceiveStats
from bridge.rtp.rtcp import ReportBlock, SenderReport
from bridge.rtp.seqnum import SequenceUnwrapper, TimestampUnwrapper

# >= 1 s of media at the top rates diemcau carries (2.5 Mbit/s video is ~250 packets/s);
# aiortc keeps only 128, too few for a 300 ms RTT link.
CACHE_PACKETS = {"audio": 256, "video": 2048}
# A jump larger than this is a restarted encoder, not loss.
RESTART_GAP = 3000


class ReceiveLayer:
    def __init__(
        self,
        *,
        index: int,
        rid: str | None,
        kind: str,
        clock_rate: int,
        ssrc: int | None,
        rtx_ssrc: int | None,
        on_repair: Callable[[int, int], None] | None = None,
    ):
        """``on_repair``: see NackTracker (video only)."""
        self.index = index
        self.rid = rid
        self.kind = kind
        self.ssrc = ssrc
        self.rtx_ssrc = rtx_ssrc
        self.clock_rate = clock_rate
        self.cache = PacketCache(CACHE_PACKETS[kind])
        self.keyframes = KeyframeRequestThrottle()
        self.last_sender_report: SenderReport | None = None
        self._on_repair = on_repair
        self._reset()
        self._lsr = 0
        self._lsr_ms = 0

    def _reset(self) -> None:
        self.seq = SequenceUnwrapper()
        self.ts = TimestampUnwrapper()
        self.stats = ReceiveStats(self.clock_rate)
        self.nacks = NackTracker(on_repair=self._on_repair) if self.kind == "video" else None
        self.highest = -1
        # VP8: the last packet's InboundPacket.picture, reused while the picture lasts
        self.picture: tuple[int | None, int | None, int] | None = None

    def unwrap(self, sequence_number: int, timestamp: int) -> tuple[int, int, bool]:
        """Extended (seq, ts) of a packet, and whether the stream restarted before it."""
        ext_seq = self.seq.unwrap(sequence_number)
        restarted = self.highest >= 0 and abs(ext_seq - self.highest) > RESTART_GAP
        if restarted:
            self._reset()
            ext_seq = self.seq.unwrap(sequence_number)
        self.highest = max(self.highest, ext_seq)
        return ext_seq, self.ts.unwrap(timestamp), restarted

    def on_sender_report(self, report: SenderReport, now_ms: int) -> None:
        self.last_sender_report = report
        self._lsr = (report.ntp_timestamp >> 16) & 0xFFFFFFFF
        self._lsr_ms = now_ms

    def report_block(self, now_ms: int) -> ReportBlock | None:
        """RFC 3550 §6.4.1 reception report for this stream, or None before any packet."""
        if self.ssrc is None or self.stats.packets_received == 0:
            return None
        dlsr = ((now_ms - self._lsr_ms) * 65536 // 1000) if self._lsr else 0
        return self.stats.report_block(self.ssrc, self._lsr, dlsr)
