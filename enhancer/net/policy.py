"""What the fetcher may fetch: the policy, and the problems and files it returns."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# A resolver turns a host name and port into IP address strings. Tests pass their own, so that
# "evil.example" can resolve to 127.0.0.1 without touching real DNS.
Resolver = Callable[[str, int], Sequence[str]]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 4096
CHUNK_SIZE = 64 * 1024
HEADERS = {
    "User-Agent": "Detailer image fetcher",
    "Accept": "image/jpeg, image/png, image/webp, */*;q=0.5",
    # No compression: the byte cap then counts exactly what the server sends.
    "Accept-Encoding": "identity",
}

# Ranges Python's ``is_global`` does not (in every supported version) treat as non-public.
_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "::/96",  # IPv4-compatible IPv6 (deprecated): ::10.0.0.1 would otherwise pass
        "64:ff9b:1::/48",  # local-use NAT64 prefix (RFC 8215)
        "3fff::/20",  # documentation (RFC 9637)
        "fec0::/10",  # site-local (deprecated, still routed inside some networks)
        "5f00::/16",  # SRv6 SIDs (RFC 9602)
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.0.0.0/24",  # IETF protocol assignments (only two anycast services in it are public)
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchProblem(ValueError):
    """Why a URL was not fetched: ``message`` for people, ``code`` for code and tests.

    Codes: ``malformed``, ``bad_scheme``, ``credentials``, ``host_not_allowed``,
    ``not_resolved``, ``forbidden_address``, ``too_many_redirects``, ``bad_redirect``,
    ``http_status``, ``too_large``, ``timeout``, ``tls_error``, ``connection_failed``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FetchedFile:
    content: bytes
    final_url: str  # after redirects, normalised
    content_type: str | None


@dataclass(frozen=True)
class FetchPolicy:
    """Which hosts may be fetched and which may sit on non-public addresses.

    - ``allowed_hosts``: entries ``"host"`` (any port) or ``"host:port"`` (IPv6 as ``"[::1]:80"``).
      A URL whose host (and port) is listed skips the address check, and nothing else.
    - ``only_listed``: hosts that are not listed are refused outright.
    - ``allow_private``: skip the address check for every host (closed networks, tests).

    Build one with ``public_only()``, ``only_hosts()`` or ``for_user_urls()``.
    """

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    only_listed: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.allowed_hosts, str):
            # frozenset("localhost") would allow the hosts "l", "o", "c"...: refuse the mistake
            raise TypeError("allowed_hosts must be a collection of host names, not one string")
        # Normalised once, so "LocalHost:8000" in a setting matches the URL "http://localhost:8000"
        entries = frozenset(_normalise_entry(e) for e in self.allowed_hosts if e and e.strip())
        object.__setattr__(self, "allowed_hosts", entries)

    @classmethod
    def public_only(cls, extra_allowed_hosts: Iterable[str] = ()) -> FetchPolicy:
        """The SSRF guard for URLs from users. ``extra_allowed_hosts`` is the escape hatch for
        tests and closed networks (setting ``DETAILER_SSRF_ALLOW_HOSTS``)."""
        return cls(allowed_hosts=_as_entries(extra_allowed_hosts))

    @classmethod
    def only_hosts(cls, hosts: Iterable[str]) -> FetchPolicy:
        """Fetch only from these hosts (which may be local): the built-in engine reading images
        from its own site. Redirects must stay among them too."""
        return cls(allow_private=True, allowed_hosts=_as_entries(hosts), only_listed=True)

    @classmethod
    def for_user_urls(cls) -> FetchPolicy:
        from django.conf import settings  # lazily, so this module works without Django

        return cls.public_only(getattr(settings, "DETAILER_SSRF_ALLOW_HOSTS", None) or ())

    def lists(self, host: str, port: int) -> bool:
        return host in self.allowed_hosts or _host_port(host, port) in self.allowed_hosts

    def checks_address(self, host: str, port: int) -> bool:
        return not (self.allow_private or self.lists(host, port))


def _as_entries(hosts: Iterable[str]) -> frozenset[str]:
    if isinstance(hosts, str):
        raise TypeError("Pass a list of hosts, not one string")
    return frozenset(hosts)


def _normalise_entry(entry: str) -> str:
    text = entry.strip().lower()
    if any(mark in text for mark in ("/", "@", "?", "#")) or text.count("[") > 1:
        # A configuration mistake such as "http://host": say so loudly rather than never match.
        raise ValueError(f"Allowed host {entry!r} must be 'host' or 'host:port', not a URL")
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket:
            raise ValueError(f"Allowed host {entry!r} is missing its closing ']'")
        port = rest.removeprefix(":") if rest.startswith(":") else None
        if rest and port is None:
            raise ValueError(f"Allowed host {entry!r} is not 'host' or 'host:port'")
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:  # a plain name, or an IPv6 address without brackets
        host, port = text, None
    host = _canonical_host(host) or ""
    if not host or (port is not None and not port.isdigit()):
        raise ValueError(f"Allowed host {entry!r} is not 'host' or 'host:port'")
    return host if port is None else _host_port(host, int(port))


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _canonical_host(host: str) -> str | None:
    """Lower-case ASCII host without brackets or trailing dot; IPs in their standard form."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return host if re.fullmatch(r"[a-z0-9_.-]+", host) else None
