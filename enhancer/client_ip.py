"""The address a request really comes from, for login throttling.

Behind a TLS proxy every request arrives from the proxy's address, so throttling on REMOTE_ADDR
alone lets five wrong passwords from anyone lock a colleague out. Trusting X-Forwarded-For
blindly is worse: any client could then name whatever address it likes. So the header is read
only when the request comes from a proxy listed in DETAILER_TRUSTED_PROXIES, and from the right:
each trusted proxy appends the address it received the request from, so the rightmost address
that is not one of our proxies is the client as our own proxies saw it. Whatever a client wrote
into the header itself sits further left and is never used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> list[Network]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"DETAILER_TRUSTED_PROXIES must list IP addresses or networks "
                f"(e.g. 127.0.0.1, 10.0.0.0/8), not {entry!r}"
            ) from exc
    return networks


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def is_trusted_proxy(address: str, proxies: list[Network]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in network for network in proxies)


def client_ip(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR, or the client as our trusted proxies report it."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = parse_networks(settings.DETAILER_TRUSTED_PROXIES)
    if not is_trusted_proxy(remote, proxies):
        return remote  # straight from the client: any X-Forwarded-For is its own invention
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if _address(hop) is None:
            # Not an address where our proxy writes one: a misconfigured chain. Count the
            # attempt against the proxy rather than believe anything further left.
            return remote
        if not is_trusted_proxy(hop, proxies):
            return str(_address(hop))
    return remote
