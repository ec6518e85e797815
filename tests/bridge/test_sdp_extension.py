"""Offering header extensions and RTCP feedback aiortc does not know (the video playout
delay, transport-cc for probes' padding)."""

from __future__ import annotations

from bridge.rtp.header import PLAYOUT_DELAY_URI
from bridge.sdp import answered_extension, media_sections, offer_extension, offer_rtcp_feedback

# the shape of aiortc's bundled offer: the same extension ids in audio and video
OFFER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=rtpmap:96 opus/48000/2\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=mid:1\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=rtpmap:97 VP8/90000\r\n"
)


def test_video_sections_offer_it_under_an_id_no_section_uses() -> None:
    out = offer_extension(OFFER, "video", PLAYOUT_DELAY_URI)
    audio, video = media_sections(out)
    assert video.extmap[PLAYOUT_DELAY_URI] == 4  # 1, 2 (audio) and 3 are taken
    assert PLAYOUT_DELAY_URI not in audio.extmap
    # listed with the section's other extmaps, before its codecs
    assert f"abs-send-time\r\na=extmap:4 {PLAYOUT_DELAY_URI}\r\na=rtpmap:97" in out
    assert offer_extension(out, "video", PLAYOUT_DELAY_URI) == out  # once


def test_a_section_without_extensions_gets_it_at_its_end() -> None:
    bare = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 97\r\na=mid:0\r\n"
    assert offer_extension(bare, "video", "urn:x").endswith("a=mid:0\r\na=extmap:1 urn:x\r\n")


def test_no_free_one_byte_id_leaves_the_offer_alone() -> None:
    full = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 97\r\n" + "".join(
        f"a=extmap:{n} urn:e{n}\r\n" for n in range(1, 15)
    )
    assert offer_extension(full, "video", "urn:x") == full


VIDEO_WITH_RTX = (
    "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 97 98\r\na=mid:1\r\n"
    "a=rtpmap:97 VP8/90000\r\na=rtcp-fb:97 nack\r\na=rtcp-fb:97 nack pli\r\n"
    "a=rtpmap:98 rtx/90000\r\na=fmtp:98 apt=97\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rtpmap:96 opus/48000/2\r\n"
)


def test_rtcp_feedback_is_offered_for_the_codec_not_for_rtx() -> None:
    """RFC 4585 §4.2, after the codec's other rtcp-fb lines; audio untouched; once."""
    out = offer_rtcp_feedback(VIDEO_WITH_RTX, "video", "transport-cc")
    assert "a=rtcp-fb:97 nack pli\r\na=rtcp-fb:97 transport-cc\r\na=rtpmap:98" in out
    assert "a=rtcp-fb:98" not in out and "a=rtcp-fb:96" not in out
    assert offer_rtcp_feedback(out, "video", "transport-cc") == out


def test_answered_extension_ids_by_mid() -> None:
    answer = offer_extension(OFFER, "video", PLAYOUT_DELAY_URI)
    assert answered_extension(answer, "video", PLAYOUT_DELAY_URI) == {"1": 4}
    assert answered_extension(answer, "audio", PLAYOUT_DELAY_URI) == {}
