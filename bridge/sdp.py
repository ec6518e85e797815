"""SDP text that aiortc does not model: RID-based simulcast (RFC 8853), extmap ids (and
offering extensions aiortc does not know), the Opus format parameters of an answer and
RED for Opus (RFC 2198) in an offer.

Pure string work on one offer or answer; no aiortc.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"  # RFC 8852 §3.1
REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"  # RFC 8852 §3.2
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"  # RFC 6464
MAX_RIDS = 3


@dataclass(frozen=True, slots=True)
class MediaSection:
    kind: str
    mid: str | None
    # rids the offerer sends, in its a=simulcast:send order (low to high for diemcau clients)
    send_rids: tuple[str, ...] = ()
    extmap: dict[str, int] = field(default_factory=dict)


def _split_sections(sdp: str) -> list[list[str]]:
    sections: list[list[str]] = [[]]
    for line in sdp.splitlines():
        if line.startswith("m="):
            sections.append([])
        sections[-1].append(line)
    return sections


def _join_sections(sections: list[list[str]]) -> str:
    return "\r\n".join(line for lines in sections for line in lines) + "\r\n"


def media_sections(sdp: str) -> list[MediaSection]:
    """Each m-section's kind, mid, simulcast send rids and extension ids."""
    out: list[MediaSection] = []
    for lines in _split_sections(sdp)[1:]:
        kind = lines[0][2:].split(" ", 1)[0]
        mid: str | None = None
        rids: list[str] = []
        order: list[str] = []
        extmap: dict[str, int] = {}
        for line in lines[1:]:
            if line.startswith("a=mid:"):
                mid = line[6:].strip()
            elif line.startswith("a=rid:"):
                # RFC 8851 §10: a=rid:<id> <direction> [params]
                parts = line[6:].split()
                if len(parts) >= 2 and parts[1] == "send":
                    rids.append(parts[0])
            elif line.startswith("a=simulcast:"):
                # RFC 8853 §5.1: a=simulcast:send q;h;f  (alternatives after ',' ignored)
                parts = line[12:].split()
                if len(parts) >= 2 and parts[0] == "send":
                    order = [alt.split(",")[0].lstrip("~") for alt in parts[1].split(";")]
            elif line.startswith("a=extmap:"):
                # RFC 8285 §8: a=extmap:<id>[/direction] <uri>
                parts = line[9:].split()
                if len(parts) >= 2 and parts[0].split("/")[0].isdigit():
                    extmap[parts[1]] = int(parts[0].split("/")[0])
        send_rids = tuple(r for r in (order or rids) if r in rids)[:MAX_RIDS]
        out.append(MediaSection(kind=kind, mid=mid, send_rids=send_rids, extmap=extmap))
    return out


def offer_extension(offer: str, kind: str, uri: str) -> str:
    """Offer header extension ``uri`` in each ``kind`` section (RFC 8285 §5), under one
    id no other extension of the offer uses (BUNDLE shares ids across sections), from
    the one-byte range; the offer is unchanged if none is free."""
    sections = _split_sections(offer)
    used = {
        line[9:].split()[0].split("/")[0]
        for lines in sections[1:]
        for line in lines
        if line.startswith("a=extmap:")
    }
    free = next((n for n in range(1, 15) if str(n) not in used), None)
    if free is None:
        return offer
    for lines in sections[1:]:
        offered = any(line.endswith(" " + uri) for line in lines)
        if lines[0].startswith(f"m={kind} ") and not offered:
            at = max((i for i, line in enumerate(lines) if line.startswith("a=extmap:")), default=0)
            lines.insert(at + 1 if at else len(lines), f"a=extmap:{free} {uri}")
    return _join_sections(sections)


def offer_rtcp_feedback(offer: str, kind: str, feedback: str) -> str:
    """Offer ``a=rtcp-fb:<pt> <feedback>`` (RFC 4585 §4.2) for each payload type of each
    ``kind`` section except RTX (RFC 4588 repairs; feedback is for the media it repairs),
    after that type's other rtcp-fb lines or its rtpmap."""
    sections = _split_sections(offer)
    for lines in sections[1:]:
        if not lines[0].startswith(f"m={kind} "):
            continue
        types = [
            line[9:].split()[0]
            for line in lines
            if line.startswith("a=rtpmap:")
            and not line.lower().endswith((" rtx/90000", " rtx/48000"))
        ]
        for pt in types:
            wanted = f"a=rtcp-fb:{pt} {feedback}"
            if wanted in lines:
                continue
            prefixes = (f"a=rtpmap:{pt} ", f"a=rtcp-fb:{pt} ")
            at = max(i for i, line in enumerate(lines) if line.startswith(prefixes))
            lines.insert(at + 1, wanted)
    return _join_sections(sections)


def answered_extension(answer: str, kind: str, uri: str) -> dict[str, int]:
    """Per ``kind`` mid, the id the answer gave extension ``uri``; sections without it
    are absent."""
    return {
        section.mid: section.extmap[uri]
        for section in media_sections(answer)
        if section.kind == kind and section.mid is not None and uri in section.extmap
    }


def add_simulcast_recv(answer: str, mid: str, rids: tuple[str, ...]) -> str:
    """Accept the offered layers in the answer's section `mid` (RFC 8853 §5.3)."""
    sections = _split_sections(answer)
    for lines in sections[1:]:
        if f"a=mid:{mid}" in lines:
            lines.extend(f"a=rid:{rid} recv" for rid in rids)
            lines.append("a=simulcast:recv " + ";".join(rids))
    return _join_sections(sections)


def request_opus_fec(answer: str) -> str:
    """Ask the sender for Opus in-band FEC (RFC 7587 §6.1 ``useinbandfec=1``).

    The parameter states what the *receiver* of the answer's author wants; browsers add FEC
    to their Opus only when the remote description carries it, and aiortc writes no Opus
    fmtp at all. Existing Opus fmtp lines get the parameter appended.
    """
    sections = _split_sections(answer)
    for lines in sections[1:]:
        if not lines[0].startswith("m=audio"):
            continue
        pt = _opus_payload_type(lines)
        if pt is None:
            continue
        prefix = f"a=fmtp:{pt} "
        at = next((i for i, line in enumerate(lines) if line.startswith(prefix)), None)
        if at is None:
            lines.append(prefix + "useinbandfec=1")
        elif "useinbandfec=" not in lines[at]:
            lines[at] += ";useinbandfec=1"
    return _join_sections(sections)


RED_MIME = "red/48000/2"  # RFC 2198 audio redundancy over Opus (RFC 7587 clock)
_RED_PREFERRED_PT = 63  # Chromium's own choice; any free dynamic type would do


def offer_audio_red(offer: str) -> str:
    """Offer RFC 2198 redundancy for Opus in each audio section (``red/48000/2`` with the
    ``OPUS/OPUS`` format parameter, RFC 2198 §5, that libwebrtc requires), listed after
    Opus: the answerer may receive it, and Opus stays the default. aiortc does not model
    RED, so it is written here."""
    sections = _split_sections(offer)
    used = {
        line[9:].split()[0]
        for lines in sections[1:]
        for line in lines
        if line.startswith("a=rtpmap:")
    }
    free = [pt for pt in (_RED_PREFERRED_PT, *range(99, 128)) if str(pt) not in used]
    if not free:
        return offer
    red = str(free[0])
    for lines in sections[1:]:
        if not lines[0].startswith("m=audio"):
            continue
        opus = _opus_payload_type(lines)
        if opus is None or any(line.lower().endswith(" " + RED_MIME) for line in lines):
            continue
        lines[0] += " " + red
        at = max(i for i, line in enumerate(lines) if line.startswith("a=rtpmap:"))
        lines[at + 1 : at + 1] = [f"a=rtpmap:{red} {RED_MIME}", f"a=fmtp:{red} {opus}/{opus}"]
    return _join_sections(sections)


def answered_audio_red(answer: str) -> dict[str, int]:
    """Per audio mid, the payload type of RED the answer accepted over its Opus (the
    fmtp must name the section's Opus type twice, as offered); sections without it are
    absent."""
    out: dict[str, int] = {}
    for lines in _split_sections(answer)[1:]:
        if not lines[0].startswith("m=audio"):
            continue
        mid = next((line[6:].strip() for line in lines if line.startswith("a=mid:")), None)
        opus = _opus_payload_type(lines)
        red = next(
            (
                line[9:].split()[0]
                for line in lines
                if line.startswith("a=rtpmap:") and line.lower().endswith(" " + RED_MIME)
            ),
            None,
        )
        if mid is None or opus is None or red is None or not red.isdigit():
            continue
        fmtp = next((line for line in lines if line.startswith(f"a=fmtp:{red} ")), "")
        if fmtp.split(" ", 1)[-1].strip() == f"{opus}/{opus}":
            out[mid] = int(red)
    return out


def _opus_payload_type(lines: list[str]) -> str | None:
    return next(
        (
            line[9:].split()[0]
            for line in lines
            if line.startswith("a=rtpmap:") and line.lower().endswith(" opus/48000/2")
        ),
        None,
    )
