"""What the bridge's answer to a real Chromium 156 offer accepts (aiortc hooks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.aiortc_adapter import AdapterSettings, AnsweringPeer, OfferingPeer
from bridge.rtp.transport_feedback import TRANSPORT_CC_URI
from bridge.sdp import media_sections

OFFER = (Path(__file__).parent / "fixtures" / "chromium156_simulcast_offer.sdp").read_text()


class _Sink:
    def on_rtp(self, data: bytes, arrival_ms: int) -> None:
        return None

    def on_rtcp(self, data: bytes) -> None:
        return None


async def _answer(transport_cc: bool) -> tuple[str, int | None]:
    settings = AdapterSettings(ice_addresses=("127.0.0.1",), transport_cc=transport_cc)
    peer = AnsweringPeer(settings, _Sink(), lambda state: None)
    try:
        answer, tracks = await peer.accept_offer(OFFER)
    finally:
        await peer.close()
    video = next(t for t in tracks if t.kind == "video")
    return answer, video.transport_cc_ext_id


@pytest.mark.parametrize("transport_cc", [True, False])
async def test_transport_cc_answered_only_when_enabled(transport_cc: bool) -> None:
    answer, ext_id = await _answer(transport_cc)
    # the track carries the id only when answered: the ingress records nothing otherwise
    assert (ext_id is not None) is transport_cc
    assert (f"a=extmap:3 {TRANSPORT_CC_URI}" in answer) is transport_cc
    assert (" transport-cc" in answer) is transport_cc


async def test_answer_asks_for_opus_fec() -> None:
    answer, _ = await _answer(False)
    assert "useinbandfec=1" in answer


@pytest.mark.parametrize("probe_feedback", [True, False])
async def test_subscriber_offers_carry_transport_cc_for_video_only_when_enabled(
    probe_feedback: bool,
) -> None:
    """The extension (numbering the probes' padding) and the feedback it asks for, in the
    video sections; audio is never numbered."""
    settings = AdapterSettings(ice_addresses=("127.0.0.1",), probe_feedback=probe_feedback)
    peer = OfferingPeer(settings, _Sink(), lambda s: None, lambda s: None)
    try:
        peer.add_slot("audio")
        peer.add_slot("video")
        offer = await peer.create_offer()
    finally:
        await peer.close()
    audio, video = media_sections(offer)
    assert (TRANSPORT_CC_URI in video.extmap) is probe_feedback
    assert TRANSPORT_CC_URI not in audio.extmap
    video_text = offer[offer.index("m=video") :]
    assert ("transport-cc" in video_text) is probe_feedback
    assert "transport-cc" not in offer[offer.index("m=audio") : offer.index("m=video")]
