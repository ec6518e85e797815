"""JWT minting: see bench.harness.tokens (shared with the benchmarks)."""

from bench.harness.tokens import make_token

__all__ = ["make_token"]
