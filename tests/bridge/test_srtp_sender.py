"""The adapter's send path: one _Sender per connection, attached on demand."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pylibsrtp
import pytest

from bridge.aiortc_adapter import _Sender, _SrtpBuffer

KEY = bytes(30)
RTP = bytes([0x80, 96, 0, 1]) + bytes(8) + b"payload"
RTCP_RR = bytes([0x80, 201, 0, 1]) + bytes(4)


def _session(direction: int) -> _SrtpBuffer:
    return _SrtpBuffer(pylibsrtp.Session(pylibsrtp.Policy(key=KEY, ssrc_type=direction)))


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(1)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield sink, out
    sink.close()
    out.close()


def test_connects_on_first_send_and_after_detach(
    sockets: tuple[socket.socket, socket.socket],
) -> None:
    sink, out = sockets
    attached = 0

    def connect() -> bool:
        nonlocal attached
        attached += 1
        sender.attach(
            _session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND),
            out,
            sink.getsockname(),
            lambda data, addr: None,
        )
        return True

    sender = _Sender(connect)
    receive = _session(pylibsrtp.Policy.SSRC_ANY_INBOUND)
    assert sender.send(RTP)
    assert receive.unprotect(sink.recv(2048), rtcp=False) == RTP
    assert sender.send(RTCP_RR)  # RTCP gets SRTCP
    assert receive.unprotect(sink.recv(2048), rtcp=True) == RTCP_RR
    assert attached == 1
    sender.detach()  # the DTLS state changed: the next send attaches again
    assert sender.send(bytes([0x80, 96, 0, 2]) + bytes(8) + b"payload")
    assert attached == 2


def test_not_connected_sends_nothing() -> None:
    assert not _Sender(lambda: False).send(RTP)


def test_without_socket_protects_only() -> None:
    sender = _Sender(lambda: False)
    sender.attach(
        _session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND), None, ("", 0), lambda data, addr: None
    )
    assert sender.send(RTP)
    assert not sender.send(RTP + bytes(1500))  # over the session buffer: refused


class _FailingSocket:
    def __init__(self, error: OSError):
        self._error = error

    def sendto(self, data: bytes, addr: tuple[str, int]) -> int:
        raise self._error


def test_full_socket_buffer_goes_to_the_queue() -> None:
    queued: list[tuple[bytes, tuple[str, int]]] = []
    sender = _Sender(lambda: False)
    sock: socket.socket = _FailingSocket(BlockingIOError())  # type: ignore[assignment]
    sender.attach(
        _session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND),
        sock,
        ("127.0.0.1", 9),
        lambda data, addr: queued.append((data, addr)),
    )
    assert sender.send(RTP)
    assert len(queued) == 1 and queued[0][1] == ("127.0.0.1", 9)
    assert len(queued[0][0]) > len(RTP)  # protected: auth tag appended


def test_send_error_is_a_failed_send() -> None:
    sender = _Sender(lambda: False)
    sock: socket.socket = _FailingSocket(OSError("unreachable"))  # type: ignore[assignment]
    sender.attach(
        _session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND), sock, ("127.0.0.1", 9), lambda d, a: None
    )
    assert not sender.send(RTP)
