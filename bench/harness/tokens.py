"""JWT minting for tests and benchmarks (the server checks HS256 tokens with
DIEMCAU_JWT_SECRET)."""

from __future__ import annotations

import time

import jwt


def make_token(
    secret: str,
    room: str,
    sub: str,
    name: str,
    role: str = "participant",
    ttl_s: int = 600,
) -> str:
    now = int(time.time())
    claims = {
        "room": room,
        "sub": sub,
        "name": name,
        "role": role,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
