"""Roll call: the sites expected, who answered, and each site's status from media facts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from bridge.media.health import MediaHealth

SiteStatus = Literal["absent", "poor_link", "present"]
# docs/protocol.md: connected but no media for 5 s or no RTCP for 10 s is a poor link
MEDIA_STALE_MS = 5_000
RTCP_STALE_MS = 10_000


@dataclass(frozen=True, slots=True)
class Presence:
    """When a participant first joined this meeting and last left (None while connected)."""

    first_joined_at: float  # Unix seconds
    last_left_at: float | None


@dataclass(frozen=True, slots=True)
class RosterSite:
    site_id: str
    name: str
    district: str
    participant_id: str  # the id the site has when it joins


@dataclass(frozen=True, slots=True)
class RollCallHeader:
    id: str
    open: bool
    started_at: float  # Unix seconds


@dataclass(frozen=True, slots=True)
class RollCallEntry:
    site: RosterSite
    connected: bool
    status: SiteStatus
    answered: bool
    presence: Presence | None


def link_status(health: MediaHealth, now_ms: int) -> SiteStatus:
    """The status of a connected site: present only with fresh media and RTCP, good link."""
    media, rtcp = health.last_media_ms, health.last_rtcp_ms
    if media is None or now_ms - media > MEDIA_STALE_MS:
        return "poor_link"
    if rtcp is None or now_ms - rtcp > RTCP_STALE_MS:
        return "poor_link"
    return "poor_link" if health.link_state == "weak" else "present"


class RollCall:
    def __init__(self, id: str, started_at: float, roster: Iterable[RosterSite]):
        self.id = id
        self.started_at = started_at
        self.open = True
        self._roster = {site.participant_id: site for site in roster}
        self._answered: set[str] = set()

    def header(self) -> RollCallHeader:
        return RollCallHeader(self.id, self.open, self.started_at)

    def site(self, participant_id: str) -> RosterSite | None:
        return self._roster.get(participant_id)

    def answer(self, participant_id: str, name: str) -> RosterSite:
        """Mark present; someone not on the roster (a late joiner) is added to it."""
        site = self._roster.setdefault(
            participant_id, RosterSite(participant_id, name, "", participant_id)
        )
        self._answered.add(participant_id)
        return site

    def entries(
        self,
        health: Mapping[str, MediaHealth],
        presence: Mapping[str, Presence],
        now_ms: int,
    ) -> tuple[RollCallEntry, ...]:
        """The grid in roster order; `health` holds exactly the connected participants."""
        rows = []
        for pid, site in self._roster.items():
            facts = health.get(pid)
            rows.append(
                RollCallEntry(
                    site=site,
                    connected=facts is not None,
                    status="absent" if facts is None else link_status(facts, now_ms),
                    answered=pid in self._answered,
                    presence=presence.get(pid),
                )
            )
        return tuple(rows)
