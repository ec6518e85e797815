"""The web client over HTTP: gzip when accepted, 304 on a matching ETag, nothing outside
the client's folders."""

from __future__ import annotations

import gzip
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from signaling.app import create_app
from signaling.static_files import accepts_gzip, etag_matches

from .conftest import loopback_settings

WEB = Path(__file__).resolve().parents[2] / "web"


@pytest.fixture
async def web_copy(tmp_path: Path) -> AsyncIterator[tuple[TestServer, Path]]:
    """A bridge serving a copy of web/ that a test may change."""
    web_dir = tmp_path / "web"
    shutil.copytree(WEB, web_dir)
    srv = TestServer(
        create_app(loopback_settings(tmp_path / "data", web_dir=web_dir)), host="127.0.0.1"
    )
    await srv.start_server()
    yield srv, web_dir
    await srv.close()


async def _get(
    http: aiohttp.ClientSession, srv: TestServer, path: str, **headers: str
) -> tuple[int, CIMultiDict[str], bytes]:
    # auto_decompress off: the test sees the bytes on the wire
    async with http.get(srv.make_url(path), headers=headers, auto_decompress=False) as resp:
        return resp.status, resp.headers.copy(), await resp.read()


@pytest.mark.parametrize("path", ["/", "/js/app.js", "/css/style.css", "/locales/vi.json"])
async def test_files_are_gzipped_when_accepted_and_plain_otherwise(
    web_copy: tuple[TestServer, Path], http: aiohttp.ClientSession, path: str
) -> None:
    srv, web_dir = web_copy
    on_disk = (web_dir / (path.lstrip("/") or "index.html")).read_bytes()

    status, headers, body = await _get(http, srv, path, **{"Accept-Encoding": "gzip, br"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == on_disk
    assert len(body) < len(on_disk) / 2, "text should compress well"
    assert "charset=utf-8" in headers["Content-Type"]

    status, headers, body = await _get(http, srv, path, **{"Accept-Encoding": "identity"})
    assert status == 200
    assert "Content-Encoding" not in headers
    assert body == on_disk


async def test_types(web_copy: tuple[TestServer, Path], http: aiohttp.ClientSession) -> None:
    srv, _ = web_copy
    for path, wanted in [
        ("/", "text/html"),
        ("/js/app.js", "text/javascript"),
        ("/css/style.css", "text/css"),
        ("/locales/en.json", "application/json"),
    ]:
        _, headers, _ = await _get(http, srv, path)
        assert headers["Content-Type"].split(";")[0] == wanted, path


async def test_a_matching_etag_gets_304_until_the_file_changes(
    web_copy: tuple[TestServer, Path], http: aiohttp.ClientSession
) -> None:
    srv, web_dir = web_copy
    _, headers, _ = await _get(http, srv, "/js/app.js", **{"Accept-Encoding": "identity"})
    plain_etag = headers["ETag"]
    status, headers, _ = await _get(http, srv, "/js/app.js", **{"Accept-Encoding": "gzip"})
    etag = headers["ETag"]
    assert etag != plain_etag  # another representation, another strong tag
    assert headers["Cache-Control"] == "no-cache"
    status, _, _ = await _get(http, srv, "/js/app.js", **{"If-None-Match": plain_etag})
    assert status == 304  # the same bytes, in either coding

    status, headers, body = await _get(http, srv, "/js/app.js", **{"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers["ETag"] == etag
    status, _, _ = await _get(http, srv, "/js/app.js", **{"If-None-Match": '"other", ' + etag})
    assert status == 304

    changed = web_dir / "js" / "app.js"
    changed.write_bytes(changed.read_bytes() + b"\n// changed\n")
    st = changed.stat()
    os.utime(changed, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    status, headers, body = await _get(
        http, srv, "/js/app.js", **{"If-None-Match": etag, "Accept-Encoding": "identity"}
    )
    assert status == 200
    assert headers["ETag"] != etag
    assert body.endswith(b"// changed\n")


@pytest.mark.parametrize(
    "path",
    [
        "/js/missing.js",
        "/js/..%2Fjs%2Fapp.js",
        "/js/.hidden",
        "/css/..%2F..%2Fpyproject.toml",
        "/locales/",
        "/web/index.html",
    ],
)
async def test_nothing_else_is_served(
    web_copy: tuple[TestServer, Path], http: aiohttp.ClientSession, path: str
) -> None:
    srv, web_dir = web_copy
    (web_dir / "js" / ".hidden").write_text("secret")
    status, _, body = await _get(http, srv, path)
    assert status == 404, body


@pytest.mark.parametrize(
    ("value", "gzip_ok"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),  # Chromium's
        ("GZIP;q=0.5", True),
        ("br, gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("*", True),
        ("*, gzip;q=0", False),
        ("*;q=0", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accepts_gzip(value: str, gzip_ok: bool) -> None:
    assert accepts_gzip(value) is gzip_ok


def test_etag_matches() -> None:
    assert etag_matches('"a"', ('"a"',))
    assert etag_matches('W/"a"', ('"a"',))
    assert etag_matches('"b", "a"', ('"a"',))
    assert etag_matches('"a-gz"', ('"a"', '"a-gz"'))
    assert etag_matches("*", ('"a"',))
    assert not etag_matches('"b"', ('"a"', '"a-gz"'))
    assert not etag_matches("", ('"a"',))


def test_index_preloads_exactly_the_modules_app_js_imports() -> None:
    """A module missing from the preloads costs a round trip per import level on a weak
    link; one preloaded that nothing imports costs its bytes."""
    imports = re.compile(r"""^import\s[^'"]*['"]\./([\w-]+\.js)['"]""", re.MULTILINE)
    graph: set[str] = set()
    todo = ["app.js"]
    while todo:
        module = todo.pop()
        for name in imports.findall((WEB / "js" / module).read_text()):
            if name not in graph:
                graph.add(name)
                todo.append(name)
    index = (WEB / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="js/([\w-]+\.js)">', index))
    assert graph and preloaded == graph
