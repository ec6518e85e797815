"""Unwrap 16-bit RTP sequence numbers and 32-bit timestamps to extended integers.

RFC 3550 Appendix A.1 keeps a wrap-around cycle count; we do the same (as LiveKit does)
by unwrapping each new value relative to the highest extended value seen so far.

Choice of origin: the first value is placed in cycle 1, i.e. ``ext = value + 2**bits``
(first seq 65535 -> 131071, then 0 -> 131072). A packet reordered to before the first
one (by up to half the range) therefore still gets a non-negative extended number
instead of -1. Only differences between extended numbers are meaningful.

A new value is taken as *newer* when it is less than half the range ahead of the
highest value (modulo the range), otherwise as older; exactly half the range counts
as older.
"""

from __future__ import annotations


class _Unwrapper:
    __slots__ = ("_half", "_highest", "_mask", "_range")

    def __init__(self, bits: int) -> None:
        self._range = 1 << bits
        self._mask = self._range - 1
        self._half = self._range >> 1
        self._highest: int | None = None

    def unwrap(self, value: int) -> int:
        highest = self._highest
        if highest is None:
            ext = (value & self._mask) + self._range
            self._highest = ext
            return ext
        diff = (value - highest) & self._mask
        if diff >= self._half:
            diff -= self._range
        ext = highest + diff
        if ext > highest:
            self._highest = ext
        return ext

    @property
    def highest(self) -> int | None:
        """Highest extended value returned so far (None before the first)."""
        return self._highest


class SequenceUnwrapper(_Unwrapper):
    """Maps 16-bit RTP sequence numbers (RFC 3550 §5.1) to extended 64-bit ones."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(16)


class TimestampUnwrapper(_Unwrapper):
    """Maps 32-bit RTP timestamps (RFC 3550 §5.1) to extended 64-bit ones."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(32)
