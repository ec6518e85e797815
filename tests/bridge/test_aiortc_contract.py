"""Fails loudly when the aiortc/aioice internals bridge.aiortc_adapter relies on change."""

from __future__ import annotations

import asyncio.selector_events
import inspect
from importlib.metadata import version

import aioice.ice
import aioice.stun
import pylibsrtp
import pylibsrtp._binding
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.rtcdtlstransport import RTCDtlsTransport


def test_pinned_versions() -> None:
    assert version("aiortc") == "1.16.0"
    assert version("aioice") == "0.13.0"
    assert version("pylibsrtp") == "1.0.0"


def test_dtls_transport_hooks() -> None:
    params = list(inspect.signature(RTCDtlsTransport._handle_rtp_data).parameters)
    assert params == ["self", "data", "arrival_time_ms"]
    assert list(inspect.signature(RTCDtlsTransport._handle_rtcp_data).parameters) == [
        "self",
        "data",
    ]
    source = inspect.getsource(RTCDtlsTransport._recv_next)
    # the instance attribute lookup is what lets the adapter tap packets per connection
    assert "await self._handle_rtp_data(data, arrival_time_ms=arrival_time_ms)" in source
    assert "await self._handle_rtcp_data(data)" in source
    assert "self._tx_srtp" in inspect.getsource(RTCDtlsTransport._send_rtp)


def test_transceiver_endpoints_are_name_mangled_attributes() -> None:
    source = inspect.getsource(RTCRtpTransceiver.__init__)
    assert "self.__receiver = receiver" in source
    assert "self.__sender = sender" in source
    assert "_codecs" in inspect.getsource(RTCPeerConnection.setRemoteDescription)


def test_sender_and_receiver_surface() -> None:
    sender_init = inspect.getsource(RTCRtpSender.__init__)
    for name in ("self._ssrc", "self._rtx_ssrc", "self._stream_id"):
        assert name in sender_init
    assert "self._track_id" in inspect.getsource(RTCRtpSender.replaceTrack)
    assert hasattr(RTCRtpReceiver, "_set_rtcp_ssrc")
    assert "media.msid" in inspect.getsource(inspect.getmodule(RTCPeerConnection))  # type: ignore[arg-type]


def test_aioice_gathering_surface() -> None:
    conn = aioice.ice.Connection
    params = list(inspect.signature(conn.get_component_candidates).parameters)
    assert params[:3] == ["self", "component", "addresses"]
    gather = inspect.getsource(conn.gather_candidates)
    for name in ("_local_candidates_start", "_local_candidates_end", "_local_candidates"):
        assert name in gather
    assert "self._nominated" in inspect.getsource(conn.sendto)


def test_direct_receive_surface() -> None:
    # the adapter replaces datagram_received on the ICE sockets' protocol instances
    assert "self.receiver.data_received(data, self.local_candidate.component)" in (
        inspect.getsource(aioice.ice.StunProtocol.datagram_received)
    )
    assert "self._protocols" in inspect.getsource(aioice.ice.Connection.__init__)
    source = inspect.getsource(RTCDtlsTransport._recv_next)
    assert "self._rx_srtp.unprotect(data)" in source
    assert "self._rx_srtp.unprotect_rtcp(data)" in source


def test_srtp_session_surface() -> None:
    # _SrtpBuffer drives libsrtp on the session's own context and buffer
    session = pylibsrtp.Session()
    assert len(session._buffer) == 1500
    assert session._srtp[0] is not None
    for name in ("srtp_protect", "srtp_protect_rtcp", "srtp_unprotect", "srtp_unprotect_rtcp"):
        assert hasattr(pylibsrtp._binding.lib, name)
    # _Sender writes to the datagram transport's socket
    assert "self._sock = sock" in inspect.getsource(asyncio.selector_events._SelectorTransport)


def test_aioice_consent_surface() -> None:
    """adapter._patient_consent replaces query_consent on the instance and calls what
    aioice's own version calls."""
    conn = aioice.ice.Connection
    assert "self.query_consent()" in inspect.getsource(conn.connect)
    consent = inspect.getsource(conn.query_consent)
    # the reason for the replacement: one try, 500 ms (aioice.stun.RETRY_RTO)
    assert "retransmissions=0" in consent and aioice.stun.RETRY_RTO == 0.5
    for name in (
        "self._nominated",
        "self.build_request(pair, nominate=False)",
        "self.remote_password",
        "self._query_consent_task = None",
        "self.close()",
    ):
        assert name in consent
    assert "self._query_consent_task" in inspect.getsource(conn.close)
    assert "retransmissions" in inspect.signature(aioice.stun.Transaction).parameters
