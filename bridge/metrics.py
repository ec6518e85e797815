"""Counters the bridge keeps about itself; signaling renders them for Prometheus.

Plain integer attributes on the hot path (one add per packet), labelled counters only
on rare paths (drops, errors).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class BridgeMetrics:
    rtp_packets_in: int = 0
    rtp_bytes_in: int = 0
    rtp_packets_out: int = 0
    rtp_bytes_out: int = 0
    lane_packets_out: int = 0  # of rtp_packets_out, sent by fan-out lanes (fanout_lane.py)
    lanes_dissolved: int = 0  # lanes a packet they could not map sent back per consumer
    rtcp_packets_in: int = 0
    rtcp_packets_out: int = 0
    retransmissions: int = 0
    probes: int = 0  # upgrades proven with padding first (forwarding/probe_gate.py)
    probes_failed: int = 0
    probes_queued: int = 0  # of those, ended by transport-cc feedback (padding queued/lost)
    padding_reported: int = 0  # numbered probe padding packets transport-cc reported on
    padding_bytes: int = 0
    paths_recovered: int = 0  # paused video resumed on the path watch's sign (path_watch.py)
    keyframe_requests: int = 0
    nacks_sent: int = 0
    uplink_video_pauses: int = 0  # publishers told to stop video (uplink_guard)
    # "applied" / "ignored": subscribers' own downlink measures at their join
    link_hints: Counter[str] = field(default_factory=Counter)
    # reason -> count, for packets and messages that were refused
    rtp_dropped: Counter[str] = field(default_factory=Counter)
    rtcp_dropped: Counter[str] = field(default_factory=Counter)
    sdp_rejected: Counter[str] = field(default_factory=Counter)
