"""Chromium in a namespace: see bench.harness.browser (shared with the benchmarks)."""

from bench.harness.browser import (
    CHROMIUM,
    BrowserHandle,
    WaitTimeout,
    launch_in_netns,
    wait_for,
)
from bench.harness.media import MediaFiles

__all__ = ["CHROMIUM", "BrowserHandle", "MediaFiles", "WaitTimeout", "launch_in_netns", "wait_for"]
