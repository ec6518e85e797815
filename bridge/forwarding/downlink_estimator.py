"""Per-subscriber downlink bandwidth estimate: probe with media, back off on congestion.

What the bridge can learn about a subscriber's downlink without transport-cc:

- its REMB (draft-alvestrand-rmcat-remb), Chromium's receive-side delay-based estimate.
  Chromium's AIMD never lets it exceed ~1.5 x what it receives + 10 kbit/s, and on
  overuse it answers with 0.85 x what it receives. So a REMB above our send rate says
  little (the link may carry much more), and only a REMB that *fell* below our send rate
  says "congested" -- one that trails our send rate right after an upgrade is just late,
  and one that has not yet caught up with video resumed after a pause is stale;
- the fraction lost in its receiver reports (RFC 3550 §6.4.1), over all its streams,
  once a second (media/downlink.py). Rural links lose 1-5 % of packets at random, so loss
  under ``high_loss`` is not read as congestion (GCC's 2-10 % "hold" band,
  draft-ietf-rmcat-gcc-02 §6, would freeze the estimate forever on such a link); above it,
  the rate becomes what got through, ``sent * (1 - loss)`` with the audio and the rest
  each at its own rate and loss, or less where the reports' own count of what arrived
  says less (delivered_rate.py). GCC's gentler
  ``1 - 0.5 * loss`` took seven cuts over 8 s to follow the collapse profile from 2
  Mbit/s to 250 kbit/s (90 % loss: 0.55 x a time), each with a new layer's keyframe.

- the round trip the bridge measures itself from each receiver report (RFC 3550
  §6.4.1: arrival - LSR - DLSR): a queue building at the bottleneck shows as a round trip
  ``queue_delay_ms`` above the lowest one of the last ``rtt_window_ms`` (the median of the
  last three samples, against a link's jitter; one sample 300 ms over it within a
  failed probe's hold). Chromium's REMB answers an overuse only
  at ~0.85 x what it receives, and loss only comes once the queue overflows; a probe
  that overloads a link by 10-20 % (rural-3g: 270p at 15 fps plus RED audio on 400
  kbit/s) showed neither for seconds while the queue grew and every frame froze.

The estimate grows ``increase_per_s`` per second with every report that says nothing of
congestion, bounded by ``max_send_ratio`` x the send rate + ``send_headroom_bps`` (an
idle link does not accumulate an unfounded estimate; at low rates the headroom still lets
the budget reach 2-2.5x what is sent; it may always reach the budget that starts the
cheapest paused video, however far above audio that is), and follows a REMB that is
above it (neither while an upgrade is on trial nor while no video goes out: the REMB is
then whatever Chromium's estimate was when the video stopped). The allocator upgrades
when it has grown enough, and the upgrade is on trial: with an RTX stream to the
subscriber it is first a padding probe (probe_gate.py), which ``on_probe_ended`` closes;
without one, the upgrade itself is the probe. Growth is fast (50 %/s): it only decides
how soon the next probe comes, and the holds below bound how often a failing one does. A
round trip far under the lowest of the window (``faster_path_ratio``) is a different,
faster link: the back-off earned on the old one is dropped.

A link that fell and recovered (the collapse profile: 2 Mbit/s, 250k, 80k, 2 Mbit/s again)
need not be climbed one ladder step a probe: the estimator remembers the highest rate a
clean receiver report covered (``carried``), and once a probe out of the fall is proven
it jumps there, so the next probe asks for all of it. Climbing from 135p to 540p took six
probes of ~2.5 s each, 21 s after the link had recovered (bench.weaklink). A jump that
fails costs only the short hold (it was a guess from the past, not the ladder's next step
failing again), but the next jump waits ``jump_hold_ms``, doubling while jumps fail: on
the collapse profile a probe proven on the 250k link jumped, failed, and had the rate
been forgotten there, the recovered link would have climbed step by step again.

A probe that congests the link costs the subscriber a moment of loss. The estimate falls
back to what was sent before the probe (not to the probe's congested REMB or loss), and
growth stops for a hold time that doubles each time a probe fails again soon after a
hold ended, up to ``max_hold_ms``, and falls back to ``min_hold_ms`` after
``calm_reset_ms`` without congestion after the last hold, and for congestion that no
probe caused (the link changed under what was being sent). On a link that never
carries the next layer, probes thus become rare instead of flapping the video every few
seconds. A failed probe also leaves a ceiling: for ``probe_ceiling_ms`` the estimate
stays under a share of the allocation it stood for, so a hold's end brings a cheaper
step, if any, and not the one that failed (libwebrtc's AIMD likewise grows only slowly
near the rate of its last overuse). Within a failed probe's hold a REMB is its echo, not
the link, unless far under what it fell back to; loss (after ``settle_ms``) and a round
trip ``link_fell_queue_ms`` over its base are the link. When the hold after a link fell
(no probe's) ends, a paused video's cheapest step is probed at once.

Why not transport-cc: the send-side estimator (per-packet send times, arrival-time
filter) would measure capacity directly and recover faster than any REMB-driven scheme,
but it is the bulk of GCC in the per-packet Python path. Padding probes (probe_gate.py)
took its cheapest part: an upgrade that fails costs padding, not frozen video.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from math import inf, isinf
from typing import Literal

# What lowered the estimate: a REMB, receiver-report loss, a round trip, a padding probe
# that failed, the subscriber's silence, or its own measure of its link at the join.
CutReason = Literal["remb", "loss", "rtt", "probe", "silence", "hint"]


@dataclass(frozen=True, slots=True)
class EstimatorSettings:
    # GCC's start rate: audio plus a low layer; a good link climbs from there.
    initial_bps: int = 300_000
    min_bps: int = 30_000
    max_bps: int = 20_000_000
    increase_per_s: float = 0.5
    high_loss: float = 0.10
    # Longer gaps between inputs count as this long. Toward paused video Chromium reports
    # about every 5 s; counting that as 2 s kept a recovered link paused 7 s longer.
    max_increase_interval_ms: int = 5000
    remb_timeout_ms: int = 5000
    # Chromium answers overuse with 0.85 x what it receives; a REMB this far under our
    # send rate that also fell (by more than remb_drop) is congestion.
    remb_congestion_ratio: float = 0.85
    remb_drop: float = 0.03
    remb_noise: float = 0.1
    # The very first REMB trails a stream that is just starting (the browser initialises
    # its estimate from what it has received so far): only far under the send rate is it
    # read as congestion.
    first_remb_congestion_ratio: float = 0.6
    # Congestion within probe_window_ms of an upgrade is a failed probe: fall back to
    # what was sent before it (x fallback_room). Loss and REMBs of the episode's first
    # settle_ms describe the probe, not the link: they do not cut further. A padding
    # probe (probe_gate.py) ends the trial early when proven, and may last up to its
    # max_duration_ms: the window covers it.
    probe_window_ms: int = 6000
    # An allocation this much above the last one is an upgrade (ladder steps are ~1.5x
    # apart; the cost of one step moves +-20 % with the measured layer rates).
    probe_rise: float = 1.25
    fallback_room: float = 1.25
    settle_ms: int = 3000
    # Within an episode, a fall below this share of what it fell back to: the link itself
    # changed, and the back-off earned on the old one is reset. (At 0.6, the REMB that
    # followed a failed probe on rural-3g, 216k against 384k, was read as the link: 270p
    # fell to 135p, and the switch froze the video.)
    link_change_ratio: float = 0.5
    # A window losing more than this is the link, even within settle_ms of a failed probe:
    # a probe overloads by 5-20 %, and cannot lose half of everything. On the collapse
    # profile's 80k step, 60 % loss of 223k (89k, against 166k fallen back to) was read
    # as the probe's and 135p stalled 4 s more.
    link_fell_loss: float = 0.5
    # What the reports count as arrived (delivered_rate.py) bounds what a loss window says
    # got through: no more than it, and a report interval into a congestion episode no
    # less than this share of it. A window in which the video starved for a second
    # behind its own retransmissions read as 97 % lost, 58k of 1.9M; 300k had arrived,
    # and the video paused on the collapse profile's 250k step (bench.weaklink). Not
    # sooner: measured over a second or more, it still shows the rate before a fall
    # (at half of 1.5M, a cut 150 ms into the step stayed at 760k and the video starved).
    delivered_floor: float = 0.5
    min_hold_ms: int = 4000
    max_hold_ms: int = 60_000
    calm_reset_ms: int = 30_000
    # After a jump to what the link carried failed, the next waits this long (doubling
    # while they fail, up to max_hold_ms).
    jump_hold_ms: int = 20_000
    max_send_ratio: float = 1.8
    send_headroom_bps: int = 160_000
    send_window_ms: int = 1000  # minimum span of the send-rate measurement
    rtt_window_ms: int = 30_000  # the base round trip is the lowest this recent
    queue_delay_ms: int = 100  # a round trip this far above the base: a queue builds
    link_fell_queue_ms: int = 300  # ... this far: the link fell (no probe's queue)
    # A round trip this far under the lowest of the window (both): the link changed. The
    # collapse profile's recovery: 65 ms against 164 (0.40). On edge, where audio alone
    # keeps a queue, every sample of 30 s was 550-690 ms and one of 277 came (0.50): at
    # 0.6 read as a new link, it ended the back-off and a probe followed at once.
    faster_path_ratio: float = 0.45
    faster_path_ms: int = 50
    overuse_ratio: float = 0.85  # GCC's answer to overuse: this share of what is sent
    delivered_fresh_ms: int = 2000  # what loss reports said got through counts this long
    report_interval_ms: int = 1000  # Chromium's receiver reports while video goes out
    # A proven probe jumps to what the link carried only while the round trip is under
    # this many times what it was then (_on_carried_path).
    carried_path_rtt_ratio: float = 2.0
    # A subscriber measuring its own downlink under this at the join (on_link_hint) cannot
    # carry the cheapest video layer (~65-150k) beside its audio (~40-70k).
    weak_hint_bps: int = 160_000
    # ... and its estimate starts at this share of the measure: a page load over-reads a
    # narrow link (135k on edge's 96k: the shaper's burst, HTTP headers), and at 135k
    # 135p at 7.5 fps (55k) plus the audio fit, went out, and concealed 1.1 % of the audio
    # until the first REMB paused it (bench.weaklink).
    hint_share: float = 0.5
    # ... and no probe toward its video starts for this long (a probe that fails then
    # waits twice as long, as after three failed probes). Each probe toward a paused
    # video on edge failed (RED audio ~70k plus the cheapest step on 96k) and concealed
    # 10-40 % of the audio for 0.5-1 s; five came in the first 55 s. The estimate still
    # grows: held itself that long, it kept the audio from its RED (40k, half of an 80k
    # measure) and concealed 2.4-2.9 % (bench.weaklink).
    hint_probe_after_ms: int = 16_000
    # A failed probe says what the link does not carry: the allocation it stood for. For
    # this long (doubling while probes fail there again, up to max_hold_ms) the estimate
    # stays under ``probe_ceiling_share`` of it, so the same step is not probed again
    # (a cheaper one may be); a faster link ends it. On rural-3g (400 kbit/s) every
    # hold's end brought the probe for 270p at 30 fps (~400k with the audio) back: four
    # failed a minute, each overloading the link for ~0.8 s, and a third of them froze
    # the video; the REMB's answer to each overload cut 270p to 7.5 fps for seconds
    # (bench.weaklink).
    probe_ceiling_ms: int = 20_000
    probe_ceiling_share: float = 0.9

    def __post_init__(self) -> None:
        if not 0 < self.min_bps <= self.initial_bps <= self.max_bps:
            raise ValueError("need 0 < min_bps <= initial_bps <= max_bps")
        if not 0 < self.high_loss <= 1:
            raise ValueError("need 0 < high_loss <= 1")
        if not 0 < self.min_hold_ms <= self.max_hold_ms:
            raise ValueError("need 0 < min_hold_ms <= max_hold_ms")
        if not 0 < self.overuse_ratio <= 1:
            raise ValueError("need 0 < overuse_ratio <= 1")
        if not 0 < self.hint_share <= 1:
            raise ValueError("need 0 < hint_share <= 1")
        if not 0 < self.probe_ceiling_share <= 1:
            raise ValueError("need 0 < probe_ceiling_share <= 1")


@dataclass(frozen=True, slots=True)
class LossByKind:
    """Fractions (0..1) of the audio's packets and of the rest's lost in a window."""

    audio: float
    video: float


@dataclass(frozen=True, slots=True)
class EstimatorState:
    """What the estimate is made of, for logs."""

    estimate_bps: int
    remb_bps: int | None  # the last fresh REMB
    send_bps: int | None
    hold_ms: int  # growth stopped for this long yet (after congestion)
    last_hold_ms: int  # the last congestion's hold (doubles while probes fail)
    last_cut: CutReason | None  # what lowered the estimate last
    carried_bps: int  # the highest rate a clean report covered
    rtt_ms: int | None  # the last round trip measured
    ceiling_bps: int | None  # what growth stays under after a failed probe, while it holds


class DownlinkEstimator:
    __slots__ = (
        "_allocated",
        "_allocated_video",
        "_before_rise",
        "_carried",
        "_carried_rtt",
        "_ceiling",
        "_ceiling_hold",
        "_delivered",
        "_episode_estimate",
        "_episode_ms",
        "_episode_probe",
        "_estimate",
        "_faster_ms",
        "_hold",
        "_hold_until_ms",
        "_jump_after_ms",
        "_jump_hold",
        "_jumped",
        "_last_cut",
        "_last_growth_ms",
        "_now_ms",
        "_probe_after_ms",
        "_remb",
        "_remb_peak",
        "_remb_stale",
        "_resume_bps",
        "_rtt_floor",
        "_rtts",
        "_sent_anchor",
        "_sent_bps",
        "_settings",
        "_unseen_bps",
        "_unseen_video",
    )

    def __init__(self, settings: EstimatorSettings) -> None:
        self._settings = settings
        self._estimate = float(settings.initial_bps)
        self._remb: tuple[int, int] | None = None  # (bps, received at ms)
        self._remb_peak = 0  # highest REMB since the last congestion
        self._remb_stale = False  # not caught up with the video since it resumed
        self._sent_anchor: tuple[int, int, int] | None = None  # (bytes, video bytes, ms)
        self._sent_bps: int | None = None
        self._unseen_bps = 0  # sent, not counted by the browser's REMB (audio)
        self._allocated = 0  # what the allocator last decided to send
        self._allocated_video = 0  # of it, the video
        self._unseen_video = 0  # of that, what the REMB does not see (numbered padding)
        self._resume_bps = 0  # budget to start its cheapest paused video
        self._probe_after_ms = 0  # no probe starts before this (on_link_hint)
        self._before_rise: tuple[int, int] | None = None  # (allocated before, rose at ms)
        # (got through bps, judged at ms, with loss over high_loss)
        self._delivered: tuple[float, int, bool] | None = None
        self._carried = 0.0  # the highest send rate a clean report covered (no hold, trial)
        self._carried_rtt: int | None = None  # the round trip then (_recent_rtt)
        self._jumped = False  # the estimate jumped to it; the trial that follows judges it
        self._faster_ms: int | None = None  # when the link last became a faster one
        self._jump_hold = settings.jump_hold_ms  # after the next failed jump
        self._jump_after_ms = 0  # no jump before this
        self._episode_ms = 0  # when the last congestion episode began
        self._episode_estimate = 0.0  # what it fell back to
        self._episode_probe = False  # it began as a failed probe
        self._last_cut: CutReason | None = None
        self._now_ms: int | None = None
        self._last_growth_ms: int | None = None
        self._hold = settings.min_hold_ms  # the last congestion's hold
        # (what a failed probe stood for, bps; until ms): growth stays under its share
        self._ceiling: tuple[float, int] | None = None
        self._ceiling_hold = settings.probe_ceiling_ms  # the next failed probe's
        self._hold_until_ms: int | None = None
        self._rtts: deque[tuple[int, int]] = deque()  # (at ms, round trip ms), oldest first
        # the same, kept through cuts (the base is learnt again after one): the link's
        # lowest, against which a far quicker round trip means a different link
        self._rtt_floor: deque[tuple[int, int]] = deque()

    # --- inputs ----------------------------------------------------------------------

    def on_remb(self, bitrate_bps: int, now_ms: int) -> bool:
        """True if this REMB lowered the estimate (reallocate now, not at the next tick)."""
        self._tick(now_ms)
        s = self._settings
        # Chromium feeds only video packets to its receive-side estimator, so the REMB is
        # judged against the video we send; the audio shares the link on top of it.
        video = max(0, bitrate_bps)
        total = video + self._unseen_bps
        peak = self._remb_peak if self._fresh_remb() is not None else None
        self._remb = (total, now_ms)
        self._remb_peak = max(peak or 0, video)
        if self._sent_bps is None:
            return False
        # What the REMB saw go out: measured, or allocated where the measurement trails
        # an upgrade; not an upgrade on trial whose padding it does not count (numbered).
        # Judged against that, the first REMB of a fiber viewer's join (158k against
        # ~360k) failed its probe for 270p and held it 4 s (bench.weaklink collapse).
        allocated = (
            self._allocated_video - self._unseen_video
            if self._unseen_video
            else self._allocated - self._unseen_bps
        )
        measured = max(0, self._sent_bps - self._unseen_bps)
        video_sent = max(measured, allocated)
        if peak is None:
            # Against what went out, not the allocation: the stream is starting, and the
            # allocation runs ahead of it (a 2 Mbit/s link's first REMB, 90k against 159k
            # allocated, paused the video for 8 s after the join; bench.weaklink).
            congested = video < measured * s.first_remb_congestion_ratio
        else:
            # A REMB that fell from its peak since the last congestion; within an episode
            # also one that does not climb (the overuse goes on). One that climbs trails
            # what we send without meaning congestion: after an upgrade, and for long
            # after an overuse (Chromium then climbs additively from 0.85 x received).
            # A fall within remb_noise of the video we send is noise, not a fall: after a
            # pause the browser's REMB sits at a few tens of kbit/s and wanders by a few;
            # read against a resumed stream that wandering failed every probe out of the
            # pause (bench.weaklink collapse: 76k on a recovered 2 Mbit/s link).
            # Nor is anything a REMB says congestion until it has once reached the video
            # resumed after a pause: Chromium climbs from what it received while paused
            # (~10k), additively, for seconds. On the collapse profile's 250k link it sat
            # at ~12k of video under 135p's 84k for 6 s, rose with a probe's padding
            # and fell back: read as the link, it paused the video (no loss, the round
            # trip at its base; bench.weaklink).
            fell = video < peak - max(peak * s.remb_drop, video_sent * s.remb_noise)
            flat = self._holding(now_ms) and video <= peak
            behind = video < video_sent * s.remb_congestion_ratio
            congested = behind and (fell or flat) and not self._remb_stale
            self._remb_stale &= behind
        before = self._estimate
        if congested:
            self._remb_peak = video
            self._congested(
                max(min(self._estimate, float(total)), self._got_through(now_ms)), now_ms, "remb"
            )
        elif (
            total > self._estimate
            and measured >= s.min_bps
            and not self._holding(now_ms)
            and not self._probing(now_ms)
        ):
            # The receiver sees room (its estimate is above ours): take it, bounded. Not
            # while an upgrade is on trial: grown on the padding going out, the estimate
            # made the allocator want ever more, and the probe out of the collapse
            # profile's pause started over for a bigger step five times in 10 s while
            # the video stayed paused on the recovered link (bench.weaklink). Nor while
            # (almost) no video goes out: Chromium's estimate then keeps whatever it
            # was, and the collapse profile's 250k link, its video paused, had its
            # estimate pulled to 291k by a REMB of 304k; the first probe asked for 135p
            # at 30 fps, failed, and the video stayed paused 16 s.
            self._estimate = min(float(total), max(self._estimate, self._send_limit(now_ms)))
        return self._estimate < before

    def on_receiver_report(
        self,
        fraction_lost: float,
        now_ms: int,
        keep_bps: int = 0,
        since_ms: int | None = None,
        delivered_bps: int | None = None,
        by_kind: LossByKind | None = None,
    ) -> None:
        """Fraction (0..1) of packets lost on the downlink since the last call, over all
        of this subscriber's streams (packet-weighted), in reports that arrived since
        ``since_ms``; ``by_kind``: the same for the audio and for the rest apart, if
        known. ``keep_bps``: the loss is not the audio's, and a cut leaves at least this
        (what the audio is allocated). ``delivered_bps``: what the reports say arrived
        lately (delivered_rate.py), if measured; what got through is no more than that,
        and within a congestion episode no less than ``delivered_floor`` of it."""
        self._tick(now_ms)
        sending = float(self._sending_bps())
        base = sending or self._estimate
        if by_kind is None or not sending:
            got = base * (1 - min(fraction_lost, 1.0))
        else:
            # Each kind at its own rate: 50 small audio packets a second outnumber a weak
            # link's video, and packet-weighted, the collapse profile's fall to 80k read
            # as 12 % lost (5 of 6 video packets, 2 of 50 audio) while ~85k of 177k got
            # through; 135p stalled 2 s more (bench.weaklink).
            audio = min(float(self._unseen_bps), sending)
            got = audio * (1 - by_kind.audio) + (sending - audio) * (1 - by_kind.video)
        loss = 1 - got / base
        lossy = loss > self._settings.high_loss
        if delivered_bps is not None:
            s = self._settings
            into = self._holding(now_ms) and now_ms - self._episode_ms >= s.report_interval_ms
            got = min(max(got, delivered_bps * s.delivered_floor if into else 0), delivered_bps)
        self._delivered = (got, now_ms, lossy) if sending and got > 0 else None
        rise = self._before_rise
        if (
            since_ms is not None
            and rise is not None
            and since_ms < rise[1]
            and self._probing(now_ms)
        ):
            # Reports from before the upgrade on trial say nothing of it. Toward paused
            # video they cover ~5 s each: on the collapse profile's recovered link, the
            # 80k link's loss in the first one failed the first probe and held growth
            # 16 s. A link that fell meanwhile shows in the next window (and in a
            # numbered probe's padding at once).
            return
        if since_ms is not None and self._faster_ms is not None and since_ms < self._faster_ms:
            # Nor do they say anything of a faster link seen since: the 80k link's loss,
            # judged 20 ms after the path watch saw the collapse profile's link recover,
            # cut the estimate back and held it 4 s (bench.weaklink).
            return
        if lossy:
            # What got through of what was sent (GCC cuts what is sent, not an estimate
            # that ran ahead of it). Not of an estimate already cut below what was sent:
            # 14 % of 1.9 Mbit/s got through the collapse profile's 250k link, and 14 %
            # of the 420k its REMB had cut to paused the video.
            # Cutting into the audio's room for the video's loss would only take its RED
            # away (bench.weaklink edge: a starved video's loss, reported after it was
            # paused, cut to 30k and audio concealment doubled).
            self._congested(
                max(got, keep_bps),
                now_ms,
                "loss",
                fell=loss > self._settings.link_fell_loss,
            )
            return
        if self._sent_bps is not None and not self._holding(now_ms) and not self._probing(now_ms):
            # What the allocation costs, where the measurement is higher: a join's key
            # frames went out at 402k in a rural-3g link's first second, a rate it
            # cannot carry for long.
            carried = float(min(self._sent_bps, self._allocated))
            if carried > self._carried:
                self._carried, self._carried_rtt = carried, self._recent_rtt()
        self._grow(now_ms)

    def on_feedback(self, now_ms: int) -> None:
        """RTCP from the subscriber that said nothing of congestion: the estimate grows.
        Loss is judged over a window of packets, and toward paused video (audio only)
        that took ~5 s a window: growing only then took 6 s from 140k to 290k after the
        collapse profile's link had recovered."""
        self._tick(now_ms)
        self._grow(now_ms)

    def on_probe_ended(self, proven: bool, now_ms: int) -> None:
        """The upgrade on trial was proven (padding went through and reports covered it:
        the trial is over, growth resumes) or could not be within its time (a failed
        probe: fall back and hold)."""
        self._tick(now_ms)
        if proven:
            rise, self._before_rise = self._before_rise, None
            if rise is not None and self._last_growth_ms is not None:
                # The link carried the padding all along: the trial's time counts as
                # growth. Without it growth came only between probes, one ladder step
                # per ~2-s probe (bench.weaklink collapse: 11 s from 60k to 540p).
                self._last_growth_ms = min(self._last_growth_ms, rise[1])
            s = self._settings
            if self._jumped:  # it went through: the next failure waits the shortest
                self._jump_hold = s.jump_hold_ms
            carried = min(self._carried, self._ceiling_bps(now_ms))
            self._jumped = (
                carried > self._estimate * s.probe_rise
                and now_ms >= self._jump_after_ms
                and self._on_carried_path()
            )
            if self._jumped:
                self._estimate = min(carried, float(s.max_bps))
        elif self._probing(now_ms):
            self._congested(self._estimate, now_ms, "probe")

    def on_rtt(self, rtt_ms: int, now_ms: int, delivered_bps: int | None = None) -> bool:
        """One round-trip measurement to the subscriber; True if it lowered the estimate
        (a queue is building on its downlink). ``delivered_bps``: what the reports say
        arrived lately (delivered_rate.py), if measured."""
        self._tick(now_ms)
        s = self._settings
        rtts, floor = self._rtts, self._rtt_floor
        for window in (rtts, floor):
            while window and now_ms - window[0][0] > s.rtt_window_ms:
                window.popleft()
        lowest = min((rtt for _, rtt in floor), default=None)
        if lowest is not None and rtt_ms <= min(
            lowest * s.faster_path_ratio, lowest - s.faster_path_ms
        ):
            # Far quicker than the link has been all along: a different link (the
            # collapse profile's recovery: 300 ms to 60), not a queue that drained (that
            # is why the floor survives cuts: against the base learnt after one, a queue
            # draining from 730 ms to 310 looked like a new link).
            self.on_faster_path(now_ms)
        floor.append((now_ms, rtt_ms))
        sending = self._sending_bps()
        if sending <= self._unseen_bps:
            # Only audio goes out: nothing to cut, and nothing to judge the next video
            # by (with these in the window, the first sample after a resume "confirmed"
            # a queue the paused link's jitter had shown, and cut the resume at once).
            # Nor are the samples from before the pause: the video paused because the
            # link fell, and against the old link's base (68 ms on the collapse
            # profile) the 250k link's own delay (~165 ms) read as a queue as soon as a
            # probe out of the pause began: it failed the probe, or cut the resumed
            # video at once (4 of 16 runs; bench.weaklink).
            rtts.clear()
            return False
        rtts.append((now_ms, rtt_ms))
        base = min(rtt for _, rtt in rtts)
        # One round trip this far over the base is enough within a failed probe's hold:
        # the probe was judged by its padding and left a queue of tens of ms, not 300.
        # On the collapse profile's fall to 80k the 700-ms sample came 1.5-2.5 s in and
        # the next one a second or two later; 135p stalled meanwhile (bench.weaklink).
        far = (
            self._episode_probe and self._holding(now_ms) and rtt_ms - base >= s.link_fell_queue_ms
        )
        if len(rtts) < 3 and not far:
            return False
        queue = rtt_ms - base if far else _recent(rtts) - base
        if queue < s.queue_delay_ms:
            return False  # no queue
        # Learn the base again from here: if the link's own delay rose (a new route, the
        # collapse profile's steps) rather than a queue, this cut is the only one it costs.
        rtts.clear()
        before = self._estimate
        rate = min(self._estimate, sending * s.overuse_ratio)
        # A queue this long is no probe's (one overloads a link by 10-20 % for about a
        # second): the link fell, and what the reports say got through bounds the cut. On
        # the collapse profile's fall to 80k a probe failed just then; the round trip
        # went 165 -> 736 ms, but as the probe's it was not followed for its 3 s, and
        # 135p, fallen back to 188k, stalled 3.5 s (bench.weaklink).
        # So does what arrived lately: a loss window judged before the queue showed covers
        # mostly the time before the fall (156k "got through" against 97k arrived, 2 s
        # into the fall to 80k; cut to 133k, 135p went on and stalled 4 s).
        fell = queue >= s.link_fell_queue_ms
        if fell:
            got = self._delivered
            if got is not None and now_ms - got[1] <= s.delivered_fresh_ms:
                rate = min(rate, got[0] * s.overuse_ratio)
            if delivered_bps is not None:
                rate = min(rate, delivered_bps * s.overuse_ratio)
            # The video's queue: the audio keeps its room (and its RED) until its own
            # loss says otherwise. Cut to 56k on the fall to 80k, the audio lost its RED.
            rate = max(rate, float(self._allocated - self._allocated_video))
        self._congested(rate, now_ms, "rtt", fell=fell)
        return self._estimate < before

    def on_faster_path(self, now_ms: int, jump: bool = False) -> None:
        """The link became a different, faster one (a round trip far under its floor, or
        the path watch's one-way delay, path_watch.py). Back-off earned on the old one
        says nothing here: growth resumes, and probes with it. A paused video is probed at
        once: cut to audio on the old link, growth took 3 s more to reach the cheapest
        step (bench.weaklink collapse). The round trips of the old link are forgotten.

        ``jump``: the sign is strong enough to probe what the link carried before at once,
        as after a proven probe out of a fall (one probe, not two: the cheapest step's
        took 2.5 s, and the jump's waited 1.5 s more for a report window after it)."""
        self._tick(now_ms)
        s = self._settings
        self._faster_ms = now_ms
        self._hold = s.min_hold_ms
        self._ceiling, self._ceiling_hold = None, s.probe_ceiling_ms
        if self._holding(now_ms):
            self._hold_until_ms = now_ms
        self._estimate = max(self._estimate, float(self._resume_bps))
        if jump and self._carried > self._estimate * s.probe_rise and now_ms >= self._jump_after_ms:
            self._jumped = True
            self._estimate = min(self._carried, float(s.max_bps))
        self._rtts.clear()
        self._rtt_floor.clear()

    def on_link_hint(self, bps: int, now_ms: int) -> bool:
        """The subscriber's own measure of its downlink before any report came (its page's
        load, web/js/link-hint.js). Under ``weak_hint_bps`` the estimate starts at
        ``hint_share`` of it, held as after a fall, so the site's video starts paused;
        then it grows (the audio's RED needs ~70k), but no probe toward the video starts
        for ``hint_probe_after_ms`` (``may_probe``), and a failed one doubles that.
        Without it, an edge site's video overfilled its 96 kbit/s link from the join until
        the first REMB, 2.3 s later, and concealed 1.1-1.6 % of its audio (bench.weaklink).
        A higher measure, or one after the link has reported, changes nothing. True if it
        applied."""
        self._tick(now_ms)
        s = self._settings
        if bps >= s.weak_hint_bps or self._remb is not None or self._delivered:
            return False
        self._congested(bps * s.hint_share, now_ms, "hint", fell=True)
        self._hold = s.hint_probe_after_ms
        self._probe_after_ms = now_ms + s.hint_probe_after_ms
        return True

    def on_feedback_lost(self, now_ms: int) -> None:
        """No report from the subscriber for seconds while video went out: its link may be
        gone (an outage). Back to what the audio needs; video comes back by probing once
        reports arrive again (until then nothing grows the estimate)."""
        self._tick(now_ms)
        self._congested(float(self._unseen_bps), now_ms, "silence")

    def on_sent(self, bytes_total: int, video_bytes_total: int, now_ms: int) -> None:
        """Bytes sent to this subscriber so far, all and video only (monotonic counters)."""
        self._tick(now_ms)
        anchor = self._sent_anchor
        if anchor is None or bytes_total < anchor[0] or video_bytes_total < anchor[1]:
            self._sent_anchor = (bytes_total, video_bytes_total, now_ms)
            return
        span = now_ms - anchor[2]
        if span >= self._settings.send_window_ms:
            sent = (bytes_total - anchor[0]) * 8000 // span
            self._sent_bps = sent
            unseen = (bytes_total - anchor[0]) - (video_bytes_total - anchor[1])
            self._unseen_bps = max(0, unseen) * 8000 // span
            self._sent_anchor = (bytes_total, video_bytes_total, now_ms)

    def on_allocated(
        self,
        bps: int,
        now_ms: int,
        resume_bps: int = 0,
        audio_bps: int = 0,
        unseen_video_bps: int = 0,
    ) -> None:
        """What the allocator decided to send from now on (the send rate lags it), of it
        the audio's, the budget that would let its cheapest paused video start (growth
        may reach it), and how much of its video goes out as padding the browser's REMB
        does not count (an upgrade on trial, stood in for by numbered padding). Only the
        video's rise is an upgrade on trial: audio taking RED on (40k to 70k) is none, and
        it stopped growth for 6 s after the collapse profile's link had recovered."""
        self._tick(now_ms)
        self._resume_bps = resume_bps
        video = bps - audio_bps
        if video > self._allocated_video * self._settings.probe_rise and not self._probing(now_ms):
            self._before_rise = (self._allocated, now_ms)
        self._allocated = bps
        self._allocated_video = video
        self._remb_stale |= video <= 0
        self._unseen_video = unseen_video_bps

    # --- outputs ---------------------------------------------------------------------

    @property
    def send_bps(self) -> int | None:
        """Measured send rate (None until ``on_sent`` covered a window)."""
        return self._sent_bps

    @property
    def estimate_bps(self) -> int:
        s = self._settings
        return int(min(max(self._estimate, s.min_bps), s.max_bps))

    @property
    def carried_bps(self) -> int:
        """The highest rate a clean receiver report covered (0: none yet)."""
        return int(self._carried)

    def may_probe(self, now_ms: int) -> bool:
        """An upgrade may be probed now (not while a weak hint holds them back)."""
        return now_ms >= self._probe_after_ms

    def state(self) -> EstimatorState:
        now = self._now_ms
        until = self._hold_until_ms
        left = 0 if now is None or until is None else max(0, until - now)
        ceiling = inf if now is None else self._ceiling_bps(now)
        return EstimatorState(
            estimate_bps=self.estimate_bps,
            remb_bps=self._fresh_remb(),
            send_bps=self._sent_bps,
            hold_ms=left,
            last_hold_ms=self._hold,
            last_cut=self._last_cut,
            carried_bps=self.carried_bps,
            rtt_ms=self._rtt_floor[-1][1] if self._rtt_floor else None,
            ceiling_bps=None if isinf(ceiling) else int(ceiling),
        )

    # --- internals -------------------------------------------------------------------

    def _tick(self, now_ms: int) -> None:
        if self._now_ms is None or now_ms > self._now_ms:
            self._now_ms = now_ms

    def _fresh_remb(self) -> int | None:
        remb, now = self._remb, self._now_ms
        if remb is None or now is None or now - remb[1] > self._settings.remb_timeout_ms:
            return None
        return remb[0]

    def _send_limit(self, now_ms: int) -> float:
        s = self._settings
        if not self.may_probe(now_ms) and self._resume_bps:
            # Nothing proves a rate while probes are held back: grown past what starts the
            # cheapest paused step, the estimate made the first probe after a weak hint
            # one for 150-230k of video, padded on edge's 96k link (50-70 % of the audio
            # concealed for 1-1.5 s; bench.weaklink).
            return float(self._resume_bps)
        sent = self._sent_bps
        limit = (
            float(s.max_bps)
            if sent is None
            else max(sent * s.max_send_ratio + s.send_headroom_bps, float(self._resume_bps))
        )
        return min(limit, self._ceiling_bps(now_ms))

    def _ceiling_bps(self, now_ms: int) -> float:
        """What growth stays under since a probe failed (no bound once that expired)."""
        ceiling = self._ceiling
        if ceiling is None or now_ms >= ceiling[1]:
            return inf
        return ceiling[0] * self._settings.probe_ceiling_share

    def _sending_bps(self) -> int:
        """What is being sent: the measured rate, or the allocation if that is higher
        (the measurement trails an upgrade by up to a window)."""
        return max(self._sent_bps or 0, self._allocated)

    def _got_through(self, now_ms: int) -> float:
        """Within a congestion episode, what the loss reports since it began say got
        through (x overuse_ratio, to drain the queue): a REMB is not followed below it.
        Chromium's REMB is 0.85 x the video that arrived, and on a link whose queue
        favours small packets (the collapse profile's 250k step) little video arrived
        while 173k got through: the REMB's 116k paused video the link carried.
        A report with little loss within a report interval of the episode's start covers
        mostly the time before it: on the collapse profile's 250k step one said 1.7
        Mbit/s got through, and 540p went on for 2 s more against REMBs of 298k and 218k."""
        s = self._settings
        got = self._delivered
        if (
            got is None
            or not self._holding(now_ms)
            or got[1] <= self._episode_ms
            or (not got[2] and got[1] < self._episode_ms + s.report_interval_ms)
            or now_ms - got[1] > s.delivered_fresh_ms
        ):
            return 0.0
        return got[0] * s.overuse_ratio

    def _recent_rtt(self) -> int | None:
        return _recent(self._rtt_floor) if self._rtt_floor else None

    def _on_carried_path(self) -> bool:
        """The link now may be the one that carried ``carried``: its round trip is under
        ``carried_path_rtt_ratio`` times what it was then. The collapse profile's 250k
        step took it from ~65 ms to 160-330, and the first probe proven there jumped to
        the 1.6M the old link carried: the next allocation asked for 540p, and the rtt
        cut that followed stalled the video (bench.weaklink). Not known: it may."""
        then, now = self._carried_rtt, self._recent_rtt()
        return then is None or now is None or now <= then * self._settings.carried_path_rtt_ratio

    def _holding(self, now_ms: int) -> bool:
        return self._hold_until_ms is not None and now_ms < self._hold_until_ms

    def _probing(self, now_ms: int) -> bool:
        """An upgrade is still on trial: the estimate does not grow on the traffic it
        added (a second step on top of an unconfirmed one would congest a weak link
        twice as hard), and a failure falls back to what was sent before the first."""
        rise = self._before_rise
        return (
            rise is not None and rise[0] > 0 and now_ms - rise[1] < self._settings.probe_window_ms
        )

    def _grow(self, now_ms: int) -> None:
        s = self._settings
        last = self._last_growth_ms
        self._last_growth_ms = now_ms
        if last is None or self._holding(now_ms) or self._probing(now_ms):
            return
        until = self._hold_until_ms
        start = max(last, until or last)  # growth resumes when a hold ends
        if now_ms <= start:
            return
        if (
            until is not None
            and last < until
            and not self._episode_probe
            and self._last_cut != "hint"
        ):
            # The hold after a link fell has just ended. Out of a pause the first step is
            # the cheapest one, whatever the estimate: probe it now rather than grow
            # toward it (~2 s from the audio's rate; the collapse profile's 250k link
            # paused its video 7-8 s). Not after a weak hint: its own wait decides.
            resume = min(float(self._resume_bps), self._ceiling_bps(now_ms))
            self._estimate = max(self._estimate, resume)
        elapsed_s = min(now_ms - start, s.max_increase_interval_ms) / 1000
        grown = self._estimate * (1 + s.increase_per_s) ** elapsed_s
        limit = self._send_limit(now_ms)
        self._estimate = min(grown, max(self._estimate, limit), float(s.max_bps))

    def _congested(self, rate: float, now_ms: int, reason: CutReason, fell: bool = False) -> None:
        """``fell``: the signal says the link itself fell (no probe could cause it)."""
        s = self._settings
        if self._holding(now_ms):
            # The same episode. After a failed probe, reports of its first moments still
            # describe the probe; later ones mean the link itself fell: follow them down.
            # An episode no probe caused is the link falling: follow at once (waiting
            # kept 540p on the collapse profile's 250k link for 3 s after 90 % loss).
            # Far less than what the episode fell back to is the link too, even within
            # settle_ms of a failed probe: an overloaded link still carries about what
            # went through before the probe. The collapse profile's 250k step came as a
            # probe failed, and its REMBs (304k against 848k) waited 3.3 s while 540p
            # stalled.
            # A REMB is never the link within a failed probe's hold unless far less:
            # Chromium answers the probe's overload with 0.85 x the video that arrived
            # and climbs back from there only slowly, so it reads as congestion against
            # what we fell back to for seconds (loss and the round trip showed none).
            # Followed once settle_ms had passed, it cut 135p to 7.5 fps on the collapse
            # profile's 250k link and then paused it, and cut rural-3g's 270p to 7.5 fps
            # (bench.weaklink). Loss and a queue still count.
            changed = fell or rate < self._episode_estimate * s.link_change_ratio
            settled = not self._episode_probe or (
                now_ms - self._episode_ms >= s.settle_ms and reason != "remb"
            )
            if (settled or changed) and rate < self._estimate:
                self._last_cut = reason
                # Less than what the episode fell back to: the link carries less now. Far
                # less: the link changed, and the probes that failed on the old one say
                # nothing about the new one.
                if changed:
                    self._hold = s.min_hold_ms
                self._estimate = max(rate, float(s.min_bps))
            return
        self._episode_ms = now_ms
        self._last_cut = reason
        rise = self._before_rise
        until = self._hold_until_ms
        probe = rise is not None and rise[0] > 0 and now_ms - rise[1] <= s.probe_window_ms
        if probe and not fell and rise is not None and rate >= rise[0] * s.link_change_ratio:
            # A failed probe: what was sent before it went through, with room for the
            # measured cost of that same step to vary (layer rates move +-20 %). Failing
            # again soon after the last hold ended: wait longer before the next one.
            # (Far below what went through before: the link fell during the probe.)
            wanted = float(self._allocated)
            ceiling = self._ceiling
            if ceiling is not None and wanted >= ceiling[0] * s.probe_ceiling_share:
                self._ceiling_hold = min(self._ceiling_hold * 2, s.max_hold_ms)
            else:
                self._ceiling_hold = s.probe_ceiling_ms
            self._ceiling = (wanted, now_ms + self._ceiling_hold)
            rate = max(rise[0], min(rise[0] * s.fallback_room, self._ceiling_bps(now_ms)))
            again = until is not None and now_ms - until < s.calm_reset_ms
            if self._jumped:
                self._jump_after_ms = now_ms + self._jump_hold
                self._jump_hold = min(self._jump_hold * 2, s.max_hold_ms)
                again = False
            self._hold = min(self._hold * 2, s.max_hold_ms) if again else s.min_hold_ms
            self._episode_probe = True
            self._jumped = False
            # The trial is over: the hold decides when growth resumes (a faster link
            # ends it; a trial left open blocked growth 5 s longer on the collapse
            # profile's recovered link).
            self._before_rise = None
        else:
            # The link changed under what we were sending: no probe of ours failed.
            self._hold = s.min_hold_ms
            self._episode_probe = False
        self._estimate = max(min(self._estimate, rate), float(s.min_bps))
        self._episode_estimate = self._estimate
        self._hold_until_ms = now_ms + self._hold
        self._last_growth_ms = now_ms


def _recent(rtts: deque[tuple[int, int]]) -> int:
    """The median of the last three round trips (one is the link's jitter), or of fewer
    while there are fewer; ``rtts`` is not empty."""
    recent = sorted(rtt for _, rtt in list(rtts)[-3:])
    return recent[len(recent) // 2]
