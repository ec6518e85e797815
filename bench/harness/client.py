"""Driving the diemcau web client (web/js/app.js's ``window.diemcau`` hooks) in a page."""

from __future__ import annotations

from playwright.async_api import Page

from .browser import wait_for

JOIN_TIMEOUT = 30.0

CLIENT_READY = "() => !!window.diemcau && typeof window.diemcau.join === 'function'"

# Starts the join and records a rejection so wait_for can fail fast with it.
START_JOIN = """name => {
  window.__e2eJoinError = null;
  Promise.resolve().then(() => window.diemcau.join(name))
    .catch(e => { window.__e2eJoinError = String((e && e.stack) || e); });
  return true;
}"""
JOIN_FAILED = "() => window.__e2eJoinError"
JOINED = "() => !!window.diemcau && window.diemcau.state === 'joined'"
# Mics are muted on entry (the default policy, docs/protocol.md): a site opens its mic with the
# toolbar button, as a hall does to be heard, so that the bridge forwards its audio.
OPEN_MIC = """() => {
  if (window.diemcau.localMuted().audio) document.getElementById('mic-btn').click();
  return !window.diemcau.localMuted().audio;
}"""

DESCRIBE = """async () => {
  const d = window.diemcau;
  if (!d) return {diemcau: 'undefined', joinError: window.__e2eJoinError ?? null};
  let participants, stats;
  try { participants = JSON.parse(JSON.stringify(Array.from(d.participants() || []))); }
  catch (e) { participants = 'error: ' + e; }
  try { stats = await d.inboundStats(); } catch (e) { stats = 'error: ' + e; }
  return {state: d.state, selfId: d.selfId, participants, stats,
          joinError: window.__e2eJoinError ?? null};
}"""


async def open_and_join(
    page: Page, url: str, name: str, timeout: float = JOIN_TIMEOUT, open_mic: bool = False
) -> str:
    """Open the meeting page at ``url``, join as ``name`` (and open the mic); the
    participant id."""
    resp = await page.goto(url, timeout=30_000)
    assert resp is not None and resp.ok, f"{name}: GET {url} -> {resp and resp.status}"
    await wait_for(page, CLIENT_READY, 15, what=f"{name}: window.diemcau loaded")
    await page.evaluate(START_JOIN, name)
    await wait_for(
        page,
        JOINED,
        timeout,
        what=f"{name}: state === 'joined'",
        describe=DESCRIBE,
        fail_if=JOIN_FAILED,
    )
    if open_mic:
        assert await page.evaluate(OPEN_MIC), f"{name}: the mic did not open"
    self_id = await page.evaluate("() => window.diemcau.selfId")
    assert isinstance(self_id, str) and self_id, f"{name}: bad selfId {self_id!r}"
    return self_id
