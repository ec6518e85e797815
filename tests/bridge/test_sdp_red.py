"""RED for Opus in the bridge's offers to subscribers, and what their answers accepted."""

from __future__ import annotations

from bridge.sdp import answered_audio_red, offer_audio_red

# the shape of aiortc's offer (opus 96, VP8 97 + rtx 98), trimmed to what matters
OFFER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rtpmap:96 opus/48000/2\r\n"
    "a=rtcp-mux\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 97 98\r\na=mid:1\r\na=rtpmap:97 VP8/90000\r\n"
    "a=rtpmap:98 rtx/90000\r\na=fmtp:98 apt=97\r\n"
)


def test_the_offer_lists_red_after_opus_with_its_format_parameters() -> None:
    out = offer_audio_red(OFFER)
    assert "m=audio 9 UDP/TLS/RTP/SAVPF 96 63\r\n" in out
    assert "a=rtpmap:96 opus/48000/2\r\na=rtpmap:63 red/48000/2\r\na=fmtp:63 96/96\r\n" in out
    assert "m=video 9 UDP/TLS/RTP/SAVPF 97 98\r\n" in out  # video untouched
    assert out.count("red/48000/2") == 1
    assert offer_audio_red(out) == out  # once


def test_a_taken_payload_type_is_not_reused() -> None:
    taken = OFFER.replace("97", "63")
    out = offer_audio_red(taken)
    assert "a=rtpmap:99 red/48000/2\r\na=fmtp:99 96/96\r\n" in out


def test_the_answer_tells_the_red_payload_type_per_audio_mid() -> None:
    answer = offer_audio_red(OFFER)
    assert answered_audio_red(answer) == {"0": 63}
    assert answered_audio_red(OFFER) == {}  # declined (an aiortc answerer drops RED)
    # blocks of another codec than the section's Opus: not ours to send
    assert answered_audio_red(answer.replace("a=fmtp:63 96/96", "a=fmtp:63 0/0")) == {}
