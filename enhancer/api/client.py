"""The one client every caller uses to talk to a Detailer Upscaler API (cloud or built-in engine).

See /CONTRACT.md. The base URL and the key come from the caller (each team has its own); nothing
here reads a team or a model, so jobs, the cloud provider and the tests all share this code.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
import tomllib
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.auth import AuthBase
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from .artwork import ID_RE, Artwork, excerpt, kind
from .errors import (
    ApiError,
    ApiUnreachable,
    BadRequest,
    KeyRefused,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    UnexpectedStatus,
)
from .retry import parse_retry_after

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.tengr.ai"  # A1: not published by the vendor
CREATE_PATH = "/v2/artworks/detailer-upscaler"
ARTWORKS_PATH = "/v2/artworks"
LIST_LIMIT_MAX = 500
# A list of 500 artworks is a few hundred KB; anything far larger is not the contract talking, and
# reading it whole would let a broken or hostile server exhaust a worker's memory.
MAX_BODY_BYTES = 8 * 1024 * 1024
# Keys go into a header: printable ASCII only, so requests/http.client never raise an error whose
# text quotes the header value.
_KEY_RE = re.compile(r"[\x21-\x7e]+")
_OBJECT_REPR_RE = re.compile(r"<[^<>]*? object at 0x[0-9a-fA-F]+>:?\s*")
_MASK = "••••"


def default_base_url() -> str:
    """The deployment's default API base URL (A1), read lazily so imports never need settings."""
    try:
        value = getattr(settings, "DETAILER_API_URL", None)
    except ImproperlyConfigured:  # used outside a configured Django process (scripts, tools)
        value = None
    return str(value or DEFAULT_BASE_URL).rstrip("/")


@functools.cache
def _version() -> str:
    # The project is run from a checkout rather than installed, so pyproject.toml is the truth.
    try:
        with (Path(__file__).resolve().parents[2] / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        pass
    try:
        return metadata.version("detailer")
    except metadata.PackageNotFoundError:
        return "0"


# --- The client --------------------------------------------------------------------------------


class _BearerAuth(AuthBase):
    """Sets the bearer header. Passing it as `auth=` (rather than a plain header) also stops
    requests from replacing it with ~/.netrc credentials."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request

    @property
    def masked(self) -> str:
        # Short keys would be mostly revealed by their last 4 characters.
        return _MASK + self._key[-4:] if len(self._key) >= 12 else _MASK

    def redact(self, text: str) -> str:
        return text.replace(self._key, _MASK)

    def __repr__(self) -> str:
        return f"<bearer {self.masked}>"


class ApiClient:
    """Calls one Detailer Upscaler API with one key. Cheap to build; close() when done, or use it
    as a context manager, unless you passed your own `session`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = _check_base_url(base_url)
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("an API key is required")
        if not _KEY_RE.fullmatch(api_key.strip()):
            # Never echo the key, not even in this message.
            raise ValueError("the API key contains spaces, control or non-ASCII characters")
        self._auth = _BearerAuth(api_key.strip())
        connect, read = timeout
        if not (connect > 0 and read > 0):
            raise ValueError("timeouts must be positive")
        self.timeout = (float(connect), float(read))
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self.user_agent = f"Detailer/{_version()}"

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self.base_url!r}, api_key={self._auth.masked!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- endpoints --

    def create(
        self,
        image_url: str,
        *,
        scale_factor: int | None = None,
        details: int | None = None,
        modification: int | None = None,
        seed: int | None = None,
        webhook: str | None = None,
        output_format: str | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> Artwork:
        """POST /v2/artworks/detailer-upscaler. Unset options are omitted so the server applies
        its own defaults; the server validates ranges (A6).

        `extensions` are extra fields merged into the body, for the built-in engine's own
        extensions of the contract (e.g. `tile`); never send them to the cloud. They cannot
        replace a field named above."""
        if not isinstance(image_url, str) or not image_url:
            raise ValueError("image_url is required")
        fields = {
            "imageUrl": image_url,
            "scaleFactor": scale_factor,
            "details": details,
            "modification": modification,
            "seed": seed,
            "webhook": webhook,
            "outputFormat": output_format,
        }
        body = {name: value for name, value in fields.items() if value is not None}
        if extensions:
            clashes = sorted(set(extensions) & set(fields))
            if clashes:
                raise ValueError(f"extensions may not replace {', '.join(clashes)}")
            body.update(extensions)
        status, data = self._call("POST", CREATE_PATH, body=body)
        return self._artwork(data, "POST", CREATE_PATH, status)

    def get(self, artwork_id: str) -> Artwork:
        """GET /v2/artworks/:id. NotFound when unknown or older than 8 days."""
        if not isinstance(artwork_id, str) or not ID_RE.fullmatch(artwork_id):
            raise ValueError(f"not an artwork id: {excerpt(artwork_id)}")
        path = f"{ARTWORKS_PATH}/{quote(artwork_id, safe='')}"
        status, data = self._call("GET", path)
        return self._artwork(data, "GET", path, status)

    def delete(self, artwork_id: str) -> None:
        """DELETE /v2/artworks/:id: only the built-in engine has it (the cloud deletes its files
        after 8 days on its own). NotFound when already gone."""
        if not isinstance(artwork_id, str) or not ID_RE.fullmatch(artwork_id):
            raise ValueError(f"not an artwork id: {excerpt(artwork_id)}")
        self._call("DELETE", f"{ARTWORKS_PATH}/{quote(artwork_id, safe='')}")

    def list(self, offset: int = 0, limit: int = 10) -> list[Artwork]:
        """GET /v2/artworks: the artworks created by this key, newest first as the server sorts."""
        if not _is_int(offset) or offset < 0:
            raise ValueError("offset must be a whole number >= 0")
        if not _is_int(limit) or not 1 <= limit <= LIST_LIMIT_MAX:
            raise ValueError(f"limit must be between 1 and {LIST_LIMIT_MAX}")
        status, data = self._call("GET", ARTWORKS_PATH, params={"offset": offset, "limit": limit})
        if not isinstance(data, list):
            raise self._malformed(f"expected a JSON array, got {kind(data)}", "GET", status)
        artworks = []
        for index, item in enumerate(data):
            artwork, problem = _try_artwork(item)
            if artwork is None:
                raise self._malformed(f"item {index}: {problem}", "GET", status)
            artworks.append(artwork)
        return artworks

    # -- plumbing --

    def _artwork(self, data: Any, method: str, path: str, status: int) -> Artwork:
        artwork, problem = _try_artwork(data)
        if artwork is None:
            raise self._malformed(f"{path}: {problem}", method, status)
        return artwork

    def _malformed(self, message: str, method: str, status: int | None) -> MalformedResponse:
        return MalformedResponse(
            self._auth.redact(message), status_code=status, outcome_unknown=method == "POST"
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> tuple[int, Any]:
        url = self.base_url + path
        started = time.monotonic()
        failure: ApiError | None = None
        cause: Exception | None = None
        try:
            with self._session.request(
                method,
                url,
                params=params,
                json=body,
                headers={"Accept": "application/json", "User-Agent": self.user_agent},
                auth=self._auth,
                timeout=self.timeout,
                # Not following: a POST would become a GET, and the key must not travel on.
                allow_redirects=False,
                stream=True,  # so _read_capped can refuse an absurd body
            ) as response:
                raw, truncated = _read_capped(response, MAX_BODY_BYTES)
                status, headers = response.status_code, response.headers
        except requests.RequestException as exc:
            failure, cause = self._unreachable(exc, method, url), self._sanitized(exc)
        elapsed_ms = (time.monotonic() - started) * 1000
        logged = f"{method} {urlsplit(url).path}"
        if failure is not None:
            logger.info("%s failed after %.0f ms: %s", logged, elapsed_ms, failure)
            # Raised outside the except block, so __context__ stays empty: requests' exception
            # holds the prepared request and its Authorization header. `cause` is a clean copy.
            raise failure from cause
        if not 200 <= status < 300:
            logger.info("%s -> %s in %.0f ms", logged, status, elapsed_ms)
            raise self._http_error(method, status, headers, raw)
        logger.debug("%s -> %s in %.0f ms", logged, status, elapsed_ms)
        if truncated:
            raise self._malformed(f"body larger than {MAX_BODY_BYTES} bytes", method, status)
        data = _decode_json(raw)
        if data is _INVALID:
            raise self._malformed(f"{path}: body is not JSON", method, status)
        return status, data

    def _http_error(
        self, method: str, status: int, headers: Mapping[str, str], raw: bytes
    ) -> ApiError:
        body = _decode_json(raw)
        message = error = None
        if isinstance(body, dict):
            message = _error_text(body.get("message"))
            error = _error_text(body.get("error"))
        if message is None:
            # Absent, HTML (a proxy's error page) or otherwise unreadable: say so, plainly.
            what = "an HTML page" if raw.lstrip()[:1] == b"<" else ("no body" if not raw else "")
            message = f"The API answered HTTP {status}" + (f" with {what}" if what else "")
        kwargs: dict[str, Any] = {
            "status_code": status,
            "error": self._auth.redact(error) if error else None,
        }
        message = self._auth.redact(message)
        if status == 400:
            return BadRequest(message, **kwargs)
        if status == 401:
            return KeyRefused(message, **kwargs)
        if status == 403:
            return PermissionDenied(message, **kwargs)
        if status == 404:
            return NotFound(message, **kwargs)
        if status == 429:
            retry_after = parse_retry_after(headers.get("Retry-After"))
            return RateLimited(message, retry_after=retry_after, **kwargs)
        if 500 <= status <= 599:
            # A create that failed server-side may still have stored the artwork.
            return ServerError(message, outcome_unknown=method == "POST", **kwargs)
        if 300 <= status <= 399:
            location = headers.get("Location", "")
            return UnexpectedStatus(
                f"{message}: a redirect to {location!r}, which the client does not follow",
                user_message=(
                    "The API address redirects elsewhere (for example http to https). A team "
                    "admin should correct the API address in Team settings."
                ),
                **kwargs,
            )
        return UnexpectedStatus(message, retryable=status == 408, **kwargs)

    def _unreachable(self, exc: requests.RequestException, method: str, url: str) -> ApiUnreachable:
        reason = self._auth.redact(_short_reason(exc))
        connect, read = self.timeout
        where = f"{method} {url}"
        if isinstance(exc, requests.ConnectTimeout):
            return ApiUnreachable(
                f"Timed out connecting ({connect:g} s) for {where}", timed_out=True
            )
        # A read timeout may hit while waiting for the headers (ReadTimeout) or, because we
        # stream, while reading the body (a ConnectionError wrapping urllib3's ReadTimeoutError).
        if isinstance(exc, requests.ReadTimeout) or _wraps(exc, ReadTimeoutError):
            return ApiUnreachable(
                f"No answer within the read timeout ({read:g} s) for {where}",
                timed_out=True,
                outcome_unknown=method == "POST",
            )
        # A refused connection, a failed DNS lookup or TLS handshake: the request was never sent.
        never_sent = isinstance(exc, requests.exceptions.SSLError) or _wraps(
            exc, NewConnectionError
        )
        return ApiUnreachable(
            f"Could not reach the API for {where}: {reason}",
            outcome_unknown=not never_sent and method == "POST",
        )

    def _sanitized(self, exc: requests.RequestException) -> Exception:
        """A copy of requests' exception with its message only: the original carries the prepared
        request (headers included) and urllib3 objects we do not want reachable from ours."""
        text = self._auth.redact(str(exc))
        try:
            return type(exc)(text)
        except Exception:  # an exotic subclass with another signature
            return requests.RequestException(text)


def _try_artwork(data: Any) -> tuple[Artwork | None, str]:
    try:
        return Artwork.from_json(data), ""
    except MalformedResponse as exc:
        return None, exc.message


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip()) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the API address must be an http(s) URL, not {excerpt(base_url)}")
    if parts.username or parts.password:
        # Credentials in the URL would end up in logs and error messages.
        raise ValueError("the API address must not contain a user name or password")
    if parts.query or parts.fragment:
        raise ValueError("the API address must not contain a query or fragment")
    return base_url.strip().rstrip("/")


def _read_capped(response: requests.Response, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


_INVALID = object()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode_json(raw: bytes) -> Any:
    """The decoded body, or _INVALID. Returns rather than raises so no decoding exception (which
    quotes the body) is chained into ours."""
    if not raw.strip():
        return _INVALID
    try:
        return json.loads(raw, parse_constant=_reject_constant)  # NaN/Infinity are not JSON
    except (ValueError, RecursionError):
        return _INVALID


def _error_text(value: Any) -> str | None:
    # NestJS-style validation errors send "message" as a list of strings.
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        value = "; ".join(value)
    if isinstance(value, str) and value.strip():
        return value.strip()[:500]
    return None


def _wraps(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether requests' exception wraps `kind` (requests -> MaxRetryError.reason -> ...)."""
    inner: Any = exc.args[0] if exc.args else None
    for _ in range(3):
        if isinstance(inner, kind):
            return True
        inner = getattr(inner, "reason", None)
    return False


def _short_reason(exc: requests.RequestException) -> str:
    inner: Any = exc.args[0] if exc.args else exc
    inner = getattr(inner, "reason", None) or inner
    text = _OBJECT_REPR_RE.sub("", str(inner)).strip()
    return text[:300] or type(exc).__name__
