"""The only module that touches aiortc's (and aioice's) private API.

aiortc gives ICE, DTLS, SRTP and SDP. Everything above SRTP is the bridge's own:
- incoming packets are tapped right after SRTP unprotect, by replacing the DTLS
  transport's `_handle_rtp_data` / `_handle_rtcp_data` on the instance, and handed over as
  bytes (aiortc's RtpPacket parse, jitter buffer and decoder never run); once the first
  one has arrived, SRTP datagrams are taken straight off the ICE socket instead (no STUN
  parse attempt, queue and task wake-up per packet), STUN and DTLS still go to aioice;
- outgoing packets are SRTP-protected and written to the nominated ICE pair's socket
  synchronously, without a task or an `await` per packet;
- SRTP runs on pylibsrtp's C session directly (`_SrtpBuffer`): one copy into the
  session's buffer, processed in place, no per-packet allocation besides the result;
- each transceiver's stock sender and receiver are swapped for inert ones, so no encoder,
  decoder thread or stock RTCP loop (which would send sender reports with zero clocks) runs;
- ICE consent checks are retransmitted (`_patient_consent`): aioice's dropped every site
  with a round trip over 500 ms after 30 s;
- RED for Opus (RFC 2198) is offered to subscribers and read back from their answers
  (aiortc does not model it).

tests/bridge/test_aiortc_contract.py fails loudly if these internals change.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pylibsrtp
from aioice import Candidate as IceCandidate
from aioice import stun
from aioice.ice import get_host_addresses
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtcpFeedback
from aiortc.sdp import SessionDescription
from pylibsrtp import _binding

from bridge.clock import monotonic_ms
from bridge.media.errors import SdpRejected
from bridge.media.peer import (
    ConnectionListener,
    Kind,
    PacketSink,
    RemoteTrack,
    SendSlot,
    SlotParameters,
)
from bridge.rtp.header import ABS_SEND_TIME_URI, PLAYOUT_DELAY_URI, is_rtcp
from bridge.rtp.transport_feedback import TRANSPORT_CC_URI
from bridge.sdp import (
    AUDIO_LEVEL_URI,
    REPAIRED_RID_URI,
    RID_URI,
    MediaSection,
    add_simulcast_recv,
    answered_audio_red,
    answered_extension,
    media_sections,
    offer_audio_red,
    offer_extension,
    offer_rtcp_feedback,
    request_opus_fec,
)

log = logging.getLogger(__name__)

# The codecs diemcau forwards. Every publisher and subscriber must agree, since the
# bridge never transcodes.
_ALLOWED_MIME = {"audio": "audio/opus", "video": "video/vp8"}
# ICE consent freshness (RFC 7675 §5.1): checks every 5 s (+-20 %), consent lost after 30 s
# without any answer. Each check is retransmitted as a STUN request is (RTO 500 ms,
# doubling: sent at 0, 0.5, 1.5 and 3.5 s, answered within 7.5 s).
CONSENT_INTERVAL_S = 5.0
CONSENT_TIMEOUT_S = 30.0
CONSENT_RETRANSMISSIONS = 3
_RTX_MIME = "video/rtx"
# aiortc stamps arrivals in ms since the NTP epoch (1900, RFC 5905 §6); the direct path too


@dataclass(frozen=True, slots=True)
class AdapterSettings:
    # Host candidate addresses; () means 127.0.0.1 plus every IPv4 interface address.
    ice_addresses: tuple[str, ...]
    ice_servers: tuple[str, ...] = ()
    # Answer publishers' transport-wide CC (their browser estimates the uplink from our
    # feedback; measured over shaped links in docs/benchmarks.md, "Weak links").
    transport_cc: bool = True
    # Offer subscribers transport-wide sequence numbers (video) and transport-cc feedback:
    # the bridge numbers probes' padding with them (forwarding/padding_delay.py).
    probe_feedback: bool = True
    # Offer subscribers RED for Opus (RFC 2198): the bridge adds the previous packet to
    # each audio packet toward a lossy downlink (media/downlink.py decides when).
    audio_red: bool = True

    def candidate_addresses(self) -> list[str]:
        if self.ice_addresses:
            return list(self.ice_addresses)
        # aioice leaves loopback out; a browser on the bridge's own machine needs it
        return ["127.0.0.1", *get_host_addresses(use_ipv4=True, use_ipv6=False)]


def _rtc_configuration(settings: AdapterSettings, bundle_max: bool) -> RTCConfiguration:
    # An explicit (possibly empty) list: aiortc's default contacts a public STUN server.
    servers = [RTCIceServer(urls=url) for url in settings.ice_servers]
    policy = RTCBundlePolicy.MAX_BUNDLE if bundle_max else RTCBundlePolicy.BALANCED
    return RTCConfiguration(iceServers=servers, bundlePolicy=policy)


class _InertReceiver(RTCRtpReceiver):
    """Never decodes: the DTLS tap hands packets to the bridge before routing."""

    async def receive(self, parameters: Any) -> None:
        return None

    async def stop(self) -> None:
        return None

    def _handle_disconnect(self) -> None:
        return None


class _SlotSender(RTCRtpSender):
    """Sends nothing by itself; records what was negotiated when the transport is up."""

    def __init__(self, kind: str, transport: RTCDtlsTransport, ssrc: int, rtx_ssrc: int):
        super().__init__(kind, transport)
        self._ssrc = ssrc
        self._rtx_ssrc = rtx_ssrc
        self.negotiated: SlotParameters | None = None
        self.on_negotiated: Callable[[], None] = lambda: None
        self.red_payload_type: int | None = None  # from the answer (aiortc drops RED)
        # from the answer too: aiortc keeps only the extensions it knows
        self.playout_delay_id: int | None = None
        self.transport_cc_id: int | None = None

    async def send(self, parameters: Any) -> None:
        codecs: list[RTCRtpCodecParameters] = parameters.codecs
        if not codecs:
            return
        primary = codecs[0].payloadType
        if primary is None:
            return
        rtx_pt = next(
            (
                c.payloadType
                for c in codecs
                if c.mimeType.lower() == _RTX_MIME and c.parameters.get("apt") == primary
            ),
            None,
        )
        params = SlotParameters(
            ssrc=self._ssrc,
            rtx_ssrc=self._rtx_ssrc,
            payload_type=primary,
            rtx_payload_type=rtx_pt,
            cname=str(parameters.rtcp.cname or ""),
            abs_send_time_id=next(
                (e.id for e in parameters.headerExtensions if e.uri == ABS_SEND_TIME_URI), None
            ),
            red_payload_type=self.red_payload_type,
            playout_delay_id=self.playout_delay_id,
            transport_cc_id=self.transport_cc_id,
        )
        if params != self.negotiated:
            self.negotiated = params
            self.on_negotiated()

    async def stop(self) -> None:
        return None


def _swap_endpoints(transceiver: RTCRtpTransceiver) -> _SlotSender:
    """Replace the stock sender and receiver of a transceiver by inert ones."""
    old_sender = transceiver.sender
    transport = old_sender.transport
    sender = _SlotSender(transceiver.kind, transport, old_sender._ssrc, old_sender._rtx_ssrc)
    sender._stream_id = old_sender._stream_id
    receiver = _InertReceiver(transceiver.kind, transceiver.receiver.transport)
    receiver._track = transceiver.receiver._track
    receiver._set_rtcp_ssrc(sender._ssrc)
    # RTCRtpTransceiver keeps them in name-mangled attributes and offers no setter
    setattr(transceiver, "_RTCRtpTransceiver__sender", sender)  # noqa: B010
    setattr(transceiver, "_RTCRtpTransceiver__receiver", receiver)  # noqa: B010
    return sender


def _limit_codecs(transceiver: RTCRtpTransceiver) -> None:
    """Keep only the forwarded codec (and its RTX) on an answering transceiver."""
    wanted = _ALLOWED_MIME[transceiver.kind]
    codecs: list[RTCRtpCodecParameters] = transceiver._codecs
    primary = [c for c in codecs if c.mimeType.lower() == wanted][:1]
    if not primary:
        offered = ", ".join(sorted({c.mimeType for c in codecs})) or "none in common"
        raise SdpRejected(f"{transceiver.kind} m-line offers no {wanted} ({offered})")
    pt = primary[0].payloadType
    rtx = [c for c in codecs if c.mimeType.lower() == _RTX_MIME and c.parameters.get("apt") == pt][
        :1
    ]
    transceiver._codecs = primary + rtx


class _SrtpBuffer:
    """A pylibsrtp Session's libsrtp context and 1500-byte buffer, used in place.

    pylibsrtp 1.0 allocates a length cell and copies twice per call; here a packet is
    copied once into the buffer, protected or unprotected in place (RFC 3711 §3.3-3.4)
    and read back as a view. Single-threaded use only: the view is valid until the next
    call (aiortc's own calls on the session happen between ours, never during them).
    """

    _TRAILER = 4 + 16 + 128  # SRTCP index + tag + MKI, the larger of the two trailers

    def __init__(self, session: pylibsrtp.Session):
        self._session = session  # keeps the C context alive
        self._ctx = session._srtp[0]
        self._cdata = session._cdata
        self._buffer = session._buffer
        self._view = memoryview(session._buffer)
        self._length = _binding.ffi.new("int *")
        self._limit = len(session._buffer) - self._TRAILER
        lib = _binding.lib  # cffi resolves attributes on each access: look them up once
        self.protect_functions = (lib.srtp_protect, lib.srtp_protect_rtcp)
        self._unprotect, self._unprotect_rtcp = lib.srtp_unprotect, lib.srtp_unprotect_rtcp

    @property
    def parts(self) -> tuple[Any, Any, Any, int]:
        """libsrtp's context, the session's cdata, the length cell and the largest packet
        ``process`` takes: for ``_Sender.send``, which does what it does in its own frame."""
        return self._ctx, self._cdata, self._length, self._limit

    @property
    def view(self) -> memoryview:
        """The session buffer: after ``process`` its first ``size`` bytes are the result."""
        return self._view

    def unprotect(self, data: bytes, rtcp: bool) -> bytes | None:
        size = self.process(self._unprotect_rtcp if rtcp else self._unprotect, data)
        return None if size < 0 else bytes(self._view[:size])

    def process(self, function: Any, data: bytes | bytearray | memoryview) -> int:
        """Run a libsrtp function on a copy of ``data`` in the buffer: new size, or -1."""
        size = len(data)
        if size > self._limit:
            return -1
        self._view[:size] = data
        length = self._length
        length[0] = size
        if function(self._ctx, self._cdata, length):
            return -1
        result: int = length[0]  # an int already: int() cost ~1 % of the forwarding path
        return result


class _Sender:
    """Writes protected packets to the nominated ICE pair's UDP socket directly.

    One per peer connection, for its whole life, so its bound ``send`` can be handed to
    every consumer once: it is the only Python frame between a consumer and libsrtp.
    ``connect`` attaches it to the current SRTP session and socket (it is called on a
    send while detached); the wire detaches it when the DTLS state changes.
    """

    __slots__ = (
        "_addr",
        "_cdata",
        "_connect",
        "_ctx",
        "_length",
        "_limit",
        "_protect",
        "_protect_rtcp",
        "_queue",
        "_sock",
        "_srtp",
        "_view",
    )

    def __init__(self, connect: Callable[[], bool]):
        self._connect = connect
        self._srtp: _SrtpBuffer | None = None  # keeps the C context below alive
        # the attached _SrtpBuffer's parts (None: detached), see send
        self._ctx: Any = None
        self._cdata: Any = None
        self._length: Any = None
        self._limit = 0
        self._protect: Any = None
        self._protect_rtcp: Any = None
        self._sock: socket.socket | None = None
        self._addr: tuple[str, int] = ("", 0)
        self._view = memoryview(b"")
        self._queue: Callable[[bytes, tuple[str, int]], None] = lambda data, addr: None

    def attach(
        self,
        srtp: _SrtpBuffer,
        sock: socket.socket | None,
        addr: tuple[str, int],
        queue: Callable[[bytes, tuple[str, int]], None],
    ) -> None:
        """Send through ``srtp`` to ``addr`` on ``sock`` (None: protect only, for benches);
        ``queue`` takes what the socket buffer refuses."""
        self._srtp = srtp
        self._ctx, self._cdata, self._length, self._limit = srtp.parts
        self._protect, self._protect_rtcp = srtp.protect_functions
        self._view = srtp.view
        self._sock = sock
        self._addr = addr
        self._queue = queue

    def detach(self) -> None:
        self._ctx = self._srtp = None

    def send(self, data: bytes | bytearray | memoryview) -> bool:
        ctx = self._ctx
        if ctx is None:
            if not self._connect() or self._ctx is None:
                return False
            ctx = self._ctx
        # _SrtpBuffer.process written out: this runs per packet and subscriber, and the
        # call was ~2 % of the forwarding path (bench.load.hotpath, callgrind)
        size = len(data)
        if size > self._limit:
            return False
        view = self._view
        view[:size] = data
        length = self._length
        length[0] = size
        rtcp = 192 <= data[1] <= 223  # is_rtcp, inlined
        if (self._protect_rtcp if rtcp else self._protect)(ctx, self._cdata, length):
            return False
        size = length[0]
        sock = self._sock
        if sock is None:
            return True
        protected = view[:size]
        try:
            sock.sendto(protected, self._addr)
        except BlockingIOError:  # socket buffer full: let asyncio queue it, as before
            self._queue(bytes(protected), self._addr)
        except OSError:
            return False
        return True


def loopback_srtp_sender(
    sock: socket.socket | None, addr: tuple[str, int], aead: bool = False
) -> Callable[[bytes | bytearray | memoryview], bool]:
    """A peer's send path on a fixed SRTP key, for bench.load.hotpath: SRTP, then sendto
    on ``sock`` (dropped when the buffer is full) or nowhere if None.

    The profile is AES128_CM_SHA1_80, or with ``aead`` AEAD_AES_256_GCM: what aiortc
    prefers and negotiates with aiortc peers (the load generator), RFC 7714.
    """
    policy = pylibsrtp.Policy(
        key=bytes(44 if aead else 30),  # master key + salt: 32 + 12 or 16 + 14
        ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
        srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_256_GCM
        if aead
        else pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    )
    sender = _Sender(lambda: False)
    sender.attach(_SrtpBuffer(pylibsrtp.Session(policy)), sock, addr, lambda data, addr: None)
    return sender.send


def _patient_consent(connection: Any) -> None:
    """Replace aioice's consent checks on this connection (aioice calls
    ``self.query_consent()`` once connected).

    aioice sends each check once, waits 500 ms and drops the connection after six failed
    checks in a row: a satellite site (600 ms round trip) lost its media after 30 s of
    every meeting, and so did a rural site whose link queue held the answers back
    (bench.weaklink satellite and edge: "Consent to send expired"). Here a check is
    retransmitted, and consent expires only after 30 s without any answer (RFC 7675 §5.1).
    """
    loop = asyncio.get_running_loop()

    async def query_consent() -> None:
        answered = loop.time()
        while True:
            await asyncio.sleep(CONSENT_INTERVAL_S * (0.8 + 0.4 * random.random()))
            for pair in list(connection._nominated.values()):
                request = connection.build_request(pair, nominate=False)
                try:
                    await pair.protocol.request(
                        request,
                        pair.remote_addr,
                        integrity_key=connection.remote_password.encode("utf8"),
                        retransmissions=CONSENT_RETRANSMISSIONS,
                    )
                    answered = loop.time()
                except stun.TransactionError:
                    pass
            if loop.time() - answered >= CONSENT_TIMEOUT_S:
                log.info("ICE consent expired: no answer for %.0f s", loop.time() - answered)
                connection._query_consent_task = None
                await connection.close()
                return

    connection.query_consent = query_consent


class _Wire:
    """Taps and writes plain packets on the DTLS transports of one peer connection."""

    def __init__(self, pc: RTCPeerConnection, sink: PacketSink, addresses: Sequence[str]):
        self._pc = pc
        self._sink = sink
        self._addresses = list(addresses)
        self._dtls: RTCDtlsTransport | None = None
        self._tapped: set[int] = set()
        self._direct = False
        # consumers keep sender.send: one object for the connection's life
        self.sender = _Sender(self._connect_sender)

    def attach(self) -> None:
        """Hook every DTLS transport and ICE gatherer the connection has now (idempotent)."""
        for transceiver in self._pc.getTransceivers():
            dtls = transceiver.receiver.transport
            if self._dtls is None:
                self._dtls = dtls
                dtls.on("statechange", self._forget_sender)
            if id(dtls) in self._tapped:
                continue
            self._tapped.add(id(dtls))
            # _recv_next awaits these through the instance: replacing them here taps
            # this connection's packets only
            setattr(dtls, "_handle_rtp_data", self._on_rtp)  # noqa: B010
            setattr(dtls, "_handle_rtcp_data", self._on_rtcp)  # noqa: B010
            connection = dtls.transport.iceGatherer._connection
            self._restrict_host_candidates(connection)
            _patient_consent(connection)

    def _restrict_host_candidates(self, connection: Any) -> None:
        # aioice gathers on every interface and skips 127.0.0.1; the bridge advertises
        # host candidates on its configured addresses only.
        addresses = self._addresses

        async def gather_candidates() -> None:
            if connection._local_candidates_start:
                return
            connection._local_candidates_start = True
            for component in connection._components:
                found: list[IceCandidate] = await connection.get_component_candidates(
                    component=component, addresses=addresses
                )
                connection._local_candidates += found
            connection._local_candidates_end = True

        connection.gather_candidates = gather_candidates

    async def _on_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        # aiortc's arrival time is wall-clock ms since 1900; the bridge runs on monotonic ms.
        self._sink.on_rtp(data, monotonic_ms())
        self._receive_directly()

    async def _on_rtcp(self, data: bytes) -> None:
        self._sink.on_rtcp(data)
        self._receive_directly()

    def _receive_directly(self) -> None:
        """SRTP is up: read later SRTP datagrams synchronously off the ICE sockets."""
        dtls = self._dtls
        if self._direct or dtls is None or dtls._rx_srtp is None:
            return
        self._direct = True
        for protocol in dtls.transport._connection._protocols:
            receive = self._direct_receiver(protocol.datagram_received)
            setattr(protocol, "datagram_received", receive)  # noqa: B010

    def _direct_receiver(self, aioice_receive: Callable[[bytes, Any], None]) -> Any:
        assert self._dtls is not None
        unprotect = _SrtpBuffer(self._dtls._rx_srtp).unprotect
        on_rtp, on_rtcp = self._sink.on_rtp, self._sink.on_rtcp

        def datagram_received(data: bytes, addr: Any) -> None:
            # RFC 7983 §7: first byte 128..191 is RTP/RTCP; STUN and DTLS go to aioice
            if not data or not 127 < data[0] < 192:
                aioice_receive(data, addr)
                return
            rtcp = is_rtcp(data)
            plain = unprotect(data, rtcp)
            if plain is None:
                return
            if rtcp:
                on_rtcp(plain)
            else:
                on_rtp(plain, monotonic_ms())

        return datagram_received

    def _forget_sender(self) -> None:
        self.sender.detach()

    def _connect_sender(self) -> bool:
        dtls = self._dtls
        if dtls is None or dtls.state != "connected" or dtls._tx_srtp is None:
            return False
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None or pair.protocol.transport is None:
            return False
        transport: Any = pair.protocol.transport  # asyncio's, with its socket in _sock
        self.sender.attach(
            _SrtpBuffer(dtls._tx_srtp), transport._sock, pair.remote_addr, transport.sendto
        )
        return True


def _watch_state(pc: RTCPeerConnection, on_state: ConnectionListener) -> None:
    @pc.on("connectionstatechange")
    def _changed() -> None:
        on_state(str(pc.connectionState))


def _check_sdp(sdp: str) -> SessionDescription:
    try:
        return SessionDescription.parse(sdp)
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise SdpRejected(f"unparsable SDP: {exc}") from exc


class AnsweringPeer:
    """A peer connection that answers offers and receives raw packets.

    The bridge's publisher PC (the client offers); also a receiving test or load client.
    """

    def __init__(self, settings: AdapterSettings, sink: PacketSink, on_state: ConnectionListener):
        self._pc = RTCPeerConnection(_rtc_configuration(settings, bundle_max=False))
        self._wire = _Wire(self._pc, sink, settings.candidate_addresses())
        # SRTP-protect and send one plain RTP or RTCP packet (False if not connected).
        # The sender's own bound method, not a wrapper: one Python frame per packet less.
        self.send = self._wire.sender.send
        self._transport_cc = settings.transport_cc
        _watch_state(self._pc, on_state)

    async def accept_offer(self, sdp: str) -> tuple[str, list[RemoteTrack]]:
        parsed = _check_sdp(sdp)
        if not any(m.kind in _ALLOWED_MIME for m in parsed.media):
            raise SdpRejected("offer has no audio or video m-line")
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except (ValueError, KeyError, IndexError, AttributeError) as exc:
            raise SdpRejected(f"offer rejected: {exc}") from exc
        except Exception as exc:  # aiortc raises bare InvalidStateError/InvalidAccessError
            raise SdpRejected(f"offer rejected: {type(exc).__name__}: {exc}") from exc
        sections = {m.mid: m for m in media_sections(sdp)}
        tracks: list[RemoteTrack] = []
        for transceiver in self._pc.getTransceivers():
            if transceiver.kind not in _ALLOWED_MIME or transceiver.direction == "inactive":
                continue
            _limit_codecs(transceiver)
            section = sections.get(transceiver.mid) or MediaSection(transceiver.kind, None)
            _accept_extensions(transceiver, section, self._transport_cc)
            if not isinstance(transceiver.sender, _SlotSender):
                _swap_endpoints(transceiver)
            tracks.append(_remote_track(transceiver, parsed, section, self._transport_cc))
        self._wire.attach()
        answer = await self._pc.createAnswer()
        await self._pc.setLocalDescription(answer)
        local = str(self._pc.localDescription.sdp)
        for track in tracks:
            if track.rids:
                # aiortc's SDP model has no rid/simulcast: add them to the text it wrote
                local = add_simulcast_recv(local, track.mid, track.rids)
        return request_opus_fec(local), tracks

    async def close(self) -> None:
        await self._pc.close()


def _accept_extensions(
    transceiver: RTCRtpTransceiver, section: MediaSection, transport_cc: bool
) -> None:
    """Answer what aiortc does not offer with the offer's ids: the RID header extensions,
    and transport-wide congestion control (extension plus rtcp-fb, both needed)."""
    known = {e.uri for e in transceiver._headerExtensions}
    uris = (
        (RID_URI, REPAIRED_RID_URI, TRANSPORT_CC_URI)
        if transport_cc
        else (RID_URI, REPAIRED_RID_URI)
    )
    for uri in uris:
        if uri in section.extmap and uri not in known:
            transceiver._headerExtensions.append(
                RTCRtpHeaderExtensionParameters(id=section.extmap[uri], uri=uri)
            )
    if transport_cc and TRANSPORT_CC_URI in section.extmap:
        for codec in transceiver._codecs:
            if codec.mimeType.lower() != _RTX_MIME and not any(
                f.type == "transport-cc" for f in codec.rtcpFeedback
            ):
                codec.rtcpFeedback.append(RTCRtcpFeedback(type="transport-cc"))


def _remote_track(
    transceiver: RTCRtpTransceiver,
    parsed: SessionDescription,
    section: MediaSection,
    transport_cc: bool,
) -> RemoteTrack:
    media = next(m for m in parsed.media if m.rtp.muxId == transceiver.mid)
    primary = transceiver._codecs[0]
    if primary.payloadType is None:
        raise SdpRejected(f"{transceiver.kind} codec has no payload type")
    rtx_pt = transceiver._codecs[1].payloadType if len(transceiver._codecs) > 1 else None
    ssrc: int | None = media.ssrc[0].ssrc if media.ssrc else None
    rtx_ssrc: int | None = None
    for group in media.ssrc_group:
        if group.semantic == "FID" and len(group.items) == 2:
            ssrc, rtx_ssrc = int(group.items[0]), int(group.items[1])
            break
    return RemoteTrack(
        kind=cast(Kind, transceiver.kind),
        mid=str(transceiver.mid),
        ssrc=ssrc,
        rtx_ssrc=rtx_ssrc,
        payload_type=primary.payloadType,
        rtx_payload_type=rtx_pt,
        clock_rate=primary.clockRate,
        rids=section.send_rids,
        rid_ext_id=section.extmap.get(RID_URI),
        repaired_rid_ext_id=section.extmap.get(REPAIRED_RID_URI),
        audio_level_ext_id=section.extmap.get(AUDIO_LEVEL_URI),
        # only when answered: otherwise no packet carries it and nothing is to be fed back
        transport_cc_ext_id=section.extmap.get(TRANSPORT_CC_URI) if transport_cc else None,
    )


class _AiortcSlot:
    def __init__(self, transceiver: RTCRtpTransceiver, sender: _SlotSender):
        self._transceiver = transceiver
        self._sender = sender

    @property
    def kind(self) -> Kind:
        return cast(Kind, self._transceiver.kind)

    @property
    def parameters(self) -> SlotParameters | None:
        return self._sender.negotiated

    def assign(self, stream_id: str, track_id: str) -> None:
        # Written into a=msid by aiortc's SDP writer: the browser's stream id is the
        # publishing participant's id.
        self._sender._stream_id = stream_id
        self._sender._track_id = track_id

    def set_active(self, active: bool) -> None:
        self._transceiver.direction = "sendonly" if active else "inactive"
        if not active:
            # An unused slot must not keep its last owner's msid: when that participant
            # comes back on another slot, two m-sections would carry the same a=msid and
            # Chromium rejects the offer ("Duplicate a=msid lines detected").
            self.assign("-", f"unused-{self._sender._ssrc}")


class OfferingPeer:
    """A peer connection that offers sendonly slots and sends raw packets.

    The bridge's subscriber PC (the bridge offers); also a publishing test or load client.
    """

    def __init__(
        self,
        settings: AdapterSettings,
        sink: PacketSink,
        on_state: ConnectionListener,
        on_slot_ready: Callable[[SendSlot], None],
    ):
        self._pc = RTCPeerConnection(_rtc_configuration(settings, bundle_max=True))
        self._wire = _Wire(self._pc, sink, settings.candidate_addresses())
        # SRTP-protect and send one plain RTP or RTCP packet (False if not connected).
        # The sender's own bound method, not a wrapper: one Python frame per packet less.
        self.send = self._wire.sender.send
        self._on_slot_ready = on_slot_ready
        self._audio_red = settings.audio_red
        self._probe_feedback = settings.probe_feedback
        _watch_state(self._pc, on_state)

    def add_slot(self, kind: Kind) -> SendSlot:
        transceiver = self._pc.addTransceiver(kind, direction="sendonly")
        wanted = _ALLOWED_MIME[kind]
        capabilities = RTCRtpSender.getCapabilities(kind).codecs
        transceiver.setCodecPreferences(
            [c for c in capabilities if c.mimeType.lower() in (wanted, _RTX_MIME)]
        )
        sender = _swap_endpoints(transceiver)
        slot = _AiortcSlot(transceiver, sender)
        sender.on_negotiated = lambda: self._on_slot_ready(slot)
        self._wire.attach()
        return slot

    async def create_offer(self) -> str:
        offer = await self._pc.createOffer()
        await self._pc.setLocalDescription(offer)
        sdp = offer_extension(str(self._pc.localDescription.sdp), "video", PLAYOUT_DELAY_URI)
        if self._probe_feedback:
            # for the probes' padding only (forwarding/padding_delay.py)
            sdp = offer_extension(sdp, "video", TRANSPORT_CC_URI)
            sdp = offer_rtcp_feedback(sdp, "video", "transport-cc")
        return offer_audio_red(sdp) if self._audio_red else sdp

    async def accept_answer(self, sdp: str) -> None:
        _check_sdp(sdp)
        red = answered_audio_red(sdp) if self._audio_red else {}
        delay = answered_extension(sdp, "video", PLAYOUT_DELAY_URI)
        numbered = (
            answered_extension(sdp, "video", TRANSPORT_CC_URI) if self._probe_feedback else {}
        )
        for transceiver in self._pc.getTransceivers():
            sender = transceiver.sender
            if isinstance(sender, _SlotSender):
                mid = transceiver.mid or ""
                sender.red_payload_type = red.get(mid)
                sender.playout_delay_id = delay.get(mid)
                sender.transport_cc_id = numbered.get(mid)
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as exc:  # aiortc raises ValueError and its own state errors
            raise SdpRejected(f"answer rejected: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        await self._pc.close()


class AiortcPeerFactory:
    """Creates the two peer connections of each participant."""

    def __init__(self, settings: AdapterSettings):
        self._settings = settings

    def publisher(self, sink: PacketSink, on_state: ConnectionListener) -> AnsweringPeer:
        return AnsweringPeer(self._settings, sink, on_state)

    def subscriber(
        self,
        sink: PacketSink,
        on_state: ConnectionListener,
        on_slot_ready: Callable[[SendSlot], None],
    ) -> OfferingPeer:
        return OfferingPeer(self._settings, sink, on_state, on_slot_ready)
