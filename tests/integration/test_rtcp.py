"""RTCP through the bridge: NACK answered as RTX from the cache, PLI throttled upstream,
sender reports translated to each consumer, receiver reports kept as consumer stats."""

from __future__ import annotations

import asyncio
import struct

from bridge.rtp.rtcp import ReportBlock, build_nack, build_pli, build_receiver_report
from signaling.app import REGISTRY


async def _streaming_pair(site):  # type: ignore[no-untyped-def]
    a, b = site("a"), site("b")
    await a.join()
    await b.join()
    await a.publish()
    await asyncio.sleep(1.0)
    await a.stream(1.5)
    return a, b


def _video_track(site):  # type: ignore[no-untyped-def]
    return next(t for t in site.tracks if t.kind == "video" and t.ssrc is not None)


async def test_nack_is_answered_with_rtx_carrying_the_original(site) -> None:  # type: ignore[no-untyped-def]
    _, b = await _streaming_pair(site)
    track = _video_track(b)
    assert track.rtx_ssrc is not None and track.rtx_payload_type is not None
    got = b.received.packets[track.ssrc]
    seq, _, _, payload = got[len(got) // 2]
    b.send_feedback(build_nack(0x1234, track.ssrc, [seq]))
    for _ in range(40):
        if b.received.packets.get(track.rtx_ssrc):
            break
        await asyncio.sleep(0.05)
    rtx = b.received.packets[track.rtx_ssrc]
    assert len(rtx) == 1
    _, _, _, rtx_payload = rtx[0]
    # RFC 4588 §4: original sequence number, then the original payload
    assert struct.unpack("!H", rtx_payload[:2])[0] == seq
    assert rtx_payload[2:] == payload


async def test_keyframe_requests_are_throttled_upstream(site) -> None:  # type: ignore[no-untyped-def]
    a, b = await _streaming_pair(site)
    track = _video_track(b)
    await asyncio.sleep(1.1)  # the subscriber's first request is out of the window
    before = a.feedback.plis
    for _ in range(10):
        b.send_feedback(build_pli(0x1234, track.ssrc))
    await asyncio.sleep(0.2)
    relayed = a.feedback.plis - before
    assert 1 <= relayed <= 2, relayed


async def test_sender_reports_are_translated_per_consumer(site) -> None:  # type: ignore[no-untyped-def]
    a, b = site("a"), site("b")
    await a.join()
    await b.join()
    await a.publish()
    await asyncio.sleep(1.0)
    # the publisher's SR maps NTP to its RTP clock; the subscriber must get the same NTP
    # with the timestamp in its own (rewritten) stream's space
    streaming = asyncio.create_task(a.stream(2.0))
    await asyncio.sleep(1.0)
    params = a._slots["video"].parameters
    ntp = (3_900_000_000 << 32) | 0x80000000
    a.send_raw(struct.pack("!BBHIQIII", 0x80, 200, 6, params.ssrc, ntp, 123_000, 10, 1000))
    await streaming
    track = _video_track(b)
    reports = [r for r in b.received.sender_reports if r.ssrc == track.ssrc]
    assert reports, "no sender report reached the subscriber"
    report = reports[-1]
    assert report.ntp_timestamp == ntp
    # the consumer's offset, from the last packet: same payload, sent ts vs received ts
    _, out_ts, _, payload = b.received.packets[track.ssrc][-1]
    offset = (a.sent_timestamps[payload] - out_ts) & 0xFFFFFFFF
    assert report.rtp_timestamp == (123_000 - offset) & 0xFFFFFFFF


async def test_receiver_reports_become_consumer_stats(site, server) -> None:  # type: ignore[no-untyped-def]
    _, b = await _streaming_pair(site)
    track = _video_track(b)
    block = ReportBlock(track.ssrc, 64, 7, 1000, 33, 0, 0)
    b.send_feedback(build_receiver_report(0x1234, [block]))
    await asyncio.sleep(0.2)
    participant = server.app[REGISTRY].rooms["r1"].participants["b"]
    stats = [c.stats() for c in participant.consumers if c.producer.kind == "video"]
    assert stats[0].fraction_lost == 0.25
    assert stats[0].packets_lost == 7
    assert stats[0].jitter == 33


async def test_subscriber_loss_reaches_the_publisher_as_an_fec_hint(site) -> None:  # type: ignore[no-untyped-def]
    """A subscriber losing 20 % of its audio makes the bridge report (at most) 8 % loss
    for that audio upstream, so the publisher's Opus encodes in-band FEC."""
    a, b = await _streaming_pair(site)
    audio = next(t for t in b.tracks if t.kind == "audio" and t.ssrc is not None)
    # report over sequence numbers the bridge did send (its gaps are not the downlink's)
    highest = max(seq for seq, _, _, _ in b.received.packets[audio.ssrc])
    for _ in range(10):
        # The bridge numbers each stream from a random start (RFC 3550 §5.1): one under
        # ~25 left the highest under 100 after the first 1.5 s (a clean-clone CI run).
        if highest >= 100:
            break
        await a.stream(0.5)
        highest = max(seq for seq, _, _, _ in b.received.packets[audio.ssrc])
    assert highest >= 100
    rr = [ReportBlock(audio.ssrc, 0, 0, highest - 100, 0, 0, 0)]
    b.send_feedback(build_receiver_report(0x1234, rr))
    await asyncio.sleep(0.1)
    rr = [ReportBlock(audio.ssrc, 51, 20, highest, 0, 0, 0)]
    b.send_feedback(build_receiver_report(0x1234, rr))
    # let it arrive first: an upstream report already on its way when it is read would
    # still say 0 (a clean-clone CI run on a loaded machine saw exactly that)
    await asyncio.sleep(0.2)
    published = a.published_ssrc("audio")
    before = len(a.feedback.report_blocks)
    await a.stream(3.0)  # the bridge reports upstream about once a second
    blocks = [blk for blk in a.feedback.report_blocks[before:] if blk.ssrc == published]
    assert blocks and all(blk.fraction_lost == round(0.08 * 256) for blk in blocks), blocks


async def test_metrics_endpoint_reports_forwarding(site, server, http) -> None:  # type: ignore[no-untyped-def]
    await _streaming_pair(site)
    async with http.get(server.make_url("/metrics")) as resp:
        text = await resp.text()
    assert resp.status == 200
    line = next(x for x in text.splitlines() if x.startswith("diemcau_rtp_packets_out_total "))
    assert int(line.split()[1]) > 50
    assert "diemcau_participants 2" in text
