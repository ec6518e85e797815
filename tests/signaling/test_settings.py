from __future__ import annotations

from pathlib import Path

import pytest

from signaling.settings import settings_from_env


@pytest.mark.parametrize(
    ("variable", "attribute"),
    [
        ("DIEMCAU_ADAPTIVE_BITRATE", "adaptive_bitrate"),
        ("DIEMCAU_TRANSPORT_CC", "transport_cc"),
        ("DIEMCAU_PROBE_FEEDBACK", "probe_feedback"),
        ("DIEMCAU_FANOUT_LANES", "fanout_lanes"),
    ],
)
@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("", True), ("1", True), ("on", True), ("0", False), ("false", False),
     ("off", False)],
)  # fmt: skip
def test_on_unless_turned_off(
    tmp_path: Path, variable: str, attribute: str, value: str | None, expected: bool
) -> None:
    env = {"DIEMCAU_DATA_DIR": str(tmp_path)}
    if value is not None:
        env[variable] = value
    assert getattr(settings_from_env(env), attribute) is expected
