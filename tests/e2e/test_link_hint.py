"""The client's measure of its own downlink (web/js/link-hint.js), run in Chromium as the
page loads it. Its use at the join over a shaped link: tests/e2e/test_weak_link.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from .browser import BrowserHandle
from .netns import BridgeServer

pytestmark = [pytest.mark.e2e, pytest.mark.netns]

PORT = 8080

# Timing entries as Resource Timing gives them: bytes over the link, and when the
# response started and finished arriving (ms).
CASES = """async () => {
  const { downlinkKbps } = await import('/js/link-hint.js');
  const e = (transferSize, responseStart, responseEnd) =>
    ({ transferSize, responseStart, responseEnd });
  return {
    serial: downlinkKbps([e(12000, 0, 1000), e(12000, 1000, 2000)]),
    overlapping: downlinkKbps([e(12000, 500, 1500), e(12000, 0, 1000)]),
    round_trip_between: downlinkKbps([e(12000, 0, 1000), e(12000, 3000, 4000)]),
    contained: downlinkKbps([e(20000, 0, 2000), e(4000, 500, 1000)]),
    revalidated: downlinkKbps([e(0, 0, 10), e(300, 10, 11), e(300, 11, 12)]),
    too_little: downlinkKbps([e(15000, 0, 1000)]),
    no_entries: downlinkKbps([]),
  };
}"""


async def test_the_downlink_is_bytes_over_the_time_responses_were_arriving(
    netns: str,
    bridge_server: Callable[..., Awaitable[BridgeServer]],
    launch_browser: Callable[..., Awaitable[BrowserHandle]],
) -> None:
    server = await bridge_server(netns, PORT)
    page = await (await launch_browser(netns)).new_page()
    await page.goto(f"{server.url}/")
    assert await page.evaluate(CASES) == {
        "serial": 96,  # 24 kB in 2 s
        "overlapping": 128,  # 24 kB while at least one arrived: 1.5 s
        "round_trip_between": 96,  # the wait between is no time the link was busy
        "contained": 96,
        "revalidated": None,  # a page from cache says nothing of the link
        "too_little": None,
        "no_entries": None,
    }
