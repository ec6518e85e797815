"""aiohttp application factory: static client, WebSocket signaling, health and metrics."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from aiohttp import web

from bridge.aiortc_adapter import AdapterSettings, AiortcPeerFactory
from bridge.clock import monotonic_ms
from bridge.media.rooms import RoomRegistry
from bridge.media.settings import MediaSettings

from .admin_api import admin_api
from .counters import SignalingCounters
from .meeting_hub import MEETING_HUB, MeetingHub
from .meetings import MEETING_STORE, meeting_store_context
from .metrics import render
from .session import Session
from .settings import Settings
from .static_files import StaticFiles

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", RoomRegistry)
COUNTERS = web.AppKey("counters", SignalingCounters)
MAX_ROOM_NAME = 128


async def _websocket(request: web.Request) -> web.StreamResponse:
    app = request.app
    room = request.query.get("room", "")
    if not room or len(room) > MAX_ROOM_NAME:
        raise web.HTTPBadRequest(text="query parameter 'room' is required (at most 128 chars)")
    ws = web.WebSocketResponse(max_msg_size=64 * 1024, heartbeat=20)
    await ws.prepare(request)
    await Session(
        ws,
        room,
        app[REGISTRY],
        app[SETTINGS],
        app[COUNTERS],
        app[MEETING_STORE],
        app[MEETING_HUB],
    ).run()
    return ws


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "rooms": len(request.app[REGISTRY].rooms)})


async def _metrics(request: web.Request) -> web.Response:
    text = render(request.app[REGISTRY], request.app[COUNTERS])
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


async def _bridge(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    peers = AiortcPeerFactory(
        AdapterSettings(
            ice_addresses=settings.ice_addresses,
            ice_servers=settings.ice_servers,
            transport_cc=settings.transport_cc,
            probe_feedback=settings.probe_feedback,
        )
    )
    app[REGISTRY] = RoomRegistry(
        peers=peers,
        clock=monotonic_ms,
        settings=MediaSettings(
            max_participants=settings.max_participants,
            adaptive_bitrate=settings.adaptive_bitrate,
            fanout_lanes=settings.fanout_lanes,
        ),
    )
    yield
    await app[REGISTRY].close()


async def _meeting_hub(app: web.Application) -> AsyncIterator[None]:
    app[MEETING_HUB] = MeetingHub(
        app[REGISTRY], app[MEETING_STORE], app[COUNTERS], clock=monotonic_ms, wall=time.time
    )
    yield
    await app[MEETING_HUB].close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[COUNTERS] = SignalingCounters()
    app.cleanup_ctx.append(_bridge)
    app.cleanup_ctx.append(meeting_store_context(settings))
    app.cleanup_ctx.append(_meeting_hub)
    app.add_subapp("/api/v1", admin_api(settings, REGISTRY))
    app.router.add_get("/ws", _websocket)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    StaticFiles(settings.web_dir).add_routes(app.router, ("js", "css", "locales"))
    return app
