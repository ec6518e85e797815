"""One exception tree for malformed RTP/RTCP input.

Every error carries a short, stable ``reason`` (snake_case) meant to be used as a
metrics label, and a precise human-readable message (``str(err)``).
"""

from __future__ import annotations


class RtpError(ValueError):
    """Base class: a packet could not be parsed or processed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RtpParseError(RtpError):
    """Malformed RTP packet (RFC 3550 §5.1, RFC 8285, RFC 4588, RFC 7741)."""


class RtcpParseError(RtpError):
    """Malformed RTCP (compound) packet (RFC 3550 §6, RFC 4585 §6, RFC 5104 §4.3)."""
