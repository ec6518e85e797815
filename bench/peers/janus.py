"""Janus 1.1.2 VideoRoom as a benchmark peer: install, configure, run, and its signaling.

- `ensure_janus()` installs the Debian package when it is missing (apt-get, as root).
- `write_config()` writes a config folder: janus.jcfg (optionally `event_loops = 1`), the
  HTTP transport on 127.0.0.1 of the namespace, the VideoRoom plugin only (plugin and
  transport folders are private folders of symlinks, so no other plugin loads), no STUN,
  no TURN, mDNS ignored, ICE only on the given interface.
- `janus_argv()` is the command line; bench.peers.compare runs it in a network namespace
  with a veth pair and pins it to one core.
- `JanusTarget` speaks the Janus HTTP API (sessions, handles, long poll, keepalives) for
  the synthetic clients of bench.peers.clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp

from .clients import Answerer

JANUS_LIB = Path("/usr/lib/x86_64-linux-gnu/janus")


def ensure_janus() -> str:
    """Install the `janus` Debian package if needed; return `janus --version`'s line."""
    installed = subprocess.run(["dpkg", "-s", "janus"], capture_output=True, text=True)
    if installed.returncode != 0 or "Status: install ok installed" not in installed.stdout:
        if os.geteuid() != 0:
            raise RuntimeError("janus is not installed and installing it needs root")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        lock = ["-o", "DPkg::Lock::Timeout=300"]
        subprocess.run(["apt-get", *lock, "update", "-q"], check=True, env=env)
        subprocess.run(
            ["apt-get", *lock, "install", "-y", "-q", "--no-install-recommends", "janus"],
            check=True,
            env=env,
        )
    out = subprocess.run(["janus", "--version"], capture_output=True, text=True).stdout
    return next((line for line in out.splitlines() if "version" in line.lower()), out.strip())


def _plugin_dir(root: Path, kind: str, names: list[str]) -> Path:
    folder = root / kind
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        source = JANUS_LIB / kind / name
        if not source.exists():
            raise RuntimeError(f"{source} missing: is the janus package installed?")
        (folder / name).symlink_to(source)
    return folder


def write_config(
    folder: Path, *, http_port: int, ice_interface: str, event_loops: int | None
) -> Path:
    """Write a Janus config folder; return it (pass to `janus_argv`)."""
    folder.mkdir(parents=True, exist_ok=True)
    plugins = _plugin_dir(folder, "plugins", ["libjanus_videoroom.so"])
    transports = _plugin_dir(folder, "transports", ["libjanus_http.so"])
    empty = folder / "none"
    empty.mkdir(exist_ok=True)
    loops = f"\tevent_loops = {event_loops}\n" if event_loops else ""
    (folder / "janus.jcfg").write_text(
        "general: {\n"
        f'\tconfigs_folder = "{folder}"\n'
        f'\tplugins_folder = "{plugins}"\n'
        f'\ttransports_folder = "{transports}"\n'
        f'\tevents_folder = "{empty}"\n'
        f'\tloggers_folder = "{empty}"\n'
        "\tdebug_level = 3\n"
        "\tsession_timeout = 120\n"
        f"{loops}"
        "}\n"
        "certificates: {\n}\n"
        "media: {\n"
        "\tipv6 = false\n"
        '\trtp_port_range = "20000-40000"\n'
        "}\n"
        "nat: {\n"
        "\tnice_debug = false\n"
        "\tignore_mdns = true\n"
        f'\tice_enforce_list = "{ice_interface}"\n'
        "}\n"
        "plugins: {\n}\n"
        "transports: {\n}\n"
        "loggers: {\n\tdisable = true\n}\n"
        "events: {\n\tbroadcast = false\n}\n"
    )
    (folder / "janus.transport.http.jcfg").write_text(
        "general: {\n"
        '\tjson = "compact"\n'
        '\tbase_path = "/janus"\n'
        "\thttp = true\n"
        f"\tport = {http_port}\n"
        '\tip = "127.0.0.1"\n'
        "\thttps = false\n"
        "}\n"
        "admin: {\n\tadmin_http = false\n\tadmin_https = false\n}\n"
        "cors: {\n}\n"
    )
    (folder / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")
    return folder


def janus_argv(folder: Path) -> list[str]:
    janus = shutil.which("janus") or "/usr/bin/janus"
    return [janus, "-F", str(folder), "-C", str(folder / "janus.jcfg"), "--disable-colors"]


class JanusError(RuntimeError):
    pass


class _Session:
    """One Janus session over HTTP: requests, a long-poll reader, keepalives."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self._http = http
        self._base = base
        self.id = 0
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._webrtcup: dict[int, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.closed = False

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self._http.post(f"{self._base}{path}", json=body) as resp:
            data: dict[str, Any] = await resp.json(content_type=None)
        if data.get("janus") == "error":
            raise JanusError(f"{body.get('janus')}: {data.get('error')}")
        return data

    async def create(self) -> None:
        data = await self._post("", {"janus": "create", "transaction": secrets.token_hex(6)})
        self.id = int(data["data"]["id"])
        self._tasks = [
            asyncio.create_task(self._poll()),
            asyncio.create_task(self._keepalive()),
        ]

    async def attach(self) -> int:
        data = await self._post(
            f"/{self.id}",
            {
                "janus": "attach",
                "plugin": "janus.plugin.videoroom",
                "transaction": secrets.token_hex(6),
            },
        )
        handle = int(data["data"]["id"])
        self._webrtcup[handle] = asyncio.Event()
        return handle

    async def message(
        self,
        handle: int,
        body: dict[str, Any],
        jsep: dict[str, Any] | None = None,
        timeout: float = 20.0,
    ) -> dict[str, Any]:
        """Send a plugin request; return the synchronous reply or the event it acks."""
        transaction = secrets.token_hex(6)
        request: dict[str, Any] = {"janus": "message", "transaction": transaction, "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = future
        try:
            data = await self._post(f"/{self.id}/{handle}", request)
            if data.get("janus") != "ack":
                reply = data
            else:
                async with asyncio.timeout(timeout):
                    reply = await future
        finally:
            self._waiting.pop(transaction, None)
        plugin = reply.get("plugindata", {}).get("data", {})
        if "error" in plugin:
            raise JanusError(f"{body.get('request')}: {plugin.get('error_code')} {plugin['error']}")
        return reply

    async def wait_webrtcup(self, handle: int, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            await self._webrtcup[handle].wait()

    async def _poll(self) -> None:
        while not self.closed:
            try:
                async with self._http.get(
                    f"{self._base}/{self.id}?maxev=20", timeout=aiohttp.ClientTimeout(total=40)
                ) as resp:
                    data = await resp.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(0.2)  # the loop ends once destroy() sets closed
                continue
            for event in data if isinstance(data, list) else [data]:
                self._dispatch(event)

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("janus")
        if kind == "webrtcup":
            up = self._webrtcup.get(int(event.get("sender", 0)))
            if up is not None:
                up.set()
            return
        future = self._waiting.get(str(event.get("transaction", "")))
        if kind == "event" and future is not None and not future.done():
            future.set_result(event)

    async def _keepalive(self) -> None:
        while not self.closed:
            await asyncio.sleep(25)
            with contextlib.suppress(aiohttp.ClientError, JanusError, TimeoutError):
                await self._post(
                    f"/{self.id}", {"janus": "keepalive", "transaction": secrets.token_hex(6)}
                )

    async def destroy(self) -> None:
        self.closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(aiohttp.ClientError, JanusError, TimeoutError):
            await self._post(
                f"/{self.id}", {"janus": "destroy", "transaction": secrets.token_hex(6)}
            )


class JanusTarget:
    """Janus VideoRoom signaling for the synthetic clients: one session per client."""

    def __init__(self, base_url: str, name: str = "janus", room: int = 4242) -> None:
        self.name = name
        self._base = base_url.rstrip("/") + "/janus"
        self._room = room
        self._http: aiohttp.ClientSession | None = None
        self._sessions: list[_Session] = []
        self._publisher: tuple[_Session, int] | None = None
        self._feed: int | None = None

    async def _session(self) -> _Session:
        assert self._http is not None
        session = _Session(self._http, self._base)
        await session.create()
        self._sessions.append(session)
        return session

    async def open(self) -> None:
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trust_env=False)
        admin = await self._session()
        handle = await admin.attach()
        await admin.message(
            handle,
            {
                "request": "create",
                "room": self._room,
                "publishers": 4,
                "audiocodec": "opus",
                "videocodec": "vp8",
                "bitrate": 0,
                "fir_freq": 0,
                "notify_joining": False,
                "audiolevel_event": False,
            },
        )

    async def publish(self, offer: str) -> str:
        session = await self._session()
        handle = await session.attach()
        joined = await session.message(
            handle, {"request": "join", "ptype": "publisher", "room": self._room, "display": "pub"}
        )
        self._feed = int(joined["plugindata"]["data"]["id"])
        configured = await session.message(
            handle,
            {"request": "configure", "audio": True, "video": True},
            jsep={"type": "offer", "sdp": offer},
        )
        self._publisher = (session, handle)
        jsep = configured.get("jsep")
        if not jsep:
            raise JanusError(f"configure returned no answer: {configured}")
        return str(jsep["sdp"])

    async def publisher_up(self) -> None:
        # A subscriber joining before the publisher's webrtcup gets 428 "No such feed".
        assert self._publisher is not None
        session, handle = self._publisher
        await session.wait_webrtcup(handle)

    async def subscribe(self, answer: Answerer) -> None:
        assert self._feed is not None
        session = await self._session()
        handle = await session.attach()
        attached = await session.message(
            handle,
            {
                "request": "join",
                "ptype": "subscriber",
                "room": self._room,
                "streams": [{"feed": self._feed}],
            },
        )
        offer = attached.get("jsep")
        if not offer:
            raise JanusError(f"subscriber join returned no offer: {attached}")
        sdp = await answer(str(offer["sdp"]))
        await session.message(handle, {"request": "start"}, jsep={"type": "answer", "sdp": sdp})

    async def close(self) -> None:
        await asyncio.gather(*(s.destroy() for s in self._sessions), return_exceptions=True)
        if self._http is not None:
            await self._http.close()
