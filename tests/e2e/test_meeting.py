"""A real meeting: Chromium browsers in a namespace join a real `signaling serve`.

Contract with the web client (web/): ``window.diemcau = { state, selfId, participants(),
inboundStats() -> [{participantId, kind, packetsReceived, framesDecoded, bytesReceived}],
join(name) }``; the page is ``/?room=R&token=JWT``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import Page

from bench.harness.client import DESCRIBE, JOIN_TIMEOUT
from bench.harness.client import open_and_join as join_page
from bridge.rtp.header import PLAYOUT_DELAY_URI

from .browser import BrowserHandle, wait_for
from .netns import BridgeServer
from .tokens import make_token

pytestmark = [pytest.mark.e2e, pytest.mark.netns]

ROOM = "r1"
PORT = 8080
MEDIA_TIMEOUT = 30.0

# participants() may hold ids or objects: normalise to ids.
PARTICIPANT_IDS = """() => Array.from(window.diemcau.participants() || [])
  .map(p => typeof p === 'string' ? p : (p && (p.participantId ?? p.id)))"""

# True when, for every id, a video entry has decoded frames (and, if asked, an audio entry
# has received packets).
SEES = """async ({ids, audio}) => {
  const d = window.diemcau;
  if (!d || d.state !== 'joined') return false;
  const stats = await d.inboundStats();
  const has = (id, kind, key) =>
    stats.some(s => s.participantId === id && s.kind === kind && (s[key] || 0) > 0);
  return ids.every(id => has(id, 'video', 'framesDecoded')
                        && (!audio || has(id, 'audio', 'packetsReceived')));
}"""

GONE = f"""async ({{id}}) => !({PARTICIPANT_IDS})().includes(id)"""


@dataclass
class Site:
    name: str
    handle: BrowserHandle
    page: Page
    id: str = ""


async def all_of(*coros: Coroutine[Any, Any, Any]) -> list[Any]:
    """Run concurrently; if any fail, raise one AssertionError listing every failure."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise AssertionError(
            f"{len(errors)} of {len(results)} failed:\n\n"
            + "\n\n".join(f"{type(e).__name__}: {e}" for e in errors)
        )
    return results


async def open_and_join(
    launch_browser: Callable[..., Awaitable[BrowserHandle]],
    server: BridgeServer,
    ns: str,
    index: int,
    name: str,
) -> Site:
    handle = await launch_browser(ns)
    page = await handle.new_page()
    token = make_token(server.secret, ROOM, sub=f"site-{index}", name=name)
    url = f"{server.url}/?room={ROOM}&token={token}"
    self_id = await join_page(page, url, name, open_mic=True)
    return Site(name=name, handle=handle, page=page, id=self_id)


async def sees(site: Site, others: list[Site], audio: bool) -> None:
    await wait_for(
        site.page,
        SEES,
        MEDIA_TIMEOUT,
        arg={"ids": [o.id for o in others], "audio": audio},
        what=f"{site.name} receives {'video+audio' if audio else 'video'} from "
        + ", ".join(f"{o.name} ({o.id})" for o in others),
        describe=DESCRIBE,
    )


async def test_three_sites_meet_one_leaves_one_joins_late(
    netns: str,
    bridge_server: Callable[..., Awaitable[BridgeServer]],
    launch_browser: Callable[..., Awaitable[BrowserHandle]],
) -> None:
    server = await bridge_server(netns, PORT)

    a, b, c = await all_of(
        *(
            open_and_join(launch_browser, server, netns, i, n)
            for i, n in enumerate(["Xã A", "Xã B", "Xã C"], start=1)
        )
    )
    sites: list[Site] = [a, b, c]
    assert len({s.id for s in sites}) == 3, [s.id for s in sites]

    # Everyone gets everyone else's camera (frames decoded) and microphone (packets).
    await all_of(*(sees(s, [o for o in sites if o is not s], audio=True) for s in sites))
    # Chromium accepted the RED for Opus and the video playout delay the bridge offers
    # (both used only on lossy links)
    for s in sites:
        answer = await s.page.evaluate("() => window.diemcau.pcs.subscriber.localDescription.sdp")
        assert "red/48000/2" in answer, answer
        assert PLAYOUT_DELAY_URI in answer, answer

    # Xã C leaves (browser closed): A and B see it gone.
    await c.handle.close()
    await all_of(
        *(
            wait_for(
                s.page,
                GONE,
                JOIN_TIMEOUT,
                arg={"id": c.id},
                what=f"{s.name} no longer lists {c.name} ({c.id})",
                describe=DESCRIBE,
            )
            for s in (a, b)
        )
    )

    # Xã D joins late: A and B see its video, D sees A's and B's video.
    d = await open_and_join(launch_browser, server, netns, 4, "Xã D")
    assert d.id not in {a.id, b.id, c.id}
    await all_of(sees(a, [d], audio=False), sees(b, [d], audio=False), sees(d, [a, b], audio=False))
