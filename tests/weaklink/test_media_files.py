"""The fake microphone files: a steady tone, or speech that pauses between words."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from bench.harness.media import make_media_files

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


def _frame_levels(path: Path) -> tuple[float, np.ndarray]:
    """Duration (s) and RMS level of each 20-ms frame (Opus's frame) of a 48 kHz wav."""
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (48000, 1)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    frames = samples[: len(samples) // 960 * 960].reshape(-1, 960).astype(np.float64)
    return len(samples) / 48000, np.sqrt((frames**2).mean(axis=1))


def test_tone_is_steady_and_speech_pauses(tmp_path: Path) -> None:
    tone = make_media_files(tmp_path / "t", 160, 90, seconds=2, audio="tone")
    speech = make_media_files(tmp_path / "s", 160, 90, seconds=2, audio="speech")
    tone_s, tone_levels = _frame_levels(tone.audio)
    speech_s, speech_levels = _frame_levels(speech.audio)
    assert tone_s == pytest.approx(2, abs=0.05)
    assert tone_levels.min() > 0.9 * tone_levels.max()
    assert speech_s > 8  # the whole text, read at a speaking pace
    loud = speech_levels.max()
    # words and the gaps between them: some frames near silence, most clearly voiced
    assert (speech_levels < 0.02 * loud).sum() >= 10
    assert (speech_levels > 0.1 * loud).mean() > 0.5


def test_unknown_audio_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="audio must be one of"):
        make_media_files(tmp_path, audio="music")
