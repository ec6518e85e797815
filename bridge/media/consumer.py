"""Consumer: one producer's stream as sent to one subscriber."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bridge.forwarding.delivered_rate import DeliveredRate
from bridge.forwarding.downlink_loss import DownlinkLossMeter
from bridge.forwarding.forwarder import Drop, Forwarder, InboundPacket
from bridge.forwarding.retransmit_guard import RetransmitGuard, RetransmitSettings
from bridge.metrics import BridgeMetrics
from bridge.rtp.errors import RtpError
from bridge.rtp.forwarded import ForwardingTemplate, abs_send_time_element, playout_delay_element
from bridge.rtp.header import padding_packet, parse_rtp_header, rewrite_packet, wrap_rtx
from bridge.rtp.munger import RtpMunger
from bridge.rtp.packet_cache import SequenceMap
from bridge.rtp.rtcp import ReportBlock, SenderReport, build_sdes_cname, build_sender_report
from bridge.rtp.vp8 import parse_vp8_descriptor

from .fanout_lane import FanoutLane, MemberRow
from .peer import SendPacket, SendSlot, SlotParameters
from .producer import Producer
from .receive_layer import CACHE_PACKETS

# SequenceMap values pack (incoming extended seq, layer index): NACKs name outgoing seqs.
_LAYER_BITS = 2
# What the consumer's SequenceMap keeps per forwarded packet, packed in one int:
# the munged VP8 PictureID + 1 and TL0PICIDX + 1 (0: none) above _VP8_SHIFT, the incoming
# extended seq, the layer index in the low _LAYER_BITS. A retransmission must carry the
# PictureID/TL0PICIDX the subscriber saw in that packet the first time, not the publisher's.
_VP8_SHIFT = 56
_IN_MASK = (1 << _VP8_SHIFT) - 1
# An SR carried forward from the last relayed one goes out when none did for this long
# (refresh_sender_report).
SR_REFRESH_MS = 1000

Clock = Callable[[], int]


def _sent_entry(packet: InboundPacket, picture_id: int | None, tl0_pic_idx: int | None) -> int:
    """The SequenceMap value of a packet forwarded with these VP8 fields."""
    vp8 = 0
    if picture_id is not None or tl0_pic_idx is not None:
        vp8 = (((picture_id + 1) if picture_id is not None else 0) << 9) | (
            (tl0_pic_idx + 1) if tl0_pic_idx is not None else 0
        )
    return (vp8 << _VP8_SHIFT) | (packet.ext_seq << _LAYER_BITS) | packet.spatial


class VideoQueue(Protocol):
    """The subscriber's video pacer (media/paced_sender.py), beyond ``send``: it sends
    retransmissions ahead of queued video (a key is (media SSRC, extended sequence number
    sent)), and drops what of a stream still waits when that stream starts over."""

    def send_repair(self, packet: bytes | bytearray, key: tuple[int, int]) -> bool: ...

    def repair_pending(self, key: tuple[int, int]) -> bool: ...

    def drop_stream(self, ssrc: int) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class ConsumerStats:
    """What the subscriber's receiver reports say (RFC 3550 §6.4.1)."""

    packets_sent: int
    fraction_lost: float
    packets_lost: int
    jitter: int
    rtt_ms: int | None


class Consumer:
    def __init__(
        self,
        *,
        producer: Producer,
        slot: SendSlot,
        send: SendPacket,
        clock: Clock,
        send_rtcp: SendPacket | None = None,
        queue: VideoQueue | None = None,
        metrics: BridgeMetrics,
        rng: random.Random,
    ):
        self.producer = producer
        self.id = producer.id  # one consumer per producer per subscriber
        self.slot = slot
        self._send = send
        # RTCP skips the pacer that media may go through: a sender report held behind
        # queued video would carry a stale clock and inflate the measured round trip.
        self._send_rtcp = send if send_rtcp is None else send_rtcp
        self._queue = queue  # retransmissions go there (else through send)
        self._clock = clock
        self._metrics = metrics
        self._params: SlotParameters | None = None
        self._abs_send_time_element = 0  # of _params, for ForwardingTemplate.fill
        self._playout_delay_ms = 0  # set_playout_delay
        self._playout_delay = b""  # its element for ForwardingTemplate.fill
        self._red_wanted = False  # set_redundancy
        self._red_payload_type: int | None = None  # while RED is wanted and negotiated
        self._first_out_seq = rng.randrange(32768)
        self._forwarder = Forwarder(
            producer.kind,
            RtpMunger(self._first_out_seq, rng.getrandbits(32)),
            producer.track.clock_rate,
        )
        self._forwarder.pause()
        # Bit i set: packets of the producer's layer i may matter to this consumer, and
        # the producer hands it only those. The forwarder drops any other packet as
        # "other_layer", "paused" or "allocation" without asking for a key frame, so
        # calling it for them is wasted (with simulcast, most of a low-layer
        # subscriber's calls). Every method that changes the target, the pause or the
        # parameters recomputes it; between those the forwarder only moves its current
        # layer to the target or to none, so the bits stay a superset.
        self.layer_mask = 0
        self._sent = SequenceMap(CACHE_PACKETS[producer.kind])
        self._rtx_seq = rng.randrange(32768)  # extended: the next RTX packet's, unwrapped
        self._resent = RetransmitGuard(RetransmitSettings())
        self.rtx_bytes = 0  # of bytes_sent, retransmissions
        self._packets_sent = 0
        self._octets_sent = 0
        self._bytes_sent = 0
        # In the producer's lane for its layer (media/fanout_lane.py): the lane sends for
        # it, and catch_up writes here what it sent, up to `_lane_at` (the lane's count).
        self._lane: FanoutLane | None = None
        self._lane_row: MemberRow | None = None
        self._lane_at = 0
        self._lane_offsets = (0, 0)  # (seq, PictureID) as of _lane_at, see MemberRow
        self.lane_failed: list[int] = []  # the lane's indices of the sends that failed
        self._last_report: ReportBlock | None = None
        self._downlink_loss = DownlinkLossMeter()
        self._rtx_loss = DownlinkLossMeter()  # the RTX stream: retransmissions and padding
        self._delivered = DeliveredRate()
        self._rtx_delivered = DeliveredRate()
        self._rtx_stream_bytes = 0  # of bytes_sent, on the RTX stream (with padding)
        self._gaps = 0  # outgoing seqs never sent, up to _gaps_counted_upto
        self._gaps_counted_upto = self._first_out_seq - 1
        self.downlink_loss = 0.0  # latest, this subscriber's link only
        self._rtt_ms: int | None = None
        self._rtt_fresh = False  # _rtt_ms measured since take_rtt_sample
        self._sr_sent: dict[int, int] = {}  # middle 32 bits of our SR NTP -> send time
        # the last SR relayed (and when it came), and when an SR last went out
        self._relayed_sr: tuple[SenderReport, int] | None = None
        self._sr_at_ms: int | None = None
        self.started = False
        self._muted = False
        self._allocated = True
        # highest layer the subscriber's view needs (-1: hidden); set by its Downlink
        self.max_spatial = len(producer.layers) - 1

    # --- lifecycle -------------------------------------------------------------------

    def start(self, params: SlotParameters) -> None:
        """The subscriber has answered an offer that carries this consumer: send."""
        if self.started and params == self._params:
            return
        self._leave_lane()
        self._params = params
        self._abs_send_time_element = abs_send_time_element(params.abs_send_time_id)
        self._apply_playout_delay()
        self._apply_redundancy()
        self.started = True
        self._muted = self.producer.muted
        self._apply_pause()

    def pause(self) -> None:
        """The producer was muted."""
        self._muted = True
        self._apply_pause()

    def resume(self) -> None:
        self._muted = False
        self._apply_pause()

    def set_allocated(self, forward: bool) -> None:
        """Whether the allocator gives this (audio) consumer room on the downlink."""
        if forward != self._allocated:
            self._allocated = forward
            self._apply_pause()

    def set_redundancy(self, wanted: bool) -> None:
        """Audio: send RED (the previous packet again in each one) if the subscriber
        accepted it; its Downlink decides (loss on the link, room for it)."""
        self._red_wanted = wanted
        self._apply_redundancy()

    @property
    def playout_delay_ms(self) -> int:
        """The playout delay its video asks for (set_playout_delay)."""
        return self._playout_delay_ms

    def set_playout_delay(self, min_ms: int) -> None:
        """Video: ask the subscriber to hold each frame at least ``min_ms`` before showing
        it (0: its own choice), so that a retransmission arrives in time; its Downlink
        decides (forwarding/repair_delay.py). Sent in every packet while negotiated."""
        if min_ms != self._playout_delay_ms:
            self._leave_lane()
            self._playout_delay_ms = min_ms
            self._apply_playout_delay()

    def _apply_playout_delay(self) -> None:
        # A clean link never gets the element; once one was sent, a 0 must be sent too
        # (the browser keeps the last delay it was given).
        params = self._params
        if params is not None and (self._playout_delay_ms or self._playout_delay):
            self._playout_delay = playout_delay_element(
                params.playout_delay_id, self._playout_delay_ms
            )

    @property
    def accepts_redundancy(self) -> bool:
        """The subscriber's answer accepted RED for this stream."""
        params = self._params
        return params is not None and params.red_payload_type is not None

    @property
    def redundant(self) -> bool:
        """Whether RED is being sent now."""
        return self._red_payload_type is not None

    def _apply_redundancy(self) -> None:
        params = self._params
        red = params.red_payload_type if params is not None and self._red_wanted else None
        if red != self._red_payload_type:
            self._leave_lane()
            self._red_payload_type = red

    def _apply_pause(self) -> None:
        self._leave_lane()
        if self._muted or not self._allocated:
            self._forwarder.pause()
        elif self.started:
            self._forwarder.resume()
        self._update_layer_mask()

    def _update_layer_mask(self) -> None:
        forwarder = self._forwarder
        target = forwarder.target_spatial
        if (
            self._lane is not None
            or self._params is None
            or forwarder.state == "paused"
            or target is None
        ):
            self.layer_mask = 0
            return
        current = forwarder.current_spatial
        self.layer_mask = (1 << target) | (0 if current is None else 1 << current)

    def request_keyframe(self, now_ms: int) -> None:
        """The subscriber lost a picture (PLI/FIR): ask for the layer it receives."""
        current = self._forwarder.current_spatial
        self.producer.request_keyframe(now_ms, 0 if current is None else current)

    @property
    def current_spatial(self) -> int | None:
        return self._forwarder.current_spatial

    @property
    def temporal_layers(self) -> int:
        """Temporal layers the producer's stream has shown (1: none, no temporal steps)."""
        return self.producer.temporal_layers

    def restart(self, layer_index: int | None = None) -> None:
        """The producer's stream `layer_index` (None: every stream) restarted."""
        if layer_index is None or layer_index == self._forwarder.current_spatial:
            self._leave_lane()
            self._forwarder.restart()
            self._update_layer_mask()

    # --- media -----------------------------------------------------------------------

    def forward(self, template: ForwardingTemplate, packet: InboundPacket) -> bool:
        """Send one incoming packet (as its template) if the forwarder says so.

        True if sent; the producer counts the bridge's packets and bytes out from that,
        once per incoming packet.
        """
        params = self._params
        if params is None:
            return False
        decision = self._forwarder.on_packet(packet)
        if isinstance(decision, Drop):
            if decision.request_keyframe:
                target = self._forwarder.target_spatial
                self.producer.request_keyframe(
                    packet.arrival_ms, packet.spatial if target is None else target
                )
            return False
        out_ext_seq, sequence_number, timestamp, picture_id, tl0_pic_idx = decision
        if packet.keyframe and out_ext_seq == self._forwarder.chain_start_ext_seq:
            self._start_over(params.ssrc)
        payload_type = params.payload_type
        if self._red_payload_type is not None:
            template = template.redundant(payload_type)
            payload_type = self._red_payload_type
        buf = template.fill(
            payload_type,
            sequence_number,
            timestamp,
            params.ssrc,
            self._abs_send_time_element,
            self._playout_delay,
            picture_id,
            tl0_pic_idx,
        )
        self._sent.put(out_ext_seq, _sent_entry(packet, picture_id, tl0_pic_idx))
        if not self._send(buf):
            # never left (pacer full, transport down): a gap, not loss on the downlink
            self._sent.discard(out_ext_seq)
            return False
        self._packets_sent += 1
        # RFC 3550 §6.4.1: the octet count leaves out header and padding
        self._octets_sent += template.payload_octets
        self._bytes_sent += template.size
        # at a frame's end (each audio packet is one), not with RED: try the lane
        if (packet.marker or packet.picture is None) and payload_type == params.payload_type:
            self._join_lane(template, packet, (out_ext_seq, timestamp, picture_id, tl0_pic_idx))
        return True

    # --- the fan-out lane ------------------------------------------------------------

    def _join_lane(
        self,
        template: ForwardingTemplate,
        packet: InboundPacket,
        out: tuple[int, int, int | None, int | None],
    ) -> None:
        """Join the producer's lane for this packet's layer if the forwarder is steady
        after it (media/fanout_lane.py)."""
        lane = self.producer.lane(packet.spatial)
        params = self._params
        if (
            lane is None
            or params is None
            or (template.extension_block and not self._abs_send_time_element)
            or not self._forwarder.steady_after(packet)
        ):
            return
        fields = (
            params.payload_type,
            params.ssrc,
            self._abs_send_time_element,
            self._playout_delay,
            self._forwarder.current_temporal,
        )
        row = lane.join(self, packet, out, fields, self._send)
        if row is not None:
            self._lane, self._lane_row, self._lane_at = lane, row, lane.count
            self._lane_offsets = (packet.ext_seq - out[0], lane.picture_ids[-1] - (out[2] or 0))
            self.layer_mask = 0  # the lane sends for it

    def catch_up(self) -> None:
        """Write what the lane sent for this consumer since the last catch-up into its
        own state: the NACK map, the counters, the forwarder's (and mungers') numbers."""
        lane, row = self._lane, self._lane_row
        if lane is None or row is None or self._lane_at == lane.count:
            return
        records, base = lane.records, lane.base
        start = self._lane_at - base
        seq_offset, picture_id_offset = self._lane_offsets
        failed = set(self.lane_failed)  # absolute log indices of packets it was sent
        forwarded: InboundPacket | None = None
        skipped: list[InboundPacket] = []
        outs: list[int] = []
        entries: list[int] = []  # _sent_entry's, written out: a loop over the lane's log
        unsent: list[int] = []
        picture_ids, tl0s, octets, sizes = lane.picture_ids, lane.tl0s, lane.octets, lane.sizes
        octets_sent = octets[-1] - octets[start]
        bytes_sent = sizes[-1] - sizes[start]
        for k in range(start, len(records)):
            packet = records[k]
            tid = packet.temporal
            if (tid is not None and tid > row.temporal) or base + k in failed:
                octets_sent -= octets[k + 1] - octets[k]
                bytes_sent -= sizes[k + 1] - sizes[k]
                if base + k in failed:  # sent, but never left
                    unsent.append(packet.ext_seq - seq_offset)
                else:  # skipped (see FanoutLane.forward)
                    skipped.append(packet)
                    seq_offset += 1
                    if picture_ids[k + 1] > picture_ids[k]:
                        picture_id_offset += 1
                    continue
            vp8 = 0
            if packet.picture_id is not None:
                vp8 = (((picture_ids[k + 1] - picture_id_offset) & 0x7FFF) + 1) << 9
            if packet.tl0_pic_idx is not None:
                vp8 |= ((tl0s[k + 1] - row.tl0_offset) & 0xFF) + 1
            outs.append(packet.ext_seq - seq_offset)
            entries.append((vp8 << _VP8_SHIFT) | (packet.ext_seq << _LAYER_BITS) | packet.spatial)
            forwarded = packet
        sent_map = self._sent
        sent_map.put_all(outs, entries)
        for out_ext_seq in unsent:
            sent_map.discard(out_ext_seq)
        self._packets_sent += len(outs) - len(unsent)
        self._octets_sent += octets_sent
        self._bytes_sent += bytes_sent
        self.lane_failed.clear()
        self._lane_offsets = (seq_offset, picture_id_offset)
        self._lane_at = lane.count
        self._forwarder.catch_up(forwarded, skipped)

    def left_lane(self) -> None:
        """The lane let this consumer go (``FanoutLane.dissolve``): it forwards on its own."""
        self.catch_up()
        self._lane = self._lane_row = None
        self._update_layer_mask()

    def _leave_lane(self) -> None:
        lane = self._lane
        if lane is not None:
            lane.remove(self)
            self.left_lane()

    def stop(self) -> None:
        """The consumer is being removed from its producer."""
        self._leave_lane()

    @property
    def bytes_sent(self) -> int:
        """On the wire (RTP header + payload, RTX included): for the estimate."""
        self.catch_up()
        return self._bytes_sent

    def _start_over(self, ssrc: int) -> None:
        """The stream resynced on a key frame (a layer switch): what of it still waits in
        the pacer is of no use, and would hold the key frame back. On the collapse
        profile's step to 250 kbit/s, 140 packets of 540p (5 s of that link) queued ahead
        of the 135p key frame; the stall read as loss and paused the video."""
        if self._queue is not None:
            for sequence_number in self._queue.drop_stream(ssrc):
                self.unsent(sequence_number)

    def set_target(self, spatial: int | None, temporal: int) -> None:
        forwarder = self._forwarder
        if self._lane is not None:
            if (spatial, temporal) == (forwarder.target_spatial, forwarder.target_temporal):
                return
            self._leave_lane()
        forwarder.set_target(spatial, temporal)
        self._update_layer_mask()

    @property
    def target_spatial(self) -> int | None:
        return self._forwarder.target_spatial

    def unsent(self, sequence_number: int) -> None:
        """A packet forwarded with this (outgoing, 16-bit) seq never left (its pacer
        dropped it): a gap like one upstream, not downlink loss; the newest ones (called
        newest first) are given back, so the resumed video continues without a gap.
        Chromium counted a pause's dropped queue as lost: 96 % "lost" in the first report
        after a resume, which failed every resume on the collapse profile's recovery."""
        self._leave_lane()
        highest = self._forwarder.highest_out_ext_seq
        out_ext = highest - ((highest - sequence_number) & 0xFFFF)
        self._sent.discard(out_ext)
        self._forwarder.take_back(out_ext)

    def on_nack(self, lost: tuple[int, ...]) -> int:
        """Answer a subscriber's NACK (RFC 4585 §6.2.1) from the producer's cache; how
        many of the packets it names were sent to it (lost on its downlink, not gaps
        from upstream)."""
        params = self._params
        if params is None:
            return 0
        self.catch_up()
        if self._forwarder.current_spatial is None and self.producer.kind == "video":
            # Paused (allocation, mute) or waiting for a key frame: the subscriber cannot
            # use old pictures, and a weak link that paused them has no room for them.
            self._metrics.rtp_dropped["nack_not_forwarding"] += len(lost)
            return 0
        highest = self._forwarder.highest_out_ext_seq
        chain_start = self._forwarder.chain_start_ext_seq
        now = self._clock()
        sent = 0
        for seq in lost:
            out_ext = highest - ((highest - seq) & 0xFFFF)
            packed = self._sent.get(out_ext)
            sent += packed is not None
            if out_ext < chain_start:
                # Before the key frame of a resume or layer switch: of no use. After a
                # collapse these were the old layer's losses, resent at up to half its
                # rate onto a link that had just been cut (bench.weaklink collapse).
                self._metrics.rtp_dropped["nack_before_keyframe"] += 1
                continue
            original = None
            vp8 = 0
            if packed is not None:
                vp8 = packed >> _VP8_SHIFT
                layers = self.producer.layers
                index = packed & ((1 << _LAYER_BITS) - 1)
                if index < len(layers):
                    original = layers[index].cache.get((packed & _IN_MASK) >> _LAYER_BITS)
            if original is None:
                self._metrics.rtp_dropped["nack_miss"] += 1
                continue
            if self._queue is not None and self._queue.repair_pending((params.ssrc, out_ext)):
                # its retransmission has not left yet: a second copy would only wait too
                self._metrics.rtp_dropped["nack_pending"] += 1
                continue
            refused = self._resent.allow(
                out_ext, len(original), now, self._rtt_ms, self.bytes_sent - self.rtx_bytes
            )
            if refused is not None:
                self._metrics.rtp_dropped[refused] += 1
                continue
            try:
                self._retransmit(original, out_ext, vp8, params)
            except RtpError as exc:
                self._metrics.rtp_dropped[exc.reason] += 1
        return sent

    def _retransmit(self, original: bytes, out_ext: int, vp8: int, params: SlotParameters) -> None:
        header = parse_rtp_header(original)
        sequence_number = out_ext & 0xFFFF
        timestamp = self._forwarder.translate_timestamp(header.timestamp)
        if vp8:
            # Written as when first forwarded (ForwardingTemplate.fill): the munged
            # PictureID/TL0PICIDX, without which the subscriber's frame reassembly sees a
            # PictureID jump in the middle of its stream.
            descriptor = parse_vp8_descriptor(
                memoryview(original)[header.payload_offset : header.payload_end]
            )
            picture_id, tl0_pic_idx = (vp8 >> 9) - 1, (vp8 & 0x1FF) - 1
            filled = ForwardingTemplate(original, header, None, descriptor).fill(
                params.payload_type,
                sequence_number,
                timestamp,
                params.ssrc,
                0,
                b"",
                None if picture_id < 0 else picture_id,
                None if tl0_pic_idx < 0 else tl0_pic_idx,
            )
            packet = bytes(filled)
        else:
            packet = rewrite_packet(
                original,
                header,
                payload_type=params.payload_type,
                sequence_number=sequence_number,
                timestamp=timestamp,
                ssrc=params.ssrc,
            )
        if params.rtx_payload_type is not None:
            # RFC 4588 §4: retransmit on the RTX stream, original seq in the payload.
            packet = wrap_rtx(
                packet,
                parse_rtp_header(packet),
                rtx_payload_type=params.rtx_payload_type,
                rtx_sequence_number=self._rtx_seq & 0xFFFF,
                rtx_ssrc=params.rtx_ssrc,
            )
        queue = self._queue
        sent = queue.send_repair(packet, (params.ssrc, out_ext)) if queue else self._send(packet)
        if sent:
            if params.rtx_payload_type is not None:
                # only a packet that left takes an RTX seq: a gap would read as loss
                self._rtx_seq += 1
                self._rtx_stream_bytes += len(packet)
            self._bytes_sent += len(packet)
            self.rtx_bytes += len(packet)
            self._metrics.retransmissions += 1

    @property
    def can_pad(self) -> bool:
        """Video with an RTX stream negotiated: it can carry padding to probe the link."""
        params = self._params
        return (
            self.producer.kind == "video"
            and params is not None
            and params.rtx_payload_type is not None
        )

    @property
    def transport_cc_id(self) -> int | None:
        """The transport-wide sequence number's extension id, if negotiated in the
        one-byte range (padding can then be numbered for transport-cc feedback)."""
        params = self._params
        ext_id = None if params is None else params.transport_cc_id
        return ext_id if ext_id is not None and 1 <= ext_id <= 14 else None

    def send_padding(self, padding: int, now_ms: int, transport_seq: int | None = None) -> int:
        """Send one padding-only packet of ``padding`` octets (1..255) on the RTX stream;
        the bytes that left (0: not negotiated, or not sent). Unnumbered, they count as
        video the subscriber's REMB sees (they carry abs-send-time), not as
        retransmissions; with ``transport_seq`` (and ``transport_cc_id``) the browser
        reports their arrival in transport-cc feedback instead."""
        params = self._params
        if params is None or params.rtx_payload_type is None or self.producer.kind != "video":
            return 0
        self.catch_up()
        ext_id = self.transport_cc_id
        packet = padding_packet(
            params.rtx_payload_type,
            self._rtx_seq & 0xFFFF,
            self._forwarder.last_out_timestamp,
            params.rtx_ssrc,
            self._abs_send_time_element,
            padding,
            now_ms,
            None if ext_id is None or transport_seq is None else (ext_id, transport_seq),
        )
        if not self._send(packet):
            return 0
        self._rtx_seq += 1
        self._bytes_sent += len(packet)
        self._rtx_stream_bytes += len(packet)
        self._metrics.padding_bytes += len(packet)
        return len(packet)

    # --- RTCP ------------------------------------------------------------------------

    def relay_sender_report(self, report: SenderReport, layer_index: int) -> None:
        """Translate the publisher's SR into this stream's timestamps (RFC 3550 §6.4.1).

        Browsers align audio and video of one participant by these NTP/RTP pairs.
        """
        self.catch_up()
        forwarding = self._forwarder.has_forwarded
        if not forwarding or layer_index != self._forwarder.current_spatial:
            return
        now = self._clock()
        self._relayed_sr = (report, now)
        self._send_sender_report(report.ntp_timestamp, report.rtp_timestamp, now)

    def refresh_sender_report(self, now_ms: int) -> bool:
        """An SR of the last relayed one's clocks, carried forward to now, if none went out
        for ``SR_REFRESH_MS``; False if this stream has relayed none to carry forward.

        Toward paused video only the audio's reports measure the round trip, Chromium
        sends them about every 5 s, and each echoes the last SR it got: with the
        publisher's SRs (also ~5 s apart) the round trip that showed the collapse
        profile's recovered link came 3-8 s after it recovered."""
        relayed = self._relayed_sr
        last = self._sr_at_ms
        if relayed is None or last is None or self._params is None:
            return False
        if now_ms - last < SR_REFRESH_MS:
            return True
        report, at = relayed
        elapsed = now_ms - at
        self._send_sender_report(
            report.ntp_timestamp + (elapsed << 32) // 1000,  # RFC 3550 §4: 32.32 seconds
            report.rtp_timestamp + elapsed * self.producer.track.clock_rate // 1000,
            now_ms,
        )
        return True

    def _send_sender_report(self, ntp_timestamp: int, rtp_timestamp: int, now_ms: int) -> None:
        params = self._params
        if params is None:
            return
        self.catch_up()
        packet = build_sender_report(
            params.ssrc,
            ntp_timestamp & 0xFFFFFFFFFFFFFFFF,
            self._forwarder.translate_timestamp(rtp_timestamp & 0xFFFFFFFF),
            self._packets_sent & 0xFFFFFFFF,
            self._octets_sent & 0xFFFFFFFF,
        ) + build_sdes_cname(params.ssrc, params.cname)
        if self._send_rtcp(packet):
            self._metrics.rtcp_packets_out += 1
            self._sr_at_ms = now_ms
            middle = (ntp_timestamp >> 16) & 0xFFFFFFFF
            self._sr_sent[middle] = now_ms
            if len(self._sr_sent) > 8:
                del self._sr_sent[next(iter(self._sr_sent))]

    def on_report_block(self, block: ReportBlock, now_ms: int) -> tuple[int, int] | None:
        """Take one report block; return (lost on the downlink, expected) since the last
        one (None until two blocks can be compared)."""
        self.catch_up()
        self._last_report = block
        # One round trip per SR: a receiver repeats the last SR's LSR in every report
        # until a new SR comes, and toward paused video (no SRs) that repeated the queued
        # round trip of the last one for seconds, which failed every resume's probe.
        sent_ms = self._sr_sent.pop(block.lsr, None)
        if sent_ms is not None:
            # RFC 3550 §6.4.1: RTT = arrival - LSR - DLSR
            self._rtt_ms = max(0, now_ms - sent_ms - block.dlsr * 1000 // 65536)
            self._rtt_fresh = True
        # outgoing seqs never sent up to the report's highest: upstream gaps the munger kept
        # (never beyond what was sent: a report cannot have received more)
        highest = min(block.highest_sequence, self._forwarder.highest_out_ext_seq)
        if highest > self._gaps_counted_upto:
            self._gaps += self._sent.missing_between(self._gaps_counted_upto, highest)
            self._gaps_counted_upto = highest
        loss = self._downlink_loss.on_report(
            block.packets_lost,
            block.highest_sequence,
            self._gaps,
            self._forwarder.highest_out_ext_seq,
            now_ms,
        )
        if loss is not None:
            self.downlink_loss = loss[0] / loss[1]
        self._delivered.on_report(
            block.highest_sequence,
            block.packets_lost,
            self._bytes_sent - self._rtx_stream_bytes,
            self._packets_sent,
            now_ms,
        )
        return loss

    def on_rtx_report_block(self, block: ReportBlock, now_ms: int) -> tuple[int, int] | None:
        """A report block on the RTX stream (retransmissions, probe padding): (lost,
        expected) since the last one. Every RTX seq went to the pacer (a few may die in
        its queue when all video pauses), so what it lost was lost on the downlink; during
        a probe it is mostly padding."""
        rtx_bytes, rtx_packets = self._rtx_stream_bytes, self._rtx_seq  # its seq counts them
        self._rtx_delivered.on_report(
            block.highest_sequence, block.packets_lost, rtx_bytes, rtx_packets, now_ms
        )
        return self._rtx_loss.on_report(
            block.packets_lost, block.highest_sequence, 0, self._rtx_seq - 1, now_ms
        )

    def delivered_bps(self, now_ms: int) -> int | None:
        """What its link delivered of this stream lately, RTX stream included
        (forwarding/delivered_rate.py); None until its reports measured it."""
        media = self._delivered.bps(now_ms)
        return None if media is None else media + (self._rtx_delivered.bps(now_ms) or 0)

    def take_rtt_sample(self) -> int | None:
        """The round trip measured by a report since the last call, if any."""
        fresh, self._rtt_fresh = self._rtt_fresh, False
        return self._rtt_ms if fresh else None

    @property
    def rtt_ms(self) -> int | None:
        """The latest round trip to the subscriber (RFC 3550 §6.4.1), once measured."""
        return self._rtt_ms

    def stats(self) -> ConsumerStats:
        self.catch_up()
        block = self._last_report
        return ConsumerStats(
            packets_sent=self._packets_sent,
            fraction_lost=(block.fraction_lost / 256) if block else 0.0,
            packets_lost=block.packets_lost if block else 0,
            jitter=block.jitter if block else 0,
            rtt_ms=self._rtt_ms,
        )
