"""A smoke-sized load run: a real bridge process, 1 speaker -> 3 listeners for a few
seconds. Asserts that media flows and the table is produced; no timing thresholds."""

from __future__ import annotations

from bench.load.__main__ import scenario, table
from bench.load.bridge_process import BridgeOptions
from bench.load.scenario import RunSettings, run_scenario


async def test_one_speaker_three_listeners() -> None:
    settings = RunSettings(warmup_s=0.5, window_s=2.0, camera=False, bridge=BridgeOptions(cpu=None))
    result = await run_scenario(scenario("one-to-n", 3, None), settings)
    assert result.sites == 4
    assert result.without_media == 0
    assert result.forwarded_pps > 0
    assert result.us_per_packet is not None
    assert result.loss_pct is not None
    assert result.latency_p50_ms is not None
    lines = table([result]).splitlines()
    assert lines[0].startswith("| scenario | sites |")
    assert lines[2].startswith("| one-to-n | 4 | 1 |")
