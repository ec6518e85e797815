"""Synthetic sites for integration tests: bench.load's Site, recording every packet it
receives so tests can compare payloads, sequence numbers and timestamps."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import aiohttp

from bench.load import site
from bridge.rtp.header import parse_rtp_header
from bridge.rtp.rtcp import SenderReport, parse_rtcp


@dataclass
class Received:
    """Forwarded RTP a site received, per SSRC: (seq, timestamp, marker, payload)."""

    packets: dict[int, list[tuple[int, int, bool, bytes]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    sender_reports: list[SenderReport] = field(default_factory=list)

    def on_rtp(self, data: bytes, arrival_ms: int) -> None:
        header = parse_rtp_header(data)
        self.packets[header.ssrc].append(
            (
                header.sequence_number,
                header.timestamp,
                header.marker,
                data[header.payload_offset : header.payload_end],
            )
        )

    def on_rtcp(self, data: bytes) -> None:
        self.sender_reports.extend(p for p in parse_rtcp(data) if isinstance(p, SenderReport))


class Site(site.Site[Received]):
    """One synthetic participant that records what it receives."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, room: str, token: str):
        super().__init__(session, base_url, room, token, Received())

    def received_for(self, participant_id: str, kind: str) -> list[tuple[int, int, bool, bytes]]:
        """Forwarded packets of one remote participant's track (mapped by the offer's SSRCs)."""
        out: list[tuple[int, int, bool, bytes]] = []
        for track in self.tracks:
            if (
                track.kind == kind
                and track.ssrc is not None
                and track.mid in self._mids_of(participant_id)
            ):
                out.extend(self.received.packets.get(track.ssrc, []))
        return out

    def _mids_of(self, participant_id: str) -> set[str]:
        offers = [m for m in self.messages if m["type"] == "subscribe_offer"]
        if not offers:
            return set()
        mids: set[str] = set()
        current: str | None = None
        for line in offers[-1]["sdp"].splitlines():
            if line.startswith("a=mid:"):
                current = line[6:]
            elif (
                line.startswith("a=msid:")
                and current is not None
                and line[7:].split(" ")[0] == participant_id
            ):
                mids.add(current)
        return mids
