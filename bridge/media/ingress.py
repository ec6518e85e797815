"""PublisherIngress: routes a publisher's plain RTP/RTCP to its producers and layers.

SSRCs come from the offer (a=ssrc, a=ssrc-group:FID) or, for RID-based simulcast, are
learned from the rtp-stream-id / repaired-rtp-stream-id header extensions (RFC 8852)
of the first packets of each layer. Transport-wide sequence numbers are recorded for the
publisher's congestion control feedback (rtp/transport_feedback.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from bridge.metrics import BridgeMetrics
from bridge.rtp.errors import RtpError
from bridge.rtp.header import RtpHeader, find_extension, parse_rtp_header, unwrap_rtx
from bridge.rtp.rtcp import SenderReport, parse_rtcp
from bridge.rtp.transport_feedback import TransportFeedback

from .producer import Producer
from .receive_layer import ReceiveLayer

Route = tuple[Producer, ReceiveLayer]


class PublisherIngress:
    def __init__(self, metrics: BridgeMetrics, transport_feedback: TransportFeedback):
        self._metrics = metrics
        self._transport_feedback = transport_feedback
        self._transport_cc_id: int | None = None
        self._media: dict[int, Route] = {}
        self._rtx: dict[int, Route] = {}
        self._producers: list[Producer] = []
        # this publisher's accepted packets, sampled for its media health
        self.rtp_packets = 0
        self.rtcp_packets = 0
        # bytes of every packet with a transport-wide sequence number (the uplink's load)
        self.transport_bytes = 0

    def reindex(self, producers: Iterable[Producer]) -> None:
        self._producers = list(producers)
        # BUNDLE: one extension id per URI for the whole transport (RFC 8843 §9.2)
        self._transport_cc_id = next(
            (p.track.transport_cc_ext_id for p in self._producers if p.track.transport_cc_ext_id),
            None,
        )
        self._media.clear()
        self._rtx.clear()
        for producer in self._producers:
            for layer in producer.layers:
                if layer.ssrc is not None:
                    self._media[layer.ssrc] = (producer, layer)
                if layer.rtx_ssrc is not None:
                    self._rtx[layer.rtx_ssrc] = (producer, layer)

    def route_rtp(self, data: bytes, arrival_ms: int) -> None:
        try:
            header = parse_rtp_header(data)
            if self._transport_cc_id is not None:
                # every packet counts for the publisher's estimate, probes and RTX included
                seq = find_extension(data, header, self._transport_cc_id)
                if seq is not None and len(seq) == 2:
                    self._transport_feedback.on_packet(int.from_bytes(seq, "big"), arrival_ms)
                    self.transport_bytes += len(data)
            route = self._media.get(header.ssrc)
            if route is None:
                found = self._rtx.get(header.ssrc) or self._learn(data, header)
                if found is None:
                    return  # _learn counted why
                producer, layer = found
                if header.ssrc == layer.rtx_ssrc:
                    if layer.ssrc is None or producer.track.rtx_payload_type != header.payload_type:
                        self._metrics.rtp_dropped["unknown_ssrc"] += 1
                        return
                    if header.payload_end == header.payload_offset:
                        # Padding only: the publisher's browser probing its uplink. An
                        # RTX payload starts with the original sequence number (RFC 4588
                        # §4); this one has none to restore. Valid, counted apart.
                        self._metrics.rtp_dropped["rtx_padding"] += 1
                        return
                    # RFC 4588 §4: a retransmission we asked for; restore the original
                    data = unwrap_rtx(
                        data, header, payload_type=producer.track.payload_type, ssrc=layer.ssrc
                    )
                    header = parse_rtp_header(data)
                route = found
        except RtpError as exc:
            self._metrics.rtp_dropped[exc.reason] += 1
            return
        self._metrics.rtp_packets_in += 1
        self._metrics.rtp_bytes_in += len(data)
        self.rtp_packets += 1
        producer, layer = route
        producer.on_rtp(data, header, arrival_ms, layer)

    def _learn(self, data: bytes, header: RtpHeader) -> Route | None:
        """Bind an unknown SSRC to a simulcast layer by its RID header extension."""
        for producer in self._producers:
            track = producer.track
            if not track.rids:
                continue
            for ext_id, repaired in ((track.rid_ext_id, False), (track.repaired_rid_ext_id, True)):
                if ext_id is None:
                    continue
                value = find_extension(data, header, ext_id)
                if value is None:
                    continue
                layer = producer.layer_for_rid(value.decode("ascii", "replace"))
                if layer is None:
                    self._metrics.rtp_dropped["unknown_rid"] += 1
                    return None
                if repaired:
                    layer.rtx_ssrc = header.ssrc
                    self._rtx[header.ssrc] = (producer, layer)
                else:
                    layer.ssrc = header.ssrc
                    self._media[header.ssrc] = (producer, layer)
                return producer, layer
        self._metrics.rtp_dropped["unknown_ssrc"] += 1
        return None

    def route_rtcp(self, data: bytes, now_ms: int) -> None:
        try:
            packets = parse_rtcp(data)
        except RtpError as exc:
            self._metrics.rtcp_dropped[exc.reason] += 1
            return
        self._metrics.rtcp_packets_in += 1
        self.rtcp_packets += 1
        for packet in packets:
            if isinstance(packet, SenderReport):
                route = self._media.get(packet.ssrc)
                if route is not None:
                    route[0].on_sender_report(route[1], packet, now_ms)
