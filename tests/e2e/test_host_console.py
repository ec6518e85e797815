"""The chair's console end to end: a real `signaling serve`, a meeting made through the admin
API (lobby on, mics muted on entry, the chair may open a site's mic), and four pages of one
Debian Chromium in a namespace: the chair (UBND tỉnh) and three commune halls. Xã A sends a
small camera, Xã B and Xã C have no camera (audio only), to spare the two cores.

Everything the chair and the halls do goes through the pages' buttons; the pages' state is
read through window.diemcau (meetingState(), lobby(), localMuted(), rollCall(), …): lobby
admit, chat to everyone and to the chair, raise hand (queue order), give the floor (the site's
mic opens, it is spotlighted for everyone, the others are muted), mute all, asking a hall to
speak (after a live policy change) and its one-button answer, a roll call answered by two
halls, its CSV export (the downloaded file is checked), removing a hall with its link
revoked (the link then fails), denying a late hall in the lobby, lock, and ending the meeting
for everyone.

A second, small test: in an ad-hoc room (not a meeting) "Xuất CSV" builds the attendance
from the roll call in the chair's browser.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from bench.harness.client import CLIENT_READY

from .browser import BrowserHandle, MediaFiles, wait_for
from .netns import BridgeServer, clean_env, ns_argv, skip_or_fail
from .test_meeting import GONE, all_of
from .tokens import make_token

pytestmark = [pytest.mark.e2e, pytest.mark.netns]

PORT = 8080
ADMIN_KEY = "e2e-admin-key-0123456789abcdef"
# Generous: the two cores are shared, and nothing here asserts on timing.
TIMEOUT = 90.0
CHAIR = "UBND tỉnh"
HALLS = ("Xã A", "Xã B", "Xã C")
NO_CAMERA = {"Xã B", "Xã C"}
SITES_CSV = (
    "name,district,contact,role\n"
    f"{CHAIR},,,host\n"
    "Xã A,Huyện Một,0905 000 001,\n"
    "Xã B,Huyện Một,,\n"
    "Xã C,Huyện Hai,,\n"
)

# A hall without a camera: getUserMedia with video fails as with no device, so the client
# joins with its microphone only (its own fallback).
NO_CAMERA_SCRIPT = """(() => {
  const md = navigator.mediaDevices;
  const gum = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => (c && c.video)
    ? Promise.reject(new DOMException('no camera in this hall', 'NotFoundError'))
    : gum(c);
})();"""

DESCRIBE = """() => {
  const d = window.diemcau;
  if (!d) return 'no window.diemcau';
  return {state: d.state, role: d.role, selfId: d.selfId, localMuted: d.localMuted(),
          meeting: d.meetingState(), lobby: d.lobby(), prompts: d.prompts(),
          participants: d.participants(), status: document.getElementById('status').textContent};
}"""

CHAT_IS = "texts => window.diemcau.chatMessages().map(m => m.text).join('|') === texts.join('|')"
LOCK_PRESSED = """() => document.querySelector('[data-host-action="lock"]')
  .getAttribute('aria-pressed') === 'true'"""
LATE_CSV = "name,district,contact\nXã D,Huyện Hai,\n"
HANDS_ARE = "ids => window.diemcau.meetingState().hands.join() === ids.join()"


def ended_as(heading: str) -> str:
    """JS: the page ended its session and its heading says why."""
    return f"""() => window.diemcau.state === 'error'
      && document.getElementById('ended-heading').textContent === {json.dumps(heading)}"""


# Runs in the namespace: one admin API request; prints the status and the body.
API_CALL = """
import sys, urllib.request, urllib.error
method, url, key, ctype = sys.argv[1:5]
data = sys.stdin.buffer.read() or None
req = urllib.request.Request(url, data=data, method=method)
req.add_header('Authorization', 'Bearer ' + key)
if ctype:
    req.add_header('Content-Type', ctype)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    r = opener.open(req, timeout=10)
    status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
sys.stdout.write(str(status) + '\\n' + body.decode())
"""


@pytest.fixture(scope="module")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> MediaFiles:
    """Overrides conftest's: a small camera (320x180 at 10 fps) keeps encoding cheap."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        skip_or_fail("ffmpeg is not installed")
    d = tmp_path_factory.mktemp("small-media")
    video, audio = d / "camera.y4m", d / "mic.wav"
    common = [str(ffmpeg), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
    subprocess.run(
        [*common, "testsrc2=size=320x180:rate=10", "-t", "3", "-pix_fmt", "yuv420p", str(video)],
        check=True,
        timeout=120,
    )
    subprocess.run(
        [*common, "sine=frequency=440:sample_rate=48000:duration=3", "-ac", "1", str(audio)],
        check=True,
        timeout=60,
    )
    return MediaFiles(video=video, audio=audio)


async def admin_api(
    server: BridgeServer, method: str, path: str, body: bytes = b"", ctype: str = ""
) -> Any:
    """One admin API call from inside the server's namespace; the JSON answer (2xx only)."""
    url = f"{server.url}/api/v1{path}"
    proc = await asyncio.create_subprocess_exec(
        *ns_argv(server.ns, [sys.executable, "-c", API_CALL, method, url, ADMIN_KEY, ctype]),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(),
    )
    out, err = await asyncio.wait_for(proc.communicate(body), 30)
    assert proc.returncode == 0, err.decode()
    status, _, text = out.decode().partition("\n")
    assert status.startswith("2"), f"{method} {path} -> {status}: {text}"
    return json.loads(text)


async def create_meeting(server: BridgeServer) -> tuple[str, dict[str, str]]:
    """The meeting id and each site's invitation link, by site name."""
    policy = {"lobby": True, "mics_muted_on_entry": True, "host_may_unmute": True}
    body = json.dumps({"title": "Giao ban phòng chống dịch", "policy": policy}).encode()
    meeting = await admin_api(server, "POST", "/meetings", body, "application/json")
    imported = await admin_api(
        server, "POST", f"/meetings/{meeting['id']}/sites:import", SITES_CSV.encode(), "text/csv"
    )
    links = {inv["site_name"]: inv["link"] for inv in imported["invitations"]}
    assert set(links) == {CHAIR, *HALLS}, imported
    return meeting["id"], links


async def open_page(handle: BrowserHandle, link: str, name: str) -> Page:
    page = await handle.new_page()
    page.set_default_timeout(TIMEOUT * 1000)
    if name in NO_CAMERA:
        await page.add_init_script(NO_CAMERA_SCRIPT)
    resp = await page.goto(link, timeout=30_000)
    assert resp is not None and resp.ok, f"{name}: GET {link} -> {resp and resp.status}"
    await wait_for(page, CLIENT_READY, 15, what=f"{name}: window.diemcau loaded")
    await page.evaluate("name => { window.diemcau.join(name); }", name)
    return page


async def until(page: Page, name: str, js: str, what: str, arg: Any = None) -> Any:
    return await wait_for(page, js, TIMEOUT, arg=arg, what=f"{name}: {what}", describe=DESCRIBE)


async def test_chair_runs_a_meeting_from_the_console(
    netns: str,
    bridge_server: Callable[..., Awaitable[BridgeServer]],
    launch_browser: Callable[..., Awaitable[BrowserHandle]],
    tmp_path: Path,
) -> None:
    server = await bridge_server(netns, PORT, env={"DIEMCAU_ADMIN_KEY": ADMIN_KEY})
    meeting_id, links = await create_meeting(server)
    browser = await launch_browser(netns)

    # The chair joins straight away (no lobby for hosts) and gets the console.
    chair = await open_page(browser, links[CHAIR], CHAIR)
    await until(
        chair,
        CHAIR,
        "() => window.diemcau.state === 'joined' && window.diemcau.role === 'host'",
        "joined as host",
    )
    assert await chair.is_visible("#host-actions"), "the console's meeting actions are hidden"

    # --- lobby: every hall waits, the chair admits each from the lobby tab ---------------
    pages = dict(
        zip(HALLS, await all_of(*(open_page(browser, links[n], n) for n in HALLS)), strict=True)
    )
    await all_of(
        *(
            until(p, n, "() => window.diemcau.lobbyWaiting()", "waits in the lobby")
            for n, p in pages.items()
        )
    )
    for page in pages.values():
        assert await page.is_visible("#lobby-screen")
    lobby = await until(
        chair,
        CHAIR,
        "() => { const l = window.diemcau.lobby(); return l.length === 3 && l; }",
        "lobby lists the three halls",
    )
    ids = {entry["name"]: entry["id"] for entry in lobby}
    assert set(ids) == set(HALLS), lobby
    await chair.click('.tab[data-pane="lobby"]')
    for name in HALLS:
        await chair.click(
            f'#lobby-list li[data-participant-id="{ids[name]}"] [data-action="admit"]'
        )
    # Admitted, each hall joins with its mic off (policy: mics muted on entry).
    await all_of(
        *(
            until(
                p,
                n,
                "() => window.diemcau.state === 'joined' && window.diemcau.localMuted().audio",
                "joined with the mic muted",
            )
            for n, p in pages.items()
        )
    )
    for name, page in pages.items():
        assert await page.evaluate("() => window.diemcau.selfId") == ids[name]
    await until(chair, CHAIR, "() => window.diemcau.lobby().length === 0", "lobby empty")

    a, b, c = (pages[n] for n in HALLS)

    # --- chat: A writes to everyone, B to the chair only --------------------------------
    for page, to, text in ((a, "all", "Xã A đã sẵn sàng."), (b, "host", "Xã B xin phát biểu.")):
        await page.click("#chat-btn")
        await page.select_option("#chat-to", to)
        await page.fill("#chat-input", text)
        await page.press("#chat-input", "Enter")
    await until(
        chair, CHAIR, CHAT_IS, "chat from A and B", ["Xã A đã sẵn sàng.", "Xã B xin phát biểu."]
    )
    await until(
        c, "Xã C", CHAT_IS, "only A's message (B's went to the chair)", ["Xã A đã sẵn sàng."]
    )
    for page in (a, b):
        await page.click("#panel-close")

    # --- raise hand: Xã C first, then Xã A; the chair sees that order ---------------------
    await c.click("#hand-btn")
    await until(chair, CHAIR, HANDS_ARE, "hand queue [C]", [ids["Xã C"]])
    await a.click("#hand-btn")
    queue = [ids["Xã C"], ids["Xã A"]]
    await until(chair, CHAIR, HANDS_ARE, "hand queue [C, A]", queue)
    await chair.click('.tab[data-pane="hands"]')
    await until(
        chair,
        CHAIR,
        """ids => [...document.querySelectorAll('#hand-list li')]
                   .map(li => li.dataset.participantId).join() === ids.join()""",
        "hands tab lists C then A",
        queue,
    )
    assert await a.get_attribute("#hand-btn", "aria-pressed") == "true"

    # A and B open their own mics, so that giving the floor has someone to mute.
    for page in (a, b):
        await page.click("#mic-btn")
    others_unmuted = """ids => ids.every(id => window.diemcau.participants()
                            .some(p => p.id === id && !p.muted.audio))"""
    await until(chair, CHAIR, others_unmuted, "sees A and B unmuted", [ids["Xã A"], ids["Xã B"]])

    # --- give the floor to Xã C from the hand queue ---------------------------------------
    await chair.click(f'#hand-list li[data-participant-id="{ids["Xã C"]}"] [data-action="floor"]')
    spotlit = """id => { const s = window.diemcau.meetingState();
      return s.floor === id && s.spotlight === id &&
        !!document.querySelector(`.tile[data-participant-id="${id}"][data-spotlight="true"]`); }"""
    await all_of(
        *(
            until(p, n, spotlit, "Xã C has the floor, its tile spotlighted", ids["Xã C"])
            for n, p in [(CHAIR, chair), *pages.items()]
        )
    )
    await until(c, "Xã C", "() => !window.diemcau.localMuted().audio", "mic opened by the chair")
    await all_of(
        *(
            until(p, n, "() => window.diemcau.localMuted().audio", "muted by the floor")
            for n, p in (("Xã A", a), ("Xã B", b))
        )
    )
    muted_as = """want => Object.entries(want).every(([id, muted]) =>
      window.diemcau.participants().some(p => p.id === id && p.muted.audio === muted))"""
    await until(
        chair,
        CHAIR,
        muted_as,
        "sees C unmuted, A and B muted",
        {ids["Xã C"]: False, ids["Xã A"]: True, ids["Xã B"]: True},
    )
    await until(chair, CHAIR, HANDS_ARE, "C left the hand queue", [ids["Xã A"]])

    # --- mute all -------------------------------------------------------------------------
    await chair.click('[data-host-action="mute-all"]')
    await until(c, "Xã C", "() => window.diemcau.localMuted().audio", "muted by mute all")
    await until(chair, CHAIR, muted_as, "sees everyone muted", {i: True for i in ids.values()})

    # --- ask to speak: the policy changes live (the chair may no longer open mics) --------
    body = json.dumps({"policy": {"host_may_unmute": False}}).encode()
    await admin_api(server, "PATCH", f"/meetings/{meeting_id}", body, "application/json")
    await until(
        chair, CHAIR, "() => !window.diemcau.meetingState().policy.host_may_unmute", "policy"
    )
    await chair.click('.tab[data-pane="sites"]')
    ask = f'#site-list li[data-participant-id="{ids["Xã B"]}"] [data-action="unmute"]'
    assert await chair.text_content(ask) == "Mời phát biểu"
    await chair.click(ask)
    await until(b, "Xã B", "() => window.diemcau.prompts().unmuteRequested", "asked to speak")
    assert await b.evaluate("() => window.diemcau.localMuted().audio"), "mic opened unasked"
    await b.click("#unmute-accept")
    await until(chair, CHAIR, muted_as, "sees B unmuted after it accepted", {ids["Xã B"]: False})

    # --- roll call: A and B press "Có mặt", C does not -----------------------------------
    await chair.click('.tab[data-pane="roll-call"]')
    await chair.click("#roll-call-toggle")
    for name in ("Xã A", "Xã B"):
        page = pages[name]
        await until(page, name, "() => window.diemcau.prompts().rollCallOpen", "sees the roll call")
        await page.click("#present-btn")
    await until(c, "Xã C", "() => window.diemcau.prompts().rollCallOpen", "sees the roll call")
    answered = """want => { const rc = window.diemcau.rollCall();
      if (!rc || !rc.open) return false;
      const by = Object.fromEntries(rc.entries.map(e => [e.name, e]));
      return Object.entries(want).every(([n, a]) =>
        by[n] && by[n].answered === a && by[n].status !== 'absent') && rc; }"""
    grid = await until(
        chair,
        CHAIR,
        answered,
        "roll call: A and B answered, C not; none absent",
        {"Xã A": True, "Xã B": True, "Xã C": False},
    )
    assert {e["name"] for e in grid["entries"]} == set(HALLS), grid
    assert await chair.locator('#roll-call-grid li[data-answered="true"]').count() == 2
    await chair.click("#roll-call-toggle")
    await until(a, "Xã A", "() => !window.diemcau.prompts().rollCallOpen", "roll call closed")

    # --- "Xuất CSV": the server's attendance, saved as a file -----------------------------
    async with chair.expect_download(timeout=TIMEOUT * 1000) as download_info:
        await chair.click("#attendance-export")
    download = await download_info.value
    saved = tmp_path / "attendance.csv"
    await download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {CHAIR, *HALLS}, rows
    for name in HALLS:
        row = by_name[name]
        assert row["first_joined_at"] and not row["last_left_at"], row
        assert int(row["joins"]) >= 1, row
    assert [by_name[n]["roll_call_answered"] for n in HALLS] == ["1", "1", "0"], rows
    assert download.suggested_filename.endswith(".csv")
    note = await chair.text_content("#attendance-note")
    assert note and "máy chủ" in note, note

    # --- remove Xã C and revoke its link: its page says so, the link no longer works ----
    await chair.click('.tab[data-pane="sites"]')
    await chair.click(f'#site-list li[data-participant-id="{ids["Xã C"]}"] [data-action="remove"]')
    assert await chair.text_content("#confirm-title") == "Mời Xã C ra khỏi cuộc họp?"
    assert await chair.is_checked("#confirm-check"), "revoking should be the default"
    await chair.click("#confirm-ok")
    await until(chair, CHAIR, GONE, "Xã C gone from the room", {"id": ids["Xã C"]})
    await until(c, "Xã C", ended_as("Bạn đã được mời ra khỏi cuộc họp"), "removed")
    assert not await c.is_visible("#rejoin-btn"), "a removed site is offered to rejoin"
    await c.reload()
    await wait_for(c, CLIENT_READY, 15, what="Xã C: window.diemcau loaded again")
    await c.evaluate("() => { window.diemcau.join(); }")
    await until(c, "Xã C", "() => window.diemcau.state === 'error'", "refused with its link")
    detail = await c.text_content("#ended-detail")
    assert detail == "Liên kết mời đã bị thu hồi.", detail

    # --- deny: a late hall waits in the lobby and is refused -----------------------------
    late = await admin_api(
        server, "POST", f"/meetings/{meeting_id}/sites:import", LATE_CSV.encode(), "text/csv"
    )
    d = await open_page(browser, late["invitations"][0]["link"], "Xã D")
    await until(d, "Xã D", "() => window.diemcau.lobbyWaiting()", "waits in the lobby")
    await chair.click('.tab[data-pane="lobby"]')
    await chair.click('#lobby-list [data-action="deny"]')
    await until(d, "Xã D", ended_as("Chủ trì không cho vào cuộc họp"), "denied")

    # --- lock: the halls see the meeting locked ------------------------------------------
    await chair.click('[data-host-action="lock"]')
    await until(b, "Xã B", "() => window.diemcau.meetingState().locked", "meeting locked")
    await until(chair, CHAIR, LOCK_PRESSED, "the lock button shows the meeting locked")

    # --- end the meeting for everyone (with the confirmation) ------------------------------
    await chair.click('[data-host-action="end"]')
    await chair.click("#confirm-ok")
    await all_of(
        *(
            until(p, n, ended_as("Cuộc họp đã kết thúc"), "sees the meeting ended")
            for n, p in pages.items()
            if p is not c
        )
    )
    meeting = await admin_api(server, "GET", f"/meetings/{meeting_id}")
    assert meeting["status"] == "ended", meeting


async def test_adhoc_room_attendance_is_built_in_the_browser(
    netns: str,
    bridge_server: Callable[..., Awaitable[BridgeServer]],
    launch_browser: Callable[..., Awaitable[BrowserHandle]],
    tmp_path: Path,
) -> None:
    """A room that is not a meeting has no attendance on the server: "Xuất CSV" builds the
    CSV from the roll call in the chair's browser, and says so."""
    server = await bridge_server(netns, PORT)
    browser = await launch_browser(netns)
    room = "hop-nhanh"
    link = f"{server.url}/?room={room}&token="
    chair = await open_page(
        browser, link + make_token(server.secret, room, "chair", CHAIR, "host"), CHAIR
    )
    hall = await open_page(browser, link + make_token(server.secret, room, "xa-c", "Xã C"), "Xã C")
    for page, name in ((chair, CHAIR), (hall, "Xã C")):
        await until(page, name, "() => window.diemcau.state === 'joined'", "joined")

    await chair.click('.tab[data-pane="roll-call"]')
    await chair.click("#roll-call-toggle")
    await until(hall, "Xã C", "() => window.diemcau.prompts().rollCallOpen", "sees the roll call")
    await hall.click("#present-btn")
    await until(
        chair,
        CHAIR,
        "() => window.diemcau.rollCall()?.entries.some(e => e.name === 'Xã C' && e.answered)",
        "Xã C answered",
    )
    async with chair.expect_download() as download_info:
        await chair.click("#attendance-export")
    saved = tmp_path / "roll-call.csv"
    await (await download_info.value).save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [(r["name"], r["roll_call_answered"]) for r in rows] == [("Xã C", "true")], rows
    assert rows[0]["joined_at"] and rows[0]["status"] in {"present", "poor_link"}, rows
    note = await chair.text_content("#attendance-note")
    assert note and "tạo trên trình duyệt" in note, note
