"""Debian's Chromium, driven by Playwright, running inside a network namespace."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, ConsoleMessage, Page, Playwright

from .media import MediaFiles

CHROMIUM = os.environ.get("DIEMCAU_CHROMIUM", "/usr/bin/chromium")


def chromium_args(media: MediaFiles | None, allow_loopback: bool = True) -> list[str]:
    """``allow_loopback=False`` drops --allow-loopback-in-peer-connection (a stock browser)."""
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-proxy-server",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        # Background tabs/timers must not be throttled: several browsers share 2 cores.
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows",
    ]
    if allow_loopback:
        args.append("--allow-loopback-in-peer-connection")
    if media is not None:
        args += [
            f"--use-file-for-fake-video-capture={media.video}",
            f"--use-file-for-fake-audio-capture={media.audio}",
        ]
    return args


def write_wrapper(ns: str, directory: Path) -> Path:
    """A shell script that execs Chromium inside ``ns`` (Playwright's executable_path)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"chromium-in-{ns}.sh"
    # Written aside and renamed into place: browsers launched concurrently in one namespace
    # share this path, and exec of a file another launch has open for writing fails with
    # ETXTBSY. A rename never leaves the executed inode open for writing.
    staging = directory / f".{path.name}.{os.getpid()}"
    staging.write_text(f'#!/bin/sh\nexec ip netns exec {ns} {CHROMIUM} "$@"\n')
    staging.chmod(0o755)
    staging.replace(path)
    return path


@dataclass
class BrowserHandle:
    """A launched browser plus the console lines of its pages (for failure messages)."""

    ns: str
    browser: Browser
    console: list[str] = field(default_factory=list)

    async def new_page(self) -> Page:
        page = await self.browser.new_page()
        self.watch(page)
        return page

    def watch(self, page: Page) -> None:
        def on_console(msg: ConsoleMessage) -> None:
            self.console.append(f"[{msg.type}] {msg.text}")
            del self.console[:-200]

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.console.append(f"[pageerror] {exc}"))

    def console_tail(self, n: int = 30) -> str:
        return "\n".join(self.console[-n:])

    async def close(self) -> None:
        if self.browser.is_connected():
            # Best effort: the namespace teardown kills it anyway.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.browser.close(), 15)


async def launch_in_netns(
    pw: Playwright,
    ns: str,
    wrapper_dir: Path,
    media: MediaFiles | None,
    extra_args: Sequence[str] = (),
    allow_loopback: bool = True,
) -> BrowserHandle:
    """Launch headless Chromium inside ``ns``; Playwright gives it a fresh temp profile."""
    wrapper = write_wrapper(ns, wrapper_dir)
    browser = await pw.chromium.launch(
        executable_path=str(wrapper),
        args=[*chromium_args(media, allow_loopback), *extra_args],
        headless=True,
        timeout=60_000,
        env={k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")},
    )
    return BrowserHandle(ns=ns, browser=browser)


class WaitTimeout(AssertionError):
    pass


async def _evaluate(page: Page, js: str, arg: Any, timeout: float) -> Any:
    return await asyncio.wait_for(page.evaluate(js, arg), timeout)


async def wait_for(
    page: Page,
    js_predicate: str,
    timeout: float,
    *,
    arg: Any = None,
    describe: str | None = None,
    fail_if: str | None = None,
    what: str | None = None,
    interval: float = 0.5,
) -> Any:
    """Poll ``js_predicate`` (a JS expression or function, may be async) until truthy.

    ``arg`` is passed to the function. On timeout, raises WaitTimeout with the last value or
    error seen and, if given, the value of the JS ``describe`` (e.g. the page's stats).
    ``fail_if`` is a JS expression/function checked each round; if truthy, fail at once.
    Returns the predicate's truthy value.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    label = what or js_predicate
    while True:
        remaining = max(deadline - loop.time(), 0.5)
        try:
            last = await _evaluate(page, js_predicate, arg, min(remaining, 10))
            if last:
                return last
        except Exception as exc:
            last = f"<error: {type(exc).__name__}: {str(exc)[:500]}>"
        if fail_if is not None:
            failed: Any = None
            try:
                failed = await _evaluate(page, fail_if, arg, 5)
            except Exception:
                failed = None
            if failed:
                raise WaitTimeout(
                    f"{label}: gave up, page reports failure: {_fmt(failed)}"
                    + await _describe(page, describe, arg)
                )
        if loop.time() >= deadline:
            raise WaitTimeout(
                f"{label}: not true after {timeout:.0f}s; last value {_fmt(last)}"
                + await _describe(page, describe, arg)
            )
        await asyncio.sleep(interval)


async def _describe(page: Page, describe: str | None, arg: Any) -> str:
    if describe is None:
        return ""
    try:
        value = await _evaluate(page, describe, arg, 10)
    except Exception as exc:
        value = f"<error: {type(exc).__name__}: {str(exc)[:500]}>"
    return f"\nlast observed: {_fmt(value)}"


def _fmt(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text[:6000]
