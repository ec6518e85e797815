"""The namespace helpers of bench.harness.netns, plus pytest's skip-or-fail on top."""

from __future__ import annotations

import os

import pytest

from bench.harness.netns import (
    REPO_ROOT,
    BridgeServer,
    NsProcess,
    clean_env,
    create_netns,
    delete_netns,
    netns_context,
    netns_pids,
    netns_problem,
    start_bridge,
    start_process,
    wait_http_ok,
)
from bench.linkemu import ns_argv

__all__ = [
    "REPO_ROOT",
    "BridgeServer",
    "NsProcess",
    "clean_env",
    "create_netns",
    "delete_netns",
    "netns_context",
    "netns_pids",
    "ns_argv",
    "require_netns",
    "skip_or_fail",
    "start_bridge",
    "start_process",
    "wait_http_ok",
]


def skip_or_fail(reason: str) -> None:
    """Skip locally; under CI (CI=true) a missing prerequisite is a failure, not a skip."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"e2e prerequisite missing under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_netns() -> None:
    problem = netns_problem()
    if problem is not None:
        skip_or_fail(problem)
