"""Who a request counts against (bot/channels/web/client_address.py): the peer, or behind a trusted
proxy the address it forwarded for; never a header a client wrote itself."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from bot.channels.web.client_address import client_key

PROXIES = (ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8"), ip_network("fd00::/8"))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # Direct clients: their own address; what they write in the header is ignored.
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.7", "203.0.113.5"),
        # IPv6 counts by /64; an IPv4 address mapped into IPv6 as itself.
        ("2001:db8:1:2:aaaa::1", None, "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", None, "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", None, "203.0.113.5"),
        # This machine itself, not through a trusted proxy: not limited.
        ("::1", None, None),
        ("127.0.0.2", "198.51.100.7", None),
        # Unknown peer (a Unix socket): not limited.
        (None, "198.51.100.7", None),
        ("", None, None),
        # Behind trusted proxies: the last address that is not one of them.
        ("127.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "192.0.2.1, 198.51.100.7", "198.51.100.7"),
        ("10.1.2.3", "198.51.100.7, 10.9.9.9", "198.51.100.7"),
        ("fd00::5", "2001:db8:7::1", "2001:db8:7::/64"),
        # A client's own entries before the proxies' are not believed.
        ("127.0.0.1", "1.2.3.4, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        # A trusted proxy that forwards nothing, or a garbled chain: the proxy's address.
        ("10.1.2.3", None, "10.1.2.3"),
        ("10.1.2.3", "not-an-address", "10.1.2.3"),
        ("10.1.2.3", "198.51.100.7, junk, 10.0.0.2", "10.0.0.2"),
    ],
)
def test_the_client_a_request_counts_against(
    peer: str | None, forwarded_for: str | None, expected: str | None
) -> None:
    assert client_key(peer, forwarded_for, PROXIES) == expected


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_key("127.0.0.1", "198.51.100.7", ()) is None
    assert client_key("10.1.2.3", "198.51.100.7", ()) == "10.1.2.3"
