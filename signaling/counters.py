"""Counts of what the signaling side refused or failed to do, exported by metrics.py."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SignalingCounters:
    rejected: dict[str, int] = field(default_factory=dict)
    # attendance and status writes that failed (the session went on without them)
    store_failures: int = 0

    def reject(self, code: str) -> None:
        self.rejected[code] = self.rejected.get(code, 0) + 1
