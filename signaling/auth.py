"""Join tokens: HS256 JWTs naming the room, identity, display name and role."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

ROLES = ("host", "participant", "viewer")


@dataclass(frozen=True, slots=True)
class Grant:
    room: str
    identity: str
    name: str
    role: str


class AuthError(Exception):
    """A token was refused; `code` is the protocol error code (docs/protocol.md)."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def make_token(
    secret: str,
    *,
    room: str,
    identity: str,
    name: str,
    role: str = "participant",
    ttl_s: int = 24 * 3600,
    now: float | None = None,
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    issued = int(time.time() if now is None else now)
    claims = {
        "room": room,
        "sub": identity,
        "name": name,
        "role": role,
        "iat": issued,
        "exp": issued + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(token: str, secret: str, *, room: str, now: float | None = None) -> Grant:
    try:
        # exp is required here and checked below against an injectable clock
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "room", "sub", "role"], "verify_exp": False},
        )
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError("token_invalid", f"token lacks the {exc.claim!r} claim") from exc
    except jwt.InvalidSignatureError as exc:
        raise AuthError("token_invalid", "token signature does not verify") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError("token_invalid", f"token is malformed: {exc}") from exc
    exp = claims["exp"]
    if not isinstance(exp, int | float):
        raise AuthError("token_invalid", "claim 'exp' must be a number")
    if exp <= (time.time() if now is None else now):
        raise AuthError("token_expired", "token has expired")
    for claim in ("room", "sub", "role"):
        if not isinstance(claims[claim], str) or not claims[claim]:
            raise AuthError("token_invalid", f"claim {claim!r} must be a non-empty string")
    if claims["role"] not in ROLES:
        raise AuthError("token_invalid", f"unknown role {claims['role']!r}")
    if claims["room"] != room:
        raise AuthError("token_wrong_room", f"token is for room {claims['room']!r}, not {room!r}")
    name = claims.get("name")
    return Grant(
        room=claims["room"],
        identity=claims["sub"],
        name=name if isinstance(name, str) and name else claims["sub"],
        role=claims["role"],
    )
