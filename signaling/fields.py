"""Field checks shared by the parsers of client messages; each refusal names its field."""

from __future__ import annotations

from typing import Any, Literal


class ProtocolError(Exception):
    """A message was refused; `code` is the protocol error code."""

    def __init__(self, code: str, reason: str, request: str | None = None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.request = request  # the refused message's type, when known


def field_of(obj: dict[str, Any], name: str, kind: type) -> Any:
    value = obj.get(name)
    # bool is an int subclass: never accept true as a number or 1 as a flag
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError("bad_field", f"field {name!r} must be {kind.__name__}")
    return value


def media_kind(obj: dict[str, Any]) -> Literal["audio", "video"]:
    kind = obj.get("kind")
    if kind == "audio":
        return "audio"
    if kind == "video":
        return "video"
    raise ProtocolError("bad_field", "field 'kind' must be 'audio' or 'video'")
