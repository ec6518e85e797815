"""Prometheus text exposition (format 0.0.4) of what the bridge is doing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bridge.media.rooms import RoomRegistry

from .counters import SignalingCounters


def _lines(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, int]]) -> list[str]:
    out = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    out.extend(f"{name}{labels} {value}" for labels, value in samples)
    return out


def _labelled(label: str, values: Mapping[str, int]) -> list[tuple[str, int]]:
    return [(f'{{{label}="{key}"}}', value) for key, value in sorted(values.items())]


def render(registry: RoomRegistry, counters: SignalingCounters) -> str:
    m = registry.metrics
    participants = sum(len(r.participants) for r in registry.rooms.values())
    lines: list[str] = []
    lines += _lines(
        "diemcau_rooms", "gauge", "Rooms with participants.", [("", len(registry.rooms))]
    )
    lines += _lines("diemcau_participants", "gauge", "Joined participants.", [("", participants)])
    for name, value, help_text in (
        ("diemcau_rtp_packets_in_total", m.rtp_packets_in, "RTP packets accepted from publishers."),
        ("diemcau_rtp_bytes_in_total", m.rtp_bytes_in, "RTP bytes accepted from publishers."),
        ("diemcau_rtp_packets_out_total", m.rtp_packets_out, "RTP packets forwarded."),
        ("diemcau_rtp_bytes_out_total", m.rtp_bytes_out, "RTP bytes forwarded."),
        (
            "diemcau_lane_packets_out_total",
            m.lane_packets_out,
            "Of the RTP packets forwarded, those sent by fan-out lanes (steady subscribers).",
        ),
        (
            "diemcau_lanes_dissolved_total",
            m.lanes_dissolved,
            "Fan-out lanes a packet they could not map (reordered, new shape) dissolved.",
        ),
        ("diemcau_rtcp_packets_in_total", m.rtcp_packets_in, "RTCP compound packets accepted."),
        ("diemcau_rtcp_packets_out_total", m.rtcp_packets_out, "RTCP compound packets sent."),
        ("diemcau_retransmissions_total", m.retransmissions, "Packets resent for NACKs."),
        ("diemcau_probes_total", m.probes, "Upgrades toward a subscriber probed with padding."),
        (
            "diemcau_probes_failed_total",
            m.probes_failed,
            "Padding probes the subscriber's link did not carry.",
        ),
        (
            "diemcau_probes_queued_total",
            m.probes_queued,
            "Padding probes ended early: transport-cc feedback showed the padding queued or lost.",
        ),
        (
            "diemcau_padding_reported_total",
            m.padding_reported,
            "Probe padding packets a subscriber's transport-cc feedback reported on.",
        ),
        ("diemcau_padding_bytes_total", m.padding_bytes, "Probe padding sent, in bytes."),
        (
            "diemcau_paths_recovered_total",
            m.paths_recovered,
            "Weak links seen to recover by the path watch's padding (video probed at once).",
        ),
        ("diemcau_keyframe_requests_total", m.keyframe_requests, "PLIs sent to publishers."),
        ("diemcau_nacks_sent_total", m.nacks_sent, "NACKs sent to publishers."),
        (
            "diemcau_uplink_video_pauses_total",
            m.uplink_video_pauses,
            "Publishers told to stop video: their uplink could not carry it.",
        ),
    ):
        lines += _lines(name, "counter", help_text, [("", value)])
    lines += _lines(
        "diemcau_rtp_dropped_total",
        "counter",
        "RTP packets dropped, by reason.",
        _labelled("reason", m.rtp_dropped),
    )
    lines += _lines(
        "diemcau_rtcp_dropped_total",
        "counter",
        "RTCP packets dropped, by reason.",
        _labelled("reason", m.rtcp_dropped),
    )
    lines += _lines(
        "diemcau_sdp_rejected_total",
        "counter",
        "SDP refused, by message.",
        _labelled("message", m.sdp_rejected),
    )
    lines += _lines(
        "diemcau_link_hints_total",
        "counter",
        "Sites' own downlink measures at their join: applied (weak: video starts paused) "
        "or ignored.",
        _labelled("outcome", m.link_hints),
    )
    lines += _lines(
        "diemcau_signaling_rejected_total",
        "counter",
        "Signaling messages refused, by error code.",
        _labelled("code", counters.rejected),
    )
    lines += _lines(
        "diemcau_meeting_store_failures_total",
        "counter",
        "Attendance and meeting-status writes that failed.",
        [("", counters.store_failures)],
    )
    return "\n".join(lines) + "\n"
