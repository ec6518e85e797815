"""The web client's files, gzip-compressed and revalidated by ETag.

A commune on the edge profile (96 kbit/s) waited 16.6-18.5 s for the page to be usable
when the client's ~177 kB went out uncompressed (bench.weaklink.pageload). Each file is
compressed once, on its first request and again after it changes on disk (its size and
mtime are checked per request), and sent compressed to every browser that accepts gzip
(RFC 9110 §8.4, §12.5.3). ``Cache-Control: no-cache`` with a strong ETag (RFC 9110
§8.8.3) makes a returning browser ask before using its copy, and the answer is a bodyless
304 (RFC 9110 §15.4.5) unless the file changed: an upgraded bridge never runs an old
client, and a rejoin over a weak link costs round trips, not bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

# The client's folders are flat: a name is one path segment, no dot-files.
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_TYPES = {".js": "text/javascript", ".json": "application/json"}


@dataclass(frozen=True, slots=True)
class _Entry:
    stamp: tuple[int, int]  # (mtime_ns, size) of the file this was made from
    body: bytes
    gzipped: bytes
    digest: str  # of the plain bytes: the entity tags' opaque part
    content_type: str
    charset: str | None


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value (RFC 9110 §12.5.3) allows gzip: named (or ``*``)
    without q=0."""
    allowed: dict[str, bool] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        q = params.strip().replace(" ", "")
        allowed[coding.strip().lower()] = not re.fullmatch(r"q=0(\.0{0,3})?", q)
    if "gzip" in allowed:
        return allowed["gzip"]
    return allowed.get("*", False)


def etag_matches(if_none_match: str, etags: tuple[str, ...]) -> bool:
    """RFC 9110 §13.1.2: a weak comparison of a list of entity tags (or ``*``) with any
    of ``etags``."""
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or any(etag in tags for etag in etags)


class StaticFiles:
    """Serves the files of ``root``'s folders (and ``root/index.html`` at ``/``)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._entries: dict[Path, _Entry] = {}

    def add_routes(self, router: web.UrlDispatcher, folders: tuple[str, ...]) -> None:
        router.add_get("/", self._index)
        for folder in folders:
            router.add_get(f"/{folder}/{{name}}", self._file)

    async def _index(self, request: web.Request) -> web.Response:
        return self.respond(request, self._root / "index.html")

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if not _NAME.fullmatch(name):
            raise web.HTTPNotFound()
        folder = request.path.split("/")[1]
        return self.respond(request, self._root / folder / name)

    def respond(self, request: web.Request, path: Path) -> web.Response:
        entry = self._entry(path)
        if entry is None:
            raise web.HTTPNotFound()
        # Each coding is a representation of its own, with its own strong tag (RFC 9110
        # §8.8.3); both stand for the same bytes, so a copy in either is still good.
        gzipped = accepts_gzip(request.headers.get("Accept-Encoding", ""))
        plain_tag = f'"{entry.digest}"'
        gzip_tag = f'"{entry.digest}-gz"'
        headers = {
            "ETag": gzip_tag if gzipped else plain_tag,
            "Cache-Control": "no-cache",
            "Vary": "Accept-Encoding",
        }
        if etag_matches(request.headers.get("If-None-Match", ""), (plain_tag, gzip_tag)):
            return web.Response(status=304, headers=headers)
        body = entry.body
        if gzipped:
            body = entry.gzipped
            headers["Content-Encoding"] = "gzip"
        return web.Response(
            body=body, headers=headers, content_type=entry.content_type, charset=entry.charset
        )

    def _entry(self, path: Path) -> _Entry | None:
        try:
            st = path.stat()
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        entry = self._entries.get(path)
        if entry is None or entry.stamp != stamp:
            body = path.read_bytes()
            content_type = _TYPES.get(path.suffix) or (
                mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            )
            entry = _Entry(
                stamp=stamp,
                body=body,
                gzipped=gzip.compress(body, compresslevel=9, mtime=0),
                digest=hashlib.sha256(body).hexdigest()[:32],
                content_type=content_type,
                # the client's text is UTF-8 (Vietnamese)
                charset="utf-8"
                if content_type.startswith("text/") or path.suffix == ".json"
                else None,
            )
            self._entries[path] = entry
        return entry
