"""Validation of admin requests, shared by the REST API (and usable by the host console)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .models import MAX_SITES_LIMIT, MeetingPolicy, parse_iso

MAX_TITLE = 200
_POLICY_BOOLS = ("mics_muted_on_entry", "host_may_unmute", "lobby")


class FieldError(ValueError):
    """A request field is missing or has the wrong type or value; the message names it."""


def _title(value: object) -> str:
    if not isinstance(value, str):
        raise FieldError("field 'title' must be a string")
    title = " ".join(value.split())
    if not title:
        raise FieldError("field 'title' must not be empty")
    if len(title) > MAX_TITLE:
        raise FieldError(f"field 'title' is longer than {MAX_TITLE} characters")
    return title


def _starts_at(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError("field 'starts_at' must be an ISO 8601 string or null")
    try:
        return parse_iso(value).isoformat()
    except ValueError as exc:
        raise FieldError(f"field 'starts_at': {exc}") from exc


def _policy(value: object, base: MeetingPolicy) -> MeetingPolicy:
    if not isinstance(value, dict):
        raise FieldError("field 'policy' must be an object")
    changes: dict[str, Any] = {}
    for key, item in value.items():
        if key in _POLICY_BOOLS:
            if not isinstance(item, bool):
                raise FieldError(f"field 'policy.{key}' must be true or false")
            changes[key] = item
        elif key == "max_sites":
            if isinstance(item, bool) or not isinstance(item, int):
                raise FieldError("field 'policy.max_sites' must be an integer")
            if not 1 <= item <= MAX_SITES_LIMIT:
                raise FieldError(
                    f"field 'policy.max_sites' must be between 1 and {MAX_SITES_LIMIT}"
                )
            changes[key] = item
        else:
            raise FieldError(f"unknown field 'policy.{key}'")
    return replace(base, **changes)


def _check_keys(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in body:
        if key == "status":
            raise FieldError(
                "field 'status' cannot be set; DELETE /api/v1/meetings/{id} ends a meeting"
            )
        if key not in allowed:
            raise FieldError(f"unknown field {key!r}")


def parse_create(body: dict[str, Any]) -> tuple[str, str | None, MeetingPolicy]:
    _check_keys(body, ("title", "starts_at", "policy"))
    if "title" not in body:
        raise FieldError("field 'title' is required")
    policy = _policy(body["policy"], MeetingPolicy()) if "policy" in body else MeetingPolicy()
    return _title(body["title"]), _starts_at(body.get("starts_at")), policy


def parse_update(
    body: dict[str, Any], title: str, starts_at: str | None, policy: MeetingPolicy
) -> tuple[str, str | None, MeetingPolicy]:
    _check_keys(body, ("title", "starts_at", "policy"))
    if "title" in body:
        title = _title(body["title"])
    if "starts_at" in body:
        starts_at = _starts_at(body["starts_at"])
    if "policy" in body:
        policy = _policy(body["policy"], policy)
    return title, starts_at, policy
