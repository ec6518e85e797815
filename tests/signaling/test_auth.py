from __future__ import annotations

import jwt
import pytest

from signaling.auth import AuthError, ascii_slug, make_token, participant_id, verify_token

SECRET = "unit-test-secret-0123456789abcdef"


def test_valid_token_grants_identity_and_role() -> None:
    token = make_token(SECRET, room="r", identity="xa-hoa-an", name="Xã Hòa An", role="host")
    grant = verify_token(token, SECRET, room="r")
    assert (grant.room, grant.identity, grant.name, grant.role) == (
        "r",
        "xa-hoa-an",
        "Xã Hòa An",
        "host",
    )


@pytest.mark.parametrize(
    ("token_args", "secret", "room", "code", "fragment"),
    [
        ({}, "another-secret-0123456789abcdef-xyz", "r", "token_invalid", "signature"),
        ({}, SECRET, "other", "token_wrong_room", "not 'other'"),
        ({"ttl_s": -5}, SECRET, "r", "token_expired", "expired"),
    ],
)
def test_refusals_name_the_reason(token_args, secret, room, code, fragment) -> None:  # type: ignore[no-untyped-def]
    token = make_token(SECRET, room="r", identity="i", name="n", **token_args)
    with pytest.raises(AuthError) as err:
        verify_token(token, secret, room=room)
    assert err.value.code == code
    assert fragment in err.value.reason


def test_malformed_and_incomplete_tokens() -> None:
    with pytest.raises(AuthError) as err:
        verify_token("abc.def", SECRET, room="r")
    assert err.value.code == "token_invalid"
    no_exp = jwt.encode({"room": "r", "sub": "i", "role": "participant"}, SECRET, algorithm="HS256")
    with pytest.raises(AuthError) as err:
        verify_token(no_exp, SECRET, room="r")
    assert "'exp'" in err.value.reason
    bad_role = jwt.encode(
        {"room": "r", "sub": "i", "role": "king", "exp": 4_000_000_000}, SECRET, algorithm="HS256"
    )
    with pytest.raises(AuthError) as err:
        verify_token(bad_role, SECRET, room="r")
    assert "king" in err.value.reason


def test_none_algorithm_is_refused() -> None:
    unsigned = jwt.encode(
        {"room": "r", "sub": "i", "role": "host", "exp": 4_000_000_000}, None, algorithm="none"
    )
    with pytest.raises(AuthError) as err:
        verify_token(unsigned, SECRET, room="r")
    assert err.value.code == "token_invalid"


def test_expiry_uses_injected_clock() -> None:
    token = make_token(SECRET, room="r", identity="i", name="n", ttl_s=60, now=1000)
    assert verify_token(token, SECRET, room="r", now=1059).identity == "i"
    with pytest.raises(AuthError):
        verify_token(token, SECRET, room="r", now=1060)


def test_participant_ids_are_sdp_tokens_and_stable() -> None:
    assert participant_id("site-1") == "site-1"
    unsafe = participant_id("Điểm cầu 7")
    assert unsafe == participant_id("Điểm cầu 7")
    assert unsafe.startswith("p-") and unsafe.isascii() and " " not in unsafe
    assert participant_id("a" * 65) != "a" * 65
    assert ascii_slug("Xã Hòa An") == "xa-hoa-an"
    assert ascii_slug("Đường 9") == "duong-9"
    assert ascii_slug("!!!") == "site"
