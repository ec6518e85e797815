"""Per-consumer forwarding decision: forward (with rewritten seq/ts) or drop.

Pure: the caller builds one ``InboundPacket`` per incoming packet, asks every
consumer's ``Forwarder``, and applies the returned ``Forward``/``Drop`` value.

States:
- ``waiting``: video drops until a key frame packet of the target simulcast layer (asking
  for one); audio forwards the first packet it sees. The first forwarded packet resyncs.
- ``forwarding``: packets of the current layer go through the munger.
- ``paused``: (mute) everything is dropped, no key frame requests; ``resume()`` -> waiting.

Simulcast (``set_target``): each spatial layer is its own SSRC with its own extended
seq/ts space. Only the current layer is forwarded ("other_layer" drops the rest). A
switch, up or down, happens at a key frame of the target layer; until then the current
layer keeps flowing (no freeze) and target-layer packets ask for a key frame
("switching"). The switch resyncs the munger: seq continues, ts advances by the
arrival time elapsed since the last forwarded packet. ``set_target(None)`` pauses video
for the allocator (distinct from ``pause()``): drops with reason "allocation", and a
later target starts over at a key frame.

Temporal layers (VP8 TID, RFC 7741 §4.2): packets above the current temporal layer are
dropped ("temporal") and skipped in the munger so the outgoing seqs stay contiguous.
Up-switch at a layer sync packet (Y bit: "depends only on the base layer") of a layer in
(current, target], or at a key frame. A plain TID 0 frame is not enough: later non-sync
frames of higher layers may reference higher-layer frames we did not send. Down-switch
at the end of a frame (marker bit, RFC 7741 §4.1). Reordered packets across a temporal
switch may leave a one-seq gap (see bridge/rtp/munger.py).

VP8 PictureID/TL0PICIDX are rewritten by a ``Vp8Munger`` when the packet carries them.

``restart()`` (producer restarted with a new SSRC / sequence space) makes the next
forwarded packet resync; video additionally waits for a key frame again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bridge.rtp.munger import RtpMunger
from bridge.rtp.vp8_munger import Vp8Munger

ForwarderState = Literal["waiting", "forwarding", "paused"]

MAX_TEMPORAL = 3  # VP8 TID is 2 bits (RFC 7741 §4.2)


@dataclass(frozen=True, slots=True)
class InboundPacket:
    ext_seq: int  # extended within its spatial layer
    ext_timestamp: int  # extended within its spatial layer
    arrival_ms: int
    keyframe: bool  # first packet of a key frame
    marker: bool  # last packet of a frame (RFC 7741 §4.1)
    spatial: int = 0  # simulcast layer index, 0 = lowest
    temporal: int | None = None  # VP8 TID, None if absent
    layer_sync: bool = False  # VP8 Y bit
    picture_id: int | None = None  # VP8 PictureID as received
    tl0_pic_idx: int | None = None  # VP8 TL0PICIDX as received
    picture_id_bits: int = 15  # 7 or 15 (M bit); see vp8_munger.picture_id_bits
    # (picture_id, tl0_pic_idx, picture_id_bits), one object for all the packets of a
    # picture (the producer reuses it): a forwarder tells the rest of the picture it
    # mapped last by identity, without mapping again. None: map every packet.
    picture: tuple[int | None, int | None, int] | None = None


# What to send for a forwarded packet: (out_ext_seq, sequence_number (16-bit), timestamp
# (32-bit), picture_id, tl0_pic_idx), the VP8 fields None where the packet keeps its own.
# A plain tuple: one is made for every packet and subscriber, and building a NamedTuple
# (even through tuple.__new__) cost about 4 % of the whole forwarding path.
Forward = tuple[int, int, int, int | None, int | None]


@dataclass(frozen=True, slots=True)
class Drop:
    # "waiting_keyframe", "paused", "too_old", "other_layer", "switching", "temporal",
    # "allocation"
    reason: str
    request_keyframe: bool


_PAUSED = Drop("paused", request_keyframe=False)
_WAITING_KEYFRAME = Drop("waiting_keyframe", request_keyframe=True)
_TOO_OLD = Drop("too_old", request_keyframe=False)
_OTHER_LAYER = Drop("other_layer", request_keyframe=False)
_SWITCHING = Drop("switching", request_keyframe=True)
_TEMPORAL = Drop("temporal", request_keyframe=False)
_ALLOCATION = Drop("allocation", request_keyframe=False)


class Forwarder:
    __slots__ = (
        "_clock_rate",
        "_current_spatial",
        "_current_temporal",
        "_is_video",
        "_last_forward_arrival_ms",
        "_munger",
        "_needs_resync",
        "_picture",
        "_picture_out",
        "_state",
        "_target_spatial",
        "_target_temporal",
        "_vp8",
    )

    def __init__(
        self,
        kind: Literal["audio", "video"],
        munger: RtpMunger,
        clock_rate: int,
        vp8: Vp8Munger | None = None,
    ) -> None:
        if clock_rate <= 0:
            raise ValueError(f"clock_rate must be > 0, got {clock_rate}")
        self._is_video = kind == "video"
        self._munger = munger
        self._vp8 = Vp8Munger() if vp8 is None else vp8
        self._clock_rate = clock_rate
        self._state: ForwarderState = "waiting"
        self._needs_resync = True
        self._last_forward_arrival_ms: int | None = None
        self._target_spatial: int | None = 0
        self._target_temporal = MAX_TEMPORAL
        self._current_spatial: int | None = None
        self._current_temporal = MAX_TEMPORAL
        # InboundPacket.picture of the last picture mapped, and what it mapped to
        self._picture: tuple[int | None, int | None, int] | None = None
        self._picture_out: tuple[int | None, int | None] | None = None

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

    @property
    def chain_start_ext_seq(self) -> int:
        """Outgoing extended seq where what the subscriber decodes now began: video
        resyncs only at a key frame (a start or a layer switch), and a VP8 key frame
        refreshes every reference (RFC 6386 §9.7-9.8), so nothing older is of use."""
        return self._munger.resync_out_ext_seq

    @property
    def current_spatial(self) -> int | None:
        """The spatial layer being forwarded; None unless ``forwarding``."""
        return self._current_spatial

    @property
    def target_spatial(self) -> int | None:
        return self._target_spatial

    @property
    def target_temporal(self) -> int:
        return self._target_temporal

    @property
    def current_temporal(self) -> int:
        """Highest temporal layer currently forwarded."""
        return self._current_temporal

    @property
    def last_out_timestamp(self) -> int:
        """The 32-bit RTP timestamp of the last packet forwarded (its initial value before)."""
        return self._munger.last_out_timestamp

    def take_back(self, out_ext_seq: int) -> None:
        """The newest forwarded packet never left (its pacer dropped it while the video
        was paused): the number is reused after the resync that resumes the video."""
        if self._state != "forwarding":  # it resyncs on the key frame that resumes it
            self._munger.take_back(out_ext_seq)

    def translate_timestamp(self, ts32: int) -> int:
        """Incoming 32-bit RTP timestamp -> this consumer's (for SRs, retransmissions)."""
        return self._munger.translate_timestamp(ts32)

    def set_target(self, spatial: int | None, temporal: int = 2) -> None:
        """Layers the allocator wants; ``spatial=None`` pauses (reason "allocation")."""
        if spatial is not None and spatial < 0:
            raise ValueError(f"spatial must be >= 0 or None, got {spatial}")
        if not 0 <= temporal <= MAX_TEMPORAL:
            raise ValueError(f"temporal must be in 0..{MAX_TEMPORAL}, got {temporal}")
        self._target_spatial = spatial
        self._target_temporal = temporal
        if spatial is None and self._state == "forwarding":
            self._stop("waiting")
        if self._state != "forwarding":
            self._current_temporal = temporal

    def pause(self) -> None:
        self._stop("paused")

    def resume(self) -> None:
        if self._state == "paused":
            self._state = "waiting"
            self._needs_resync = True

    def restart(self) -> None:
        self._needs_resync = True
        if self._state == "forwarding" and self._is_video:
            self._stop("waiting")

    def _stop(self, state: ForwarderState) -> None:
        self._state = state
        self._current_spatial = None
        self._needs_resync = True

    def on_packet(self, pkt: InboundPacket) -> Forward | Drop:
        state = self._state
        if state == "paused":
            return _PAUSED
        target = self._target_spatial
        if target is None:
            return _ALLOCATION
        tid = pkt.temporal
        if state == "waiting" or pkt.spatial != self._current_spatial:
            if pkt.spatial != target:
                return _OTHER_LAYER
            if self._is_video and not pkt.keyframe:
                return _WAITING_KEYFRAME if state == "waiting" else _SWITCHING
            # start, or switch layers, at this key frame
            self._state = "forwarding"
            self._current_spatial = target
            self._current_temporal = self._target_temporal
            self._needs_resync = True
        elif (
            tid is not None
            and self._is_video
            # else the packet's layer is forwarded and no switch is pending: nothing to do
            and (tid > self._current_temporal or self._current_temporal < self._target_temporal)
        ):
            dropped = self._filter_temporal(pkt, tid)
            if dropped is not None:
                return dropped
        if pkt.marker and self._target_temporal < self._current_temporal:
            self._current_temporal = self._target_temporal  # down-switch at frame end
        # forward: from here on this runs for every packet and subscriber, kept in this
        # one frame
        resync = self._needs_resync
        picture_id = tl0_pic_idx = None
        if pkt.picture_id is not None or pkt.tl0_pic_idx is not None:
            picture = pkt.picture
            if picture is not None and picture is self._picture and not resync:
                vp8 = self._picture_out
            else:
                vp8 = self._vp8.forward(
                    pkt.picture_id, pkt.tl0_pic_idx, resync, pkt.picture_id_bits
                )
                self._picture, self._picture_out = picture, vp8
            if vp8 is None:  # a picture dropped earlier, or older than the resync
                self._munger.skip(pkt.ext_seq)
                return _TOO_OLD
            picture_id, tl0_pic_idx = vp8
        ts_advance = 1
        last_arrival_ms = self._last_forward_arrival_ms
        if resync and last_arrival_ms is not None:
            ts_advance = max(1, (pkt.arrival_ms - last_arrival_ms) * self._clock_rate // 1000)
        out = self._munger.forward(pkt.ext_seq, pkt.ext_timestamp, resync, ts_advance)
        if out is None:
            return _TOO_OLD
        self._needs_resync = False
        if last_arrival_ms is None or pkt.arrival_ms > last_arrival_ms:
            self._last_forward_arrival_ms = pkt.arrival_ms
        out_ext_seq, sequence_number, timestamp = out  # (*out, ...) would build a list
        return out_ext_seq, sequence_number, timestamp, picture_id, tl0_pic_idx

    def steady_after(self, pkt: InboundPacket) -> bool:
        """True if ``pkt``, just forwarded, left this forwarder where every newer packet
        of its layer maps by fixed offsets, or is skipped as above its temporal layer
        (media/fanout_lane.py): forwarding its target layer with no switch or temporal
        step pending, and ``pkt`` the newest it has seen in sequence number, PictureID
        and TL0PICIDX."""
        return (
            self._state == "forwarding"
            and not self._needs_resync
            and self._current_spatial == self._target_spatial == pkt.spatial
            and self._current_temporal == self._target_temporal
            and self._munger.is_newest(pkt.ext_seq)
            and self._vp8.is_newest(pkt.picture_id, pkt.tl0_pic_idx, pkt.picture_id_bits)
        )

    def catch_up(
        self,
        newest: InboundPacket | None,
        skipped: list[InboundPacket],
    ) -> None:
        """Take the state of having handled, in the steady state ``steady_after``
        describes, newer packets: ``skipped`` (above the temporal layer forwarded, in
        order), and others of which ``newest`` was the newest forwarded. Numbers only
        move up to the newest, so the skips and ``newest`` alone do it (tests/bridge/media/
        test_fanout_lane.py checks it against forwarding every packet)."""
        for pkt in skipped:  # what _filter_temporal does for each
            self._munger.skip(pkt.ext_seq)
            self._vp8.skip(pkt.picture_id, picture_id_bits=pkt.picture_id_bits)
        if newest is not None:
            self.on_packet(newest)

    def _filter_temporal(self, pkt: InboundPacket, tid: int) -> Drop | None:
        current = self._current_temporal
        target = self._target_temporal
        if current < target:
            if pkt.keyframe:
                current = target
            elif pkt.layer_sync and current < tid <= target:
                current = tid
            self._current_temporal = current
        if tid <= current:
            return None
        self._munger.skip(pkt.ext_seq)
        self._vp8.skip(pkt.picture_id, picture_id_bits=pkt.picture_id_bits)
        if pkt.marker and target < current:
            self._current_temporal = target
        return _TEMPORAL
