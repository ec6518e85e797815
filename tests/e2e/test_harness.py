"""The e2e harness itself: namespaces, processes in them, Chromium with a fake camera."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from .browser import BrowserHandle, wait_for
from .netns import NsProcess, netns_context, netns_pids, start_process, wait_http_ok
from .tokens import make_token

pytestmark = [pytest.mark.e2e, pytest.mark.netns]

PORT = 8000
SECRET = "test-secret-" + "x" * 32

INDEX = """<!doctype html><meta charset="utf-8"><title>harness</title>
<body><video id="v" autoplay muted playsinline></video></body>"""

GUM = """async () => {
  const s = await navigator.mediaDevices.getUserMedia({
    video: true,
    audio: {echoCancellation: false, autoGainControl: false, noiseSuppression: false},
  });
  window.__stream = s;
  const v = s.getVideoTracks()[0], a = s.getAudioTracks()[0];
  document.getElementById('v').srcObject = s;
  return {video: v && v.readyState, audio: a && a.readyState, settings: v && v.getSettings()};
}"""

# Two peer connections in one page, over ICE on 127.0.0.1 only (no ICE servers).
LOOPBACK_PC = """async () => {
  const s = window.__stream;
  const a = new RTCPeerConnection({iceServers: []}), b = new RTCPeerConnection({iceServers: []});
  a.onicecandidate = e => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = e => e.candidate && a.addIceCandidate(e.candidate);
  s.getTracks().forEach(t => a.addTrack(t, s));
  await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
  window.__pcs = {a, b};
  return true;
}"""

INBOUND = """async () => {
  const out = [];
  (await window.__pcs.b.getStats()).forEach(r => {
    if (r.type === 'inbound-rtp') out.push({kind: r.kind, packetsReceived: r.packetsReceived,
      framesDecoded: r.framesDecoded || 0});
  });
  return {state: window.__pcs.b.connectionState, inbound: out};
}"""


async def _serve_static(ns: str, ns_process: Callable[..., NsProcess], root: Path) -> str:
    root.mkdir()
    (root / "index.html").write_text(INDEX)
    proc = ns_process(
        ns,
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(PORT)],
        cwd=root,
        name="http.server",
    )
    url = f"http://127.0.0.1:{PORT}/"
    await wait_http_ok(ns, url, 20, proc)
    return url


async def test_chromium_in_netns_loads_page_and_gets_fake_camera(
    netns: str,
    ns_process: Callable[..., NsProcess],
    launch_browser: Callable[..., Awaitable[BrowserHandle]],
    tmp_path: Path,
) -> None:
    # Only loopback exists in the namespace.
    links = subprocess.run(
        ["ip", "-n", netns, "-o", "link", "show"], capture_output=True, text=True, check=True
    ).stdout
    assert [ln.split(":")[1].strip() for ln in links.splitlines()] == ["lo"]

    url = await _serve_static(netns, ns_process, tmp_path / "www")
    browser = await launch_browser(netns)
    page = await browser.new_page()
    await page.goto(url, timeout=30_000)
    assert await page.evaluate("window.isSecureContext") is True

    got = await page.evaluate(GUM)
    assert got["video"] == "live", got
    assert got["audio"] == "live", got
    # The y4m file is the camera.
    assert (got["settings"]["width"], got["settings"]["height"]) == (640, 360), got
    await wait_for(
        page,
        "() => { const v = document.getElementById('v');"
        " return v.videoWidth === 640 && v.currentTime > 0.5; }",
        15,
        what="video element plays the fake camera",
        describe="() => { const v = document.getElementById('v');"
        " return {w: v.videoWidth, h: v.videoHeight, t: v.currentTime}; }",
    )

    # WebRTC over 127.0.0.1 inside the namespace (what the SFU tests rely on).
    await page.evaluate(LOOPBACK_PC)
    await wait_for(
        page,
        """async () => {
          let v = 0, a = 0;
          (await window.__pcs.b.getStats()).forEach(r => {
            if (r.type !== 'inbound-rtp') return;
            if (r.kind === 'video') v = r.framesDecoded || 0;
            if (r.kind === 'audio') a = r.packetsReceived || 0;
          });
          return v > 10 && a > 10;
        }""",
        30,
        what="loopback peer connection decodes video and receives audio",
        describe=INBOUND,
    )


def test_netns_context_cleans_up_namespace_and_processes(tmp_path: Path) -> None:
    from .netns import require_netns

    require_netns()
    with netns_context() as ns:
        proc = start_process(ns, ["sleep", "300"], tmp_path / "sleep.log")
        # Also a process the harness did not track: teardown must kill it too.
        stray = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "300"])
        # `ip netns exec` enters the namespace a moment after it starts (seen in CI:
        # asked at once, the namespace had no process yet)
        assert _joined(ns, {proc.pid, stray.pid})
    assert proc.popen.wait(10) is not None
    assert stray.wait(10) is not None
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert ns not in names.split()


def _joined(ns: str, pids: set[int]) -> bool:
    """All of ``pids`` are in namespace ``ns`` within 10 s."""
    for _ in range(100):
        if pids <= set(netns_pids(ns)):
            return True
        time.sleep(0.1)
    return False


def test_make_token_round_trips() -> None:
    import jwt

    tok = make_token(SECRET, "r1", "site-1", "Xã A")
    claims = jwt.decode(tok, SECRET, algorithms=["HS256"])
    assert claims["room"] == "r1" and claims["sub"] == "site-1" and claims["name"] == "Xã A"
    assert claims["role"] == "participant"
    assert 0 < claims["exp"] - claims["iat"] <= 600
