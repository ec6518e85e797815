"""Fake camera and microphone files for Chromium (``--use-file-for-fake-*-capture``)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MediaFiles:
    video: Path  # y4m; Chromium loops it
    audio: Path  # wav, 48 kHz mono 440 Hz sine


class MediaToolMissing(RuntimeError):
    pass


def make_media_files(
    directory: Path, width: int = 640, height: int = 360, fps: int = 30, seconds: int = 5
) -> MediaFiles:
    """A ``width``x``height`` testsrc2 y4m and a 440 Hz wav, ``seconds`` long, made with
    ffmpeg in ``directory``. A y4m is raw frames: keep it short (Chromium loops it)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise MediaToolMissing("ffmpeg is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    video, audio = directory / f"camera-{width}x{height}.y4m", directory / "mic.wav"
    common = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    source = f"testsrc2=size={width}x{height}:rate={fps}"
    subprocess.run(
        [*common, "-i", source, "-t", str(seconds), "-pix_fmt", "yuv420p", str(video)],
        check=True,
        timeout=120,
    )
    tone = f"sine=frequency=440:sample_rate=48000:duration={seconds}"
    subprocess.run(
        [*common, "-i", tone, "-ac", "1", "-c:a", "pcm_s16le", str(audio)],
        check=True,
        timeout=60,
    )
    return MediaFiles(video=video, audio=audio)
