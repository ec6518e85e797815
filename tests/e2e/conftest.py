"""Fixtures for end-to-end tests: namespaces, processes in them, Chromium, media files."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from bench.harness.browser import CHROMIUM, BrowserHandle, launch_in_netns
from bench.harness.media import MediaFiles, MediaToolMissing, make_media_files

from .netns import (
    BridgeServer,
    NsProcess,
    create_netns,
    delete_netns,
    require_netns,
    skip_or_fail,
    start_bridge,
    start_process,
)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Keep each phase's report on the item so fixtures can tell, at teardown, if it failed.
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


def _failed(request: pytest.FixtureRequest) -> bool:
    node = request.node
    return any(getattr(getattr(node, f"rep_{w}", None), "failed", False) for w in ("setup", "call"))


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> MediaFiles:
    """A 640x360 30 fps y4m (testsrc2, 5 s) and a 48 kHz mono 440 Hz wav (5 s)."""
    try:
        return make_media_files(tmp_path_factory.mktemp("media"))
    except MediaToolMissing as exc:
        skip_or_fail(str(exc))
        raise AssertionError("unreachable") from exc


@pytest.fixture
def netns_factory() -> Iterator[Callable[[], str]]:
    """Make as many namespaces as a test needs (only `lo` up); all deleted at teardown."""
    require_netns()
    made: list[str] = []

    def make() -> str:
        name = create_netns()
        made.append(name)
        return name

    yield make
    for name in reversed(made):
        delete_netns(name)


@pytest.fixture
def netns(netns_factory: Callable[[], str]) -> str:
    """The name of a fresh namespace with only `lo` up (deleted, with its processes, after)."""
    return netns_factory()


@pytest.fixture
def jwt_secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def ns_process(
    request: pytest.FixtureRequest,
    netns_factory: Callable[[], str],
    tmp_path: Path,
) -> Iterator[Callable[..., NsProcess]]:
    """start(ns, argv, env=None, cwd=None, name=None) -> NsProcess; stopped at teardown."""
    procs: list[NsProcess] = []

    def start(
        ns: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        name: str | None = None,
    ) -> NsProcess:
        log = tmp_path / "logs" / f"{name or Path(argv[0]).name}-{len(procs)}.log"
        proc = start_process(ns, argv, log, env=env, cwd=cwd)
        procs.append(proc)
        return proc

    yield start
    for proc in reversed(procs):
        proc.stop()
    if _failed(request):
        for proc in procs:
            print(f"\n----- {' '.join(proc.argv)} (ns {proc.ns}), log {proc.log_path}")
            print(proc.log_tail(20000))


@pytest.fixture
async def bridge_server(
    request: pytest.FixtureRequest,
    netns_factory: Callable[[], str],
    jwt_secret: str,
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Awaitable[BridgeServer]]]:
    """await start(ns, port=8080, env=None, embedded_defaults=False, host="127.0.0.1") ->
    BridgeServer running `signaling serve` in ns (host "0.0.0.0": also on its veths).

    embedded_defaults=True runs plain `python -m signaling serve` (no --host/--port, port
    must be 8080) with no DIEMCAU_JWT_SECRET and no DIEMCAU_ICE_ADDRESSES, as a user gets it.
    """
    servers: list[BridgeServer] = []

    async def start(
        ns: str,
        port: int = 8080,
        env: Mapping[str, str] | None = None,
        embedded_defaults: bool = False,
        host: str = "127.0.0.1",
    ) -> BridgeServer:
        n = len(servers)
        log = tmp_path / "logs" / f"bridge-{n}.log"
        data_dir = tmp_path / f"bridge-data-{n}"
        # On failure the AssertionError carries the server's log tail.
        if embedded_defaults:
            server = await start_bridge(
                ns, port, dict(env or {}), log_path=log, data_dir=data_dir, embedded_defaults=True
            )
        else:
            full_env = {"DIEMCAU_JWT_SECRET": jwt_secret, **(env or {})}
            server = await start_bridge(
                ns, port, full_env, log_path=log, data_dir=data_dir, host=host
            )
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()
    if _failed(request):
        for server in servers:
            print(f"\n----- bridge {server.url} (ns {server.ns}), log {server.process.log_path}")
            print(server.process.log_tail(40000))


@pytest.fixture
async def pw() -> AsyncIterator[Any]:
    """A started async Playwright (drives Debian's Chromium; never `playwright install`)."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        yield p


@pytest.fixture
async def launch_browser(
    request: pytest.FixtureRequest,
    pw: Any,
    netns_factory: Callable[[], str],
    media_files: MediaFiles,
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Awaitable[BrowserHandle]]]:
    """await launch(ns, extra_args=(), allow_loopback=True) -> BrowserHandle: Chromium inside
    ns, fake cam/mic; allow_loopback=False leaves out --allow-loopback-in-peer-connection."""
    handles: list[BrowserHandle] = []

    async def launch(
        ns: str, extra_args: Sequence[str] = (), allow_loopback: bool = True
    ) -> BrowserHandle:
        handle = await launch_in_netns(
            pw,
            ns,
            tmp_path / "wrappers",
            media_files,
            extra_args=extra_args,
            allow_loopback=allow_loopback,
        )
        handles.append(handle)
        return handle

    yield launch
    if _failed(request):
        for i, h in enumerate(handles):
            print(f"\n----- browser {i} (ns {h.ns}) console:\n{h.console_tail(60)}")
    for h in reversed(handles):
        await h.close()
