"""Per-consumer forwarding decision: forward (with rewritten seq/ts) or drop.

Pure: the caller builds one ``InboundPacket`` per incoming packet, asks every
consumer's ``Forwarder``, and applies the returned ``Forward``/``Drop`` value.

States:
- ``waiting``: video drops until a key frame packet (asking for one); audio forwards the
  first packet it sees. The first forwarded packet resyncs the munger.
- ``forwarding``: packets go through the munger.
- ``paused``: everything is dropped, no key frame requests; ``resume()`` -> ``waiting``.

``restart()`` (producer restarted with a new SSRC / sequence space) makes the next
forwarded packet resync; video additionally waits for a key frame again, since
packets of the new stream are undecodable without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bridge.rtp.munger import RtpMunger

ForwarderState = Literal["waiting", "forwarding", "paused"]


@dataclass(frozen=True, slots=True)
class InboundPacket:
    ext_seq: int
    ext_timestamp: int
    arrival_ms: int
    keyframe: bool  # first packet of a key frame
    marker: bool


@dataclass(frozen=True, slots=True)
class Forward:
    out_ext_seq: int
    sequence_number: int  # 16-bit
    timestamp: int  # 32-bit


@dataclass(frozen=True, slots=True)
class Drop:
    reason: str  # "waiting_keyframe", "paused" or "too_old"
    request_keyframe: bool


_PAUSED = Drop("paused", request_keyframe=False)
_WAITING_KEYFRAME = Drop("waiting_keyframe", request_keyframe=True)
_TOO_OLD = Drop("too_old", request_keyframe=False)


class Forwarder:
    __slots__ = (
        "_clock_rate",
        "_is_video",
        "_last_forward_arrival_ms",
        "_munger",
        "_needs_resync",
        "_state",
    )

    def __init__(self, kind: Literal["audio", "video"], munger: RtpMunger, clock_rate: int) -> None:
        if clock_rate <= 0:
            raise ValueError(f"clock_rate must be > 0, got {clock_rate}")
        self._is_video = kind == "video"
        self._munger = munger
        self._clock_rate = clock_rate
        self._state: ForwarderState = "waiting"
        self._needs_resync = True
        self._last_forward_arrival_ms: int | None = None

    @property
    def state(self) -> ForwarderState:
        return self._state

    @property
    def has_forwarded(self) -> bool:
        """True once at least one packet was forwarded."""
        return self._munger.started

    @property
    def highest_out_ext_seq(self) -> int:
        return self._munger.highest_out_ext_seq

    def translate_timestamp(self, ts32: int) -> int:
        """Incoming 32-bit RTP timestamp -> this consumer's (for SRs, retransmissions)."""
        return self._munger.translate_timestamp(ts32)

    def pause(self) -> None:
        self._state = "paused"

    def resume(self) -> None:
        if self._state == "paused":
            self._state = "waiting"
            self._needs_resync = True

    def restart(self) -> None:
        self._needs_resync = True
        if self._state == "forwarding" and self._is_video:
            self._state = "waiting"

    def on_packet(self, pkt: InboundPacket) -> Forward | Drop:
        state = self._state
        if state == "paused":
            return _PAUSED
        if state == "waiting":
            if self._is_video and not pkt.keyframe:
                return _WAITING_KEYFRAME
            self._state = "forwarding"
            self._needs_resync = True
        resync = self._needs_resync
        ts_advance = 1
        if resync and self._last_forward_arrival_ms is not None:
            elapsed = pkt.arrival_ms - self._last_forward_arrival_ms
            ts_advance = max(1, elapsed * self._clock_rate // 1000)
        out = self._munger.forward(
            pkt.ext_seq, pkt.ext_timestamp, resync=resync, ts_advance=ts_advance
        )
        if out is None:
            return _TOO_OLD
        self._needs_resync = False
        if self._last_forward_arrival_ms is None or pkt.arrival_ms > self._last_forward_arrival_ms:
            self._last_forward_arrival_ms = pkt.arrival_ms
        return Forward(out[0], out[1], out[2])
