"""What the media core needs from a WebRTC peer connection, independent of aiortc.

bridge.aiortc_adapter implements these protocols; unit tests use fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

Kind = Literal["audio", "video"]


@dataclass(frozen=True, slots=True)
class RemoteTrack:
    """One m-line a publisher offered, with the codec the bridge accepted for it."""

    kind: Kind
    mid: str
    ssrc: int | None
    rtx_ssrc: int | None
    payload_type: int
    rtx_payload_type: int | None
    clock_rate: int
    # simulcast layers (RFC 8853), low to high; () for a single stream
    rids: tuple[str, ...] = ()
    rid_ext_id: int | None = None
    repaired_rid_ext_id: int | None = None
    audio_level_ext_id: int | None = None
    transport_cc_ext_id: int | None = None


@dataclass(frozen=True, slots=True)
class SlotParameters:
    """What was negotiated for one outgoing (bridge -> subscriber) transceiver."""

    ssrc: int
    rtx_ssrc: int
    payload_type: int
    rtx_payload_type: int | None
    cname: str
    abs_send_time_id: int | None = None  # negotiated abs-send-time extension id (video)
    red_payload_type: int | None = None  # RED over Opus (RFC 2198) the subscriber accepted
    playout_delay_id: int | None = None  # negotiated playout-delay extension id (video)
    transport_cc_id: int | None = None  # transport-wide sequence number id (video padding)


class PacketSink(Protocol):
    """Receives plain (SRTP-unprotected) packets from one peer connection."""

    def on_rtp(self, data: bytes, arrival_ms: int) -> None: ...

    def on_rtcp(self, data: bytes) -> None: ...


ConnectionListener = Callable[[str], None]
# Sends one RTP/RTCP packet toward a peer (SRTP, socket, maybe a pacer first); False if it
# did not leave. A fan-out lane hands a view of its array (media/fanout_lane.py).
SendPacket = Callable[[bytes | bytearray | memoryview], bool]


class PublisherPeer(Protocol):
    """The peer connection a participant publishes on; the client always offers."""

    async def accept_offer(self, sdp: str) -> tuple[str, list[RemoteTrack]]:
        """Apply a remote offer; return the answer SDP and the accepted tracks.

        Raises SdpRejected with the reason when the offer cannot be used.
        """
        ...

    def send(self, data: bytes | bytearray | memoryview) -> bool: ...

    async def close(self) -> None: ...


class SendSlot(Protocol):
    """One outgoing transceiver of a subscriber peer, reused across producers."""

    @property
    def kind(self) -> Kind: ...

    @property
    def parameters(self) -> SlotParameters | None:
        """None until the transport is connected and the codec is negotiated."""
        ...

    def assign(self, stream_id: str, track_id: str) -> None: ...

    def set_active(self, active: bool) -> None: ...


class SubscriberPeer(Protocol):
    """The peer connection a participant receives on; the bridge always offers."""

    def add_slot(self, kind: Kind) -> SendSlot: ...

    async def create_offer(self) -> str: ...

    async def accept_answer(self, sdp: str) -> None: ...

    def send(self, data: bytes | bytearray | memoryview) -> bool: ...

    async def close(self) -> None: ...


class PeerFactory(Protocol):
    def publisher(self, sink: PacketSink, on_state: ConnectionListener) -> PublisherPeer: ...

    def subscriber(
        self,
        sink: PacketSink,
        on_state: ConnectionListener,
        on_slot_ready: Callable[[SendSlot], None],
    ) -> SubscriberPeer: ...
