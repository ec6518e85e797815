"""RED for Opus in the bridge's offers to subscribers, and what their answers accepted."""

from __future__ import annotations

from bridge.sdp import accept_audio_red, answered_audio_red, offer_audio_red, preferred_audio_red

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


def test_a_publisher_prefers_red_only_by_listing_it_first() -> None:
    second = offer_audio_red(OFFER)  # "96 63": RED offered, Opus preferred
    assert preferred_audio_red(second) == {}
    first = second.replace("SAVPF 96 63", "SAVPF 63 96")
    assert preferred_audio_red(first) == {"0": 63}
    # RED over another codec than the section's Opus is not one the bridge can read
    assert preferred_audio_red(first.replace("a=fmtp:63 96/96", "a=fmtp:63 0/0")) == {}


def test_red_is_accepted_before_opus_where_asked_and_the_answer_has_opus() -> None:
    out = accept_audio_red(OFFER, {"0": 63, "1": 63})
    assert "m=audio 9 UDP/TLS/RTP/SAVPF 63 96\r\n" in out
    assert "a=rtpmap:96 opus/48000/2\r\na=rtpmap:63 red/48000/2\r\na=fmtp:63 96/96\r\n" in out
    assert "m=video 9 UDP/TLS/RTP/SAVPF 97 98\r\n" in out  # video is no audio section
    assert answered_audio_red(out) == {"0": 63}
    assert accept_audio_red(out, {"0": 63}) == out  # once
    assert accept_audio_red(OFFER, {}) == OFFER
    no_opus = OFFER.replace("opus/48000/2", "PCMU/8000")
    assert accept_audio_red(no_opus, {"0": 63}) == no_opus
