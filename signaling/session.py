"""One participant's WebSocket: join, then messages in, events out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bridge.media.downlink import TileView
from bridge.media.errors import PublishForbidden, SdpRejected
from bridge.media.events import ConnectionChanged, Replaced, RoomEvent
from bridge.media.participant import Participant
from bridge.media.room import Room, RoomFull
from bridge.media.rooms import RoomRegistry

from .auth import AuthError, participant_id, verify_token
from .meetings.invitations import INVITATION_CLOSE_CODES, check_invitation
from .meetings.store import MeetingStore
from .protocol import (
    PROTOCOL_VERSION,
    REQUEST_TYPES,
    ClientMessage,
    Join,
    Leave,
    Mute,
    Ping,
    ProtocolError,
    Publish,
    Quality,
    SubscribeAnswer,
    View,
    error_message,
    event_message,
    parse_client_message,
    participant_json,
)
from .settings import Settings

log = logging.getLogger("diemcau.session")

OUTBOX_LIMIT = 1000
CLOSE_FOR = {
    "unsupported_version": 4400,
    "not_joined": 4400,
    "token_invalid": 4401,
    "token_expired": 4401,
    "token_wrong_room": 4403,
    "join_timeout": 4408,
    "replaced": 4409,
    "room_full": 4429,
    "too_large": WSCloseCode.MESSAGE_TOO_BIG,
    **INVITATION_CLOSE_CODES,
}


@dataclass
class SignalingCounters:
    rejected: dict[str, int] = field(default_factory=dict)

    def reject(self, code: str) -> None:
        self.rejected[code] = self.rejected.get(code, 0) + 1


class Session:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        room_name: str,
        registry: RoomRegistry,
        settings: Settings,
        counters: SignalingCounters,
        meetings: MeetingStore,
    ):
        self._ws = ws
        self._room_name = room_name
        self._registry = registry
        self._settings = settings
        self._counters = counters
        self._meetings = meetings
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._room: Room | None = None
        self._participant: Participant | None = None
        self._close_code: int | None = None

    async def run(self) -> None:
        writer = asyncio.create_task(self._write())
        try:
            await self._serve()
        finally:
            await self._leave()
            self._outbox.put_nowait(None)
            await writer
            await self._ws.close(code=self._close_code or WSCloseCode.OK)

    async def _serve(self) -> None:
        try:
            async with asyncio.timeout(self._settings.join_timeout_s):
                msg = await self._ws.receive()
                if not await self._handle_frame(msg, expect_join=True):
                    return
        except TimeoutError:
            self._fail("join_timeout", "no join message in time")
            return
        async for msg in self._ws:
            if not await self._handle_frame(msg, expect_join=False):
                return

    async def _handle_frame(self, msg: Any, *, expect_join: bool) -> bool:
        """Handle one frame; False ends the session."""
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            return False
        if msg.type == WSMsgType.ERROR:
            self._fail("too_large", f"frame refused: {self._ws.exception()}")
            return False
        if msg.type != WSMsgType.TEXT:
            self._refuse("bad_json", "binary frames are not accepted")
            return True
        message: ClientMessage | None = None
        try:
            message = parse_client_message(msg.data)
            if expect_join and not isinstance(message, Join):
                raise ProtocolError("not_joined", "the first message must be join")
            if not expect_join and isinstance(message, Join):
                raise ProtocolError("already_joined", "this socket has joined already")
            return await self._dispatch(message)
        except ProtocolError as exc:
            request = REQUEST_TYPES[type(message)] if message is not None else None
            if exc.code in CLOSE_FOR or expect_join:
                # nothing but a valid join opens a session
                self._fail(exc.code, exc.reason)
                return False
            self._refuse(exc.code, exc.reason, request)
            return True
        except Exception:
            # a bug must cost this one request, never the room or the socket
            log.exception("internal error handling %s", msg.data[:80])
            self._refuse("internal", "internal error; the request was not applied")
            return not expect_join

    async def _dispatch(self, message: Any) -> bool:
        match message:
            case Join():
                return await self._join(message)
            case Publish(sdp=sdp):
                await self._publish(sdp)
            case SubscribeAnswer(sdp=sdp, rev=rev):
                await self._answer(sdp, rev)
            case Mute(kind=kind, muted=muted):
                assert self._room is not None and self._participant is not None
                self._room.set_muted(self._participant, kind, muted)
            case View(tiles=tiles):
                assert self._participant is not None
                self._participant.set_views(
                    {t.participant_id: TileView(t.visible, t.height) for t in tiles}
                )
            case Quality(audio_only=audio_only, max_kbps=max_kbps):
                assert self._participant is not None
                self._participant.set_quality(audio_only, max_kbps)
            case Ping():
                self._send({"type": "pong"})
            case Leave():
                return False
        return True

    async def _join(self, join: Join) -> bool:
        if join.v != PROTOCOL_VERSION:
            raise ProtocolError("unsupported_version", f"protocol version {join.v} is not 1")
        try:
            grant = verify_token(join.token, self._settings.jwt_secret, room=self._room_name)
            await check_invitation(self._meetings, grant)
        except AuthError as exc:
            raise ProtocolError(exc.code, exc.reason) from exc
        room = self._registry.get_or_create(grant.room)
        try:
            self._participant = await room.join(
                participant_id(grant.identity), join.name or grant.name, grant.role, self._on_event
            )
        except RoomFull as exc:
            raise ProtocolError("room_full", str(exc)) from exc
        self._room = room
        log.info("join room=%s identity=%s role=%s", grant.room, grant.identity, grant.role)
        self._send(
            {
                "type": "joined",
                "v": PROTOCOL_VERSION,
                "room": grant.room,
                "self": participant_json(self._participant.info()),
                "participants": [
                    participant_json(p.info())
                    for p in room.participants.values()
                    if p is not self._participant
                ],
                "ice_servers": [{"urls": url} for url in self._settings.ice_servers],
            }
        )
        return True

    async def _publish(self, sdp: str) -> None:
        assert self._participant is not None
        try:
            answer = await self._participant.publish(sdp)
        except SdpRejected as exc:
            self._registry.metrics.sdp_rejected["publish"] += 1
            raise ProtocolError("bad_sdp", str(exc)) from exc
        except PublishForbidden as exc:
            raise ProtocolError("forbidden", str(exc)) from exc
        self._send({"type": "publish_answer", "sdp": answer})

    async def _answer(self, sdp: str, rev: int) -> None:
        assert self._participant is not None
        try:
            accepted = await self._participant.accept_subscribe_answer(sdp, rev)
        except SdpRejected as exc:
            self._registry.metrics.sdp_rejected["subscribe_answer"] += 1
            raise ProtocolError("bad_sdp", str(exc)) from exc
        if not accepted:
            raise ProtocolError("stale_answer", f"no outstanding offer with rev {rev}")

    def _on_event(self, event: RoomEvent) -> None:
        if isinstance(event, Replaced):
            self._fail("replaced", "the same identity joined from another connection")
            self._participant = None
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().create_task(self._ws.close(code=4409))
            return
        if isinstance(event, ConnectionChanged):
            log.info(
                "pc %s %s %s", self._participant and self._participant.id, event.pc, event.state
            )
            return
        message = event_message(event)
        if message is not None:
            self._send(message)

    def _send(self, message: dict[str, Any]) -> None:
        if self._outbox.qsize() >= OUTBOX_LIMIT:
            # a client that stops reading must not grow the bridge's memory
            self._close_code = WSCloseCode.POLICY_VIOLATION
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().create_task(self._ws.close(code=self._close_code))
            return
        self._outbox.put_nowait(message)

    def _refuse(self, code: str, reason: str, request: str | None = None) -> None:
        self._counters.reject(code)
        self._send(error_message(code, reason, request))

    def _fail(self, code: str, reason: str) -> None:
        self._refuse(code, reason)
        self._close_code = CLOSE_FOR.get(code, 4400)

    async def _write(self) -> None:
        while (message := await self._outbox.get()) is not None:
            if self._ws.closed:
                continue
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._ws.send_str(json.dumps(message, ensure_ascii=False))

    async def _leave(self) -> None:
        if self._room is not None and self._participant is not None:
            await self._room.leave(self._participant)
            self._participant = None
