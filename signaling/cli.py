"""The `diemcau` command: serve the bridge, mint join links."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from urllib.parse import urlencode

from aiohttp import web

from .app import create_app
from .auth import ROLES, make_token
from .settings import Settings, SettingsError, settings_from_env


def join_link(
    settings: Settings, room: str, name: str, role: str, identity: str | None = None
) -> str:
    token = make_token(
        settings.jwt_secret,
        room=room,
        identity=identity or f"{name}-{secrets.token_hex(3)}",
        name=name,
        role=role,
    )
    return f"{settings.base_url}/?{urlencode({'room': room, 'token': token})}"


def _serve(settings: Settings, room: str) -> None:
    logging.basicConfig(
        level=os.environ.get("DIEMCAU_LOG_LEVEL", "INFO"),
        format='{"t":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","msg":"%(message)s"}',
    )
    print(f"diemcau: serving on {settings.base_url}", flush=True)
    print(
        f"  join link (room {room}): {join_link(settings, room, 'Điểm cầu', 'participant')}",
        flush=True,
    )
    print(f"  host link (room {room}): {join_link(settings, room, 'Chủ trì', 'host')}", flush=True)
    print(
        "  more links: diemcau link --room ROOM --name NAME [--role host|participant|viewer]",
        flush=True,
    )
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="diemcau", description="diemcau video bridge")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the bridge (in memory, no Redis)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--room", default="hop-tinh", help="room for the printed links")
    link = sub.add_parser("link", help="print a join link")
    link.add_argument("--room", required=True)
    link.add_argument("--name", required=True)
    link.add_argument("--role", choices=ROLES, default="participant")
    link.add_argument("--identity")
    args = parser.parse_args(argv)
    try:
        settings = settings_from_env(
            os.environ, host=getattr(args, "host", None), port=getattr(args, "port", None)
        )
    except SettingsError as exc:
        print(f"diemcau: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        _serve(settings, args.room)
    else:
        print(join_link(settings, args.room, args.name, args.role, args.identity))
    return 0
