"""Simulcast and temporal layer switching in the Forwarder."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from bridge.forwarding.forwarder import Drop, Forward, Forwarder, InboundPacket
from bridge.rtp.munger import RtpMunger
from tests.bridge.forwarding.test_forwarder import fwd

BASE = 65536
# each simulcast layer has its own seq/ts space
SEQ0 = {0: 1000, 1: 20000, 2: 40000}
TS0 = {0: 0, 1: 7_000_000, 2: 900_000_000}


def vp(
    layer: int,
    n: int,
    ms: int,
    *,
    key: bool = False,
    marker: bool = False,
    tid: int | None = None,
    sync: bool = False,
    pid: int | None = None,
    tl0: int | None = None,
) -> InboundPacket:
    """Packet n of layer `layer` (frame n, 3000 ticks per frame)."""
    return InboundPacket(
        BASE + SEQ0[layer] + n,
        TS0[layer] + 3000 * n,
        ms,
        keyframe=key,
        marker=marker,
        spatial=layer,
        temporal=tid,
        layer_sync=sync,
        picture_id=pid,
        tl0_pic_idx=tl0,
    )


def video() -> Forwarder:
    return Forwarder("video", RtpMunger(100, 10_000), 90000)


def reason(d: Forward | Drop) -> str | None:
    return d.reason if isinstance(d, Drop) else None


def seq(d: Forward | Drop) -> int:
    assert isinstance(d, tuple), d
    return d[1]


def test_defaults() -> None:
    f = video()
    assert (f.target_spatial, f.target_temporal, f.current_spatial) == (0, 3, None)


def test_starts_on_target_layer_keyframe_only() -> None:
    f = video()
    f.set_target(1)
    assert f.on_packet(vp(0, 0, 0, key=True)) == Drop("other_layer", request_keyframe=False)
    assert f.on_packet(vp(1, 0, 0)) == Drop("waiting_keyframe", request_keyframe=True)
    assert seq(f.on_packet(vp(1, 1, 10, key=True))) == 100
    assert f.current_spatial == 1
    assert reason(f.on_packet(vp(0, 2, 20))) == "other_layer"


@pytest.mark.parametrize(("start", "to"), [(0, 2), (2, 0)])
def test_switch_waits_for_target_keyframe_without_freezing(start: int, to: int) -> None:
    f = video()
    f.set_target(start)
    f.on_packet(vp(start, 0, 1000, key=True))
    f.set_target(to)
    # current layer keeps flowing, target layer asks for a key frame
    assert seq(f.on_packet(vp(start, 1, 1033))) == 101
    assert f.on_packet(vp(to, 1, 1034)) == Drop("switching", request_keyframe=True)
    assert f.current_spatial == start
    assert seq(f.on_packet(vp(start, 2, 1066))) == 102
    # key frame of the target layer: switch, seq continues, ts += elapsed (34 ms)
    d = f.on_packet(vp(to, 3, 1100, key=True))
    assert d == fwd(103, 103, 10_000 + 6000 + 34 * 90)
    assert f.current_spatial == to
    assert reason(f.on_packet(vp(start, 3, 1101))) == "other_layer"
    assert f.on_packet(vp(to, 4, 1133)) == fwd(104, 104, 10_000 + 6000 + 34 * 90 + 3000)


def test_switch_back_before_keyframe_cancels() -> None:
    f = video()
    f.on_packet(vp(0, 0, 0, key=True))
    f.set_target(1)
    f.set_target(0)
    assert reason(f.on_packet(vp(1, 1, 10, key=True))) == "other_layer"
    assert seq(f.on_packet(vp(0, 1, 11))) == 101


def test_allocation_pause_is_not_mute() -> None:
    f = video()
    f.on_packet(vp(0, 0, 0, key=True))
    f.set_target(None)
    assert f.state == "waiting"
    assert f.current_spatial is None
    assert f.on_packet(vp(0, 1, 33, key=True)) == Drop("allocation", request_keyframe=False)
    f.set_target(0)
    assert reason(f.on_packet(vp(0, 2, 66))) == "waiting_keyframe"
    assert f.on_packet(vp(0, 3, 100, key=True)) == fwd(101, 101, 10_000 + 9000)


def test_mute_keeps_allocation_target() -> None:
    f = video()
    f.set_target(2, 1)
    f.pause()
    assert reason(f.on_packet(vp(2, 0, 0, key=True))) == "paused"
    f.resume()
    assert (f.target_spatial, f.target_temporal) == (2, 1)
    assert seq(f.on_packet(vp(2, 1, 10, key=True))) == 100


@pytest.mark.parametrize(("spatial", "temporal"), [(-1, 2), (0, -1), (0, 4)])
def test_set_target_validated(spatial: int, temporal: int) -> None:
    with pytest.raises(ValueError):
        video().set_target(spatial, temporal)


# L1T3 pattern (RFC 7741 §4.2 TID): frames n=0.. with TID 0,2,1,2,0,2,1,2,...
TIDS = [0, 2, 1, 2]


def run_frames(f: Forwarder, frames: range, *, sync: Collection[int] = ()) -> list[int | None]:
    out: list[int | None] = []
    for n in frames:
        d = f.on_packet(
            vp(
                0,
                n,
                33 * n,
                key=n == 0,
                marker=True,
                tid=TIDS[n % 4],
                sync=n in sync,
                pid=n,
                tl0=n // 4,
            )
        )
        out.append(d[1] if isinstance(d, tuple) else None)
    return out


def test_temporal_drop_keeps_seq_and_picture_id_contiguous() -> None:
    f = video()
    f.set_target(0, 0)
    pids = []
    for n in range(9):
        d = f.on_packet(
            vp(0, n, 33 * n, key=n == 0, marker=True, tid=TIDS[n % 4], pid=n, tl0=n // 4)
        )
        if isinstance(d, tuple):
            pids.append(d[3:])
        else:
            assert d == Drop("temporal", request_keyframe=False)
    assert pids == [(0, 0), (1, 1), (2, 2)]
    assert f.highest_out_ext_seq == 102


def test_temporal_upswitch_only_at_layer_sync() -> None:
    f = video()
    f.set_target(0, 0)
    assert run_frames(f, range(4)) == [100, None, None, None]
    f.set_target(0, 2)
    # frame 5 (TID 2) and 6 (TID 1) are not sync frames: still dropped; frame 4 is TID 0
    assert run_frames(f, range(4, 8)) == [101, None, None, None]
    # frame 9 (TID 2, Y=1) switches straight to TL2
    assert run_frames(f, range(8, 12), sync={9}) == [102, 103, 104, 105]
    assert f.current_temporal == 2


def test_temporal_upswitch_at_sync_of_intermediate_layer() -> None:
    f = video()
    f.set_target(0, 0)
    run_frames(f, range(4))
    f.set_target(0, 2)
    assert run_frames(f, range(4, 8), sync={6}) == [101, None, 102, None]
    assert f.current_temporal == 1


def test_temporal_upswitch_at_keyframe() -> None:
    f = video()
    f.set_target(0, 0)
    run_frames(f, range(4))
    f.set_target(0, 2)
    d = f.on_packet(vp(0, 4, 200, key=True, marker=True, tid=0, pid=4, tl0=1))
    assert seq(d) == 101
    assert run_frames(f, range(5, 7)) == [102, 103]


def test_temporal_downswitch_at_frame_end() -> None:
    f = video()
    f.on_packet(vp(0, 0, 0, key=True, tid=0))
    f.on_packet(vp(0, 1, 1, marker=True, tid=0))
    # frame with TID 2, two packets; the target drops mid-frame
    assert seq(f.on_packet(vp(0, 2, 33, tid=2))) == 102
    f.set_target(0, 0)
    assert seq(f.on_packet(vp(0, 3, 34, tid=2, marker=True))) == 103  # frame completed
    assert f.current_temporal == 0
    assert reason(f.on_packet(vp(0, 4, 66, tid=1, marker=True))) == "temporal"
    assert seq(f.on_packet(vp(0, 5, 99, tid=0, marker=True))) == 104


def test_layer_switch_rewrites_vp8_continuously() -> None:
    f = video()
    f.on_packet(vp(0, 0, 0, key=True, marker=True, tid=0, pid=300, tl0=9))
    f.set_target(1)
    d = f.on_packet(vp(1, 0, 33, key=True, marker=True, tid=0, pid=7000, tl0=200))
    assert isinstance(d, tuple)
    assert d[3:] == (301, 10)
    d = f.on_packet(vp(1, 1, 66, marker=True, tid=2, pid=7001, tl0=200))
    assert isinstance(d, tuple)
    assert d[3:] == (302, 10)


def test_packet_of_dropped_picture_arriving_after_upswitch_is_dropped() -> None:
    f = video()
    f.set_target(0, 0)
    f.on_packet(vp(0, 0, 0, key=True, marker=True, tid=0, pid=0, tl0=0))
    # picture 1 (TID 2) has two packets; first is dropped
    assert reason(f.on_packet(vp(0, 1, 33, tid=2, pid=1, tl0=0))) == "temporal"
    f.set_target(0, 2)
    d = f.on_packet(vp(0, 3, 66, tid=2, sync=True, marker=True, pid=2, tl0=0))
    assert isinstance(d, tuple)
    assert d[3:] == (1, 0)
    # seq 1002 was not seen when 1003 was mapped, so its place (101) stays reserved
    assert d[1] == 102
    # second packet of picture 1, late: now TID 2 is allowed, but the picture was dropped
    assert reason(f.on_packet(vp(0, 2, 67, tid=2, pid=1, tl0=0, marker=True))) == "too_old"
    assert f.highest_out_ext_seq == 102  # 101 is a gap (documented in munger.py)


def test_audio_ignores_layers() -> None:
    f = Forwarder("audio", RtpMunger(0, 0), 48000)
    p = InboundPacket(BASE, 0, 0, keyframe=False, marker=False)
    assert f.on_packet(p) == fwd(0, 0, 0)
    assert f.current_spatial == 0
