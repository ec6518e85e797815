from __future__ import annotations

import pytest

from bridge.forwarding.downlink_estimator import DownlinkEstimator, EstimatorSettings, LossByKind


def est(**kwargs: int | float) -> DownlinkEstimator:
    return DownlinkEstimator(EstimatorSettings(**{"initial_bps": 1_000_000, **kwargs}))


def sending(e: DownlinkEstimator, bps: int, start_ms: int = -1000) -> None:
    """Feed a send rate of ``bps`` measured over the second before ``start_ms + 1000``."""
    e.on_sent(0, 0, start_ms)
    e.on_sent(bps // 8, bps // 8, start_ms + 1000)


def test_starts_low_by_default() -> None:
    assert DownlinkEstimator(EstimatorSettings()).estimate_bps == 300_000


def test_grows_about_50_percent_per_second_without_congestion() -> None:
    e = est()
    for t in range(0, 5001, 1000):
        e.on_receiver_report(0.0, t)
    assert e.estimate_bps == pytest.approx(1_000_000 * 1.5**5, rel=0.01)


def test_random_loss_of_a_rural_link_is_not_congestion() -> None:
    """GCC holds between 2 and 10 % loss; a link losing 5 % at random would never grow."""
    e = est()
    for t in range(0, 5001, 1000):
        e.on_receiver_report(0.05, t)
    assert e.estimate_bps == pytest.approx(1_000_000 * 1.5**5, rel=0.01)


def test_growth_scales_with_elapsed_time_not_report_count() -> None:
    a, b = est(), est()
    for t in range(0, 5001, 250):
        a.on_receiver_report(0.01, t)
    for t in range(0, 5001, 1000):
        b.on_receiver_report(0.01, t)
    assert a.estimate_bps == pytest.approx(b.estimate_bps, rel=0.001)


def test_growth_bounded_by_what_is_sent() -> None:
    e = est(initial_bps=100_000, increase_per_s=1.0)
    sending(e, 40_000, start_ms=0)
    for t in range(1000, 10_001, 1000):
        e.on_receiver_report(0.0, t)
    assert e.estimate_bps == 1.8 * 40_000 + 160_000


def test_max_bound() -> None:
    e = est(max_bps=1_100_000)
    for t in range(0, 20_001, 1000):
        e.on_receiver_report(0.0, t)
    assert e.estimate_bps == 1_100_000


def test_high_loss_cuts_to_what_got_through_and_holds_growth() -> None:
    e = est()
    e.on_receiver_report(0.0, 0)
    e.on_receiver_report(0.2, 1000)
    assert e.estimate_bps == 800_000
    assert e.state().hold_ms == 4000
    e.on_receiver_report(0.0, 3000)  # still holding
    assert e.estimate_bps == 800_000
    e.on_receiver_report(0.0, 5000)  # hold over: grows again
    e.on_receiver_report(0.0, 6000)
    assert e.estimate_bps == pytest.approx(800_000 * 1.5, rel=0.01)


def test_loss_floor() -> None:
    e = est()
    for t in range(0, 100):
        e.on_receiver_report(0.9, t * 1000)
    assert e.estimate_bps == 30_000


def test_a_remb_that_fell_below_the_send_rate_is_congestion() -> None:
    e = est(initial_bps=300_000)
    sending(e, 250_000)
    e.on_remb(385_000, 0)  # 1.5 x received + 10k: room
    e.on_remb(200_000, 100)  # overuse: 0.85 x what arrives (235k)
    assert e.estimate_bps == 200_000
    assert e.state().hold_ms == 4000


def test_a_remb_trailing_an_upgrade_is_not_congestion() -> None:
    """After an upgrade the browser's estimate climbs at its own pace: below what we now
    send, but not falling."""
    e = est(initial_bps=600_000)
    sending(e, 190_000)
    e.on_remb(295_000, 0)
    sending(e, 420_000, start_ms=0)  # upgraded
    e.on_remb(300_000, 1000)
    e.on_remb(320_000, 2000)
    assert e.estimate_bps == 600_000
    assert e.state().hold_ms == 0


def test_a_remb_falling_after_a_downgrade_is_not_congestion() -> None:
    """Chromium's cap (1.5 x received) falls when we send less: still above what we send."""
    e = est(initial_bps=600_000)
    sending(e, 190_000)
    e.on_remb(640_000, 0)
    e.on_remb(295_000, 500)
    assert e.estimate_bps == 600_000
    assert e.state().hold_ms == 0


def test_first_remb_trailing_a_starting_stream_is_not_congestion() -> None:
    e = est(initial_bps=300_000)
    sending(e, 200_000)
    e.on_remb(160_000, 0)
    assert e.estimate_bps == 300_000


def test_first_remb_far_below_the_send_rate_is_congestion() -> None:
    """A weak link flooded at join: the browser's first estimate is overuse."""
    e = est(initial_bps=300_000)
    sending(e, 190_000)
    e.on_remb(75_000, 0)
    assert e.estimate_bps == 75_000


def test_follows_a_remb_above_the_estimate_up_to_the_send_limit() -> None:
    e = est(initial_bps=300_000)
    sending(e, 300_000)
    e.on_remb(460_000, 0)
    assert e.estimate_bps == 460_000
    e.on_remb(10_000_000, 100)
    assert e.estimate_bps == 1.8 * 300_000 + 160_000


def test_does_not_follow_remb_while_holding() -> None:
    e = est(initial_bps=300_000)
    sending(e, 250_000)
    e.on_receiver_report(0.3, 0)  # congestion: 0.7 x the 250k sent, hold
    e.on_remb(460_000, 1000)
    assert e.estimate_bps == 175_000


def test_a_failed_probe_falls_back_to_what_was_sent_before_it() -> None:
    e = est(initial_bps=600_000)
    sending(e, 190_000)
    e.on_allocated(190_000, 0)
    e.on_remb(300_000, 0)
    e.on_allocated(416_000, 500)  # upgrade
    e.on_remb(150_000, 1000)  # overuse: 0.85 x what arrives, on a ~200k link
    assert e.estimate_bps == 190_000 * 1.25  # room for the same step's cost to vary
    e.on_receiver_report(0.4, 1200)  # the probe's loss, reported late: no further cut
    assert e.estimate_bps == 190_000 * 1.25
    e.on_allocated(190_000, 1200)
    e.on_remb(120_000, 4100)  # Chromium still answering the probe: not the link
    assert e.estimate_bps == 190_000 * 1.25
    sending(e, 190_000, start_ms=3200)
    e.on_receiver_report(0.2, 4200)  # loss after the settle is: the link fell
    assert e.estimate_bps == 152_000


def test_an_upgrade_on_trial_neither_grows_the_estimate_nor_moves_its_base() -> None:
    """Growth on the traffic of an unconfirmed probe let a weak link be probed twice over
    (bench.weaklink edge: 70k of audio, then 176k, then 338k within 3 s)."""
    e = est(initial_bps=250_000)
    sending(e, 100_000)
    e.on_allocated(100_000, 0)
    e.on_receiver_report(0.0, 0)
    e.on_allocated(200_000, 500)  # the probe
    sending(e, 200_000, start_ms=600)  # it is on the wire
    for t in (1600, 2600):
        e.on_receiver_report(0.0, t)
        e.on_allocated(200_000, t)
    assert e.estimate_bps == 250_000  # no growth while on trial
    e.on_allocated(260_000, 2700)  # another step before the trial ended
    e.on_receiver_report(0.4, 2800)  # it fails
    assert e.estimate_bps == 100_000 * 1.25  # back to before the first step
    e2 = est(initial_bps=250_000)
    sending(e2, 100_000)
    e2.on_allocated(100_000, 0)
    e2.on_receiver_report(0.0, 0)
    e2.on_allocated(200_000, 500)
    e2.on_receiver_report(0.0, 6600)  # the trial passed (probe_window_ms): growth resumes
    e2.on_receiver_report(0.0, 7600)
    assert e2.estimate_bps > 250_000


def test_a_stale_remb_wandering_after_a_pause_does_not_fail_the_resume() -> None:
    """Video paused, the browser's REMB sits at ~20k and wanders by a few kbit/s; the
    resumed 76k stream is not congested by a 21k -> 17.5k "fall"."""
    e = est(initial_bps=200_000)
    e.on_sent(0, 0, -1000)
    e.on_sent(70_000 // 8, 0, 0)  # audio only (RED): the REMB does not count it
    e.on_allocated(70_000, 0)
    e.on_remb(21_000, 0)
    e.on_remb(20_000, 400)
    e.on_allocated(146_000, 500)  # cheapest video step: the probe
    e.on_sent(146_000 // 8 + 70_000 // 8, 76_000 // 8, 1600)
    assert not e.on_remb(17_500, 1700)
    assert e.estimate_bps == 200_000
    assert e.on_remb(5_000, 1900)  # a real fall (by more than 10 % of the video sent)


def test_a_remb_that_never_caught_up_with_the_resumed_video_is_not_congestion() -> None:
    """The collapse profile's 250k link: 135p (85k) resumed, Chromium's REMB sat at ~12k
    for seconds, rose with a probe's padding and fell back; read as a fall, it paused the
    video on a link without loss or queue."""
    e = est(initial_bps=200_000)
    e.on_sent(0, 0, -1000)
    e.on_sent(70_000 // 8, 0, 0)  # paused: audio only
    e.on_allocated(70_000, 0, audio_bps=70_000)
    e.on_remb(10_000, 400)
    e.on_allocated(155_000, 500, audio_bps=70_000)  # 135p resumed
    e.on_sent((70_000 + 155_000) // 8, 85_000 // 8, 1000)
    for t, remb in ((1500, 12_000), (2000, 40_000), (2500, 12_000)):
        assert not e.on_remb(remb, t)
    assert e.estimate_bps == 200_000
    e.on_remb(80_000, 3000)  # caught up with the video: its falls count again
    assert e.on_remb(40_000, 3500)


def test_a_link_that_falls_during_a_probe_is_followed_down() -> None:
    """The collapse profile can step down while an upgrade is on trial: far below what
    went through before, the congestion signal is the link, not a failed probe."""
    e = est(initial_bps=2_000_000)
    sending(e, 760_000)
    e.on_allocated(760_000, 0)
    e.on_remb(900_000, 0)
    e.on_allocated(1_540_000, 500)  # upgrade
    e.on_remb(200_000, 1000)  # 0.85 x what a 250k link lets through
    assert e.estimate_bps == 200_000


def test_failed_probes_wait_longer_each_time_and_calm_resets() -> None:
    e = est(initial_bps=300_000)
    e.on_allocated(100_000, -1000)
    holds = []
    t = 0
    for _ in range(6):
        e.on_allocated(200_000, t)  # a probe (upgrade) ...
        e.on_receiver_report(0.5, t + 500)  # ... that congests the link
        e.on_allocated(100_000, t + 500)
        holds.append(e.state().hold_ms)
        t += 500 + holds[-1]
        e.on_receiver_report(0.0, t)  # hold over
        t += 1000
    assert holds == [4000, 8000, 16_000, 32_000, 60_000, 60_000]
    for _ in range(31):  # calm for 30 s
        e.on_receiver_report(0.0, t)
        t += 1000
    e.on_allocated(200_000, t)
    e.on_receiver_report(0.5, t + 500)
    assert e.state().hold_ms == 4000


def test_congestion_no_probe_caused_keeps_the_short_hold() -> None:
    """Audio only on a link that got worse: nothing of ours failed, nothing to wait for."""
    e = est(initial_bps=300_000)
    e.on_allocated(40_000, 0)
    t = 5000
    for _ in range(4):
        e.on_receiver_report(0.3, t)
        assert e.state().hold_ms == 4000
        t += 5000


def test_remb_expires() -> None:
    e = est()
    sending(e, 250_000)
    e.on_remb(385_000, 0)
    assert e.state().remb_bps == 385_000
    e.on_receiver_report(0.0, 5001)
    assert e.state().remb_bps is None


def test_sent_counter_reset_restarts_measurement() -> None:
    e = est()
    e.on_sent(100_000, 100_000, 0)
    e.on_sent(50, 50, 500)
    e.on_sent(12_550, 12_550, 1500)
    assert e.send_bps == 100_000


def test_settings_validated() -> None:
    with pytest.raises(ValueError):
        EstimatorSettings(min_bps=0)
    with pytest.raises(ValueError):
        EstimatorSettings(initial_bps=10_000)
    with pytest.raises(ValueError):
        EstimatorSettings(high_loss=0)
    with pytest.raises(ValueError):
        EstimatorSettings(min_hold_ms=5000, max_hold_ms=1000)
    for share in (0.0, 1.5):
        with pytest.raises(ValueError):
            EstimatorSettings(hint_share=share)


def test_after_an_overuse_a_climbing_remb_is_not_more_congestion() -> None:
    """Chromium climbs back slowly from 0.85 x what it received: under what we send for a
    while, without meaning congestion. Falling or flat within the episode, it does."""
    e = est(initial_bps=600_000)
    sending(e, 400_000)
    e.on_remb(600_000, 0)
    e.on_remb(250_000, 100)  # overuse: cut, hold
    assert e.estimate_bps == 250_000
    e.on_remb(260_000, 1700)  # climbing back (still under 0.85 x 400k): no cut
    assert e.estimate_bps == 250_000
    e.on_remb(200_000, 3200)  # fell again within the episode: the link fell further
    assert e.estimate_bps == 200_000
    e.on_receiver_report(0.0, 3300)
    e.on_remb(200_000, 3700)  # flat, still under what we send: the overuse goes on
    assert e.state().hold_ms > 0


def test_a_round_trip_rising_above_its_base_is_congestion() -> None:
    """A queue building at the bottleneck (a probe 10-20 % over the link) shows in the
    round trip long before REMB or loss say anything."""
    e = est(initial_bps=600_000)
    sending(e, 400_000)
    e.on_allocated(400_000, 0)
    for t, rtt in ((1000, 160), (2000, 210), (3000, 170), (4000, 200)):  # jitter
        assert not e.on_rtt(rtt, t)
    assert e.estimate_bps == 600_000
    assert not e.on_rtt(420, 5000)  # one late report is not a queue: the median of three
    assert e.on_rtt(400, 6000)  # 400 >= 160 + 150
    assert e.estimate_bps == int(400_000 * 0.85)
    assert e.state().hold_ms > 0


def test_after_a_round_trip_cut_the_base_is_learnt_again() -> None:
    """The link's own delay rose (collapse: 30 -> 150 ms one way): one cut, not one per
    report for as long as the old base stays in the window."""
    e = est(initial_bps=600_000)
    sending(e, 400_000)
    e.on_allocated(400_000, 0)
    for t in (1000, 2000, 3000):
        e.on_rtt(60, t)
    cuts = [e.on_rtt(300, t) for t in range(4000, 20_000, 1000)]
    assert cuts.count(True) == 1


def test_a_round_trip_while_only_audio_goes_out_is_ignored() -> None:
    e = est(initial_bps=300_000)
    e.on_sent(0, 0, 0)
    e.on_sent(10_000, 0, 1000)  # 80 kbit/s, none of it video
    for t in (1000, 2000, 3000):
        e.on_rtt(100, t)
    assert not any(e.on_rtt(600, t) for t in (4000, 5000, 6000))
    assert e.estimate_bps == 300_000
    # video resumes: those samples (a paused link's jitter) judge nothing
    e.on_allocated(150_000, 6500, audio_bps=80_000)
    assert not e.on_rtt(600, 7000)
    assert e.estimate_bps == 300_000


def test_video_loss_does_not_cut_into_the_room_the_audio_uses() -> None:
    """100k sent, 30k of it video: 50 % loss, all of it the video's (starved on a weak
    link), leaves the audio its 70k; loss on the audio too cuts below it."""
    estimates = []
    for keep in (70_000, 0):
        e = DownlinkEstimator(EstimatorSettings(initial_bps=300_000))
        e.on_sent(0, 0, 0)
        e.on_sent(12_500, 3_750, 1000)
        e.on_receiver_report(0.5, 1000, keep)
        estimates.append(e.estimate_bps)
    assert estimates == [70_000, 50_000]


def probing_estimator() -> DownlinkEstimator:
    """200k sent, then an upgrade to 300k on trial since t=1000."""
    e = DownlinkEstimator(EstimatorSettings(initial_bps=400_000))
    e.on_sent(0, 0, 0)
    e.on_allocated(200_000, 0)
    e.on_sent(25_000, 20_000, 1000)
    e.on_allocated(300_000, 1000)
    return e


def test_a_padding_probe_that_could_not_be_proven_is_a_failed_probe() -> None:
    e = probing_estimator()
    e.on_probe_ended(False, 6000)
    assert e.estimate_bps == 250_000  # what went through before it, x fallback_room
    assert e.state().hold_ms == EstimatorSettings().min_hold_ms


def test_a_proven_probe_ends_the_trial() -> None:
    """While on trial the estimate does not grow; once proven it does."""
    trial, proven = probing_estimator(), probing_estimator()
    proven.on_probe_ended(True, 3000)
    for e in (trial, proven):
        e.on_sent(50_000, 40_000, 2000)
        e.on_receiver_report(0.0, 3000)
        e.on_receiver_report(0.0, 4000)
    assert trial.estimate_bps == 400_000
    assert proven.estimate_bps > 400_000


def test_a_much_shorter_round_trip_ends_the_back_off_of_the_old_link() -> None:
    """Probes failed on a 300-ms link and growth waits out a long hold; then the round
    trip falls to 60 ms, lower than anything seen: a new link, probe it now. A queue that
    drains back to the link's usual round trip changes nothing."""
    e = est(initial_bps=300_000)
    sending(e, 250_000)
    for t, rtt in ((0, 310), (1000, 300), (2000, 305)):
        e.on_rtt(rtt, t)
    e.on_receiver_report(0.5, 2500)  # congestion: hold
    assert e.state().hold_ms > 0
    e.on_rtt(320, 3000)  # the usual
    assert e.state().hold_ms > 0
    e.on_rtt(150, 3200)  # half: a queue the link always had, drained (edge)
    assert e.state().hold_ms > 0
    e.on_rtt(60, 3500)
    assert e.state().hold_ms == 0 and e.state().rtt_ms == 60


def test_any_report_without_congestion_grows_the_estimate() -> None:
    e = est(initial_bps=100_000)
    sending(e, 100_000)
    e.on_feedback(0)
    e.on_feedback(1000)
    assert e.estimate_bps == 150_000
    e.on_receiver_report(0.5, 1500)  # congestion: hold
    e.on_feedback(2500)
    assert e.estimate_bps == 50_000


def test_a_proven_probes_time_counts_as_growth() -> None:
    """The link carried the padding throughout the trial: once proven, the estimate grows
    for that time too (growing only between ~2-s probes took one ladder step a probe)."""
    grown, failed = probing_estimator(), probing_estimator()
    for e in (grown, failed):
        e.on_sent(62_500, 45_000, 2000)  # 300k went out with the padding
        for t in (1500, 2000, 2500):
            e.on_feedback(t)
    assert grown.estimate_bps == failed.estimate_bps == 400_000  # no growth on trial
    grown.on_probe_ended(True, 3000)
    grown.on_feedback(3000)
    assert grown.estimate_bps == 300_000 * 1.8 + 160_000  # 2 s of growth, to the bound
    failed.on_probe_ended(False, 3000)
    failed.on_feedback(3000)
    assert failed.estimate_bps == 250_000


def test_a_link_that_fell_is_followed_down_at_once() -> None:
    """No probe caused the congestion: a report of heavy loss right after the first cut
    describes the link, and is followed (after a failed probe such a report describes
    the probe, and waits: test_a_failed_probe_falls_back_to_what_was_sent_before_it)."""
    e = est(initial_bps=2_000_000)
    sending(e, 2_000_000)
    e.on_allocated(2_000_000, 0)
    e.on_remb(2_200_000, 0)
    assert e.on_remb(1_500_000, 500)  # the link fell under what we send
    assert e.estimate_bps == 1_500_000
    e.on_receiver_report(0.9, 1000)  # 200k of the 2M sent got through
    assert e.estimate_bps == pytest.approx(200_000, abs=1)
    assert e.state().last_cut == "loss"


def test_a_queue_draining_after_a_round_trip_cut_is_no_new_link() -> None:
    """After a cut the base is learnt again from the queued round trip (730 ms); the
    queue draining to the link's usual 310 ms is not a faster link, and the back-off
    stays."""
    e = est(initial_bps=600_000)
    sending(e, 400_000)
    e.on_allocated(400_000, 0)
    for t, rtt in ((1000, 300), (2000, 310), (3000, 320)):
        e.on_rtt(rtt, t)
    for t, rtt in ((4000, 600), (4500, 730), (5000, 735)):
        e.on_rtt(rtt, t)
    assert e.state().last_cut == "rtt" and e.state().hold_ms > 0
    e.on_rtt(740, 5500)
    e.on_rtt(310, 6000)
    assert e.state().hold_ms > 0


def test_loss_cuts_what_was_sent_even_below_an_estimate_already_cut() -> None:
    """1.9 Mbit/s went out when the link fell to 250k: 14 % got through. A REMB already
    cut the estimate to 420k; the loss report then says 266k, not 14 % of 420k."""
    e = est(initial_bps=3_000_000)
    sending(e, 1_900_000)
    e.on_allocated(1_900_000, 0)
    e.on_remb(2_000_000, 0)
    assert e.on_remb(420_000, 500)
    e.on_receiver_report(0.86, 700)
    assert e.estimate_bps == pytest.approx(1_900_000 * 0.14, abs=1)


def test_loss_cuts_no_higher_than_what_the_reports_say_arrived() -> None:
    """The collapse profile's 250k step: the send rate measured over the second before
    still says 1.8M, and 68 % loss of it reads as 585k getting through; the reports'
    arrivals say 250k. The cut goes there, and a REMB is not followed below it."""
    e = est(initial_bps=3_000_000)
    sending(e, 1_800_000)
    e.on_allocated(1_800_000, 0)
    e.on_remb(2_000_000, 0)
    assert e.on_remb(560_000, 500)
    e.on_receiver_report(0.68, 1000, delivered_bps=250_000)
    assert e.estimate_bps == 250_000
    e.on_remb(150_000, 1200)
    assert e.estimate_bps == pytest.approx(250_000 * 0.85, abs=1)
    # measured above what was sent x kept: that stays the bound
    high = est(initial_bps=3_000_000)
    sending(high, 1_800_000)
    high.on_allocated(1_800_000, 0)
    high.on_receiver_report(0.68, 1000, delivered_bps=900_000)
    assert high.estimate_bps == pytest.approx(1_800_000 * 0.32, abs=1)


def test_within_an_episode_loss_cuts_no_lower_than_half_of_what_the_reports_say_arrived() -> None:
    """A second into a fall the video starved behind its own retransmissions: the window
    reads 97 % lost, 58k of 1.9M, while 300k arrived. The cut goes to half of that, not
    to 58k. The episode's first cut, 150 ms into the fall, had no such floor: what
    arrived was then still measured mostly before it (1.5M)."""
    e = est(initial_bps=3_000_000)
    sending(e, 1_900_000)
    e.on_allocated(1_900_000, 0)
    e.on_receiver_report(0.9, 0, delivered_bps=1_500_000)
    assert e.estimate_bps == pytest.approx(190_000, abs=1)
    e = est(initial_bps=3_000_000)
    sending(e, 1_900_000)
    e.on_allocated(1_900_000, 0)
    e.on_remb(2_000_000, 0)
    assert e.on_remb(750_000, 100)
    e.on_allocated(650_000, 200)
    e.on_receiver_report(0.97, 1100, delivered_bps=300_000)
    assert e.estimate_bps == 150_000


def test_audio_taking_red_on_is_no_upgrade_on_trial() -> None:
    """Only video rising is a probe: the audio's RED going on (40k to 70k) neither stops
    growth nor makes later congestion a failed probe."""
    e = est(initial_bps=100_000)
    sending(e, 40_000)
    e.on_allocated(40_000, 0, audio_bps=40_000)
    e.on_feedback(0)
    e.on_allocated(70_000, 500, audio_bps=70_000)
    e.on_feedback(1000)
    assert e.estimate_bps == 150_000  # grew: no trial
    e.on_allocated(130_000, 1500, audio_bps=70_000)  # video resumes: that is one
    e.on_feedback(2000)
    assert e.estimate_bps == 150_000


def test_after_a_failed_probe_a_faster_link_grows_at_once() -> None:
    e = est(initial_bps=300_000)
    sending(e, 150_000)
    e.on_allocated(150_000, 0, audio_bps=70_000)
    for t, rtt in ((0, 600), (200, 610), (400, 605)):
        e.on_rtt(rtt, t)
    e.on_allocated(260_000, 500, audio_bps=70_000)  # a probe ...
    e.on_receiver_report(0.4, 1000)  # ... fails
    assert e.estimate_bps == 150_000 * 1.25 and e.state().hold_ms > 0
    e.on_rtt(65, 1500)  # the link recovered
    e.on_feedback(2500)
    assert e.estimate_bps > 150_000 * 1.25


def test_a_remb_is_not_followed_below_what_got_through_since_the_link_fell() -> None:
    """Loss reports since the link fell say 266k got through; a REMB of 116k (little of
    it video, behind a queue that favoured the audio) cuts to 0.85 x that, not to 116k.
    Once that report is 2 s old, the REMB is followed."""
    e = est(initial_bps=3_000_000)
    sending(e, 1_900_000)
    e.on_allocated(1_900_000, 0)
    e.on_remb(2_000_000, 0)
    assert e.on_remb(900_000, 500)  # the link fell: an episode begins
    e.on_receiver_report(0.86, 1000)
    assert e.estimate_bps == pytest.approx(266_000, abs=1)
    e.on_remb(116_000, 1500)
    assert e.estimate_bps == pytest.approx(266_000 * 0.85, abs=1)
    e.on_remb(116_000, 3100)
    assert e.estimate_bps == 116_000


def fallen_and_probing(rtt_after_ms: int | None = None) -> DownlinkEstimator:
    """1.6M carried cleanly, the link fell (heavy loss), then 200k sent and an upgrade to
    300k on trial since t=20000 (the collapse profile's link, recovered). With
    ``rtt_after_ms``: round trips of ~65 ms while 1.6M was carried, that after the fall."""
    e = est(initial_bps=3_000_000)
    if rtt_after_ms is not None:
        for t, rtt in ((-900, 64), (-600, 66), (-300, 65)):
            e.on_rtt(rtt, t)
    sending(e, 1_600_000)
    e.on_allocated(1_600_000, 0)
    e.on_receiver_report(0.0, 0)
    assert e.state().carried_bps == 1_600_000
    e.on_receiver_report(0.9, 1000)  # the link fell
    sending(e, 200_000, start_ms=18_000)
    e.on_allocated(200_000, 19_000)
    if rtt_after_ms is not None:
        for t in (19_100, 19_400, 19_700):
            e.on_rtt(rtt_after_ms, t)
    e.on_receiver_report(0.0, 19_000)
    e.on_allocated(300_000, 20_000)
    return e


def test_a_proven_probe_after_a_fall_jumps_to_what_the_link_carried() -> None:
    """One ladder step a probe took 21 s from 135p to 540p after the collapse profile's
    link recovered; once a probe shows the link is back, the next asks for all of it."""
    e = fallen_and_probing()
    e.on_probe_ended(True, 21_500)
    assert e.estimate_bps == 1_600_000
    climbing = probing_estimator()  # nothing carried above it: the usual growth
    climbing.on_probe_ended(True, 3000)
    assert climbing.estimate_bps == 400_000


def test_a_failed_jump_holds_briefly_and_the_next_jump_waits() -> None:
    """On the collapse profile a probe proven on the 250k link jumped to the 2 Mbit/s it
    had carried, and failed: the ladder goes on after the short hold, and the rate is
    jumped to again only later (the link recovered 30 s after: forgotten, it was climbed
    step by step)."""
    e = fallen_and_probing()
    e.on_probe_ended(True, 21_500)
    e.on_allocated(1_600_000, 22_000)  # the jump's probe ...
    e.on_probe_ended(False, 23_000)  # ... fails: the link is not what it was
    assert e.estimate_bps == 300_000 * 1.25
    # a guess from the past, not the ladder failing again: the short hold, though the
    # fall's hold ended less than calm_reset_ms ago
    assert e.state().hold_ms == EstimatorSettings().min_hold_ms
    assert e.state().carried_bps == 1_600_000
    e.on_allocated(300_000, 23_000)
    e.on_receiver_report(0.0, 27_500)
    e.on_allocated(400_000, 28_000)
    e.on_probe_ended(True, 29_500)
    assert e.estimate_bps < 1_000_000  # not again so soon
    e.on_allocated(500_000, 43_000)
    e.on_probe_ended(True, 44_500)  # 20 s after the failed jump
    assert e.estimate_bps == 1_600_000


def test_loss_reported_from_before_an_upgrade_on_trial_does_not_fail_it() -> None:
    """Toward paused video a report covers ~5 s: the first one after a probe began on the
    collapse profile's recovered link carried the 80k link's loss."""
    stale, fresh = fallen_and_probing(), fallen_and_probing()  # on trial since 20000
    stale.on_receiver_report(0.3, 20_500, since_ms=19_000)
    assert stale.estimate_bps > 300_000 * 1.25 and stale.state().hold_ms == 0
    fresh.on_receiver_report(0.3, 21_500, since_ms=20_500)
    assert fresh.estimate_bps == 200_000 * 1.25  # failed: back to before it


def test_a_remb_is_judged_against_the_video_it_saw_not_an_upgrade_on_numbered_trial() -> None:
    """A fiber viewer's join: 135p (~160k) applied and 270p wanted, its upgrade stood in
    for by numbered padding (which the REMB does not count, still ramping up); a REMB
    that wanders from 200k to 150k is no congestion. Against the allocation it failed
    the probe."""
    results = []
    for unseen_video in (300_000, 0):
        e = est(initial_bps=690_000)
        e.on_sent(0, 0, 0)
        # 1 s: 40k of audio, 160k of video, 86k of numbered padding (unseen by the REMB)
        e.on_sent(286_000 // 8, 160_000 // 8, 1000)
        e.on_allocated(500_000, 1000, audio_bps=40_000, unseen_video_bps=unseen_video)
        assert not e.on_remb(200_000, 1000)
        results.append(e.on_remb(150_000, 1100))
    assert results == [False, True]


def test_the_first_remb_is_judged_against_what_went_out_not_the_allocation() -> None:
    """The join: 159k of video allocated, ~40k of it out in the first measured second;
    Chromium's first REMB (90k) trails the starting stream. Read as congestion, it paused
    a 2 Mbit/s link's video for 8 s."""
    e = est(initial_bps=300_000)
    e.on_sent(0, 0, 0)
    e.on_sent(82_000 // 8, 42_000 // 8, 1000)
    e.on_allocated(199_000, 1000, audio_bps=40_000)
    assert not e.on_remb(90_000, 1000)
    edge = est(initial_bps=300_000)  # a link that cannot carry the first video
    sending(edge, 250_000)
    edge.on_allocated(300_000, 0, audio_bps=40_000)
    assert edge.on_remb(80_000, 0)


def test_a_clean_report_just_after_the_link_fell_does_not_hold_the_remb_up() -> None:
    """The collapse profile's 250k step: the first report after the REMB's cut covers
    mostly the 2 Mbit/s before it, and said all got through; the REMBs that follow are
    followed down. A report with heavy loss (the fallen link) still counts."""
    e = est(initial_bps=3_000_000)
    sending(e, 1_700_000)
    e.on_allocated(1_700_000, 0)
    e.on_remb(2_000_000, 0)
    assert e.on_remb(600_000, 500)  # the link fell
    e.on_receiver_report(0.01, 900)
    e.on_remb(298_000, 1000)
    assert e.estimate_bps == 298_000


def test_a_link_far_below_what_a_failed_probe_fell_back_to_is_followed_at_once() -> None:
    """The collapse profile's 250k step came as a probe for 540p at 15 fps failed: its
    REMBs (304k) are the link, not the probe, though within settle_ms of the failure.
    Mild ones are the probe's (see the fall-back test above)."""
    e = est(initial_bps=2_000_000)
    sending(e, 680_000)
    e.on_allocated(680_000, 0)
    e.on_remb(900_000, 0)
    e.on_allocated(1_000_000, 500)  # an upgrade ...
    e.on_probe_ended(False, 700)  # ... whose numbered padding queued
    assert e.estimate_bps == 850_000
    e.on_remb(304_000, 1500)
    assert e.estimate_bps == 304_000


def test_heavy_loss_right_after_a_failed_probe_is_the_link_when_far_below() -> None:
    """The collapse profile's 80k step as a probe from 135p failed: 60 % of 223k lost is
    89k got through, far below the 166k fallen back to."""
    e = est(initial_bps=300_000)
    sending(e, 133_000)
    e.on_allocated(133_000, 0)
    e.on_receiver_report(0.0, 0)
    e.on_allocated(223_000, 500)  # a probe ...
    e.on_probe_ended(False, 1500)  # ... fails
    assert e.estimate_bps == 166_250
    sending(e, 223_000, start_ms=1000)
    e.on_receiver_report(0.6, 2000)
    assert e.estimate_bps == 89_200


def test_a_faster_link_probes_a_paused_video_at_once() -> None:
    """Audio only on the collapse profile's 80k link; the round trip falls from 600 ms to
    65: the budget that starts the cheapest video is there at once, not after 3 s of
    growth from the audio's 38k."""
    e = est(initial_bps=300_000)
    sending(e, 38_000)
    e.on_allocated(38_000, 0, resume_bps=130_000, audio_bps=38_000)
    for t, rtt in ((0, 600), (200, 610), (400, 605)):
        e.on_rtt(rtt, t)
    e.on_receiver_report(0.5, 500)  # the old link's loss: cut, hold
    assert e.estimate_bps < 130_000
    e.on_rtt(65, 1500)
    assert e.estimate_bps == 130_000


def test_the_path_watchs_sign_probes_a_paused_video_at_once() -> None:
    """The same without a round trip: the path watch saw the one-way delay fall."""
    e = est(initial_bps=300_000)
    sending(e, 38_000)
    e.on_allocated(38_000, 0, resume_bps=130_000, audio_bps=38_000)
    e.on_receiver_report(0.5, 500)
    assert e.estimate_bps < 130_000
    e.on_feedback(1000)  # held: no growth
    assert e.estimate_bps < 130_000
    e.on_faster_path(1500)
    assert e.estimate_bps == 130_000
    assert e.state().hold_ms == 0


def fallen_and_paused() -> DownlinkEstimator:
    """1.6M carried cleanly, then the link fell to audio only (40k, 130k to resume)."""
    e = est(initial_bps=3_000_000)
    sending(e, 1_600_000)
    e.on_allocated(1_600_000, 0)
    e.on_receiver_report(0.0, 0)
    e.on_receiver_report(0.9, 1000)  # the link fell
    sending(e, 40_000, start_ms=18_000)
    e.on_allocated(40_000, 19_000, resume_bps=130_000, audio_bps=40_000)
    return e


def test_the_path_watchs_sign_probes_what_the_link_carried_at_once() -> None:
    """A watched paused link whose delay fell: one probe for all it carried (the cheapest
    step's, then the jump's, took 4 s more on the collapse profile)."""
    e = fallen_and_paused()
    e.on_faster_path(20_000, jump=True)
    assert e.estimate_bps == 1_600_000
    plain = fallen_and_paused()  # a round trip's sign: the cheapest step first
    plain.on_faster_path(20_000)
    assert plain.estimate_bps < 200_000  # what the fall left, above the 130k to resume


def test_loss_reported_from_before_a_faster_path_is_the_old_links() -> None:
    e = fallen_and_paused()
    e.on_faster_path(20_000, jump=True)
    e.on_receiver_report(0.3, 20_020, since_ms=19_000)  # the 80k link's
    assert e.estimate_bps == 1_600_000 and e.state().hold_ms == 0
    e.on_receiver_report(0.3, 21_100, since_ms=20_020)  # the new link's: it counts
    assert e.estimate_bps < 1_600_000


def test_a_jump_on_the_path_watchs_sign_that_fails_is_a_failed_jump() -> None:
    e = fallen_and_paused()
    e.on_faster_path(20_000, jump=True)
    e.on_allocated(1_600_000, 20_000, resume_bps=130_000, audio_bps=40_000)  # its probe ...
    e.on_probe_ended(False, 20_500)  # ... queued: the link is weaker than it was
    assert e.estimate_bps < 130_000
    assert e.state().hold_ms == EstimatorSettings().min_hold_ms
    e.on_faster_path(25_000, jump=True)  # a second sign soon after: no jump yet
    assert e.estimate_bps == 130_000


def test_what_the_link_carried_is_no_burst_above_the_allocation() -> None:
    e = est(initial_bps=300_000)
    sending(e, 402_000)  # the join's key frames
    e.on_allocated(245_000, 0)
    e.on_receiver_report(0.0, 0)
    assert e.state().carried_bps == 245_000


def test_a_remb_right_after_a_failed_probe_is_the_probes_unless_far_below() -> None:
    """rural-3g: a probe for 270p at 30 fps failed (fell back to 384k); Chromium's REMB
    then said 216k, its answer to the probe's queue. Followed, 270p fell to 135p and the
    switch froze the video."""
    e = est(initial_bps=1_000_000)
    sending(e, 307_000)
    e.on_allocated(307_000, 0)
    e.on_remb(300_000, 0)
    e.on_allocated(440_000, 500)
    e.on_probe_ended(False, 1500)
    assert e.estimate_bps == 383_750
    e.on_remb(216_000, 1600)
    assert e.estimate_bps == 383_750


def test_a_weak_link_hint_at_the_join_starts_there_and_holds() -> None:
    """An edge site measured ~84 kbit/s loading its page: no video until the link says
    more (the default start, 300k, overfilled its 96k link for 2.3 s)."""
    e = DownlinkEstimator(EstimatorSettings())
    assert e.on_link_hint(84_000, 0)
    assert e.estimate_bps == 42_000  # half: a page load over-reads a narrow link
    assert e.state().last_cut == "hint"
    for t in range(500, 4000, 500):
        e.on_receiver_report(0.0, t)
    assert e.estimate_bps == 42_000  # held: growth waits for the hold to end
    e.on_receiver_report(0.0, 5000)
    e.on_receiver_report(0.0, 6000)
    assert e.estimate_bps > 42_000  # then grows as after any fall (probes may follow)


def test_after_a_weak_link_hint_no_probe_starts_for_16_s() -> None:
    """The estimate grows after the usual hold (RED audio needs ~70k), but no probe toward
    the paused video may start for 16 s; a probe that fails then waits 32."""
    e = DownlinkEstimator(EstimatorSettings())
    e.on_link_hint(80_000, 0)
    e.on_sent(0, 0, 0)
    for t in range(1000, 16_000, 1000):
        e.on_sent(t * 70 // 8, 0, t)  # the audio, 70k
        e.on_allocated(70_000, t, resume_bps=150_000, audio_bps=70_000)
        e.on_receiver_report(0.0, t)
        assert not e.may_probe(t)
    # grown for the audio's RED, and up to what starts the cheapest paused step: not to
    # what the sent rate would allow (286k), or the first probe would be for all of it
    assert e.estimate_bps == 150_000
    assert e.may_probe(16_000)
    e.on_allocated(70_000, 16_000, resume_bps=150_000, audio_bps=70_000)
    e.on_allocated(130_000, 16_500, audio_bps=70_000)  # the probe for the cheapest step
    e.on_probe_ended(False, 17_000)
    assert e.state().hold_ms == 32_000


def test_a_link_hint_above_the_weak_mark_holds_no_probe_back() -> None:
    e = DownlinkEstimator(EstimatorSettings())
    assert not e.on_link_hint(400_000, 0)
    assert e.may_probe(0)


def test_a_link_hint_above_the_weak_mark_changes_nothing() -> None:
    e = DownlinkEstimator(EstimatorSettings())
    assert not e.on_link_hint(160_000, 0)
    assert not e.on_link_hint(5_000_000, 0)
    assert e.estimate_bps == 300_000
    assert e.state().last_cut is None


def test_a_link_hint_after_the_link_reported_changes_nothing() -> None:
    e = DownlinkEstimator(EstimatorSettings())
    e.on_remb(250_000, 0)
    assert not e.on_link_hint(84_000, 100)
    assert e.estimate_bps == 300_000

    e = DownlinkEstimator(EstimatorSettings())
    sending(e, 200_000, start_ms=0)
    e.on_receiver_report(0.01, 1500)
    assert not e.on_link_hint(84_000, 1600)
    assert e.estimate_bps >= 300_000


def test_no_jump_to_what_another_path_carried() -> None:
    """The collapse profile's 250k step doubled the round trip (65 -> 160+ ms): a probe
    proven there is that link's, and 1.6M is the old link's. Back at the old round trip
    (the link recovered), the jump is made."""
    slower = fallen_and_probing(rtt_after_ms=165)
    slower.on_probe_ended(True, 21_500)
    assert 300_000 <= slower.estimate_bps < 1_000_000
    same = fallen_and_probing(rtt_after_ms=110)
    same.on_probe_ended(True, 21_500)
    assert same.estimate_bps == 1_600_000


def rural_probe_failed(at_ms: int = 2000) -> DownlinkEstimator:
    """310k carried on a 400k link (270p at 15 fps and RED audio); the probe for 410k
    (270p at 30 fps) fails at ``at_ms``."""
    e = est(initial_bps=400_000)
    sending(e, 310_000)
    e.on_allocated(310_000, 0, audio_bps=90_000)
    e.on_receiver_report(0.0, 0)
    e.on_allocated(410_000, 1000, audio_bps=90_000)
    e.on_probe_ended(False, at_ms)
    return e


def grow_until(e: DownlinkEstimator, start_ms: int, end_ms: int) -> int:
    """Clean reports each second from ``start_ms`` to ``end_ms``; the estimate then."""
    for t in range(start_ms, end_ms + 1, 1000):
        sending(e, 310_000, start_ms=t - 1000)
        e.on_feedback(t)
    return e.estimate_bps


def test_after_a_failed_probe_the_estimate_stays_under_what_it_stood_for() -> None:
    """Rural-3g: each hold's end brought the same failing probe back (four a minute). For
    probe_ceiling_ms the estimate stays under 0.9 x the failed allocation, not at the
    fallback's 1.25 x what went before (which the same step, measured 10 % cheaper, fits
    again); then it may grow past it."""
    e = rural_probe_failed()
    ceiling = int(410_000 * 0.9)
    assert e.estimate_bps == ceiling < 310_000 * 1.25
    assert e.state().ceiling_bps == ceiling
    assert grow_until(e, 7000, 21_000) == ceiling  # the hold (4 s) is long over
    assert grow_until(e, 22_000, 24_000) > 410_000
    assert e.state().ceiling_bps is None


def test_a_probe_failing_again_at_its_ceiling_doubles_how_long_it_holds() -> None:
    e = rural_probe_failed()
    grow_until(e, 7000, 23_000)  # the ceiling (20 s) is over
    e.on_allocated(310_000, 23_000, audio_bps=90_000)
    e.on_allocated(410_000, 23_500, audio_bps=90_000)  # the same step again ...
    e.on_probe_ended(False, 24_000)  # ... fails
    assert grow_until(e, 29_000, 63_000) == int(410_000 * 0.9)  # 40 s this time
    assert grow_until(e, 64_000, 66_000) > 410_000


def test_a_faster_link_ends_the_ceiling() -> None:
    e = rural_probe_failed()
    e.on_faster_path(3000)
    assert e.state().ceiling_bps is None
    assert grow_until(e, 4000, 6000) > 410_000


def test_a_jump_to_what_the_link_carried_stays_under_a_failed_probes_ceiling() -> None:
    """A probe for 600k failed on the fallen link; a cheaper one is proven 10 s later. The
    jump to the 1.6M carried before the fall stops under the failed one's ceiling."""
    e = fallen_and_probing()
    e.on_allocated(600_000, 20_500)  # the allocator wants more while on trial ...
    e.on_probe_ended(False, 21_500)  # ... and that fails
    e.on_allocated(200_000, 21_500)
    e.on_receiver_report(0.0, 30_000)
    e.on_allocated(300_000, 31_000)
    e.on_probe_ended(True, 32_500)
    assert e.estimate_bps == int(600_000 * 0.9)


def test_a_remb_above_the_estimate_is_not_followed_while_an_upgrade_is_on_trial() -> None:
    """Followed on the padding going out, the estimate grew through a probe out of the
    collapse profile's pause, the allocator wanted ever more, and the probe started over
    for a bigger step five times in 10 s while the video stayed paused."""
    trial = probing_estimator()
    trial.on_remb(900_000, 1500)
    assert trial.estimate_bps == 400_000
    trial.on_probe_ended(True, 2500)  # proven: the trial is over
    trial.on_remb(900_000, 2600)
    assert trial.estimate_bps == 200_000 * 1.8 + 160_000  # followed, bounded by the send


def test_within_a_failed_probes_hold_its_remb_echo_is_not_the_link_unless_far_below() -> None:
    """Chromium answers a probe's overload with 0.85 x the video that arrived and climbs
    back slowly: 3.5 s on, still under what we fell back to. Followed, it cut 135p to 7.5
    fps on the collapse profile's 250k link (no loss, no queue), then paused it."""
    e = est(initial_bps=400_000)
    sending(e, 310_000)
    e.on_allocated(310_000, 0, audio_bps=90_000)
    e.on_remb(320_000, 500)
    e.on_allocated(410_000, 1000, audio_bps=90_000)
    e.on_probe_ended(False, 2000)
    held = e.estimate_bps
    e.on_remb(300_000, 3000)
    e.on_remb(216_000, 5500)  # past the settle, within the hold
    assert e.estimate_bps == held
    e.on_remb(150_000, 5700)  # under half of what it fell back to: the link
    assert e.estimate_bps == 150_000


def test_a_remb_is_not_followed_up_while_no_video_goes_out() -> None:
    """With the video paused Chromium's estimate keeps whatever it was: a REMB of 304k on
    the collapse profile's 250k link pulled the estimate to 291k, and the first probe out
    of the pause asked for 135p at 30 fps and failed."""
    e = est(initial_bps=130_000)
    e.on_sent(0, 0, -1000)
    e.on_sent(73_000 // 8, 0, 0)  # audio only
    e.on_remb(304_000, 100)
    assert e.estimate_bps == 130_000
    e.on_sent((73_000 + 173_000) // 8, 100_000 // 8, 1000)  # 100k of video flows again
    e.on_remb(304_000, 1100)
    assert e.estimate_bps == 304_000 + 73_000


def test_when_the_hold_after_a_link_fell_ends_a_paused_video_is_probed_at_once() -> None:
    """The collapse profile's 250k step: cut to the audio, video paused; growing from
    there to the cheapest step's budget took ~2 s more after the 4-s hold."""
    e = est(initial_bps=2_000_000)
    sending(e, 1_700_000)
    e.on_allocated(1_700_000, 0)
    e.on_receiver_report(0.97, 0, keep_bps=70_000)  # the link fell under the video
    assert e.estimate_bps == 70_000
    e.on_allocated(70_000, 100, resume_bps=150_000, audio_bps=70_000)
    sending(e, 70_000, start_ms=2900)
    e.on_receiver_report(0.0, 3900)  # still holding
    assert e.estimate_bps == 70_000
    e.on_receiver_report(0.0, 4100)  # the hold is over: there, and 100 ms of growth
    assert 150_000 <= e.estimate_bps < 160_000


def test_a_failed_probes_hold_ending_grows_as_usual() -> None:
    e = est(initial_bps=400_000)
    sending(e, 70_000)
    e.on_allocated(70_000, 0, resume_bps=150_000, audio_bps=70_000)
    e.on_allocated(130_000, 500, resume_bps=150_000, audio_bps=70_000)
    e.on_probe_ended(False, 1500)  # the cheapest step failed
    held = e.estimate_bps
    e.on_receiver_report(0.0, 5400)
    e.on_receiver_report(0.0, 5600)  # the hold is over: 100 ms of growth
    assert held < e.estimate_bps < held * 1.1


def steady_at_165_ms(audio_bps: int = 0) -> DownlinkEstimator:
    """200k going out (this much of it audio), three round trips of 165 ms."""
    e = est(initial_bps=400_000)
    sending(e, 200_000)
    e.on_allocated(200_000, 0, audio_bps=audio_bps)
    for t in (100, 200, 300):
        e.on_rtt(165, t)
    return e


def probe_failed_as_the_link_fell() -> DownlinkEstimator:
    e = steady_at_165_ms()
    e.on_allocated(260_000, 500)
    e.on_probe_ended(False, 1000)
    assert e.estimate_bps == 260_000 * 0.9  # under the failed step's ceiling
    sending(e, 220_000, start_ms=600)
    e.on_receiver_report(0.3, 1600, delivered_bps=125_000)  # the probe's: not followed
    assert e.estimate_bps == 234_000
    return e


def test_a_queue_far_longer_than_a_probes_is_the_link_even_right_after_one_failed() -> None:
    """The collapse profile's fall to 80k as a probe failed: fallen back to 188k, the round
    trip went 165 -> 736 ms within the probe's 3 s, and 135p stalled until they passed.
    One such round trip is enough then: the next came a second or two later."""
    e = probe_failed_as_the_link_fell()
    assert e.on_rtt(736, 1700)  # 571 ms over the base
    assert e.estimate_bps == int(125_000 * 0.85)
    fresher = probe_failed_as_the_link_fell()  # what arrived lately says less
    assert fresher.on_rtt(736, 1700, delivered_bps=97_000)
    assert fresher.estimate_bps == int(97_000 * 0.85)
    short = probe_failed_as_the_link_fell()
    short.on_rtt(310, 1800)  # 135 ms: a queue a probe may leave, not followed within 3 s
    assert short.estimate_bps == 234_000


def _judged_right_after_a_failed_probe(by_kind: LossByKind | None) -> int:
    """177k goes out, 70k of it audio; a probe fails; 1.1 s later a window says 12.5 % of
    its packets were lost (and per kind, if given)."""
    e = est(initial_bps=400_000)
    e.on_sent(0, 0, -1000)
    e.on_sent(177_000 // 8, 107_000 // 8, 0)
    e.on_allocated(177_000, 0, audio_bps=70_000)
    e.on_allocated(260_000, 500, audio_bps=70_000)
    e.on_probe_ended(False, 1000)
    assert e.estimate_bps == 221_250  # fell back to what was sent, with room
    e.on_allocated(177_000, 1000, audio_bps=70_000)
    e.on_receiver_report(0.125, 2100, keep_bps=70_000, by_kind=by_kind)
    return e.estimate_bps


def test_what_got_through_is_counted_per_kind() -> None:
    """The collapse profile's fall to 80k as a probe failed: 5 of 6 video packets and 2 of
    50 audio ones lost. Packet-weighted (12.5 %) that is the probe's overload; at each
    kind's rate ~85k of 177k got through: the link fell."""
    assert _judged_right_after_a_failed_probe(None) == 221_250
    assert _judged_right_after_a_failed_probe(LossByKind(0.04, 5 / 6)) == int(
        70_000 * 0.96 + 107_000 / 6
    )


def test_one_late_round_trip_is_no_queue_outside_a_failed_probes_hold() -> None:
    e = steady_at_165_ms()
    assert not e.on_rtt(736, 400)  # one late report (a jitter spike) is not a queue
    assert e.on_rtt(740, 500)  # the median of three
    assert e.estimate_bps == int(200_000 * 0.85)


def test_a_far_queue_leaves_the_audio_its_room() -> None:
    """The fall to 80k: what arrived lately (60k) is under what the audio with its RED
    is allocated (70k); the queue is the video's, and the audio keeps its room."""
    e = steady_at_165_ms(audio_bps=70_000)
    e.on_rtt(736, 400, delivered_bps=60_000)
    assert e.on_rtt(740, 500, delivered_bps=60_000)
    assert e.estimate_bps == 70_000


def test_round_trips_from_before_a_pause_judge_no_video_after_it() -> None:
    """The collapse profile's fall to 250k: round trips of the 2 Mbit/s link (68 ms) were
    still in the window when a probe out of the pause began, and the new link's own
    delay (80 ms each way) read as a queue over that base and failed it."""
    e = est(initial_bps=2_000_000)
    sending(e, 1_500_000)
    e.on_allocated(1_500_000, 0)
    for t in (100, 200, 300):
        e.on_rtt(68, t)
    e.on_sent(187_500 + 9000, 187_500, 1000)  # paused: 72k, all of it audio
    e.on_allocated(72_000, 1000, audio_bps=72_000)
    e.on_rtt(170, 2500)
    e.on_allocated(130_000, 5000, audio_bps=72_000)  # a probe out of the pause
    before = e.estimate_bps
    assert not any(e.on_rtt(rtt, t) for t, rtt in ((5200, 172), (5400, 171), (5600, 173)))
    assert e.estimate_bps == before
