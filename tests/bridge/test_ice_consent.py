"""ICE consent freshness on a slow link: checks are retransmitted, and consent expires
only after CONSENT_TIMEOUT_S without any answer (RFC 7675 §5.1)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aioice import stun

from bridge import aiortc_adapter


class FakeConnection:
    """What _patient_consent uses of an aioice Connection; answers as told."""

    def __init__(self, answers: list[bool]):
        self._answers = answers
        self.retransmissions: list[int | None] = []
        self.closed = False
        self.remote_password = "pw"
        self._query_consent_task: object | None = object()
        protocol = SimpleNamespace(request=self._request)
        self._nominated = {1: SimpleNamespace(protocol=protocol, remote_addr=("10.0.0.1", 9))}

    def build_request(self, pair: Any, nominate: bool) -> str:
        return "binding request"

    async def _request(self, request: str, addr: Any, **kwargs: Any) -> None:
        self.retransmissions.append(kwargs.get("retransmissions"))
        if not (self._answers.pop(0) if self._answers else False):
            raise stun.TransactionTimeout()

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
def fast_consent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiortc_adapter, "CONSENT_INTERVAL_S", 0.01)
    monkeypatch.setattr(aiortc_adapter, "CONSENT_TIMEOUT_S", 0.2)


async def run_consent(connection: FakeConnection, seconds: float) -> None:
    aiortc_adapter._patient_consent(connection)
    task = asyncio.ensure_future(connection.query_consent())  # type: ignore[attr-defined]
    done, _ = await asyncio.wait([task], timeout=seconds)
    if not done:
        task.cancel()


async def test_checks_are_retransmitted(fast_consent: None) -> None:
    connection = FakeConnection([True] * 100)
    await run_consent(connection, 0.1)
    assert connection.retransmissions
    assert set(connection.retransmissions) == {aiortc_adapter.CONSENT_RETRANSMISSIONS}
    assert not connection.closed


async def test_failed_checks_in_a_row_do_not_expire_consent_before_the_timeout(
    fast_consent: None,
) -> None:
    """aioice gave up after six failed checks; one answer in the 30 s keeps it."""
    answers = ([False] * 6 + [True]) * 20
    connection = FakeConnection(answers)
    await run_consent(connection, 0.6)
    assert connection.retransmissions.count(aiortc_adapter.CONSENT_RETRANSMISSIONS) >= 12
    assert not connection.closed


async def test_consent_expires_after_the_timeout_without_an_answer(fast_consent: None) -> None:
    connection = FakeConnection([])
    await run_consent(connection, 2.0)
    assert connection.closed and connection._query_consent_task is None
