"""Subscriber offers never repeat an a=msid (Chromium rejects such offers)."""

from __future__ import annotations

from bridge.aiortc_adapter import AdapterSettings, OfferingPeer


class _Sink:
    def on_rtp(self, data: bytes, arrival_ms: int) -> None:
        return None

    def on_rtcp(self, data: bytes) -> None:
        return None


async def test_a_returning_participant_on_a_new_slot_has_one_msid() -> None:
    peer = OfferingPeer(
        AdapterSettings(ice_addresses=("127.0.0.1",)), _Sink(), lambda s: None, lambda s: None
    )
    try:
        old, new = peer.add_slot("video"), peer.add_slot("video")
        old.assign("site-1", "site-1-video")
        old.set_active(False)  # site-1 left; its slot is free
        new.assign("site-1", "site-1-video")  # site-1 is back, on the other slot
        new.set_active(True)
        offer = await peer.create_offer()
    finally:
        await peer.close()
    msids = [line for line in offer.splitlines() if line.startswith("a=msid:")]
    assert len(msids) == len(set(msids)), msids
    assert msids.count("a=msid:site-1 site-1-video") == 1
