"""The benchmark's network namespace: lo plus a veth pair with both ends inside.

Janus offers no 127.0.0.1 candidate, so every server (Janus, the relay, diemcau) gets its
ICE on one end (SERVER_ADDRESS on SERVER_IF) and the synthetic clients on the other
(CLIENT_ADDRESS). Both addresses are local to the namespace, so in that namespace only
accept_local=1 and rp_filter=0. Namespace creation/deletion reuses tests/e2e/netns.py.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator

from tests.e2e.netns import create_netns, delete_netns

SERVER_IF, CLIENT_IF = "dcpa", "dcpb"
SERVER_ADDRESS, CLIENT_ADDRESS = "10.231.0.1", "10.231.0.2"


def _ip(ns: str, *args: str) -> None:
    subprocess.run(["ip", "-n", ns, *args], check=True, capture_output=True, timeout=30)


def _sysctl(ns: str, *settings: str) -> None:
    subprocess.run(
        ["ip", "netns", "exec", ns, "sysctl", "-q", "-w", *settings],
        check=True,
        capture_output=True,
        timeout=30,
    )


@contextlib.contextmanager
def veth_namespace(prefix: str = "dcpeers-") -> Iterator[str]:
    """A fresh namespace with lo and the veth pair up; deleted (and emptied) on exit."""
    ns = create_netns(prefix)
    try:
        _ip(ns, "link", "add", SERVER_IF, "type", "veth", "peer", "name", CLIENT_IF)
        _ip(ns, "addr", "add", f"{SERVER_ADDRESS}/24", "dev", SERVER_IF)
        _ip(ns, "addr", "add", f"{CLIENT_ADDRESS}/24", "dev", CLIENT_IF)
        _ip(ns, "link", "set", SERVER_IF, "up")
        _ip(ns, "link", "set", CLIENT_IF, "up")
        settings = []
        for dev in ("all", "default", "lo", SERVER_IF, CLIENT_IF):
            settings += [f"net.ipv4.conf.{dev}.accept_local=1", f"net.ipv4.conf.{dev}.rp_filter=0"]
        _sysctl(ns, *settings)
        yield ns
    finally:
        delete_netns(ns)
