"""Link profiles (``link-profiles.toml``) as frozen dataclasses.

A profile table either holds one step's values directly (a constant link) or a ``steps``
array; in the latter case the profile table's other keys are defaults for every step
(e.g. a profile-wide ``jitter_ms``). Rates are kbit/s (1000 bit/s), delays one-way ms,
"down" is bridge -> site and "up" is site -> bridge.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
#: ``$DIEMCAU_LINK_PROFILES`` if set, else ``<repo>/../shared/link-profiles.toml``.
DEFAULT_PROFILES_PATH = REPO_ROOT.parent / "shared" / "link-profiles.toml"
PROFILES_ENV = "DIEMCAU_LINK_PROFILES"


@dataclass(frozen=True)
class LinkStep:
    """The link's state from ``at_s`` seconds after the profile starts.

    ``down_kbps == 0`` (resp. ``up_kbps``) or ``loss_pct >= 100`` is an outage of that
    direction (resp. both): every packet is dropped.
    """

    at_s: float = 0.0
    down_kbps: float = 0.0
    up_kbps: float = 0.0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss_pct: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise TypeError(f"LinkStep.{f.name} must be a number, not {v!r}")
            if v < 0:
                raise ValueError(f"LinkStep.{f.name} must be >= 0, not {v!r}")
        if self.loss_pct > 100:
            raise ValueError(f"LinkStep.loss_pct must be <= 100, not {self.loss_pct!r}")

    @property
    def down_outage(self) -> bool:
        return self.down_kbps <= 0 or self.loss_pct >= 100

    @property
    def up_outage(self) -> bool:
        return self.up_kbps <= 0 or self.loss_pct >= 100


@dataclass(frozen=True)
class LinkProfile:
    name: str
    steps: tuple[LinkStep, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"profile {self.name!r} has no steps")
        if self.steps[0].at_s != 0:
            raise ValueError(f"profile {self.name!r}: the first step must be at_s = 0")
        ats = [s.at_s for s in self.steps]
        if ats != sorted(ats):
            raise ValueError(f"profile {self.name!r}: steps must be in at_s order")

    @property
    def duration_s(self) -> float:
        """When the last step starts (it then lasts for ever)."""
        return self.steps[-1].at_s

    def step_at(self, t: float) -> LinkStep:
        """The step in force ``t`` seconds after the start."""
        current = self.steps[0]
        for s in self.steps:
            if s.at_s <= t:
                current = s
        return current

    @classmethod
    def constant(cls, name: str, step: LinkStep) -> LinkProfile:
        return cls(name, (replace(step, at_s=0.0),))


_STEP_KEYS = {f.name for f in fields(LinkStep)}


def _step(profile: str, values: Mapping[str, Any]) -> LinkStep:
    unknown = set(values) - _STEP_KEYS
    if unknown:
        raise ValueError(f"profile {profile!r}: unknown key(s) {sorted(unknown)}")
    missing = {"down_kbps", "up_kbps"} - set(values)
    if missing:
        raise ValueError(f"profile {profile!r}: missing {sorted(missing)}")
    return LinkStep(**{k: float(v) if isinstance(v, int) else v for k, v in values.items()})


def parse_profiles(data: Mapping[str, Any]) -> dict[str, LinkProfile]:
    """Profiles from an already parsed TOML document."""
    out: dict[str, LinkProfile] = {}
    for name, table in data.items():
        if not isinstance(table, Mapping):
            raise ValueError(f"top-level key {name!r} is not a profile table")
        defaults = {k: v for k, v in table.items() if k != "steps"}
        if "steps" in table:
            raw = table["steps"]
            if not isinstance(raw, list) or not raw:
                raise ValueError(f"profile {name!r}: steps must be a non-empty array")
            steps = tuple(_step(name, {**defaults, **s}) for s in raw)
        else:
            steps = (_step(name, {**defaults, "at_s": defaults.get("at_s", 0)}),)
        out[name] = LinkProfile(name, steps)
    return out


def profiles_path(path: str | os.PathLike[str] | None = None) -> Path:
    if path is not None:
        return Path(path)
    env = os.environ.get(PROFILES_ENV)
    return Path(env) if env else DEFAULT_PROFILES_PATH


def load_profiles(path: str | os.PathLike[str] | None = None) -> dict[str, LinkProfile]:
    """All profiles of ``path`` (default: see ``DEFAULT_PROFILES_PATH``), by name."""
    with profiles_path(path).open("rb") as f:
        return parse_profiles(tomllib.load(f))


def load_profile(name: str, path: str | os.PathLike[str] | None = None) -> LinkProfile:
    profiles = load_profiles(path)
    try:
        return profiles[name]
    except KeyError:
        raise KeyError(f"no link profile {name!r}; known: {sorted(profiles)}") from None
