"""One participant's WebSocket: join, then messages in, events out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bridge.media.downlink import TileView
from bridge.media.errors import PublishForbidden, SdpRejected
from bridge.media.events import ConnectionChanged, Replaced, RoomEvent
from bridge.media.participant import Participant
from bridge.media.peer import Kind
from bridge.media.room import Room, RoomFull
from bridge.media.rooms import RoomRegistry

from .auth import AuthError, Grant, participant_id, verify_token
from .control_protocol import is_control
from .counters import SignalingCounters
from .fields import ProtocolError
from .meeting_hub import LiveMeeting, MeetingHub
from .meetings.invitations import INVITATION_CLOSE_CODES, check_invitation
from .meetings.models import Meeting
from .meetings.store import MeetingStore
from .protocol import (
    PROTOCOL_VERSION,
    REQUEST_TYPES,
    ClientMessage,
    Join,
    Leave,
    Mute,
    Ping,
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
    "meeting_locked": 4423,
    "lobby_denied": 4403,
    "removed": 4403,
    **INVITATION_CLOSE_CODES,
}
_CLOSE = {"type": "_close"}  # outbox marker: close the socket once what precedes it is sent


class Session:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        room_name: str,
        registry: RoomRegistry,
        settings: Settings,
        counters: SignalingCounters,
        meetings: MeetingStore,
        hub: MeetingHub,
    ):
        self._ws = ws
        self._room_name = room_name
        self._registry = registry
        self._settings = settings
        self._counters = counters
        self._meetings = meetings
        self._hub = hub
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._room: Room | None = None
        self._participant: Participant | None = None
        self._close_code: int | None = None
        self._grant: Grant | None = None
        self._name = ""
        self._downlink_kbps: int | None = None  # the join's, applied on entering the room
        self._live: LiveMeeting | None = None
        self._entering: asyncio.Task[None] | None = None  # the join after a lobby admit
        self._ending = False

    # --- what the meeting hub sees (meeting_hub.Member) ------------------------------

    @property
    def participant_id(self) -> str:
        assert self._grant is not None
        return participant_id(self._grant.identity)

    @property
    def name(self) -> str:
        return self._name

    @property
    def role(self) -> str:
        assert self._grant is not None
        return self._grant.role

    @property
    def invitation_id(self) -> str | None:
        return self._grant.jti if self._grant is not None else None

    @property
    def site_id(self) -> str | None:
        grant = self._grant
        return grant.identity if grant is not None and grant.jti is not None else None

    def send(self, message: dict[str, Any]) -> None:
        self._send(message)

    def end(self, code: str, reason: str) -> None:
        if self._ending:
            return
        self._ending = True
        self._fail(code, reason)
        self._outbox.put_nowait(_CLOSE)

    def admit(self) -> None:
        self._entering = asyncio.get_running_loop().create_task(self._enter_from_lobby())

    # --- the socket ------------------------------------------------------------------

    async def run(self) -> None:
        writer = asyncio.create_task(self._write())
        try:
            await self._serve()
        finally:
            if self._entering is not None:
                await self._entering
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
            request = REQUEST_TYPES[type(message)] if message is not None else exc.request
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
        if self._ending:
            return False  # removed, replaced or ended: the socket is closing
        if self._participant is None and not isinstance(message, Join | Ping | Leave):
            raise ProtocolError("in_lobby", "this site waits in the lobby for the host")
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
            case _ if is_control(message):
                assert self._live is not None
                await self._hub.handle(self._live, self, message)
        return True

    async def _join(self, join: Join) -> bool:
        if join.v != PROTOCOL_VERSION:
            raise ProtocolError("unsupported_version", f"protocol version {join.v} is not 1")
        try:
            grant = verify_token(join.token, self._settings.jwt_secret, room=self._room_name)
            await check_invitation(self._meetings, grant)
        except AuthError as exc:
            raise ProtocolError(exc.code, exc.reason) from exc
        meeting = await self._meetings.get_meeting(grant.room)
        if meeting is not None and meeting.status == "ended":
            # ad-hoc links to a meeting's room stop with the meeting, as invitations do
            raise ProtocolError("meeting_ended", f"meeting {meeting.id!r} has ended")
        self._grant, self._name = grant, join.name or grant.name
        self._downlink_kbps = join.downlink_kbps
        live = self._hub.live(grant.room, meeting)
        match live.control.admission(self.participant_id, grant.role):
            case "revoked":
                raise ProtocolError("invitation_revoked", "the host removed this site")
            case "locked":
                raise ProtocolError("meeting_locked", "the meeting is locked")
            case "lobby":
                self._live = live
                self._send({"type": "lobby_waiting"})
                self._hub.wait(live, self)
                log.info("lobby room=%s identity=%s", grant.room, grant.identity)
                return True
        await self._enter(live, meeting)
        return True

    async def _enter_from_lobby(self) -> None:
        assert self._live is not None
        try:
            await self._enter(self._live, self._live.meeting)
        except ProtocolError as exc:
            self.end(exc.code, exc.reason)
        except Exception:
            # as in _handle_frame: a bug costs this join, never the socket's cleanup
            log.exception("internal error admitting %s", self.participant_id)
            self.end("internal", "internal error; the site could not join")

    async def _enter(self, live: LiveMeeting, meeting: Meeting | None) -> None:
        grant = self._grant
        assert grant is not None
        room = self._registry.get_or_create(grant.room)
        muted_on_entry = live.control.policy.mics_muted_on_entry and grant.role == "participant"
        muted: tuple[Kind, ...] = ("audio",) if muted_on_entry else ()
        try:
            self._participant = await room.join(
                self.participant_id,
                self._name,
                grant.role,
                self._on_event,
                muted=muted,
            )
        except RoomFull as exc:
            raise ProtocolError("room_full", str(exc)) from exc
        if self._downlink_kbps is not None:
            self._participant.on_link_hint(self._downlink_kbps)
        self._room, self._live = room, live
        log.info(
            "join room=%s identity=%s role=%s downlink_kbps=%s",
            grant.room,
            grant.identity,
            grant.role,
            self._downlink_kbps,
        )
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
                **self._hub.welcome(live, self),
            }
        )
        await self._hub.joined(live, self)

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
            self._participant = None
            self.end("replaced", "the same identity joined from another connection")
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
                if message is _CLOSE:
                    await self._ws.close(code=self._close_code or WSCloseCode.OK)
                else:
                    await self._ws.send_str(json.dumps(message, ensure_ascii=False))

    async def _leave(self) -> None:
        if self._room is not None and self._participant is not None:
            await self._room.leave(self._participant)
            self._participant = None
        if self._live is not None:
            await self._hub.left(self._live, self)
