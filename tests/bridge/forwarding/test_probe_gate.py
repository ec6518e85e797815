"""Upgrades wait for a padding probe; downgrades and new streams do not."""

from __future__ import annotations

import pytest

from bridge.forwarding.allocator import VideoAllocation
from bridge.forwarding.probe_gate import PROBE_MARGIN, ProbeGate, ProbeSettings, is_upgrade

PAUSED = VideoAllocation("cam", None, 2, "bandwidth")
LOW = VideoAllocation("cam", 0, 0, "ok", 60_000)
LOW_30FPS = VideoAllocation("cam", 0, 2, "ok", 150_000)
MID = VideoAllocation("cam", 1, 2, "ok", 380_000)
JUDGED = None  # no receiver-report window judged yet


def gate_at(first: VideoAllocation) -> ProbeGate:
    gate = ProbeGate(ProbeSettings(duration_ms=2000))
    decision = gate.decide(0, [first], can_pad=True, judged_since_ms=JUDGED)
    assert decision.video == (first,) and decision.padding_bps == 0  # nothing to hold yet
    return gate


def test_what_an_upgrade_is() -> None:
    assert is_upgrade(PAUSED, LOW)
    assert is_upgrade(LOW, LOW_30FPS)
    assert is_upgrade(LOW_30FPS, MID)
    assert not is_upgrade(MID, LOW)
    assert not is_upgrade(LOW, PAUSED)
    assert not is_upgrade(LOW, LOW)


def test_an_upgrade_is_held_while_padding_probes_for_it_then_applied() -> None:
    gate = gate_at(LOW)
    started = gate.decide(1000, [MID], can_pad=True, judged_since_ms=None)
    assert started.video == (LOW,)
    assert started.padding_bps == int((MID.bitrate_bps - LOW.bitrate_bps) * PROBE_MARGIN)
    assert started.outcome == "started"
    running = gate.decide(2500, [MID], can_pad=True, judged_since_ms=None)
    assert running.video == (LOW,) and running.outcome is None and running.padding_bps > 0
    # the time is up, but the last window of reports began before the probe did
    waiting = gate.decide(3000, [MID], can_pad=True, judged_since_ms=900)
    assert waiting.video == (LOW,) and waiting.padding_bps > 0
    proven = gate.decide(3500, [MID], can_pad=True, judged_since_ms=1200)
    assert proven.video == (MID,) and proven.padding_bps == 0 and proven.outcome == "proven"
    assert not gate.probing


def test_a_resume_out_of_a_pause_is_probed_and_the_video_stays_paused_meanwhile() -> None:
    gate = gate_at(PAUSED)
    decision = gate.decide(500, [LOW], can_pad=True, judged_since_ms=JUDGED)
    assert decision.video == (PAUSED,)
    assert decision.padding_bps == int(LOW.bitrate_bps * PROBE_MARGIN)


def test_an_upgrade_waits_unprobed_while_the_caller_holds_probes_back() -> None:
    gate = gate_at(PAUSED)
    held = gate.decide(1000, [LOW], can_pad=True, judged_since_ms=JUDGED, may_start=False)
    assert held.video == (PAUSED,) and held.padding_bps == 0 and held.outcome is None
    started = gate.decide(1500, [LOW], can_pad=True, judged_since_ms=JUDGED)
    assert started.video == (PAUSED,) and started.padding_bps > 0
    assert started.outcome == "started"


def test_the_margin_padded_over_the_step_is_the_callers() -> None:
    """Numbered padding (transport-cc) shows a queue however small the overload."""
    gate = gate_at(PAUSED)
    decision = gate.decide(500, [LOW], can_pad=True, judged_since_ms=JUDGED, margin=1.05)
    assert decision.padding_bps == int(LOW.bitrate_bps * 1.05) < int(LOW.bitrate_bps * PROBE_MARGIN)


def test_a_probe_the_allocator_gave_up_on_ends_with_the_video_untouched() -> None:
    """Congestion during the probe: the estimate fell, the allocator no longer wants the
    upgrade, and the subscriber never saw it."""
    gate = gate_at(PAUSED)
    gate.decide(500, [LOW], can_pad=True, judged_since_ms=JUDGED)
    decision = gate.decide(1500, [PAUSED], can_pad=True, judged_since_ms=JUDGED)
    assert decision.video == (PAUSED,) and decision.padding_bps == 0
    assert decision.outcome == "abandoned"
    # the next upgrade is a new probe, timed from its own start
    assert gate.decide(9000, [LOW], can_pad=True, judged_since_ms=JUDGED).outcome == "started"
    assert gate.decide(10_000, [LOW], can_pad=True, judged_since_ms=JUDGED).video == (PAUSED,)


def test_downgrades_apply_at_once_even_during_a_probe() -> None:
    gate = gate_at(LOW_30FPS)
    gate.decide(0, [MID], can_pad=True, judged_since_ms=JUDGED)
    decision = gate.decide(500, [LOW], can_pad=True, judged_since_ms=JUDGED)
    assert decision.video == (LOW,) and decision.outcome == "abandoned"


def test_without_padding_upgrades_apply_at_once() -> None:
    """No RTX toward this subscriber (or adaptive bitrate off): the upgrade is the probe."""
    gate = gate_at(LOW)
    decision = gate.decide(1000, [MID], can_pad=False, judged_since_ms=JUDGED)
    assert decision.video == (MID,) and decision.padding_bps == 0 and decision.outcome is None


def test_only_the_upgraded_stream_waits() -> None:
    gate = ProbeGate(ProbeSettings())
    other = VideoAllocation("screen", 0, 2, "ok", 100_000)
    gate.decide(0, [LOW, other], can_pad=True, judged_since_ms=JUDGED)
    smaller = VideoAllocation("screen", 0, 0, "ok", 40_000)
    decision = gate.decide(500, [MID, smaller], can_pad=True, judged_since_ms=JUDGED)
    assert decision.video == (LOW, smaller)
    assert decision.padding_bps == int((MID.bitrate_bps - LOW.bitrate_bps) * PROBE_MARGIN)


def test_a_probe_no_report_covers_in_time_fails() -> None:
    gate = gate_at(PAUSED)
    gate.decide(1000, [LOW], can_pad=True, judged_since_ms=None)
    still = gate.decide(5500, [LOW], can_pad=True, judged_since_ms=900)
    assert still.video == (PAUSED,) and still.outcome is None
    failed = gate.decide(6000, [LOW], can_pad=True, judged_since_ms=900)
    assert failed.video == (PAUSED,) and failed.padding_bps == 0 and failed.outcome == "failed"


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="duration_ms"):
        ProbeSettings(duration_ms=-1)
    with pytest.raises(ValueError, match="duration_ms"):
        ProbeSettings(duration_ms=6000, max_duration_ms=5000)


def test_a_probe_proves_only_what_it_padded_for() -> None:
    """The estimate grew during the probe and the allocator now wants two steps more: the
    padding for one does not prove them, a new probe for the larger step starts."""
    gate = gate_at(LOW)
    gate.decide(1000, [LOW_30FPS], can_pad=True, judged_since_ms=None)
    bigger = gate.decide(3000, [MID], can_pad=True, judged_since_ms=1200)
    assert bigger.video == (LOW,) and bigger.outcome == "started"
    assert bigger.padding_bps == int((MID.bitrate_bps - LOW.bitrate_bps) * PROBE_MARGIN)
    proven = gate.decide(5000, [MID], can_pad=True, judged_since_ms=3200)
    assert proven.video == (MID,) and proven.outcome == "proven"


def test_padding_the_subscriber_has_not_reported_on_proves_nothing() -> None:
    gate = gate_at(LOW)
    gate.decide(1000, [MID], can_pad=True, judged_since_ms=None)
    unreported = gate.decide(
        3500, [MID], can_pad=True, judged_since_ms=1200, padding_reported=False
    )
    assert unreported.video == (LOW,) and unreported.outcome is None
    assert unreported.padding_bps > 0  # it goes on until the padding's reports come
    proven = gate.decide(3700, [MID], can_pad=True, judged_since_ms=1200, padding_reported=True)
    assert proven.video == (MID,) and proven.outcome == "proven"


def test_the_next_probe_waits_until_the_proven_upgrade_has_crossed_the_link() -> None:
    top = VideoAllocation("cam", 2, 2, "ok", 1_500_000)
    gate = gate_at(LOW)
    gate.decide(1000, [MID], can_pad=True, judged_since_ms=None)
    assert gate.decide(3500, [MID], can_pad=True, judged_since_ms=1200).outcome == "proven"
    # the estimate grew on: the allocator wants more at once
    waiting = gate.decide(4000, [top], can_pad=True, judged_since_ms=1200)
    assert waiting.video == (MID,) and waiting.padding_bps == 0 and waiting.outcome is None
    assert not gate.probing
    # a window that began after the upgrade was applied has been judged: probe
    started = gate.decide(5000, [top], can_pad=True, judged_since_ms=3600)
    assert started.video == (MID,) and started.outcome == "started"
    assert started.padding_bps > 0
    # downgrades are never held, waiting or not
    gate2 = gate_at(LOW)
    gate2.decide(1000, [MID], can_pad=True, judged_since_ms=None)
    gate2.decide(3500, [MID], can_pad=True, judged_since_ms=1200)
    assert gate2.decide(3600, [LOW], can_pad=True, judged_since_ms=1200).video == (LOW,)


def test_a_resume_judged_by_its_paddings_feedback_needs_no_window_of_reports() -> None:
    """Toward paused video receiver reports come with the audio, every ~5 s: a resume
    whose numbered padding the browser reports on (and would fail at once if it queued)
    is proven when its time is up. A step up from moving video still waits a window."""
    for first, wanted, proven in ((PAUSED, LOW, True), (LOW, MID, False)):
        gate = gate_at(first)
        gate.decide(1000, [wanted], can_pad=True, judged_since_ms=900, feedback_judges=True)
        late = gate.decide(3000, [wanted], can_pad=True, judged_since_ms=900, feedback_judges=True)
        assert (late.outcome == "proven") is proven
        unnumbered = gate_at(first)
        unnumbered.decide(1000, [wanted], can_pad=True, judged_since_ms=900)
        assert unnumbered.decide(3000, [wanted], can_pad=True, judged_since_ms=900).outcome is None
