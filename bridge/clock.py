"""The bridge's one time base: monotonic milliseconds.

Packet arrival times (stamped by the adapter) and the clock injected into bridge.media must
be on the same base: rates, staleness and "speaking" compare the two.
"""

from __future__ import annotations

import time


def monotonic_ms() -> int:
    return int(time.monotonic() * 1000)
