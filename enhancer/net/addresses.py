"""Which addresses are public, and resolving names into them behind the policy."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from enhancer.net.messages import message_for
from enhancer.net.policy import _EXTRA_BLOCKED, _NAT64, FetchProblem, Resolver


def is_public_address(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for addresses on the public internet.

    ``is_global`` does the bulk (private, loopback, link-local incl. 169.254.169.254, CGNAT,
    0.0.0.0/8, documentation, reserved, unique-local fc00::/7 incl. fd00:ec2::254). Older Pythons
    call multicast and a few IPv6 ranges global, and IPv6 can carry an IPv4 address inside it
    (mapped, 6to4, NAT64, Teredo), so those are checked by hand.
    """
    try:
        ip = ipaddress.ip_address(address.split("%")[0] if isinstance(address, str) else address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip in _NAT64:
            # DNS64 on IPv6-only networks hands these out for IPv4-only sites: judge the site.
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None and not is_public_address(ip.sixtofour):
            return False
        if ip.teredo is not None:  # (server, client): the client is the real destination
            return False
        if ip.is_site_local:
            return False
    if any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version):
        return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _resolve(host: str, port: int, resolver: Resolver) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        addresses = [str(address) for address in resolver(host, port)]
    except (OSError, UnicodeError) as exc:
        raise _not_resolved(host) from exc
    if not addresses:
        raise _not_resolved(host)
    return addresses


def _not_resolved(host: str) -> FetchProblem:
    return FetchProblem("not_resolved", message_for("not_resolved", host=host))


def _forbidden(host: str, *, redirected: bool) -> FetchProblem:
    # Never name the resolved address, and read the same as a name that does not exist:
    # otherwise the error is a map of our network (see messages.py).
    return FetchProblem("forbidden_address", message_for("forbidden_address", host=host))


def _check_addresses(host: str, addresses: Iterable[str], *, redirected: bool) -> None:
    # Every address, not just the first: the socket may fall back to any of them.
    if not all(is_public_address(address) for address in addresses):
        raise _forbidden(host, redirected=redirected)
