"""Fake camera and microphone files for Chromium (``--use-file-for-fake-*-capture``)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MediaFiles:
    video: Path  # y4m; Chromium loops it
    audio: Path  # wav, 48 kHz mono: a 440 Hz sine or synthesized speech


# Read aloud when the microphone plays speech: Opus codes speech and music differently (a
# steady tone goes to CELT, which has no in-band FEC, RFC 6716 §2.1.7), so uplink-loss figures
# depend on which one the microphone plays.
SPEECH = (
    "Good morning to every commune hall in the province. Today we review the rice harvest, "
    "the flood preparations and the school repairs. Please keep your microphone muted unless "
    "you are speaking, and raise your hand when you want the floor."
)
AUDIO_KINDS = ("tone", "speech")


class MediaToolMissing(RuntimeError):
    pass


def make_media_files(
    directory: Path,
    width: int = 640,
    height: int = 360,
    fps: int = 30,
    seconds: int = 5,
    audio: str = "tone",
) -> MediaFiles:
    """A ``width``x``height`` testsrc2 y4m, ``seconds`` long, and a wav made with ffmpeg in
    ``directory``: a 440 Hz tone as long, or (``audio="speech"``) :data:`SPEECH` read by
    ffmpeg's flite voice, about 12 s. A y4m is raw frames: keep it short (Chromium loops
    it, and the wav)."""
    if audio not in AUDIO_KINDS:
        raise ValueError(f"audio must be one of {AUDIO_KINDS}, got {audio!r}")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise MediaToolMissing("ffmpeg is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    video, wav = directory / f"camera-{width}x{height}.y4m", directory / f"mic-{audio}.wav"
    common = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    source = f"testsrc2=size={width}x{height}:rate={fps}"
    subprocess.run(
        [*common, "-i", source, "-t", str(seconds), "-pix_fmt", "yuv420p", str(video)],
        check=True,
        timeout=120,
    )
    if audio == "speech":
        source = "flite=voice=slt:text='" + SPEECH.replace(",", "\\,") + "'"
    else:
        source = f"sine=frequency=440:sample_rate=48000:duration={seconds}"
    subprocess.run(
        [*common, "-i", source, "-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le", str(wav)],
        check=True,
        timeout=60,
    )
    return MediaFiles(video=video, audio=wav)
