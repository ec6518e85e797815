"""RoomRegistry: the rooms of one bridge process."""

from __future__ import annotations

import random

from bridge.metrics import BridgeMetrics

from .consumer import Clock
from .peer import PeerFactory
from .room import Room
from .settings import MediaSettings


class RoomRegistry:
    def __init__(
        self,
        *,
        peers: PeerFactory,
        clock: Clock,
        settings: MediaSettings | None = None,
        rng: random.Random | None = None,
    ):
        self.metrics = BridgeMetrics()
        self.rooms: dict[str, Room] = {}
        self._peers = peers
        self._clock = clock
        self._settings = settings or MediaSettings()
        self._rng = rng or random.Random()

    def get_or_create(self, name: str) -> Room:
        room = self.rooms.get(name)
        if room is None:
            room = Room(
                name,
                peers=self._peers,
                clock=self._clock,
                metrics=self.metrics,
                settings=self._settings,
                rng=self._rng,
                on_empty=self._forget,
            )
            self.rooms[name] = room
        return room

    def _forget(self, room: Room) -> None:
        if self.rooms.get(room.name) is room and not room.participants:
            del self.rooms[room.name]

    async def close(self) -> None:
        for room in list(self.rooms.values()):
            for participant in list(room.participants.values()):
                await room.leave(participant)
