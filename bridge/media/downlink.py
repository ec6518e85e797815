"""Downlink: everything one subscriber receives, and how much of it its link can carry.

It routes the subscriber's RTCP to its consumers, keeps the downlink estimate (REMB and
receiver-report loss, forwarding/downlink_estimator.py) and, twice a second, asks the pure
StreamAllocator which layer (or pause) each consumer gets; audio is allocated first, with
RED when the link loses packets (forwarding/redundancy_switch.py), and video then asks
the browser to hold frames long enough for a retransmission (forwarding/repair_delay.py).
An upgrade is first proven with padding (forwarding/probe_gate.py), which its pacer sends;
where the subscriber negotiated transport-cc, the padding is numbered and a probe whose
padding queues at the bottleneck ends at once (forwarding/padding_delay.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from bridge.forwarding.allocator import (
    AudioDemand,
    StreamAllocator,
    UpgradePolicy,
    VideoDemand,
    paused_by_bandwidth,
)
from bridge.forwarding.downlink_estimator import DownlinkEstimator, LossByKind
from bridge.forwarding.pacing import pace_rate
from bridge.forwarding.padding_delay import PaddingDelay
from bridge.forwarding.path_watch import PathWatch, PathWatchSettings
from bridge.forwarding.probe_gate import (
    NUMBERED_PROBE_MARGIN,
    PROBE_MARGIN,
    ProbeGate,
    ProbeSettings,
)
from bridge.forwarding.redundancy_switch import RedundancySwitch
from bridge.forwarding.repair_delay import RepairDelaySettings, repair_delay_ms
from bridge.metrics import BridgeMetrics
from bridge.rtp.errors import RtpError
from bridge.rtp.rtcp import (
    Fir,
    Nack,
    Pli,
    ReceiverReport,
    Remb,
    SenderReport,
    TransportCcFeedback,
    parse_rtcp,
)

from .consumer import Clock, Consumer
from .events import EventListener, LinkState, VideoState
from .paced_sender import PacedSender
from .producer import Producer

# Tile height (CSS px) up to which a simulcast layer is enough: 180p, 360p, then 720p.
LAYER_FOR_HEIGHT = (200, 400)
log = logging.getLogger("diemcau.allocation")

LOSS_WINDOW_MS = 1000
# A loss fraction over fewer packets is not judged yet (the window grows): the first
# reports after a join cover a handful, and "1 of 3 lost" read as 33 % cut a 400 kbit/s
# rural-3g link's estimate to 125k and paused its video (bench.weaklink).
LOSS_MIN_PACKETS = 30
# A window already losing more than this share of at least LOSS_MIN_PACKETS is judged at
# once: the link fell. Reports come every ~50 ms then (each NACK carries one), and on the
# collapse profile's 250k step 38 of 43 packets were reported lost 0.6 s before the window
# closed, while 540p went on into the link.
JUDGE_AT_ONCE_LOSS = 0.5
HIGH_AUDIO_LOSS = 0.1  # audio losing more than this: the link cannot carry even the audio
# Toward paused video the audio's reports come every 3-8 s: one covers that long.
AUDIO_REPORT_SPAN_MS = 8000
# A probe's padding losing more than this, over at least that many packets: it failed.
# Fewer reported: not proven yet either.
PROBE_LOSS = 0.1
PROBE_LOSS_MIN_PACKETS = 20
UNPROBED_AFTER_OUTAGE_MS = 30_000
PRIORITY_SPEAKER = 2
PRIORITY_GALLERY = 1
# Budget when adaptive bitrate is off: only views, audio-only and the site's cap apply.
UNLIMITED_BPS = 1_000_000_000
# Browsers report about once a second while they receive video; this long without any
# RTCP while video goes out, the link is taken as gone (outage profile: 8 s at 100 % loss,
# during which the bridge kept sending ~1 Mbit/s into it).
FEEDBACK_TIMEOUT_MS = 3000
PACE_FLOOR_BPS = 64_000  # while video is paused, retransmissions still leave
# The allocation using more than this share less than the last one: the path watch
# waits for the queue that leaves to drain.
WATCH_DRAIN_FALL = 0.1
# The watch (re)starting judges the drain it follows by at least this fall of the rate.
WATCH_START_FALL = 0.5


@dataclass(frozen=True, slots=True)
class TileView:
    visible: bool
    height: int


def upgrade_policy(can_pad: bool, lossy: bool) -> UpgradePolicy:
    if can_pad:
        return "probed"
    return "one_step" if lossy else "leap"


def max_spatial_for(view: TileView | None, layers: int) -> int:
    """The highest layer worth sending to a tile (-1: not shown, send nothing)."""
    if view is None:
        return layers - 1
    if not view.visible:
        return -1
    wanted = sum(view.height > limit for limit in LAYER_FOR_HEIGHT)
    return min(wanted, layers - 1)


class Downlink:
    def __init__(
        self,
        *,
        subscriber_id: str,
        clock: Clock,
        metrics: BridgeMetrics,
        listener: EventListener,
        estimator: DownlinkEstimator,
        allocator: StreamAllocator,
        redundancy: RedundancySwitch,
        adaptive_bitrate: bool,
        repair_delay: RepairDelaySettings | None = None,
        probe: ProbeSettings | None = None,
        path_watch: PathWatchSettings | None = None,
    ):
        self.consumers: list[Consumer] = []
        # Video consumers send through it (paced only with adaptive bitrate: the rate
        # comes from the estimate).
        self.pacer = PacedSender(clock, metrics)
        self._subscriber_id = subscriber_id  # names this downlink in the debug log
        self._clock = clock
        self._metrics = metrics
        self._listener = listener
        self._estimator = estimator
        self._allocator = allocator
        self._redundancy = redundancy  # RED for its audio (with or without adaptation)
        self._repair_delay = repair_delay or RepairDelaySettings()
        self._rtt_ms: int | None = None  # the longest a consumer measured, each round
        self._gate = ProbeGate(probe or ProbeSettings())
        self._adaptive = adaptive_bitrate
        self._views: dict[str, TileView] = {}
        self._audio_only = False
        self._cap_bps: int | None = None
        self._video_state: dict[str, tuple[bool, str | None]] = {}
        self._link_state: str | None = None
        # Downlink loss summed over streams and receiver reports until the next estimate
        # update: browsers send one RR per stream, audio's rarely; one packet-weighted
        # fraction a second keeps a small audio stream from outweighing the video.
        self._lost = 0
        self._expected = 0
        self._audio_lost = 0  # of those, the audio's
        self._audio_expected = 0
        self._loss_since_ms: int | None = None
        self._judged_since_ms: int | None = None  # start of the last window judged
        self._audio_bps = 0  # what the last allocation gave the audio
        self._video_out_ms: int | None = None  # video or a probe's padding last went out
        # (video bps sent before an outage, until ms): upgrades up to it are not probed
        self._unprobed: tuple[int, int] | None = None
        self._probe_lost = 0  # on the RTX stream since the running probe began
        self._probe_expected = 0
        self._padding_delay = PaddingDelay()
        self._carrier: Consumer | None = None  # the consumer whose RTX stream pads
        # Padding numbered for transport-cc feedback: the browser's REMB does not count it.
        self._numbered_padding_bytes = 0
        self._feedback_ms: int | None = None  # last RTCP from the subscriber
        # Streams whose next report block covers a silence taken as an outage (see
        # route_rtcp): their loss then is the outage's, already answered.
        self._after_silence: set[int] = set()
        self._video_bytes = 0  # video sent (without retransmissions) at the last round
        self._video_since_ms: int | None = None  # video has gone out every round since
        # The path watch (path_watch.py): its trickle's carrier while the video is
        # paused on a link that carried more, and its timer.
        self._watch = PathWatch(path_watch)
        self._watch_carrier: Consumer | None = None
        self._watch_timer: asyncio.TimerHandle | None = None
        self._watch_used_bps = 0  # what the last allocation used

    @property
    def link_state(self) -> str | None:
        """The link state last announced to the client; None before the first."""
        return self._link_state

    # --- what the client asks for ------------------------------------------------------

    def set_views(self, views: Mapping[str, TileView]) -> None:
        self._views = dict(views)
        self.reallocate()

    def set_quality(self, audio_only: bool, max_kbps: int | None) -> None:
        self._audio_only = audio_only
        self._cap_bps = None if max_kbps is None else max_kbps * 1000
        self.reallocate()

    def on_link_hint(self, kbps: int) -> None:
        """The subscriber measured its downlink at about ``kbps`` before joining
        (``DownlinkEstimator.on_link_hint``)."""
        applied = self._adaptive and self._estimator.on_link_hint(kbps * 1000, self._clock())
        self._metrics.link_hints["applied" if applied else "ignored"] += 1
        if applied:
            self.reallocate()

    def wanted_spatial(self, publisher_id: str, layers: int) -> int:
        """Dynacast: the highest layer this subscriber's view of `publisher_id` needs."""
        if self._audio_only:
            return -1
        return max_spatial_for(self._views.get(publisher_id), layers)

    # --- feedback (PacketSink of the subscriber peer) ------------------------------------

    def on_rtp(self, data: bytes, arrival_ms: int) -> None:
        # A subscriber PC only receives; RTP here is a misbehaving client.
        self._metrics.rtp_dropped["rtp_on_subscriber_pc"] += 1

    def on_rtcp(self, data: bytes) -> None:
        self.route_rtcp(data)

    def route_rtcp(self, data: bytes) -> None:
        try:
            packets = parse_rtcp(data)
        except RtpError as exc:
            self._metrics.rtcp_dropped[exc.reason] += 1
            return
        self._metrics.rtcp_packets_in += 1
        now = self._clock()
        self._feedback_ms = now
        by_ssrc, by_rtx_ssrc = self._by_ssrc()
        lowered = False  # the estimate: reallocate now, not at the next tick
        for packet in packets:
            if isinstance(packet, ReceiverReport | SenderReport):
                for block in packet.reports:
                    # The first block of a stream after a silence taken as an outage
                    # covers the outage: the silence already cut the estimate to the
                    # audio; judged as the link's loss, it cut again and held it 4 s.
                    outage = block.ssrc in self._after_silence
                    self._after_silence.discard(block.ssrc)
                    target = by_ssrc.get(block.ssrc)
                    if target is not None:
                        loss = target.on_report_block(block, now)  # (its anchor moves)
                        if outage:
                            loss = None
                        rtt = target.take_rtt_sample()
                        if rtt is not None:
                            lowered |= self._estimator.on_rtt(rtt, now, self._delivered_bps(now))
                        if loss is not None and target.producer.kind == "audio":
                            self._audio_lost += loss[0]
                            self._audio_expected += loss[1]
                    else:
                        target = by_rtx_ssrc.get(block.ssrc)
                        loss = None if target is None else target.on_rtx_report_block(block, now)
                        if not self._gate.probing:
                            # Outside a probe the RTX stream's loss is no news: its
                            # retransmissions answer loss already counted and go out in
                            # bursts into the queue that lost the originals, and a probe's
                            # padding reported after it ended was judged by the probe.
                            # Counted, the padding of a probe that failed on edge cut the
                            # estimate again 2.7 s later and reset the probes' backoff, the
                            # retransmissions of a collapse paused the video after its
                            # hold, and those sent into the outage profile's dead link held
                            # the video back 4 s after the link returned (bench.weaklink).
                            loss = None
                        elif loss is not None:
                            if self._probe_expected < 0:
                                # The first report since the probe began also covers
                                # what the RTX stream lost before it (a collapse's
                                # retransmissions, reported only now that padding
                                # flows): an anchor, for the probe and the loss window
                                # alike (counted, it failed the first probe on the
                                # collapse profile's recovered link).
                                self._probe_expected, loss = 0, None
                            else:
                                lowered |= self._probe_padding_lost(loss)
                    if loss is not None:
                        self._lost += loss[0]
                        self._expected += loss[1]
                        if loss[0] and log.isEnabledFor(logging.DEBUG):
                            log.debug(
                                "%s lost (lost, expected)=%s ssrc=%d %s",
                                self._subscriber_id,
                                loss,
                                block.ssrc,
                                block,
                            )
            elif isinstance(packet, Nack):
                target = by_ssrc.get(packet.media_ssrc)
                # answered in any case; before any window was judged, loss on its link
                lost_here = target is not None and target.on_nack(packet.lost)
                if lost_here and self._judged_since_ms is None:
                    self._redundancy.on_early_loss()
            elif isinstance(packet, Pli):
                target = by_ssrc.get(packet.media_ssrc)
                if target is not None:
                    target.request_keyframe(now)
            elif isinstance(packet, Fir):
                for ssrc, _seq in packet.entries:
                    target = by_ssrc.get(ssrc)
                    if target is not None:
                        target.request_keyframe(now)
            elif isinstance(packet, Remb):
                lowered |= self._estimator.on_remb(packet.bitrate, now)
            elif isinstance(packet, TransportCcFeedback) and self._gate.probing:
                reported = self._padding_delay.on_feedback(packet.arrivals)
                self._metrics.padding_reported += reported
                if reported and self._padding_delay.queued:
                    self._metrics.probes_queued += 1
                    log.debug(
                        "%s probe's padding queued or lost: %s",
                        self._subscriber_id,
                        self._padding_delay.describe(),
                    )
                    self._end_probe_failed()
                    lowered = True
            elif (
                isinstance(packet, TransportCcFeedback)
                and self._watch_timer is not None
                and self._watch.on_feedback(packet.arrivals)
            ):
                self._metrics.paths_recovered += 1
                log.debug("%s path faster: the watch's delay fell", self._subscriber_id)
                self._estimator.on_faster_path(now, jump=True)
                lowered = True  # not lowered: raised, and the resume probe starts now
        if self._adaptive and self._lost > self._expected * JUDGE_AT_ONCE_LOSS:
            lowered |= self._update_loss(now, at_once=True)
        if not lowered:
            self._estimator.on_feedback(now)
        elif self._adaptive:
            self.reallocate()  # do not wait up to 500 ms for the tick

    def _by_ssrc(self) -> tuple[dict[int, Consumer], dict[int, Consumer]]:
        """The consumers by their SSRC, and by their RTX SSRC where RTX was negotiated."""
        media: dict[int, Consumer] = {}
        rtx: dict[int, Consumer] = {}
        for consumer in self.consumers:
            params = consumer.slot.parameters
            if params is not None:
                media[params.ssrc] = consumer
                if params.rtx_payload_type is not None:
                    rtx[params.rtx_ssrc] = consumer
        return media, rtx

    def _probe_padding_lost(self, loss: tuple[int, int]) -> bool:
        """Loss on the RTX stream during a probe, which is mostly its padding: more than
        the link's random loss over a few reports fails the probe at once (each second of
        a failing probe costs a weak link's audio; bench.weaklink edge: 3 s, 0.6 s of
        concealed audio, while the loss window filled). True if the probe failed."""
        self._probe_lost += loss[0]
        self._probe_expected += loss[1]
        if self._probe_expected < PROBE_LOSS_MIN_PACKETS:
            return False
        if self._probe_lost <= self._probe_expected * PROBE_LOSS:
            return False
        self._end_probe_failed()
        return True

    def _end_probe_failed(self) -> None:
        """The estimate falls back and holds; the reallocation that follows no longer
        wants the upgrade, and the gate stops the padding."""
        self._estimator.on_probe_ended(False, self._clock())
        self._probe_lost = self._probe_expected = 0
        self._padding_delay.start()  # what was judged is spent

    def _send_padding(self, padding: int, now_ms: int) -> int:
        """The pacer's padding carrier: the probe's carrier consumer sends one packet,
        numbered where transport-cc was negotiated."""
        carrier = self._carrier
        if carrier is None:
            return 0
        numbered = carrier.transport_cc_id is not None
        delay = self._padding_delay
        sent = carrier.send_padding(padding, now_ms, delay.next_sequence if numbered else None)
        if sent and numbered:
            delay.on_sent(now_ms)
            self._numbered_padding_bytes += sent
        return sent

    # --- allocation --------------------------------------------------------------------

    def repair_delay_ms(self, producer: Producer, now_ms: int) -> int:
        """The playout delay video of ``producer`` asks of this subscriber now
        (forwarding/repair_delay.py): each allocation round sets it, and a consumer gets
        it before its first packet. Started without it, the first frames of a rural-3g
        site showed at once, and the delay coming in a round later froze them 0.65 s."""
        # Until the link is known, frames wait for a repair as on a lossy one: a rural-3g
        # site's first lost packet came before any NACK could say so, and its repair
        # froze the just-started video (1-2 freezes in the first 2 s of most runs).
        lossy = self._redundancy.on or not self._redundancy.judged
        late = producer.uplink_late_ms(now_ms)
        return repair_delay_ms(lossy, self._rtt_ms, self._repair_delay, late)

    def reallocate(self) -> None:
        now = self._clock()
        # Retransmissions carry no abs-send-time, so the browser's REMB does not count them:
        # with the audio, they are what it cannot see (after an outage, NACK answers were
        # a third of the video, and every REMB read as a fall under what we sent).
        video_bytes = (
            sum(c.bytes_sent - c.rtx_bytes for c in self.consumers if c.producer.kind == "video")
            - self._numbered_padding_bytes
        )
        self._estimator.on_sent(sum(c.bytes_sent for c in self.consumers), video_bytes, now)
        # Judged on video that actually went out since the last round, not on what was
        # allocated: a publisher whose own uplink paused its video sends nothing, and its
        # subscribers then report rarely (audio only) without their links being gone.
        video_went_out = video_bytes != self._video_bytes
        self._video_bytes = video_bytes
        if video_went_out or self._gate.probing:
            self._video_out_ms = now
        self._update_loss(now)
        if not video_went_out:
            self._video_since_ms = None
            # Only the audio's reports measure the round trip now: keep one stream's SR
            # fresh, so that a link that recovered shows in its next report (one: a
            # province meeting sends a site up to 150 audio streams).
            for consumer in self.consumers:
                if consumer.producer.kind == "audio" and consumer.refresh_sender_report(now):
                    break
        elif self._video_since_ms is None:
            self._video_since_ms = now
        # Silence counts from when video started going out: a subscriber receiving audio
        # only reports every few seconds, and reading that quiet stretch as an outage
        # paused every video resumed after a pause at once (bench.weaklink rural-3g).
        heard = max(self._feedback_ms or 0, self._video_since_ms or 0)
        silent = self._feedback_ms is not None and now - heard > FEEDBACK_TIMEOUT_MS
        if self._adaptive and video_went_out and silent:
            self._estimator.on_feedback_lost(now)
            self._after_silence = set(self._by_ssrc()[0])
            if self._unprobed is None or now >= self._unprobed[1]:
                # After an outage the link is the one that carried this: it comes back
                # without probes (bench.weaklink outage: probing first made the video
                # wait 4.4-6 s after the link returned instead of 2.9).
                self._unprobed = (self._gate.applied_bps, now + UNPROBED_AFTER_OUTAGE_MS)
        speaker = self._loudest_publisher()
        self._rtt_ms = max((c.rtt_ms for c in self.consumers if c.rtt_ms is not None), default=None)
        video: list[VideoDemand] = []
        audio: list[AudioDemand] = []
        by_id: dict[str, Consumer] = {}
        for consumer in self.consumers:
            producer = consumer.producer
            if not consumer.started or producer.muted:
                continue
            key = consumer.id
            by_id[key] = consumer
            if producer.kind == "audio":
                red = self._redundancy.on and consumer.accepts_redundancy
                audio.append(AudioDemand(key, producer.audio_level, producer.speaking(now), red))
                continue
            publisher = producer.participant_id
            if producer.uplink_paused:
                # the publisher sends no video: say why, and wait for a keyframe after it
                consumer.set_target(None, 0)
                self._announce_video(publisher, True, "uplink")
                continue
            consumer.set_playout_delay(self.repair_delay_ms(producer, now))
            consumer.max_spatial = self.wanted_spatial(publisher, len(producer.layers))
            video.append(
                VideoDemand(
                    consumer_id=key,
                    priority=PRIORITY_SPEAKER if publisher == speaker else PRIORITY_GALLERY,
                    max_spatial=consumer.max_spatial,
                    layer_bitrates=producer.layer_bitrates(now),
                    current_spatial=consumer.current_spatial,
                    temporal_layers=consumer.temporal_layers,
                )
            )
        carrier = next((c for c in self.consumers if c.can_pad), None) if self._adaptive else None
        result = self._allocator.allocate(
            now,
            self._estimator.estimate_bps if self._adaptive else UNLIMITED_BPS,
            video,
            audio,
            audio_only=self._audio_only,
            cap_bps=self._cap_bps,
            # An upgrade proven with padding first may leap, and needs no hold (the probe
            # is one; the estimate's growth, bounded by what is sent, bounds the leap):
            # step by step, a link that recovered from the collapse profile with 0.5 %
            # loss left took 9 probes over 27 s to get back to 540p.
            upgrades=upgrade_policy(carrier is not None, self._redundancy.on),
        )
        video_bps = sum(a.bitrate_bps for a in result.video)
        audio_bps = result.used_bps - video_bps
        numbered = carrier is not None and carrier.transport_cc_id is not None
        may_start = self._estimator.may_probe(now)
        # The estimator takes the allocation as sent: a probe's padding stands in for it.
        # Upgrades held back unprobed (a weak hint) send nothing: there it takes what the
        # gate applied (taking the held video as sent, a failed probe on edge fell back
        # to 131k and probed again at once). Numbered, the browser's REMB does not count
        # the padding: of the video it sees what the gate applied.
        sent = video_bps if may_start or carrier is None else min(video_bps, self._gate.applied_bps)
        seen = min(sent, self._gate.applied_bps) if numbered else sent
        # What the held-back video would cost is what starts it: the estimate may grow that
        # far and no further until a probe may prove it.
        resume = result.used_bps if sent < video_bps else result.resume_budget_bps
        self._estimator.on_allocated(audio_bps + sent, now, resume, audio_bps, sent - seen)
        unprobed = self._unprobed
        if unprobed is not None and now >= unprobed[1]:
            unprobed = self._unprobed = None
        known = unprobed is not None and video_bps <= unprobed[0]
        was_probing = self._gate.probing
        gate = self._gate.decide(
            now,
            result.video,
            carrier is not None and not known,
            self._judged_since_ms,
            padding_reported=self._probe_expected >= PROBE_LOSS_MIN_PACKETS,
            margin=NUMBERED_PROBE_MARGIN if numbered else PROBE_MARGIN,
            feedback_judges=numbered,
            may_start=may_start,
        )
        if gate.outcome == "started":
            self._metrics.probes += 1
            self._probe_lost, self._probe_expected = 0, -1  # -1: no report since
            if not was_probing:
                # A probe raised to a bigger step goes on from the delays its padding
                # showed so far: a queue it had built is part of what must show.
                self._padding_delay.start()
        elif gate.outcome in ("abandoned", "failed"):
            self._metrics.probes_failed += 1
        if gate.outcome in ("proven", "failed"):
            self._estimator.on_probe_ended(gate.outcome == "proven", now)
        if gate.outcome == "proven" and self._loss_since_ms is not None:
            # The window running now judges the upgrade (the next probe waits for one that
            # began with it), with what it counted so far. Left to begin at the next
            # window, at 135p's ~12 packets a second that took two windows of 30 packets:
            # 5.5 s between the resume out of the collapse profile's pause and the probe
            # toward 540p (bench.weaklink).
            self._loss_since_ms = now
        self._audio_bps = audio_bps
        weak = paused_by_bandwidth(gate.video)
        if self._adaptive:
            self.pacer.set_rate(
                pace_rate(result.budget_bps, video_bps, result.used_bps - video_bps, PACE_FLOOR_BPS)
            )
            self._carrier = carrier if gate.padding_bps else None
            self.pacer.set_padding(
                gate.padding_bps, self._send_padding if self._carrier is not None else None
            )
        # A link that carried more than the paused video needs may recover: watch it.
        may_recover = weak and self._estimator.carried_bps > result.resume_budget_bps
        self._watch_path(
            now,
            carrier if numbered and may_recover and not gate.padding_bps else None,
            result.used_bps,
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s delivered=%s watch=%s loss=%s budget=%d used=%d padding=%d queued=%d "
                "demands=%s video=%s",
                self._subscriber_id,
                self._estimator.state(),
                self._delivered_bps(now),
                self._watch.state() if self._watch_timer is not None else None,
                [
                    (c.id, round(c.stats().fraction_lost, 3), round(c.downlink_loss, 3), c.rtt_ms)
                    for c in self.consumers
                ],
                result.budget_bps,
                result.used_bps,
                gate.padding_bps,
                self.pacer.queued,
                [
                    (d.consumer_id, d.max_spatial, d.layer_bitrates, d.temporal_layers)
                    for d in video
                ],
                [(a.consumer_id, a.spatial, a.temporal, a.bitrate_bps) for a in gate.video],
            )
        for allocation in gate.video:
            consumer = by_id[allocation.consumer_id]
            consumer.set_target(allocation.spatial, allocation.temporal)
            paused = allocation.spatial is None
            self._announce_video(consumer.producer.participant_id, paused, allocation.reason)
        if self._adaptive and all(a.spatial is None for a in gate.video):
            # after the pause is applied: the forwarders then give the dropped tail back
            self._drop_paced(self.pacer.drop_queued())
        for audio_allocation in result.audio:
            consumer = by_id[audio_allocation.consumer_id]
            consumer.set_allocated(audio_allocation.forward)
            consumer.set_redundancy(audio_allocation.redundant)
        self._announce_link(weak)

    def _watch_path(self, now: int, carrier: Consumer | None, used_bps: int) -> None:
        """Trickle numbered padding through ``carrier`` (path_watch.py); None stops it.
        It starts after the bridge sent more (the video, a probe), and sending less
        (``used_bps``, RED going off) leaves a queue: the watch waits for it to drain."""
        before = self._watch_used_bps
        fall = 1 - used_bps / before if before else 1.0
        self._watch_used_bps = used_bps
        if carrier is None:
            self._stop_watch()
            return
        self._watch_carrier = carrier
        if self._watch_timer is None:
            # What went out before (video, a probe) leaves a queue: it drains as fast as
            # the rate fell, and at least half as fast (no fall: the watch only started)
            self._watch.on_rate_fall(now, max(fall, WATCH_START_FALL), returns_to_floor=True)
            self._watch_timer = asyncio.get_running_loop().call_later(0, self._send_watch)
        elif fall > WATCH_DRAIN_FALL:
            self._watch.on_rate_fall(now, fall)

    def _send_watch(self) -> None:
        carrier = self._watch_carrier
        if carrier is None:
            self._watch_timer = None
            return
        now = self._clock()
        delay = self._padding_delay
        sequence = delay.next_sequence
        sent = carrier.send_padding(self._watch.settings.padding, now, sequence)
        if sent:
            # The probes' padding and the watch's share one transport-wide sequence (a
            # gap would read as loss); the next probe's start() forgets these.
            delay.on_sent(now)
            self._watch.on_sent(sequence, now)
            self._numbered_padding_bytes += sent
        self._watch_timer = asyncio.get_running_loop().call_later(
            self._watch.settings.interval_ms / 1000, self._send_watch
        )

    def _stop_watch(self) -> None:
        """What it saw stays: the link's floor is still the floor after a probe."""
        if self._watch_timer is not None:
            self._watch_timer.cancel()
            self._watch_timer = None
        self._watch_carrier = None

    def close(self) -> None:
        """The subscriber left: nothing more goes out."""
        self._stop_watch()
        self._watch.reset()
        self.pacer.close()

    def _drop_paced(self, packets: list[bytes | bytearray]) -> None:
        """Packets that got a sequence number but never left: the subscriber will report
        them lost, and that is no loss on its link (RFC 3550 §5.1: SSRC at 8, seq at 2)."""
        by_ssrc, _ = self._by_ssrc()
        for packet in reversed(packets):  # newest first: the tail can be given back
            consumer = by_ssrc.get(int.from_bytes(packet[8:12], "big"))
            if consumer is not None:
                consumer.unsent(int.from_bytes(packet[2:4], "big"))

    def _update_loss(self, now: int, at_once: bool = False) -> bool:
        """Judge the window of loss reported since it began, once it is long enough (or
        ``at_once``) and covers enough packets; True if it was judged."""
        since = self._loss_since_ms
        if since is None:
            self._loss_since_ms = now
            return False
        if (at_once or now - since >= LOSS_WINDOW_MS) and self._expected >= LOSS_MIN_PACKETS:
            # Audio first: loss while video went out is cut from the video; only audio
            # that still loses on its own gives up its room (and its RED). On its own:
            # nothing else went out over the span its report covers (AUDIO_REPORT_SPAN_MS).
            # Judged over the window alone, a probe's loss, reported with the audio 5 s
            # later, took edge's RED away for 25 s (4.7 % concealed; bench.weaklink).
            audio_ok = self._audio_lost <= self._audio_expected * HIGH_AUDIO_LOSS
            out = self._video_out_ms
            alone = out is None or now - out > AUDIO_REPORT_SPAN_MS
            keep = self._audio_bps if audio_ok or not alone else 0
            self._estimator.on_receiver_report(
                self._lost / self._expected,
                now,
                keep,
                since,
                self._delivered_bps(now),
                self._loss_by_kind(),
            )
            self._redundancy.update(self._lost / self._expected, now)
            self._lost = self._expected = self._audio_lost = self._audio_expected = 0
            self._judged_since_ms = since
            self._loss_since_ms = now
            self._after_silence.clear()  # a window judged: the outage's reports are in
            return True
        return False

    def _loss_by_kind(self) -> LossByKind:
        """The window's loss of the audio and of the rest apart (a kind with no packets
        in it is taken to lose as the other)."""
        audio_expected, rest_expected = self._audio_expected, self._expected - self._audio_expected
        audio = self._audio_lost / audio_expected if audio_expected else None
        rest = (self._lost - self._audio_lost) / rest_expected if rest_expected > 0 else None
        if audio is None:
            return LossByKind(rest or 0.0, rest or 0.0)
        return LossByKind(audio, audio if rest is None else rest)

    def _delivered_bps(self, now: int) -> int | None:
        """What the link delivered of every stream lately (Consumer.delivered_bps); None
        while one that sent has not been measured yet."""
        total = 0
        for consumer in self.consumers:
            rate = consumer.delivered_bps(now)
            if rate is None and consumer.bytes_sent:
                return None
            total += rate or 0
        return total

    def _loudest_publisher(self) -> str | None:
        audio = [c.producer for c in self.consumers if c.producer.kind == "audio"]
        now = self._clock()
        speaking = [p for p in audio if not p.muted and p.speaking(now)]
        if not speaking:
            return None
        return min(speaking, key=lambda p: p.audio_level).participant_id

    def _announce_video(self, publisher_id: str, paused: bool, reason: str) -> None:
        state = (paused, reason if paused else None)
        if self._video_state.get(publisher_id) != state:
            self._video_state[publisher_id] = state
            self._listener(VideoState(publisher_id, paused, state[1]))

    def _announce_link(self, weak: bool) -> None:
        state = "audio_only" if self._audio_only else ("weak" if weak else "good")
        if state != self._link_state:
            self._link_state = state
            self._listener(LinkState(state, self._estimator.estimate_bps // 1000))

    def forget(self, publisher_id: str) -> None:
        self._video_state.pop(publisher_id, None)
