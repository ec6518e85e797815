"""Exceptions of the media core."""

from __future__ import annotations


class MediaError(Exception):
    """Base of every error bridge.media raises."""


class SdpRejected(MediaError):
    """An SDP offer or answer that the bridge cannot use; the message says why."""


class PublishForbidden(MediaError):
    """The participant's role does not allow publishing."""
