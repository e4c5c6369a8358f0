"""Fetching an image, checking a URL, and posting a webhook, through the guard."""

from __future__ import annotations

import http
import ipaddress
import ssl
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import certifi
from urllib3 import HTTPResponse
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.util import Timeout

from enhancer.net.addresses import _check_addresses, _forbidden, _resolve, _system_resolver
from enhancer.net.guard import _Deadline, _Guard, _GuardedHTTPPool, _GuardedHTTPSPool, _timed_out
from enhancer.net.messages import message_for
from enhancer.net.policy import (
    CHUNK_SIZE,
    DEFAULT_PORTS,
    HEADERS,
    MAX_URL_LENGTH,
    REDIRECT_STATUSES,
    FetchedFile,
    FetchPolicy,
    FetchProblem,
    Resolver,
    _canonical_host,
    _host_port,
)


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
