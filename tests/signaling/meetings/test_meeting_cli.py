"""`diemcau meeting|sites|invitation ...` against a running bridge: in-process (main() in a
thread, the server on the test loop) and one real `python -m signaling serve` subprocess."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestServer

from signaling.app import create_app
from signaling.auth import verify_token
from signaling.cli import main
from signaling.settings import settings_from_env

SECRET = "cli-test-secret-0123456789abcdefghij"
CSV = "name,district,contact\nXã Hòa An,Hòa Vang,0905\nXã Hòa Bắc,Hòa Vang,\n"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("DIEMCAU_DATA_DIR", str(data))
    monkeypatch.setenv("DIEMCAU_JWT_SECRET", SECRET)
    monkeypatch.delenv("DIEMCAU_ADMIN_KEY", raising=False)
    monkeypatch.delenv("DIEMCAU_REDIS_URL", raising=False)
    monkeypatch.delenv("DIEMCAU_PUBLIC_URL", raising=False)
    return data


@pytest.fixture
async def url(env: Path) -> AsyncIterator[str]:
    # the admin key is generated into data_dir/admin-key; the CLI reads the same file
    settings = settings_from_env(os.environ)
    srv = TestServer(create_app(settings), host="127.0.0.1")
    await srv.start_server()
    yield str(srv.make_url("")).rstrip("/")
    await srv.close()


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_admin_key_file_is_private(url: str, env: Path) -> None:
    key_file = env / "admin-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(key_file.read_text().strip()) >= 32


async def test_meeting_sites_invitation_round_trip(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await run(
        capsys,
        "meeting",
        "create",
        "--url",
        url,
        "--title",
        "Họp tỉnh",
        "--starts-at",
        "2026-06-01T08:00:00+07:00",
        "--lobby",
        "--max-sites",
        "50",
    )
    assert code == 0, err
    mid = out.strip()
    code, out, err = await run(capsys, "meeting", "show", mid, "--url", url)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["title"] == "Họp tỉnh"
    assert shown["policy"] == {
        "mics_muted_on_entry": True,
        "host_may_unmute": False,
        "lobby": True,
        "max_sites": 50,
    }
    code, out, _ = await run(capsys, "meeting", "list", "--url", url)
    assert code == 0
    assert out.split("\n")[0].split("\t") == [mid, "scheduled", shown["starts_at"], "Họp tỉnh"]

    sites_csv = tmp_path / "sites.csv"
    sites_csv.write_text(CSV, encoding="utf-8")
    links = tmp_path / "links.csv"
    code, out, err = await run(
        capsys, "sites", "import", mid, str(sites_csv), "--links-out", str(links), "--url", url
    )
    assert code == 0, err
    assert "imported 2 sites" in err
    with links.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["name"], r["district"]) for r in rows] == [
        ("Xã Hòa An", "Hòa Vang"),
        ("Xã Hòa Bắc", "Hòa Vang"),
    ]
    token = parse_qs(urlsplit(rows[0]["link"]).query)["token"][0]
    assert verify_token(token, SECRET, room=mid).name == "Xã Hòa An"

    # the same file again: every site is already there
    code, out, err = await run(capsys, "sites", "import", mid, str(sites_csv), "--url", url)
    assert code == 1
    assert "409 duplicate_site" in err and "line 2: site 'Xã Hòa An' already exists" in err

    # links to stdout when --links-out is omitted
    more = tmp_path / "more.csv"
    more.write_text("name,district,contact\nPhường 1,,\n", encoding="utf-8")
    code, out, err = await run(capsys, "sites", "import", mid, str(more), "--url", url)
    assert code == 0, err
    assert out.startswith("name,district,link\nPhường 1,,http")

    import jwt

    jti = jwt.decode(token, SECRET, algorithms=["HS256"])["jti"]
    code, out, err = await run(capsys, "invitation", "revoke", mid, jti, "--url", url)
    assert (code, out.strip()) == (0, f"invitation {jti} (Xã Hòa An) revoked")
    code, out, err = await run(capsys, "invitation", "revoke", mid, "nope", "--url", url)
    assert code == 1 and "404 unknown_invitation" in err

    code, out, err = await run(capsys, "meeting", "end", mid, "--url", url)
    assert (code, out.strip()) == (0, f"meeting {mid} ended")
    code, out, _ = await run(capsys, "meeting", "list", "--url", url)
    assert f"{mid}\tended\t" in out


async def test_attendance_export(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await run(capsys, "meeting", "create", "--url", url, "--title", "Họp")
    mid = out.strip()
    sites_csv = tmp_path / "sites.csv"
    sites_csv.write_text(CSV, encoding="utf-8")
    assert (await run(capsys, "sites", "import", mid, str(sites_csv), "--url", url))[0] == 0
    code, out, err = await run(capsys, "attendance", mid, "--url", url)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["name"], r["joins"], r["first_joined_at"]) for r in rows] == [
        ("Xã Hòa An", "0", ""),
        ("Xã Hòa Bắc", "0", ""),
    ]
    report = tmp_path / "attendance.csv"
    code, out, err = await run(capsys, "attendance", mid, "--out", str(report), "--url", url)
    assert (code, out) == (0, "") and f"attendance written to {report}" in err
    assert list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8")))) == rows
    code, _, err = await run(capsys, "attendance", "nope", "--url", url)
    assert code == 1 and "404 unknown_meeting" in err


async def test_refusals_are_clear_with_nonzero_exit(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = await run(capsys, "meeting", "show", "nope", "--url", url)
    assert code == 1
    assert err.strip() == "diemcau: refused (404 unknown_meeting): meeting 'nope' does not exist"

    code, out, err = await run(capsys, "meeting", "create", "--url", url, "--title", "x")
    mid = out.strip()
    bad = tmp_path / "bad.csv"
    bad.write_text("name,district,contact\nA,,\nB,,\n,d,c\n", encoding="utf-8")
    code, _, err = await run(capsys, "sites", "import", mid, str(bad), "--url", url)
    assert code == 1 and "422 bad_csv): line 4: missing name" in err

    code, _, err = await run(capsys, "sites", "import", mid, str(tmp_path / "none.csv"))
    assert code == 2 and "cannot read" in err

    code, _, err = await run(
        capsys, "meeting", "create", "--url", url, "--title", "x", "--starts-at", "soon"
    )
    assert code == 1 and "400 bad_field" in err and "starts_at" in err

    monkeypatch.setenv("DIEMCAU_ADMIN_KEY", "not-the-right-key-0123")
    code, _, err = await run(capsys, "meeting", "list", "--url", url)
    assert code == 1 and "401 unauthorized): the admin key is wrong" in err

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    code, _, err = await run(capsys, "meeting", "list", "--url", dead)
    assert code == 3 and f"cannot reach the bridge at {dead}" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, repo_root: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A real `python -m signaling serve` on 127.0.0.1 (stopped with SIGTERM, then killed)."""
    port = _free_port()
    env = {
        **os.environ,
        "DIEMCAU_DATA_DIR": str(tmp_path / "data"),
        "DIEMCAU_JWT_SECRET": SECRET,
        "DIEMCAU_ICE_ADDRESSES": "127.0.0.1",
        "DIEMCAU_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(repo_root),
    }
    for name in ("DIEMCAU_ADMIN_KEY", "DIEMCAU_REDIS_URL", "DIEMCAU_PUBLIC_URL"):
        env.pop(name, None)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "signaling", "serve", "--port", str(port)],
        cwd=repo_root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "serve.log").read_text()) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", env
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def test_cli_against_a_real_bridge_process(
    served: tuple[str, dict[str, str]], tmp_path: Path, repo_root: Path
) -> None:
    url, env = served

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "signaling", *argv],
            cwd=repo_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )

    created = cli("meeting", "create", "--title", "Giao ban", "--url", url)
    assert created.returncode == 0, created.stderr
    mid = created.stdout.strip()
    sites = tmp_path / "sites.csv"
    sites.write_text(CSV, encoding="utf-8")
    links = tmp_path / "links.csv"
    imported = cli("sites", "import", mid, str(sites), "--links-out", str(links), "--url", url)
    assert imported.returncode == 0, imported.stderr
    assert len(links.read_text(encoding="utf-8").splitlines()) == 3
    # without --url the CLI talks to settings.base_url (DIEMCAU_PUBLIC_URL or http://HOST:PORT)
    env["DIEMCAU_PORT"] = url.rsplit(":", 1)[1]
    listed = cli("meeting", "list")
    assert listed.returncode == 0 and listed.stdout.startswith(f"{mid}\tscheduled\t-\tGiao ban")
    ended = cli("meeting", "end", mid, "--url", url)
    assert ended.returncode == 0 and ended.stdout.strip() == f"meeting {mid} ended"
    assert (tmp_path / "data" / "meetings.sqlite3").exists()
