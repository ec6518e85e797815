"""bench.load.hotpath: the in-process forwarding path forwards what each listener asked for."""

from __future__ import annotations

import pytest

from bench.load.hotpath import packets, run
from bench.load.media import Media
from bridge.rtp.header import parse_rtp_header


@pytest.mark.parametrize("aead", [False, True])
def test_one_stream_reaches_every_listener(aead: bool) -> None:
    stream = list(packets(Media.synthetic(), 0.2))
    _, forwarded = run(3, stream, use_socket=True, aead=aead)
    assert forwarded == 3 * len(stream)  # audio and video, all of it, to each


def test_simulcast_layers_each_listener_gets_one() -> None:
    stream = list(packets(Media.synthetic(), 0.2, simulcast=True))
    by_ssrc: dict[int, int] = {}
    for data in stream:
        ssrc = parse_rtp_header(data).ssrc
        by_ssrc[ssrc] = by_ssrc.get(ssrc, 0) + 1
    audio = by_ssrc.pop(1111)
    low, mid, high = (by_ssrc[ssrc] for ssrc in sorted(by_ssrc))
    assert low < mid < high  # a quarter of the bytes per step down
    _, forwarded = run(3, stream, use_socket=False, simulcast=True)
    # listener i receives layer i mod 3, and the audio
    assert forwarded == 3 * audio + low + mid + high
