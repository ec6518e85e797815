"""Downlink wiring: what it hands the allocator and the estimator (fakes for consumers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from bridge.forwarding.allocator import (
    AllocationResult,
    AllocatorSettings,
    AudioDemand,
    StreamAllocator,
    VideoDemand,
)
from bridge.forwarding.downlink_estimator import DownlinkEstimator, EstimatorSettings
from bridge.media.downlink import Downlink
from bridge.media.events import RoomEvent, VideoState
from bridge.metrics import BridgeMetrics
from bridge.rtp.rtcp_build import build_remb


@dataclass
class FakeProducer:
    kind: str
    participant_id: str = "pub"
    muted: bool = False
    layers: tuple[object, ...] = (object(), object(), object())
    audio_level: int = 30
    uplink_paused: bool = False

    def speaking(self, now: int) -> bool:
        return True

    def layer_bitrates(self, now: int) -> tuple[int, ...]:
        return (150_000, 375_000, 1_500_000)


@dataclass
class FakeConsumer:
    producer: FakeProducer
    temporal_layers: int = 1
    bytes_sent: int = 0
    started: bool = True
    current_spatial: int | None = 0
    max_spatial: int = 2
    targets: list[tuple[int | None, int]] = field(default_factory=list)
    slot: Any = field(default_factory=lambda: SimpleNamespace(parameters=None))

    @property
    def id(self) -> str:
        return f"pub-{self.producer.kind}"

    def set_target(self, spatial: int | None, temporal: int) -> None:
        self.targets.append((spatial, temporal))

    def set_allocated(self, forward: bool) -> None:
        return None


class SpyAllocator(StreamAllocator):
    def __init__(self) -> None:
        super().__init__(AllocatorSettings())
        self.demands: list[Sequence[VideoDemand]] = []

    def allocate(
        self,
        now_ms: int,
        budget_bps: int,
        demands: Sequence[VideoDemand],
        audio: Sequence[AudioDemand],
        audio_only: bool,
        cap_bps: int | None,
    ) -> AllocationResult:
        self.demands.append(demands)
        return super().allocate(now_ms, budget_bps, demands, audio, audio_only, cap_bps)


def downlink(
    allocator: StreamAllocator,
    consumers: list[Any],
    now: list[int] | None = None,
    events: list[RoomEvent] | None = None,
) -> Downlink:
    clock = now or [1000]
    sink = events if events is not None else []
    d = Downlink(
        subscriber_id="sub",
        clock=lambda: clock[0],
        metrics=BridgeMetrics(),
        listener=sink.append,
        estimator=DownlinkEstimator(EstimatorSettings()),
        allocator=allocator,
        adaptive_bitrate=True,
    )
    d.consumers.extend(consumers)
    return d


def test_the_temporal_layers_a_stream_shows_reach_the_allocator() -> None:
    """Without them the ladder has no temporal steps: the cheapest video is a whole layer
    (on a weak link 150 kbit/s instead of ~60 at 7.5 fps)."""
    spy = SpyAllocator()
    video = FakeConsumer(FakeProducer("video"), temporal_layers=3)
    downlink(spy, [video, FakeConsumer(FakeProducer("audio"))]).reallocate()
    (demand,) = spy.demands[-1]
    assert demand.temporal_layers == 3
    assert video.targets[-1][1] < 2  # a temporal step below "all": only possible with them


def test_a_remb_that_signals_congestion_reallocates_at_once() -> None:
    spy = SpyAllocator()
    video = FakeConsumer(FakeProducer("video"))
    now = [0]
    d = downlink(spy, [video, FakeConsumer(FakeProducer("audio"))], now)
    d.reallocate()
    video.bytes_sent, now[0] = 50_000, 1000  # 400 kbit/s sent
    d.reallocate()
    d.route_rtcp(build_remb(1, 600_000, [2]))  # room: no allocation
    rounds = len(spy.demands)
    now[0] = 1100
    d.route_rtcp(build_remb(1, 150_000, [2]))  # fell far below what we send
    assert len(spy.demands) == rounds + 1


def test_video_the_publisher_stopped_for_its_uplink_is_paused_with_that_reason() -> None:
    """Not a subscriber's bandwidth problem: no demand, and the tile says whose link it is."""
    spy = SpyAllocator()
    producer = FakeProducer("video", uplink_paused=True)
    video = FakeConsumer(producer)
    events: list[RoomEvent] = []
    d = downlink(spy, [video, FakeConsumer(FakeProducer("audio"))], events=events)
    d.reallocate()
    assert spy.demands[-1] == [] and video.targets[-1] == (None, 0)
    assert VideoState("pub", True, "uplink") in events
    producer.uplink_paused = False
    d.reallocate()
    assert len(spy.demands[-1]) == 1 and events[-1] == VideoState("pub", False, None)
