"""Weak-link emulator: two network namespaces joined by a shaped veth pair.

The kernel has no netem, so a direction is shaped on its path with what it has: rate with
``tbf`` on the sender's veth egress, loss with an nftables netdev-ingress ``numgen`` drop
on the receiver, delay/jitter with iptables ``NFQUEUE`` on the receiver feeding
``python -m bench.linkemu.nfqueue_delay`` (raw netlink, stdlib only), which holds each
packet before accepting it. Profiles come from ``link-profiles.toml`` (``delay_ms`` is
one-way and applied to each direction; "down" is bridge -> site). Needs root.

    from bench.linkemu import EmulatedLink, load_profile

    profile = load_profile("collapse")              # ../shared/link-profiles.toml
    async with EmulatedLink(profile.steps[0]) as link:
        # link.site_ns / link.bridge_ns: run the SFU in bridge_ns on link.bridge_addr,
        # clients in site_ns (ip netns exec ...; ns_argv() builds that argv), or make
        # sockets there with link.site_socket() / link.bridge_socket().
        player = asyncio.create_task(link.run_profile(profile))
        ...
        link.apply(LinkStep(down_kbps=300, up_kbps=150, delay_ms=100, loss_pct=5))

Leaving the ``with``/``async with`` block (also on error) kills the delay helpers and
anything else left in the two namespaces, and deletes them (the veth, qdiscs and rules go
with them). A step with ``down_kbps``/``up_kbps`` 0 or ``loss_pct`` 100 is an outage.
"""

from .link import EmulatedLink, LinkEmuError, ns_argv, ns_socket
from .profiles import (
    DEFAULT_PROFILES_PATH,
    LinkProfile,
    LinkStep,
    load_profile,
    load_profiles,
    parse_profiles,
)

__all__ = [
    "DEFAULT_PROFILES_PATH",
    "EmulatedLink",
    "LinkEmuError",
    "LinkProfile",
    "LinkStep",
    "load_profile",
    "load_profiles",
    "ns_argv",
    "ns_socket",
    "parse_profiles",
]
