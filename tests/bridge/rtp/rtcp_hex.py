"""Packets written as hex in the tests: spaces and ``|`` (field separators) ignored."""

from __future__ import annotations


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", "").replace("|", ""))
