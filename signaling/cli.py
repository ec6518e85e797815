"""The `diemcau` command: serve the bridge, mint join links, manage meetings (admin API)."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .app import create_app
from .auth import ROLES, ascii_slug, make_token
from .meetings.client import AdminClient, ApiRefused, Unreachable
from .settings import Settings, SettingsError, settings_from_env
from .workers import create_front


def join_link(
    settings: Settings, room: str, name: str, role: str, identity: str | None = None
) -> str:
    token = make_token(
        settings.jwt_secret,
        room=room,
        identity=identity or f"{ascii_slug(name)}-{secrets.token_hex(3)}",
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
    print(
        f"  admin API: {settings.base_url}/api/v1/openapi.json (key: DIEMCAU_ADMIN_KEY or "
        f"{settings.data_dir / 'admin-key'}); diemcau meeting --help",
        flush=True,
    )
    if settings.workers > 1:
        print(f"  {settings.workers} worker processes; rooms placed by name", flush=True)
        app = create_front(settings)
    else:
        app = create_app(settings)
    web.run_app(app, host=settings.host, port=settings.port, print=None)


ADMIN_COMMANDS = ("meeting", "sites", "invitation", "attendance")


def _add_admin_parsers(sub: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url", help="the bridge (default: DIEMCAU_PUBLIC_URL or http://HOST:PORT)"
    )
    meeting = sub.add_parser("meeting", help="create, list, show and end meetings")
    msub = meeting.add_subparsers(dest="action", required=True)
    create = msub.add_parser("create", parents=[common], help="create a meeting; prints its id")
    create.add_argument("--title", required=True)
    create.add_argument(
        "--starts-at", help="ISO 8601 with a UTC offset, e.g. 2026-06-01T08:00+07:00"
    )
    create.add_argument("--lobby", action="store_true", help="sites wait in a lobby")
    create.add_argument("--max-sites", type=int)
    create.add_argument(
        "--host-may-unmute", action="store_true", help="the host may open a site's mic directly"
    )
    create.add_argument(
        "--mics-open", action="store_true", help="do not mute mics on entry (default: muted)"
    )
    msub.add_parser("list", parents=[common], help="list meetings")
    show = msub.add_parser("show", parents=[common], help="show a meeting (JSON)")
    show.add_argument("meeting_id", metavar="ID")
    end = msub.add_parser("end", parents=[common], help="end a meeting for everyone")
    end.add_argument("meeting_id", metavar="ID")
    sites = sub.add_parser("sites", help="import the sites of a meeting")
    ssub = sites.add_subparsers(dest="action", required=True)
    imp = ssub.add_parser(
        "import", parents=[common], help="import a CSV (name,district,contact) of sites"
    )
    imp.add_argument("meeting_id", metavar="ID")
    imp.add_argument("csv_file", metavar="FILE.csv", type=Path)
    imp.add_argument(
        "--links-out", type=Path, help="write name,district,link per site here (default: stdout)"
    )
    invitation = sub.add_parser("invitation", help="revoke invitations")
    isub = invitation.add_subparsers(dest="action", required=True)
    revoke = isub.add_parser("revoke", parents=[common], help="revoke one invitation link")
    revoke.add_argument("meeting_id", metavar="ID")
    revoke.add_argument("invitation_id", metavar="INV")
    attendance = sub.add_parser(
        "attendance", parents=[common], help="the attendance CSV of a meeting"
    )
    attendance.add_argument("meeting_id", metavar="ID")
    attendance.add_argument("--out", type=Path, help="write the CSV here (default: stdout)")
    attendance.set_defaults(action="export")


def _write_links(invitations: list[dict[str, Any]], out: Any) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "district", "link"])
    for inv in invitations:
        writer.writerow([inv["site_name"], inv["district"], inv["link"]])


def _admin(args: argparse.Namespace, settings: Settings) -> int:
    client = AdminClient(args.url or settings.base_url, settings.admin_key)
    try:
        return _admin_action(args, client)
    except ApiRefused as exc:
        print(f"diemcau: refused ({exc.status} {exc.code}): {exc.message}", file=sys.stderr)
        return 1
    except Unreachable as exc:
        print(f"diemcau: {exc}", file=sys.stderr)
        return 3


def _admin_action(args: argparse.Namespace, client: AdminClient) -> int:
    match (args.command, args.action):
        case ("meeting", "create"):
            policy: dict[str, Any] = {"lobby": args.lobby}
            if args.max_sites is not None:
                policy["max_sites"] = args.max_sites
            if args.host_may_unmute:
                policy["host_may_unmute"] = True
            if args.mics_open:
                policy["mics_muted_on_entry"] = False
            body: dict[str, Any] = {"title": args.title, "policy": policy}
            if args.starts_at:
                body["starts_at"] = args.starts_at
            print(client.create_meeting(body)["id"])
        case ("meeting", "list"):
            for m in client.list_meetings():
                print(f"{m['id']}\t{m['status']}\t{m['starts_at'] or '-'}\t{m['title']}")
        case ("meeting", "show"):
            print(json.dumps(client.show_meeting(args.meeting_id), ensure_ascii=False, indent=2))
        case ("meeting", "end"):
            meeting = client.end_meeting(args.meeting_id)
            print(f"meeting {meeting['id']} ended")
        case ("sites", "import"):
            try:
                data = args.csv_file.read_bytes()
            except OSError as exc:
                print(f"diemcau: cannot read {args.csv_file}: {exc.strerror}", file=sys.stderr)
                return 2
            result = client.import_sites(args.meeting_id, data)
            if args.links_out is None:
                _write_links(result["invitations"], sys.stdout)
            else:
                with args.links_out.open("w", encoding="utf-8", newline="") as out:
                    _write_links(result["invitations"], out)
                print(
                    f"imported {len(result['sites'])} sites; links written to {args.links_out}",
                    file=sys.stderr,
                )
        case ("invitation", "revoke"):
            inv = client.revoke_invitation(args.meeting_id, args.invitation_id)
            print(f"invitation {inv['id']} ({inv['site_name']}) revoked")
        case ("attendance", "export"):
            report = client.attendance_csv(args.meeting_id)
            if args.out is None:
                sys.stdout.write(report.decode("utf-8"))
            else:
                args.out.write_bytes(report)
                print(f"attendance written to {args.out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="diemcau", description="diemcau video bridge")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the bridge (in memory, no Redis)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--room", default="hop-tinh", help="room for the printed links")
    serve.add_argument(
        "--workers", type=int, help="bridge processes, rooms placed across them (DIEMCAU_WORKERS)"
    )
    link = sub.add_parser("link", help="print a join link")
    link.add_argument("--room", required=True)
    link.add_argument("--name", required=True)
    link.add_argument("--role", choices=ROLES, default="participant")
    link.add_argument("--identity")
    _add_admin_parsers(sub)
    args = parser.parse_args(argv)
    try:
        settings = settings_from_env(
            os.environ,
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            workers=getattr(args, "workers", None),
        )
    except SettingsError as exc:
        print(f"diemcau: {exc}", file=sys.stderr)
        return 2
    if args.command in ADMIN_COMMANDS:
        return _admin(args, settings)
    if args.command == "serve":
        _serve(settings, args.room)
    else:
        print(join_link(settings, args.room, args.name, args.role, args.identity))
    return 0
