"""What the bridge's answer to a real Chromium 156 offer accepts (aiortc hooks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.aiortc_adapter import AdapterSettings, AnsweringPeer
from bridge.rtp.transport_feedback import TRANSPORT_CC_URI

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
