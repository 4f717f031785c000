"""Who is asking, for limits per client: the request's address, or the one a trusted reverse
proxy says it forwarded for.

``X-Forwarded-For`` is believed only from the proxies listed in ``CASEBOT_TRUSTED_PROXIES``: a
client that connects directly may write anything in it. Behind them, the client is the last
address in the header that is not itself a trusted proxy (each proxy appends the address it
received the request from). IPv6 clients are counted by their /64 network, which one customer
usually holds whole; an IPv4 address mapped into IPv6 counts as the IPv4 address.

A request from this machine itself (loopback) that no trusted proxy forwarded is not limited:
it is the operator's own tools, a test or a benchmark. A reverse proxy on the same machine must
therefore be listed (``127.0.0.1``), or every client behind it would go unlimited.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

__all__ = ["Network", "client_key"]

Network = IPv4Network | IPv6Network
IP = IPv4Address | IPv6Address


def client_key(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> str | None:
    """The key a client's requests are counted under, or None for one not to limit (from this
    machine, or whose address is unknown)."""
    address = _ip(peer)
    if address is None:
        return None
    if _within(address, trusted):
        for entry in reversed((forwarded_for or "").split(",")):
            hop = _ip(entry.strip())
            if hop is None:
                break  # a garbled chain: count the request under the proxy that sent it
            address = hop
            if not _within(hop, trusted):
                break
    elif address.is_loopback:
        return None
    if isinstance(address, IPv6Address):
        return str(ip_network(f"{address}/64", strict=False))
    return str(address)


def _ip(text: str | None) -> IP | None:
    if not text:
        return None
    try:
        address = ip_address(text.split("%", 1)[0])  # no zone index ("fe80::1%eth0")
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _within(address: IP, networks: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in networks)
