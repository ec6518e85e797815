"""Room: one meeting, its participants and the producer -> consumers fan-out."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection

from bridge.metrics import BridgeMetrics

from .consumer import Clock
from .events import (
    EventListener,
    MuteChanged,
    ParticipantJoined,
    ParticipantLeft,
    Replaced,
    RoomEvent,
    TrackPublished,
)
from .participant import Participant
from .peer import Kind, PeerFactory
from .producer import Producer
from .settings import MediaSettings


class RoomFull(Exception):
    """The room already holds its maximum number of participants."""


class Room:
    def __init__(
        self,
        name: str,
        *,
        peers: PeerFactory,
        clock: Clock,
        metrics: BridgeMetrics,
        settings: MediaSettings,
        rng: random.Random,
        on_empty: Callable[[Room], None],
    ):
        self.name = name
        self.participants: dict[str, Participant] = {}
        self._peers = peers
        self._clock = clock
        self._metrics = metrics
        self._settings = settings
        self._rng = rng
        self._on_empty = on_empty

    async def join(
        self,
        identity: str,
        name: str,
        role: str,
        listener: EventListener,
        *,
        muted: Collection[Kind] = (),
    ) -> Participant:
        """Add a participant; a second join of the same identity replaces the first.

        `muted` kinds start muted, so nobody ever sees them open (mics muted on entry)."""
        previous = self.participants.get(identity)
        if previous is not None:
            previous.listener(Replaced())
            await self.leave(previous, notify_empty=False)
        limit = self._settings.max_participants
        if len(self.participants) >= limit:
            raise RoomFull(f"room {self.name} has {limit} participants")
        participant = Participant(
            id=identity,
            name=name,
            role=role,
            listener=listener,
            peers=self._peers,
            clock=self._clock,
            metrics=self._metrics,
            rng=self._rng,
            adaptive_bitrate=self._settings.adaptive_bitrate,
            fanout_lanes=self._settings.fanout_lanes,
            on_published=self._published,
        )
        for kind in muted:
            participant.set_muted(kind, True)
        self._broadcast(ParticipantJoined(participant.info()), exclude=identity)
        self.participants[identity] = participant
        for other in self.participants.values():
            if other is not participant:
                for producer in other.producers.values():
                    participant.subscribe(producer)
        return participant

    def _published(self, publisher: Participant, producer: Producer) -> None:
        self._broadcast(TrackPublished(publisher.id, producer.kind), exclude=publisher.id)
        for other in self.participants.values():
            if other is not publisher:
                other.subscribe(producer)

    def set_muted(self, participant: Participant, kind: Kind, muted: bool) -> None:
        participant.set_muted(kind, muted)
        self._broadcast(MuteChanged(participant.id, kind, muted), exclude=None)

    async def leave(self, participant: Participant, *, notify_empty: bool = True) -> None:
        if self.participants.get(participant.id) is not participant:
            return
        del self.participants[participant.id]
        for producer in participant.producers.values():
            for other in self.participants.values():
                other.unsubscribe(producer)
        await participant.close()
        self._broadcast(ParticipantLeft(participant.id), exclude=None)
        if notify_empty and not self.participants:
            self._on_empty(self)

    def _broadcast(self, event: RoomEvent, exclude: str | None) -> None:
        for participant in list(self.participants.values()):
            if participant.id != exclude:
                participant.listener(event)
