from __future__ import annotations

from pathlib import Path

from bridge.sdp import RID_URI, add_simulcast_recv, media_sections, request_opus_fec

OFFER = (Path(__file__).parent / "fixtures" / "chromium156_simulcast_offer.sdp").read_text()


def test_reads_chromium_simulcast_offer() -> None:
    audio, video = media_sections(OFFER)
    assert audio.kind == "audio" and audio.send_rids == ()
    assert video.kind == "video" and video.mid == "1"
    assert video.send_rids == ("q", "h", "f")
    assert video.extmap[RID_URI] == 10


def test_answer_gets_recv_rids_in_the_right_section_only() -> None:
    answer = "v=0\r\ns=-\r\nm=audio 9 X 111\r\na=mid:0\r\nm=video 9 X 96\r\na=mid:1\r\n"
    munged = add_simulcast_recv(answer, "1", ("q", "h", "f"))
    video = munged.split("m=video")[1]
    assert "a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f" in video
    assert "a=rid" not in munged.split("m=video")[0]
    assert munged.endswith("\r\n")


def test_rids_not_declared_are_ignored_and_at_most_three() -> None:
    sdp = (
        "v=0\r\nm=video 9 X 96\r\na=mid:v\r\na=rid:a send\r\na=rid:b send\r\n"
        "a=rid:c send\r\na=rid:d send\r\na=simulcast:send a;x;b;c;d\r\n"
    )
    (video,) = media_sections(sdp)
    assert video.send_rids == ("a", "b", "c")


def test_opus_fec_requested_in_the_answer() -> None:
    answer = (
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\n"
        "a=rtpmap:0 PCMU/8000\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"
    )
    out = request_opus_fec(answer)
    assert "a=fmtp:111 useinbandfec=1\r\n" in out
    assert out.count("useinbandfec") == 1  # not for PCMU, not in the video section
    with_fmtp = answer.replace("a=rtpmap:0", "a=fmtp:111 minptime=10\r\na=rtpmap:0")
    assert "a=fmtp:111 minptime=10;useinbandfec=1\r\n" in request_opus_fec(with_fmtp)
    # idempotent
    assert request_opus_fec(out) == out
