"""A real HTTP server on loopback that answers from a script, for tests of HTTP clients.

Tests run the real client code over a real socket against it, so headers, timeouts, status codes
and bodies are exercised exactly as in production, with nothing patched.

    with ScriptedServer() as server:
        server.script("POST", "/v2/artworks/detailer-upscaler",
                      (429, {"message": "slow down", "statusCode": 429}, {"Retry-After": "1"}),
                      (202, ARTWORK))
        server.script("GET", r"/v2/artworks/(?P<id>[^/]+)", lambda req: (200, lookup(req)))
        ... call server.url ...
        assert server.requests[0].json == {...}

or, in pytest, the `scripted_server` fixture (import it into conftest.py).

Scripting
- `script(method, path, *responses)`: `method` is an HTTP method or "*" for any (GET scripts
  also answer HEAD). `path` is matched against the request path without its query: an exact
  string, or else a regular expression that must match the whole path (a compiled pattern is
  always used as a regex).
  The most recently added matching script wins, so a test can override an earlier one.
- Responses are used in order, one per request, and the last one repeats for ever.
- A response is one of:
  * a tuple `(status, body, headers)`; `body` and `headers` are optional. A `bytes` body is sent
    as is (Content-Type from `headers`, else application/octet-stream); `None` sends no body;
    anything else is sent as JSON.
  * a callable `f(request) -> response` (any form listed here), for answers that depend on the
    request; `request.match` holds the path's regex match (named groups included).
  * `Delay(seconds, then=response)`: wait before answering, to provoke read timeouts. The wait
    ends early when the server stops. Without `then`, it answers 204 No Content.
- Anything unscripted answers 404 with a contract-shaped body
  (`{"message", "statusCode", "error"}`), so a missing script fails loudly.

Recording
- `server.requests` lists every request received (scripted or not), in order, as
  `RecordedRequest(method, path, query, headers, body, json, match)`; `query` maps each name to
  its list of values, `headers` is case-insensitive, `json` is the decoded body or None.
- `server.reset()` forgets scripts and requests.

Limits: request bodies are read by Content-Length (no chunked uploads); HTTP/1.1 with keep-alive.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from requests.structures import CaseInsensitiveDict


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict[str]
    body: bytes
    json: Any = None
    match: re.Match[str] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Delay:
    """Wait `seconds`, then send `then` (default: 204 No Content)."""

    seconds: float
    then: Response | None = None


# (status, body, headers) with body and headers optional; a Delay; or request -> any of these.
Response = tuple[Any, ...] | Delay | Callable[[RecordedRequest], Any]


@dataclass
class _Script:
    method: str
    pattern: str | re.Pattern[str]
    responses: tuple[Response, ...]
    calls: int = 0

    def match(self, method: str, path: str) -> tuple[bool, re.Match[str] | None]:
        """(matched, regex match); an exact string match has no regex match."""
        # HEAD is answered like GET (without the body), as HTTP servers do.
        if self.method not in ("*", method) and (self.method, method) != ("GET", "HEAD"):
            return False, None
        if isinstance(self.pattern, str) and self.pattern == path:
            return True, None
        found = re.fullmatch(self.pattern, path)
        return found is not None, found

    def next_response(self) -> Response:
        response = self.responses[min(self.calls, len(self.responses) - 1)]
        self.calls += 1
        return response


class ScriptedServer:
    """See the module docstring. Start with `with` (or start()/stop())."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._lock = threading.Lock()
        self._scripts: list[_Script] = []
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> ScriptedServer:
        handler = type("Handler", (_Handler,), {"scripted": self})
        self._httpd = _Server((self._host, 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a Delay
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:43121 (no trailing slash)."""
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting --

    def script(
        self, method: str, path: str | re.Pattern[str], *responses: Response
    ) -> ScriptedServer:
        if not responses:
            raise ValueError("script at least one response")
        with self._lock:
            self._scripts.append(_Script(method.upper(), path, responses))
        return self

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    # -- called by the handler threads --

    def _answer(self, request: RecordedRequest) -> tuple[Response, RecordedRequest]:
        with self._lock:
            for script in reversed(self._scripts):
                matched, found = script.match(request.method, request.path)
                if matched:
                    request = _with_match(request, found)
                    self._requests.append(request)
                    return script.next_response(), request
            self._requests.append(request)
        message = f"No scripted response for {request.method} {request.path}"
        return (404, {"message": message, "statusCode": 404, "error": "Not Found"}), request


def _with_match(request: RecordedRequest, match: re.Match[str] | None) -> RecordedRequest:
    return RecordedRequest(
        request.method, request.path, request.query, request.headers, request.body,
        request.json, match,
    )  # fmt: skip


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a pending Delay never blocks shutdown

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (timeouts, closed pools) are routine here; anything else is a bug
        # in a test's script and should be seen.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    scripted: ScriptedServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits for a delayed ACK
    # (~40 ms per response on Linux).
    disable_nagle_algorithm = True

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = None
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=CaseInsensitiveDict(self.headers.items()),
            body=body,
            json=decoded,
        )
        response, request = self.scripted._answer(request)
        # The client may have given up already (a read timeout, most often): expected in tests.
        with contextlib.suppress(ConnectionError):
            self._send(response, request)

    def _send(self, response: Response, request: RecordedRequest) -> None:
        while callable(response):
            response = response(request)
        if isinstance(response, Delay):
            if self.scripted._stopping.wait(response.seconds):
                self.close_connection = True
                return
            self._send(response.then if response.then is not None else (204, None), request)
            return
        status, body, headers = (*response, None, None)[:3]
        headers = dict(headers or {})
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
            headers.setdefault("Content-Type", "application/octet-stream")
        else:
            payload = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        self.send_response(int(status))
        for name, value in headers.items():
            self.send_header(name, str(value))
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; assertions use server.requests


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A started ScriptedServer, stopped after the test."""
    with ScriptedServer() as server:
        yield server
