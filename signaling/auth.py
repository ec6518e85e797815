"""Join tokens: HS256 JWTs naming the room, identity, display name and role."""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

import jwt

ROLES = ("host", "participant", "viewer")
# Participant ids travel in SDP a=msid, whose ids are RFC 4566 tokens (RFC 8830 §2).
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def participant_id(identity: str) -> str:
    """The id a token's identity gets in the meeting: itself when SDP-safe, else a hash.

    Deterministic, so a reconnecting site comes back as the same participant.
    """
    if _SAFE_ID.fullmatch(identity):
        return identity
    return "p-" + hashlib.sha256(identity.encode()).hexdigest()[:24]


def ascii_slug(text: str) -> str:
    """'Xã Hòa An' -> 'xa-hoa-an', for readable identities in generated links."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40] or "site"


@dataclass(frozen=True, slots=True)
class Grant:
    room: str
    identity: str
    name: str
    role: str
    jti: str | None = None  # invitation id, for tokens the meetings API issued


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
    expires_at: int | None = None,
    jti: str | None = None,
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "room": room,
        "sub": identity,
        "name": name,
        "role": role,
        "iat": issued,
        "exp": issued + ttl_s if expires_at is None else expires_at,
    }
    if jti is not None:
        claims["jti"] = jti
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
    jti = claims.get("jti")
    return Grant(
        room=claims["room"],
        identity=claims["sub"],
        name=name if isinstance(name, str) and name else claims["sub"],
        role=claims["role"],
        jti=jti if isinstance(jti, str) and jti else None,
    )
