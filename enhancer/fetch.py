"""Downloading an image from a URL someone typed, without letting them reach our private network.

A URL from a user is a request to make *our server* open a connection. Without a guard, anyone
could ask it for ``http://169.254.169.254/`` (cloud credentials), ``http://localhost:5432/`` or a
printer on the office network (server-side request forgery, SSRF). So:

- only http and https, no credentials in the URL, every redirect followed by hand and re-checked;
- the address check runs inside the connection step, on the very addresses we connect to, and
  again on the socket's peer after connecting. Checking a name once and letting the HTTP library
  resolve it again is not enough: a hostile DNS server can answer "public" to the check and
  "127.0.0.1" a second later (DNS rebinding);
- one overall deadline for the whole download (a watchdog closes the socket when it passes),
  because per-socket timeouts never fire for a server that sends one byte a second;
- the body is streamed and cut off at ``max_bytes``.

We use urllib3 directly rather than requests: requests would honour proxy environment variables
(then the address we connect to is the proxy's, and the check means nothing), and its adapters
hide the connection step we need to guard.
"""

from __future__ import annotations

import contextlib
import http
import ipaddress
import re
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import certifi
from urllib3 import HTTPResponse
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.util import Timeout

from enhancer.fetch_messages import message_for

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


# --------------------------------------------------------------------------- policy


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


# --------------------------------------------------------------------------- the address check


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
    # otherwise the error is a map of our network (see fetch_messages).
    return FetchProblem("forbidden_address", message_for("forbidden_address", host=host))


def _check_addresses(host: str, addresses: Iterable[str], *, redirected: bool) -> None:
    # Every address, not just the first: the socket may fall back to any of them.
    if not all(is_public_address(address) for address in addresses):
        raise _forbidden(host, redirected=redirected)


# --------------------------------------------------------------------------- the deadline


class _Deadline:
    """One clock for the whole fetch. When it runs out, a timer thread shuts the sockets down,
    which wakes any read blocked on a server that trickles bytes in just under the timeout."""

    def __init__(self, seconds: float) -> None:
        self.ends_at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self.ends_at - time.monotonic()
        if left <= 0 or self.expired:
            raise _timed_out()
        return left

    def watch(self, sock: socket.socket) -> None:
        # A duplicate descriptor: TLS wrapping takes over the original socket object, but a
        # shutdown() on any descriptor of the connection stops it for all of them.
        watched = sock.dup()
        with self._lock:
            self._watched.append(watched)
            if self.expired:
                _shutdown(watched)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._watched:
                _shutdown(sock)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._watched:
                sock.close()
            self._watched.clear()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(socket.SHUT_RDWR)


def _timed_out() -> FetchProblem:
    return FetchProblem("timeout", message_for("timeout"))


# --------------------------------------------------------------------------- guarded connections


@dataclass
class _Guard:
    """What a connection needs to check its own connect step."""

    host: str
    port: int
    policy: FetchPolicy
    resolver: Resolver
    deadline: _Deadline
    redirected: bool

    def open_socket(
        self, timeout: Any, socket_options: Any, source_address: tuple[str, int] | None
    ) -> socket.socket:
        addresses = _resolve(self.host, self.port, self.resolver)
        checked = self.policy.checks_address(self.host, self.port)
        if checked:
            _check_addresses(self.host, addresses, redirected=self.redirected)
        last_error: OSError | None = None
        for address in addresses:
            remaining = self.deadline.remaining()
            ip = ipaddress.ip_address(address.split("%")[0])
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(min(timeout, remaining) if _is_number(timeout) else remaining)
                if source_address:
                    sock.bind(source_address)
                # Connect to the checked address itself, never to the name (no second lookup).
                sock.connect((address, self.port))
                # And check who answered, before a single byte is sent.
                peer = ipaddress.ip_address(str(sock.getpeername()[0]).split("%")[0])
                if checked and (peer != ip or not is_public_address(peer)):
                    raise _forbidden(self.host, redirected=self.redirected)
                self.deadline.watch(sock)
            except FetchProblem:
                sock.close()
                raise
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            return sock
        raise last_error or OSError(f"No address to connect to for {self.host}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _GuardedHTTPConnection(HTTPConnection):
    def __init__(self, *args: Any, guard: _Guard, **kwargs: Any) -> None:
        self._guard = guard
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        sock = self._guard.open_socket(self.timeout, self.socket_options, self.source_address)
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    # Only the TCP step is replaced: TLS still runs in HTTPSConnection.connect() with
    # server_hostname = the URL's host, so SNI and certificate checks stay as they should.
    def __init__(self, *args: Any, guard: _Guard, **kwargs: Any) -> None:
        self._guard = guard
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        sock = self._guard.open_socket(self.timeout, self.socket_options, self.source_address)
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


# --------------------------------------------------------------------------- the fetch


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    request_uri: str
    url: str


def _malformed(detail: str = "") -> FetchProblem:
    return FetchProblem(
        "malformed", message_for("malformed", detail=detail or "Check it and try again.")
    )


def _parse_target(url: str, policy: FetchPolicy, *, redirected: bool) -> _Target:
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise _malformed()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _malformed() from exc
    scheme = parts.scheme.lower()
    if not scheme:
        raise _malformed("It should start with https:// (or http://).")
    if scheme not in DEFAULT_PORTS:
        raise FetchProblem("bad_scheme", message_for("bad_scheme", redirected=redirected))
    if not parts.netloc:
        raise _malformed()
    if "@" in parts.netloc:
        raise FetchProblem("credentials", message_for("credentials"))
    host = _canonical_host(parts.hostname or "")
    if not host:
        raise _malformed()
    port = DEFAULT_PORTS[scheme] if port is None else port
    if not 0 < port < 65536:
        raise _malformed()
    if policy.only_listed and not policy.lists(host, port):
        shown = host if port == DEFAULT_PORTS[scheme] else _host_port(host, port)
        # The allowed hosts are not named: whoever sent the URL need not learn our set-up.
        raise FetchProblem("host_not_allowed", message_for("host_not_allowed", host=shown))
    # Re-encode the path: characters such as spaces or accents must be percent-encoded on the
    # wire. Only the path and query come from the URL; the host we connect to is `host` above.
    path = quote(parts.path or "/", safe="/%!$&'()*+,;=:@-._~")
    query = quote(parts.query, safe="/?%!$&'()*+,;=:@-._~")
    request_uri = path + (f"?{query}" if parts.query else "")
    netloc = f"[{host}]" if ":" in host else host
    if port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return _Target(scheme, host, port, request_uri, f"{scheme}://{netloc}{request_uri}")


def fetch_image_url(
    url: str,
    *,
    max_bytes: int,
    timeout: float = 15.0,
    max_redirects: int = 3,
    policy: FetchPolicy,
    resolver: Resolver | None = None,
) -> FetchedFile:
    """Download ``url`` (following at most ``max_redirects`` redirects) within ``timeout``
    seconds in total and ``max_bytes`` bytes. Raises FetchProblem in plain words.

    ``resolver`` replaces DNS (tests). Name resolution itself is not interruptible, so a very
    slow DNS server can stretch the deadline; everything after it cannot.
    """
    resolve = resolver or _system_resolver
    deadline = _Deadline(timeout)
    try:
        current = url
        for hop in range(max_redirects + 1):
            redirected = hop > 0
            target = _parse_target(current, policy, redirected=redirected)
            if policy.checks_address(target.host, target.port):
                # An early look, for a clear answer before opening anything; the check that
                # counts runs again in the connection step (see _Guard.open_socket).
                _check_addresses(
                    target.host,
                    _resolve(target.host, target.port, resolve),
                    redirected=redirected,
                )
            guard = _Guard(target.host, target.port, policy, resolve, deadline, redirected)
            status, location, fetched = _request(target, guard, max_bytes)
            if fetched is not None:
                return fetched
            if status not in REDIRECT_STATUSES:
                raise _bad_status(status)
            if not location:
                raise FetchProblem("bad_redirect", message_for("bad_redirect"))
            if hop == max_redirects:
                raise FetchProblem(
                    "too_many_redirects", message_for("too_many_redirects", limit=max_redirects)
                )
            current = urljoin(target.url, location.strip())
        raise AssertionError("unreachable")  # the loop always returns or raises
    finally:
        deadline.close()


def _open_pool(target: _Target, guard: _Guard) -> HTTPConnectionPool:
    if target.scheme == "https":
        return _GuardedHTTPSPool(
            target.host,
            target.port,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            guard=guard,
        )
    return _GuardedHTTPPool(target.host, target.port, maxsize=1, retries=False, guard=guard)


def check_url(url: str, *, policy: FetchPolicy, resolver: Resolver | None = None) -> None:
    """Refuse, with FetchProblem, a URL the policy forbids, without calling it: to answer at
    once for a URL that is called later. The later call must still go through the guard,
    since DNS may answer differently by then."""
    target = _parse_target(url, policy, redirected=False)
    if policy.checks_address(target.host, target.port):
        resolve = resolver or _system_resolver
        _check_addresses(target.host, _resolve(target.host, target.port, resolve), redirected=False)


def check_url_without_dns(url: str, *, policy: FetchPolicy) -> None:
    """What `check_url` can refuse without asking DNS (which may hang): the form of the
    address, and a host that is itself an address (or localhost). For a web request; the
    worker's fetch still goes through the whole guard."""
    target = _parse_target(url, policy, redirected=False)
    if not policy.checks_address(target.host, target.port):
        return
    if target.host == "localhost" or target.host.endswith(".localhost"):
        raise _forbidden(target.host, redirected=False)
    try:
        literal = str(ipaddress.ip_address(target.host))
    except ValueError:
        return
    _check_addresses(target.host, [literal], redirected=False)


def post_json(
    url: str,
    body: bytes,
    *,
    headers: dict[str, str],
    policy: FetchPolicy,
    timeout: float = 15.0,
    resolver: Resolver | None = None,
) -> int:
    """POST a JSON body to a URL someone gave us (a webhook) behind the same guard as fetches:
    the address is checked at connect time and redirects are not followed. Returns the status.
    Raises FetchProblem when the URL is refused or nothing answers."""
    resolve = resolver or _system_resolver
    deadline = _Deadline(timeout)
    try:
        check_url(url, policy=policy, resolver=resolve)
        target = _parse_target(url, policy, redirected=False)
        guard = _Guard(target.host, target.port, policy, resolve, deadline, False)
        pool = _open_pool(target, guard)
        remaining = deadline.remaining()
        try:
            response = pool.urlopen(
                "POST",
                target.request_uri,
                body=body,
                headers={"Content-Type": "application/json", **headers},
                redirect=False,
                retries=False,
                timeout=Timeout(connect=remaining, read=remaining),
            )
            return response.status
        except FetchProblem:
            raise
        except Exception as exc:
            raise _network_problem(exc, target.host, deadline) from exc
        finally:
            pool.close()
    finally:
        deadline.close()


def _request(
    target: _Target, guard: _Guard, max_bytes: int
) -> tuple[int, str | None, FetchedFile | None]:
    """One hop: the status, the redirect Location, and the file when the answer was 200."""
    remaining = guard.deadline.remaining()
    pool = _open_pool(target, guard)
    response: HTTPResponse | None = None
    try:
        response = pool.urlopen(
            "GET",
            target.request_uri,
            headers=HEADERS,
            redirect=False,
            retries=False,
            preload_content=False,
            timeout=Timeout(connect=remaining, read=remaining),
        )
        if response.status != 200:
            return response.status, response.headers.get("Location"), None
        content = _read_body(response, max_bytes, guard.deadline)
        return 200, None, FetchedFile(content, target.url, response.headers.get("Content-Type"))
    except FetchProblem:
        raise
    except Exception as exc:
        raise _network_problem(exc, target.host, guard.deadline) from exc
    finally:
        if response is not None:
            response.close()  # never reused: one pool per hop, and it may hold unread data
        pool.close()


def _read_body(response: HTTPResponse, max_bytes: int, deadline: _Deadline) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.strip().isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    total = 0
    while True:
        deadline.remaining()
        # The cap is enforced on what arrives, whatever Content-Length claimed (or if absent).
        chunk = response.read(min(CHUNK_SIZE, max_bytes + 1 - total))
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    if deadline.expired:  # the watchdog's shutdown can look like a normal end of a body
        raise _timed_out()
    return b"".join(chunks)


def _too_large(max_bytes: int) -> FetchProblem:
    megabytes = max_bytes / (1024 * 1024)
    limit = (
        f"{megabytes:.1f}".removesuffix(".0") + " MB"
        if max_bytes >= 1024 * 1024
        else f"{max_bytes:,} bytes"
    )
    return FetchProblem("too_large", message_for("too_large", limit=limit))


def _bad_status(status: int) -> FetchProblem:
    try:
        reason = f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        reason = str(status)
    return FetchProblem("http_status", message_for("http_status", reason=reason))


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """Whether ``kinds`` appears anywhere in the chain urllib3 wraps errors in."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kinds):
            return True
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        pending.extend(a for a in current.args if isinstance(a, BaseException))
    return False


def _network_problem(exc: BaseException, host: str, deadline: _Deadline) -> FetchProblem:
    if deadline.expired or _caused_by(exc, (TimeoutError, Urllib3TimeoutError)):
        return _timed_out()
    if _caused_by(exc, (Urllib3SSLError, ssl.SSLError)):
        return FetchProblem("tls_error", message_for("tls_error", host=host))
    return FetchProblem("connection_failed", message_for("connection_failed", host=host))
