from __future__ import annotations

from pathlib import Path

import pytest

from signaling.settings import settings_from_env


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("", True), ("1", True), ("on", True), ("0", False), ("false", False)],
)
def test_adaptive_bitrate_is_on_unless_turned_off(
    tmp_path: Path, value: str | None, expected: bool
) -> None:
    env = {"DIEMCAU_DATA_DIR": str(tmp_path)}
    if value is not None:
        env["DIEMCAU_ADAPTIVE_BITRATE"] = value
    assert settings_from_env(env).adaptive_bitrate is expected


@pytest.mark.parametrize(
    ("value", "expected"), [(None, True), ("", True), ("1", True), ("0", False), ("off", False)]
)
def test_transport_cc_is_on_unless_turned_off(
    tmp_path: Path, value: str | None, expected: bool
) -> None:
    env = {"DIEMCAU_DATA_DIR": str(tmp_path)}
    if value is not None:
        env["DIEMCAU_TRANSPORT_CC"] = value
    assert settings_from_env(env).transport_cc is expected
