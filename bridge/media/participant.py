"""Participant: one joined site, its two peer connections, producers and consumers."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bridge.forwarding.allocator import AllocatorSettings, StreamAllocator
from bridge.forwarding.downlink_estimator import DownlinkEstimator, EstimatorSettings
from bridge.forwarding.redundancy_switch import RedundancySettings, RedundancySwitch
from bridge.forwarding.uplink_guard import UplinkGuard
from bridge.metrics import BridgeMetrics
from bridge.rtp.rtcp import (
    build_receiver_report,
    build_remb,
)
from bridge.rtp.transport_feedback import TransportFeedback

from .consumer import Clock, Consumer
from .downlink import Downlink, TileView
from .errors import PublishForbidden
from .events import (
    ConnectionChanged,
    EventListener,
    ParticipantInfo,
    PublisherLayers,
    SubscribeOffer,
)
from .health import ArrivalTracker, MediaHealth
from .ingress import PublisherIngress
from .peer import Kind, PeerFactory, PublisherPeer, RemoteTrack, SendSlot, SubscriberPeer
from .producer import Producer

log = logging.getLogger("diemcau.uplink")

RTCP_INTERVAL_S = 1.0
# libwebrtc sends transport feedback every 50-100 ms; its estimator expects that pace.
# NACK retries toward the publisher are checked as often.
UPLINK_FEEDBACK_INTERVAL_S = 0.1
# A missing packet is asked for again at most every this many ms (NackTracker.due): above
# the round trip of a rural-3g uplink (150 ms + jitter), so a retry rarely duplicates an
# answer still on its way, and far below a freeze (the retry used to wait for the ~1 s
# RTCP tick).
UPSTREAM_NACK_RETRY_MS = 250
ALLOCATION_INTERVAL_S = 0.5
# Upper bound the bridge announces to publishers (REMB, draft-alvestrand-rmcat-remb): a
# cap only, the same for every publisher and never derived from subscribers (one weak
# site must not lower what others receive). The browser's GCC, fed by our transport-wide
# CC feedback, works below it.
PUBLISHER_MAX_BITRATE = 2_500_000


@dataclass
class _Negotiation:
    rev: int = 0
    outstanding: bool = False
    pending: bool = False
    # consumers added since the last offer went out, started once it is answered
    unannounced: list[Consumer] = field(default_factory=list)
    announced: list[Consumer] = field(default_factory=list)


class Participant:
    def __init__(
        self,
        *,
        id: str,
        name: str,
        role: str,
        listener: EventListener,
        peers: PeerFactory,
        clock: Clock,
        metrics: BridgeMetrics,
        rng: random.Random,
        adaptive_bitrate: bool,
        on_published: Callable[[Participant, Producer], None],
        fanout_lanes: bool = True,
    ):
        self.id = id
        self.name = name
        self.role = role
        self.listener = listener
        self.producers: dict[Kind, Producer] = {}
        self._peers = peers
        self._clock = clock
        self._metrics = metrics
        self._rng = rng
        self._on_published = on_published
        self._fanout_lanes = fanout_lanes
        self._muted: dict[Kind, bool] = {"audio": False, "video": False}
        self._publisher: PublisherPeer | None = None
        self._subscriber: SubscriberPeer | None = None
        self._slots: list[SendSlot] = []
        self._slot_owner: dict[int, Consumer] = {}  # id(slot) -> consumer using it
        self._feedback_ssrc = rng.getrandbits(32) or 1
        self._transport_feedback = TransportFeedback(self._feedback_ssrc)
        self._ingress = PublisherIngress(metrics, self._transport_feedback)
        self._uplink = UplinkGuard()
        self._uplink_reported = (0, 0, 0)  # received, lost, bytes at the last feedback
        self._arrivals = ArrivalTracker()
        self._downlink = Downlink(
            subscriber_id=id,
            clock=clock,
            metrics=metrics,
            listener=listener,
            estimator=DownlinkEstimator(EstimatorSettings()),
            allocator=StreamAllocator(AllocatorSettings()),
            redundancy=RedundancySwitch(RedundancySettings()),
            adaptive_bitrate=adaptive_bitrate,
        )
        self._allocation_task: asyncio.Task[None] | None = None
        self._published_layers: dict[Kind, PublisherLayers] = {}
        self._negotiation = _Negotiation()
        self._rtcp_task: asyncio.Task[None] | None = None
        self._uplink_task: asyncio.Task[None] | None = None
        self._transport_cc = False  # the publisher numbers its packets transport-wide
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    @property
    def consumers(self) -> list[Consumer]:
        return self._downlink.consumers

    def set_views(self, views: Mapping[str, TileView]) -> None:
        self._downlink.set_views(views)

    def set_quality(self, audio_only: bool, max_kbps: int | None) -> None:
        self._downlink.set_quality(audio_only, max_kbps)

    def on_link_hint(self, kbps: int) -> None:
        """The site's own measure of its downlink, sent with its join."""
        self._downlink.on_link_hint(kbps)

    def media_health(self) -> MediaHealth:
        return MediaHealth(
            last_media_ms=self._arrivals.last_media_ms,
            last_rtcp_ms=self._arrivals.last_rtcp_ms,
            link_state=self._downlink.link_state,
        )

    def info(self) -> ParticipantInfo:
        return ParticipantInfo(
            id=self.id,
            name=self.name,
            role=self.role,
            audio_muted=self._muted["audio"],
            video_muted=self._muted["video"],
            tracks=tuple(self.producers),
        )

    # --- publishing ------------------------------------------------------------------

    async def publish(self, sdp: str) -> str:
        """Apply the client's publisher offer and return the answer SDP."""
        if self.role == "viewer":
            raise PublishForbidden("a viewer may not publish")
        if self._publisher is None:
            self._publisher = self._peers.publisher(
                _PublisherSink(self), lambda s: self.listener(ConnectionChanged("publisher", s))
            )
            self._rtcp_task = asyncio.create_task(self._run_rtcp())
            self._uplink_task = asyncio.create_task(self._run_uplink())
        answer, tracks = await self._publisher.accept_offer(sdp)
        self._transport_cc = any(t.transport_cc_ext_id for t in tracks)
        for track in tracks:
            self._add_producer(track)
        return answer

    def _add_producer(self, track: RemoteTrack) -> None:
        current = self.producers.get(track.kind)
        if current is not None and current.track == track:
            return
        assert self._publisher is not None
        producer = Producer(
            participant_id=self.id,
            track=track,
            feedback_ssrc=self._feedback_ssrc,
            send_upstream=self._publisher.send,
            metrics=self._metrics,
            lanes=self._fanout_lanes,
        )
        producer.set_muted(self._muted[track.kind], self._clock())
        producer.uplink_paused = track.kind == "video" and self._uplink.video_paused
        if current is not None:
            # renegotiated with a new source: the consumers move over and resync
            producer.consumers = current.consumers
            for consumer in producer.consumers:
                consumer.producer = producer
                consumer.restart()
        self.producers[track.kind] = producer
        self._ingress.reindex(self.producers.values())
        if current is None:
            self._on_published(self, producer)

    def set_muted(self, kind: Kind, muted: bool) -> None:
        self._muted[kind] = muted
        producer = self.producers.get(kind)
        if producer is not None:
            producer.set_muted(muted, self._clock())

    async def _run_rtcp(self) -> None:
        """Receiver reports and the bitrate cap toward the publisher."""
        while not self.closed:
            await asyncio.sleep(RTCP_INTERVAL_S * (0.5 + self._rng.random()))
            publisher = self._publisher
            if publisher is None:
                continue
            now = self._clock()
            self._arrivals.sample(self._ingress.rtp_packets, self._ingress.rtcp_packets, now)
            blocks = []
            for producer in self.producers.values():
                blocks.extend(producer.report_blocks(now))
            self._announce_wanted_layers()
            if not blocks:
                continue
            ssrcs = [b.ssrc for b in blocks]
            packet = build_receiver_report(self._feedback_ssrc, blocks) + build_remb(
                self._feedback_ssrc, PUBLISHER_MAX_BITRATE, ssrcs
            )
            if publisher.send(packet):
                self._metrics.rtcp_packets_out += 1

    async def _run_uplink(self) -> None:
        """NACK retries and, with transport-wide CC, the arrival times of the publisher's
        packets for its own congestion control (and the uplink guard)."""
        while not self.closed:
            await asyncio.sleep(UPLINK_FEEDBACK_INTERVAL_S)
            publisher = self._publisher
            if publisher is None:
                continue
            now = self._clock()
            for producer in self.producers.values():
                producer.due_retransmissions(now, rtt_ms=UPSTREAM_NACK_RETRY_MS)
            if not self._transport_cc:
                continue
            media_ssrc = next(
                (
                    layer.ssrc
                    for producer in self.producers.values()
                    for layer in producer.layers
                    if layer.ssrc is not None
                ),
                0,
            )
            feedback = self._transport_feedback
            for packet in feedback.build(media_ssrc):
                if publisher.send(packet):
                    self._metrics.rtcp_packets_out += 1
            self._check_uplink(feedback.reported_received, feedback.reported_lost)

    def _check_uplink(self, received: int, lost: int) -> None:
        """Stop or restart the publisher's video by what its uplink carries (the counts
        are what our transport feedback reported, cumulative)."""
        sent = self._ingress.transport_bytes
        last = self._uplink_reported
        self._uplink_reported = (received, lost, sent)
        now = self._clock()
        if not self._uplink.on_feedback(now, received - last[0], lost - last[1], sent - last[2]):
            return
        paused = self._uplink.video_paused
        video = self.producers.get("video")
        if video is None:
            return  # audio only: nothing to stop (the guard's state carries to a new one)
        log.info("%s video %s: uplink", self.id, "paused" if paused else "resumed")
        self._metrics.uplink_video_pauses += paused
        video.uplink_paused = paused
        self._announce_wanted_layers()

    def _announce_wanted_layers(self) -> None:
        """Dynacast: tell the client which simulcast layers anyone watches."""
        for kind, producer in self.producers.items():
            if kind != "video":
                continue
            active: tuple[bool, ...] = (True,)
            if producer.simulcast:
                wanted = max((c.max_spatial for c in producer.consumers), default=0)
                active = tuple(i <= max(wanted, 0) for i in range(len(producer.layers)))
            state = PublisherLayers(active, paused=producer.uplink_paused)
            previous = self._published_layers.get(kind)
            if previous == state:
                continue
            self._published_layers[kind] = state
            # one stream (no simulcast) hears only of pauses
            if producer.simulcast or state.paused or previous is not None:
                self.listener(state)

    # --- subscribing -----------------------------------------------------------------

    def subscribe(self, producer: Producer) -> None:
        """Start receiving another participant's producer (after the next offer/answer)."""
        subscriber = self._ensure_subscriber()
        slot = next(
            (s for s in self._slots if s.kind == producer.kind and id(s) not in self._slot_owner),
            None,
        )
        if slot is None:
            slot = subscriber.add_slot(producer.kind)
            self._slots.append(slot)
        slot.assign(producer.participant_id, producer.id)
        slot.set_active(True)
        consumer = Consumer(
            producer=producer,
            slot=slot,
            send=self._downlink.pacer.send if producer.kind == "video" else subscriber.send,
            send_rtcp=subscriber.send,
            queue=self._downlink.pacer if producer.kind == "video" else None,
            clock=self._clock,
            metrics=self._metrics,
            rng=self._rng,
        )
        self._slot_owner[id(slot)] = consumer
        self.consumers.append(consumer)
        producer.consumers.append(consumer)
        self._negotiation.unannounced.append(consumer)
        self.renegotiate()

    def unsubscribe(self, producer: Producer) -> None:
        for consumer in [c for c in self.consumers if c.producer is producer]:
            consumer.pause()
            self.consumers.remove(consumer)
            producer.remove_consumer(consumer)
            self._slot_owner.pop(id(consumer.slot), None)
            consumer.slot.set_active(False)
            for waiting in (self._negotiation.unannounced, self._negotiation.announced):
                if consumer in waiting:
                    waiting.remove(consumer)
        self._downlink.forget(producer.participant_id)
        self.renegotiate()

    def _ensure_subscriber(self) -> SubscriberPeer:
        if self._subscriber is None:
            self._subscriber = self._peers.subscriber(
                self._downlink,
                lambda s: self.listener(ConnectionChanged("subscriber", s)),
                self._slot_ready,
            )
            self._downlink.pacer.connect(self._subscriber.send)
            self._allocation_task = asyncio.create_task(self._run_allocation())
        return self._subscriber

    async def _run_allocation(self) -> None:
        while not self.closed:
            await asyncio.sleep(ALLOCATION_INTERVAL_S)
            self._downlink.reallocate()

    def renegotiate(self) -> None:
        """Send a new subscriber offer now, or after the outstanding one is answered."""
        state = self._negotiation
        if self.closed or self._subscriber is None:
            return
        if state.outstanding:
            state.pending = True
            return
        state.outstanding = True
        state.pending = False
        state.rev += 1
        state.announced.extend(state.unannounced)
        state.unannounced.clear()
        task = asyncio.create_task(self._send_offer(state.rev))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_offer(self, rev: int) -> None:
        assert self._subscriber is not None
        async with self._lock:
            try:
                sdp = await self._subscriber.create_offer()
            except Exception:
                if self.closed:
                    return  # left while the offer was being made: its PC is closed
                raise
        if not self.closed:
            self.listener(SubscribeOffer(sdp=sdp, rev=rev))

    async def accept_subscribe_answer(self, sdp: str, rev: int) -> bool:
        """Apply the client's answer; False if it answers an offer that is not outstanding."""
        state = self._negotiation
        if self._subscriber is None or not state.outstanding or rev != state.rev:
            return False
        async with self._lock:
            try:
                await self._subscriber.accept_answer(sdp)
            finally:
                state.outstanding = False
        for consumer in state.announced:
            self._start_if_ready(consumer)
        state.announced.clear()
        if state.pending or state.unannounced:
            self.renegotiate()
        return True

    def _slot_ready(self, slot: SendSlot) -> None:
        consumer = self._slot_owner.get(id(slot))
        if consumer is not None and consumer not in self._negotiation.unannounced:
            self._start_if_ready(consumer)

    def _start_if_ready(self, consumer: Consumer) -> None:
        params = consumer.slot.parameters
        if params is not None and consumer in self.consumers:
            if consumer.producer.kind == "video":
                delay = self._downlink.repair_delay_ms(consumer.producer, self._clock())
                consumer.set_playout_delay(delay)
            consumer.start(params)

    # --- leaving ---------------------------------------------------------------------

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for task in (self._rtcp_task, self._uplink_task, self._allocation_task):
            if task is not None:
                task.cancel()
        for consumer in self.consumers:
            consumer.producer.remove_consumer(consumer)
        self.consumers.clear()
        self._downlink.close()
        for peer in (self._publisher, self._subscriber):
            if peer is not None:
                await peer.close()


class _PublisherSink:
    def __init__(self, participant: Participant):
        self._p = participant

    def on_rtp(self, data: bytes, arrival_ms: int) -> None:
        self._p._ingress.route_rtp(data, arrival_ms)

    def on_rtcp(self, data: bytes) -> None:
        self._p._ingress.route_rtcp(data, self._p._clock())
