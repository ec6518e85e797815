"""Producer: one incoming media source of a publisher, fanned out to its consumers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from bridge.forwarding.forwarder import InboundPacket
from bridge.forwarding.layer_bitrates import LayerRateMeter
from bridge.forwarding.repair_delay import RepairDelaySettings, UplinkRepairs
from bridge.metrics import BridgeMetrics
from bridge.rtp.errors import RtpError
from bridge.rtp.forwarded import ForwardingTemplate
from bridge.rtp.header import RtpHeader, find_extension
from bridge.rtp.rtcp import ReportBlock, SenderReport, build_nack, build_pli
from bridge.rtp.vp8 import Vp8Descriptor, parse_vp8_descriptor
from bridge.rtp.vp8_munger import picture_id_bits

from .fanout_lane import FanoutLane
from .peer import RemoteTrack
from .receive_layer import ReceiveLayer

if TYPE_CHECKING:
    from .consumer import Consumer


SILENT = 127
# A level this loud (dBov) or louder counts as speech when the V flag is absent.
VOICE_DBOV = 50
SPEAKING_HOLD_MS = 1500
# Highest loss we report for audio on behalf of subscribers (see report_blocks).
FEC_LOSS_HINT = 0.08


class Producer:
    def __init__(
        self,
        *,
        participant_id: str,
        track: RemoteTrack,
        feedback_ssrc: int,
        send_upstream: Callable[[bytes], bool],
        metrics: BridgeMetrics,
        lanes: bool = True,
    ):
        """``lanes``: steady consumers are served together (media/fanout_lane.py); off,
        every consumer forwards each packet on its own (benches and tests compare)."""
        self.participant_id = participant_id
        self.track = track
        self.kind = track.kind
        self.id = f"{participant_id}-{track.kind}"
        self.muted = False
        # video: the bridge told the publisher to stop it, its uplink cannot carry it
        self.uplink_paused = False
        self.consumers: list[Consumer] = []
        rids: tuple[str | None, ...] = track.rids or (None,)
        # every layer comes over the one uplink: its repairs are timed together
        self._uplink_repairs = UplinkRepairs(RepairDelaySettings())
        self.layers = [
            ReceiveLayer(
                index=i,
                rid=rid,
                kind=track.kind,
                clock_rate=track.clock_rate,
                ssrc=track.ssrc if rid is None else None,
                rtx_ssrc=track.rtx_ssrc if rid is None else None,
                on_repair=self._uplink_repairs.on_repair,
            )
            for i, rid in enumerate(rids)
        ]
        self.audio_level = SILENT  # RFC 6464 dBov, 0 loudest .. 127 silent, smoothed
        self._last_voice_ms: int | None = None
        # (ext seq, ext timestamp, payload) of the last audio packet, for RED
        self._previous_audio: tuple[int, int, bytes] | None = None
        self._rates = LayerRateMeter(len(self.layers))
        # 1 + the highest VP8 TID seen on any layer: a consumer paused since its join sees
        # none, and its ladder without temporal steps made the cheapest step a whole
        # layer (135p at ~150k instead of 7.5 fps at ~60k; probes on edge padded that)
        self._temporal_layers = 1
        self._lanes = [FanoutLane() for _ in self.layers] if lanes else None
        self._feedback_ssrc = feedback_ssrc
        self._send_upstream = send_upstream
        self._metrics = metrics

    @property
    def simulcast(self) -> bool:
        return bool(self.track.rids)

    def lane(self, layer_index: int) -> FanoutLane | None:
        """The lane of a layer's steady consumers; None when lanes are off."""
        lanes = self._lanes
        return None if lanes is None else lanes[layer_index]

    def remove_consumer(self, consumer: Consumer) -> None:
        """The subscriber left or unsubscribed: out of its lane, and of the fan-out."""
        if consumer in self.consumers:
            consumer.stop()
            self.consumers.remove(consumer)

    def layer_for_rid(self, rid: str) -> ReceiveLayer | None:
        return next((layer for layer in self.layers if layer.rid == rid), None)

    def on_rtp(self, data: bytes, header: RtpHeader, arrival_ms: int, layer: ReceiveLayer) -> None:
        ext_seq, ext_ts, restarted = layer.unwrap(header.sequence_number, header.timestamp)
        if restarted:
            for consumer in self.consumers:
                consumer.restart(layer.index)
        layer.stats.update(ext_seq, header.timestamp, arrival_ms)
        if layer.nacks is not None:
            missing = layer.nacks.on_packet(ext_seq, arrival_ms)
            if missing:
                self._request_retransmission(layer, missing)
        layer.cache.put(ext_seq, data)
        self._rates.add(layer.index, len(data), arrival_ms)
        if self.muted:
            return
        vp8: Vp8Descriptor | None = None
        if self.kind == "video":
            try:
                vp8 = parse_vp8_descriptor(
                    memoryview(data)[header.payload_offset : header.payload_end]
                )
            except RtpError as exc:
                self._metrics.rtp_dropped[exc.reason] += 1
                return
            tid = vp8.temporal_id
            if tid is not None and tid >= self._temporal_layers:
                self._temporal_layers = tid + 1
            bits = picture_id_bits(vp8)
            picture = (vp8.picture_id, vp8.tl0_pic_idx, bits)
            if picture == layer.picture:
                picture = layer.picture  # the same object: see InboundPacket.picture
            else:
                layer.picture = picture
            packet = InboundPacket(
                ext_seq=ext_seq,
                ext_timestamp=ext_ts,
                arrival_ms=arrival_ms,
                keyframe=vp8.is_keyframe,
                marker=header.marker,
                spatial=layer.index,
                temporal=tid,
                layer_sync=vp8.layer_sync,
                picture_id=vp8.picture_id,
                tl0_pic_idx=vp8.tl0_pic_idx,
                picture_id_bits=bits,
                picture=picture,
            )
        else:
            self._update_audio_level(data, header, arrival_ms)
            packet = InboundPacket(
                ext_seq=ext_seq,
                ext_timestamp=ext_ts,
                arrival_ms=arrival_ms,
                keyframe=False,
                marker=header.marker,
            )
        # forwarded video carries abs-send-time (see forwarding_template); we send now
        send_ms = arrival_ms if vp8 is not None else None
        template = ForwardingTemplate(data, header, send_ms, vp8)
        if vp8 is None:
            self._offer_redundancy(template, data, header, ext_seq, ext_ts)
        layer_bit = 1 << layer.index
        sent = 0
        lanes = self._lanes
        if lanes is not None and (lane := lanes[layer.index]).members:
            sent = lane.forward(template, packet)  # first: it may dissolve
            if lane.members:
                self._metrics.lane_packets_out += sent
            else:
                self._metrics.lanes_dissolved += 1
        for consumer in self.consumers:
            if consumer.layer_mask & layer_bit:
                sent += consumer.forward(template, packet)
        # every copy of a packet has the template's size
        self._metrics.rtp_packets_out += sent
        self._metrics.rtp_bytes_out += sent * template.size

    def _offer_redundancy(
        self,
        template: ForwardingTemplate,
        data: bytes,
        header: RtpHeader,
        ext_seq: int,
        ext_ts: int,
    ) -> None:
        """Keep this audio packet's payload for the next one's RED block, and hand the
        previous one to this template if it came right before (rtp/red.py)."""
        previous = self._previous_audio
        if header.payload_end != len(data):  # padded: not worth a RED block
            self._previous_audio = None
            return
        payload = data[header.payload_offset :]
        self._previous_audio = (ext_seq, ext_ts, payload)
        if previous is not None and previous[0] == ext_seq - 1:
            template.allow_redundancy(payload, previous[2], ext_ts - previous[1])

    def _update_audio_level(self, data: bytes, header: RtpHeader, arrival_ms: int) -> None:
        ext_id = self.track.audio_level_ext_id
        if ext_id is None:
            return
        try:
            value = find_extension(data, header, ext_id)
        except RtpError:
            return
        if not value:
            return
        # RFC 6464 §3: V flag, then the level in -dBov
        voice, level = value[0] & 0x80, value[0] & 0x7F
        self.audio_level = (self.audio_level * 3 + level) // 4
        if voice or level <= VOICE_DBOV:
            self._last_voice_ms = arrival_ms

    def speaking(self, now_ms: int) -> bool:
        last = self._last_voice_ms
        return last is not None and now_ms - last < SPEAKING_HOLD_MS

    def uplink_late_ms(self, now_ms: int) -> int:
        """How late the publisher's repairs of lost video packets have lately reached the
        bridge (0: none lost): each subscriber holds frames that much longer."""
        return self._uplink_repairs.late_ms(now_ms)

    def layer_bitrates(self, now_ms: int) -> tuple[int, ...]:
        return self._rates.bitrates(now_ms)

    @property
    def temporal_layers(self) -> int:
        """Temporal layers the stream has shown (1: none, no temporal steps)."""
        return self._temporal_layers

    def _request_retransmission(self, layer: ReceiveLayer, missing: list[int]) -> None:
        if layer.ssrc is None:
            return
        self._metrics.nacks_sent += 1
        self._send_upstream(
            build_nack(self._feedback_ssrc, layer.ssrc, [s & 0xFFFF for s in missing])
        )

    def request_keyframe(self, now_ms: int, layer_index: int = 0) -> None:
        """Ask the publisher for a keyframe on one layer, at most once a second
        (KeyframeRequestThrottle)."""
        if self.kind != "video" or not 0 <= layer_index < len(self.layers):
            return
        layer = self.layers[layer_index]
        if layer.ssrc is not None and layer.keyframes.should_send(now_ms):
            self._metrics.keyframe_requests += 1
            self._send_upstream(build_pli(self._feedback_ssrc, layer.ssrc))

    def on_sender_report(self, layer: ReceiveLayer, report: SenderReport, now_ms: int) -> None:
        layer.on_sender_report(report, now_ms)
        for consumer in self.consumers:
            consumer.relay_sender_report(report, layer.index)

    def report_blocks(self, now_ms: int) -> list[ReportBlock]:
        blocks = [b for b in (layer.report_block(now_ms) for layer in self.layers) if b]
        if self.kind != "audio":
            return blocks
        # Opus adds in-band FEC only when its encoder expects loss, and browsers take that
        # expectation from our receiver report's fraction lost (RFC 3550 §6.4.1). A
        # publisher on a clean uplink would never protect its voice for a subscriber on a
        # lossy link, so the audio report carries the worst subscriber's downlink loss,
        # capped so the publisher's loss-based congestion control does not back off.
        hint = min(max((c.downlink_loss for c in self.consumers), default=0.0), FEC_LOSS_HINT)
        floor = round(hint * 256)
        return [b if b.fraction_lost >= floor else replace(b, fraction_lost=floor) for b in blocks]

    def due_retransmissions(self, now_ms: int, rtt_ms: int) -> None:
        for layer in self.layers:
            if layer.nacks is not None:
                due = layer.nacks.due(now_ms, rtt_ms)
                if due:
                    self._request_retransmission(layer, due)

    def set_muted(self, muted: bool, now_ms: int) -> None:
        if muted == self.muted:
            return
        self.muted = muted
        for consumer in self.consumers:
            if muted:
                consumer.pause()
            else:
                consumer.resume()
