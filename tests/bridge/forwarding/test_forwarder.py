from __future__ import annotations

import pytest

from bridge.forwarding.forwarder import Drop, Forward, Forwarder, InboundPacket
from bridge.rtp.munger import RtpMunger

BASE = 65536


def pkt(seq: int, ts: int, ms: int, *, key: bool = False) -> InboundPacket:
    return InboundPacket(BASE + seq, ts, ms, keyframe=key, marker=False)


def fwd(
    out_ext_seq: int, seq: int, ts: int, pid: int | None = None, tl0: int | None = None
) -> Forward:
    return (out_ext_seq, seq, ts, pid, tl0)


def state(f: Forwarder) -> str:
    return f.state  # a call, so mypy does not narrow the property across mutations


def drop_reason(decision: Forward | Drop) -> str | None:
    return decision.reason if isinstance(decision, Drop) else None


def video() -> Forwarder:
    return Forwarder("video", RtpMunger(1000, 50_000), 90000)


def test_audio_forwards_first_packet() -> None:
    f = Forwarder("audio", RtpMunger(7, 100), 48000)
    assert state(f) == "waiting"
    assert f.has_forwarded is False
    assert f.on_packet(pkt(5, 960, 0)) == fwd(7, 7, 100)
    assert f.on_packet(pkt(6, 1920, 20)) == fwd(8, 8, 1060)
    assert state(f) == "forwarding"
    assert bool(f.has_forwarded)
    assert f.highest_out_ext_seq == 8


def test_video_waits_for_keyframe() -> None:
    f = video()
    assert f.on_packet(pkt(1, 0, 0)) == Drop("waiting_keyframe", request_keyframe=True)
    assert state(f) == "waiting"
    assert f.on_packet(pkt(2, 3000, 33, key=True)) == fwd(1000, 1000, 50_000)
    assert f.on_packet(pkt(3, 3000, 34)) == fwd(1001, 1001, 50_000)
    assert f.on_packet(pkt(4, 6000, 66)) == fwd(1002, 1002, 53_000)


def test_pause_drops_without_keyframe_request() -> None:
    f = video()
    f.on_packet(pkt(1, 0, 0, key=True))
    f.pause()
    assert state(f) == "paused"
    assert f.on_packet(pkt(2, 3000, 33, key=True)) == Drop("paused", request_keyframe=False)


def test_resume_waits_for_keyframe_and_resyncs_with_elapsed_time() -> None:
    f = video()
    f.on_packet(pkt(1, 0, 1000, key=True))
    f.on_packet(pkt(2, 3000, 1033))
    f.pause()
    f.on_packet(pkt(3, 6000, 1066))
    f.resume()
    assert state(f) == "waiting"
    assert drop_reason(f.on_packet(pkt(10, 27000, 1400))) == "waiting_keyframe"
    # 500 ms since the last forwarded packet -> 45000 ticks at 90 kHz
    assert f.on_packet(pkt(11, 30000, 1533, key=True)) == fwd(1002, 1002, 53_000 + 45_000)
    assert f.on_packet(pkt(12, 33000, 1566)) == fwd(1003, 1003, 101_000)


def test_audio_resume_forwards_immediately_and_resyncs() -> None:
    f = Forwarder("audio", RtpMunger(0, 0), 48000)
    f.on_packet(pkt(1, 0, 0))
    f.pause()
    f.resume()
    assert f.on_packet(pkt(50, 47040, 1000)) == fwd(1, 1, 48000)


def test_resume_when_not_paused_is_noop() -> None:
    f = video()
    f.on_packet(pkt(1, 0, 0, key=True))
    f.resume()
    assert state(f) == "forwarding"
    assert f.on_packet(pkt(2, 3000, 33)) == fwd(1001, 1001, 53_000)


def test_restart_video_waits_for_keyframe_then_continues_sequence() -> None:
    f = video()
    f.on_packet(pkt(100, 0, 0, key=True))
    f.on_packet(pkt(101, 3000, 33))
    f.restart()
    assert state(f) == "waiting"
    assert drop_reason(f.on_packet(pkt(5, 777, 50))) == "waiting_keyframe"
    assert f.on_packet(pkt(6, 777, 66, key=True)) == fwd(1002, 1002, 53_000 + 2970)
    assert f.on_packet(pkt(7, 3777, 99)) == fwd(1003, 1003, 55_970 + 3000)


def test_restart_audio_resyncs_next_packet() -> None:
    f = Forwarder("audio", RtpMunger(0, 0), 48000)
    f.on_packet(pkt(40000, 0, 0))
    f.on_packet(pkt(40001, 960, 20))
    f.restart()
    assert state(f) == "forwarding"
    assert f.on_packet(pkt(3, 5, 40)) == fwd(2, 2, 960 + 960)
    assert f.on_packet(pkt(4, 965, 60)) == fwd(3, 3, 2880)


def test_restart_while_paused_stays_paused() -> None:
    f = video()
    f.pause()
    f.restart()
    assert state(f) == "paused"


def test_packet_older_than_resync_is_dropped() -> None:
    f = video()
    f.on_packet(pkt(10, 0, 0, key=True))
    assert f.on_packet(pkt(9, 0, 1)) == Drop("too_old", request_keyframe=False)
    assert f.on_packet(pkt(11, 0, 2)) == fwd(1001, 1001, 50_000)


def test_resync_in_same_millisecond_advances_timestamp_by_one() -> None:
    f = Forwarder("audio", RtpMunger(0, 0), 48000)
    f.on_packet(pkt(1, 0, 10))
    f.restart()
    assert f.on_packet(pkt(1, 0, 10)) == fwd(1, 1, 1)


def test_translate_timestamp_follows_munger() -> None:
    f = video()
    f.on_packet(pkt(1, 123_456, 0, key=True))
    assert f.translate_timestamp(123_456 + 90000) == 50_000 + 90000


def test_clock_rate_validated() -> None:
    with pytest.raises(ValueError):
        Forwarder("audio", RtpMunger(0, 0), 0)
