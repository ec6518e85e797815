"""Settings of one bridge process, read once from the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class SettingsError(ValueError):
    """An environment variable has a value diemcau cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    jwt_secret: str = ""
    data_dir: Path = Path.home() / ".local" / "share" / "diemcau"
    # Addresses the bridge gathers ICE host candidates on; () means every interface.
    ice_addresses: tuple[str, ...] = ()
    ice_servers: tuple[str, ...] = ()
    public_url: str = ""
    max_participants: int = 300
    adaptive_bitrate: bool = True
    fanout_lanes: bool = True  # see bridge/media/settings.py
    # Answer publishers' transport-wide CC: their browser's GCC adapts to the uplink.
    transport_cc: bool = True
    # Number probes' padding toward subscribers for transport-cc feedback: a probe the
    # link cannot carry ends as soon as the padding queues (forwarding/padding_delay.py).
    probe_feedback: bool = True
    join_timeout_s: float = 10.0
    web_dir: Path = WEB_DIR
    # Bearer key of the admin API (/api/v1); "" disables it.
    admin_key: str = ""
    # Meetings live in Redis when set, else in data_dir/meetings.sqlite3.
    redis_url: str = ""
    # Bridge processes; > 1 runs a front that places rooms on workers (signaling.workers).
    workers: int = 1

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not an integer") from exc


def load_secret(data_dir: Path, filename: str = "jwt-secret") -> str:
    """The embedded default: a secret generated once, kept in a 0600 file."""
    path = data_dir / filename
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


def settings_from_env(env: Mapping[str, str], **overrides: object) -> Settings:
    base = Settings()
    data_dir = Path(env.get("DIEMCAU_DATA_DIR") or base.data_dir)
    host = str(overrides.get("host") or env.get("DIEMCAU_HOST") or base.host)
    port_override = overrides.get("port")
    port = (
        int(port_override)
        if isinstance(port_override, int)
        else _int(env, "DIEMCAU_PORT", base.port)
    )
    secret = env.get("DIEMCAU_JWT_SECRET") or load_secret(data_dir)
    if len(secret) < 32:
        raise SettingsError("DIEMCAU_JWT_SECRET must be at least 32 characters (RFC 7518 §3.2)")
    admin_key = env.get("DIEMCAU_ADMIN_KEY") or load_secret(data_dir, "admin-key")
    if len(admin_key) < 16:
        raise SettingsError("DIEMCAU_ADMIN_KEY must be at least 16 characters")
    return Settings(
        host=host,
        port=port,
        jwt_secret=secret,
        data_dir=data_dir,
        ice_addresses=_split(env.get("DIEMCAU_ICE_ADDRESSES", "")),
        ice_servers=_split(env.get("DIEMCAU_ICE_SERVERS", "")),
        public_url=env.get("DIEMCAU_PUBLIC_URL", ""),
        max_participants=_int(env, "DIEMCAU_MAX_PARTICIPANTS", base.max_participants),
        adaptive_bitrate=_flag(env, "DIEMCAU_ADAPTIVE_BITRATE", default=True),
        fanout_lanes=_flag(env, "DIEMCAU_FANOUT_LANES", default=True),
        transport_cc=_flag(env, "DIEMCAU_TRANSPORT_CC", default=True),
        probe_feedback=_flag(env, "DIEMCAU_PROBE_FEEDBACK", default=True),
        admin_key=admin_key,
        redis_url=env.get("DIEMCAU_REDIS_URL", ""),
        workers=_workers(overrides.get("workers"), env),
    )


def _workers(override: object, env: Mapping[str, str]) -> int:
    workers = override if isinstance(override, int) else _int(env, "DIEMCAU_WORKERS", 1)
    if workers < 1:
        raise SettingsError(f"the number of workers must be >= 1, got {workers}")
    return workers


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name, "")
    if not value:
        return default
    return value.lower() in ("1", "true", "yes", "on")
