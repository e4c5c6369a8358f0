"""Connections that check the address they connect to, under one overall deadline."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from enhancer.net.addresses import _check_addresses, _forbidden, _resolve, is_public_address
from enhancer.net.messages import message_for
from enhancer.net.policy import FetchPolicy, FetchProblem, Resolver

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
