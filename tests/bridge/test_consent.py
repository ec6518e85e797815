"""ICE consent freshness over a long round trip (bridge.aiortc_adapter.patient_consent)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aioice import stun

from bridge import aiortc_adapter


class FakeProtocol:
    def __init__(self, answers: bool) -> None:
        self.answers = answers
        self.retransmissions: list[int | None] = []

    async def request(
        self, request: Any, addr: Any, integrity_key: bytes, retransmissions: int | None = None
    ) -> None:
        self.retransmissions.append(retransmissions)
        if not self.answers:
            raise stun.TransactionTimeout()


class FakeConnection:
    def __init__(self, answers: bool) -> None:
        self.protocol = FakeProtocol(answers)
        self._nominated = {1: SimpleNamespace(protocol=self.protocol, remote_addr=("10.0.0.1", 1))}
        self.remote_password = "pw"
        self._query_consent_task: object = "running"
        self.closed = asyncio.Event()

    def build_request(self, pair: object, nominate: bool) -> object:
        return object()

    async def close(self) -> None:
        self.closed.set()


@pytest.fixture
def fast_consent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiortc_adapter, "CONSENT_INTERVAL_S", 0.001)
    monkeypatch.setattr(aiortc_adapter, "CONSENT_EXPIRY_S", 0.05)


async def test_checks_are_retransmitted_and_answers_keep_the_connection(
    fast_consent: None,
) -> None:
    conn = FakeConnection(answers=True)
    task = asyncio.create_task(aiortc_adapter.patient_consent(conn)())
    while len(conn.protocol.retransmissions) < 50:
        await asyncio.sleep(0.005)
    assert not conn.closed.is_set()
    assert set(conn.protocol.retransmissions) == {aiortc_adapter.CONSENT_RETRANSMISSIONS}
    assert aiortc_adapter.CONSENT_RETRANSMISSIONS >= 1  # aioice's own sends one try only
    task.cancel()


async def test_consent_expires_without_answers(fast_consent: None) -> None:
    conn = FakeConnection(answers=False)
    task = asyncio.create_task(aiortc_adapter.patient_consent(conn)())
    await asyncio.wait_for(conn.closed.wait(), timeout=10)
    assert conn._query_consent_task is None
    await task
