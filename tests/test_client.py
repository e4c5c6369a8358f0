"""The API client, run for real over loopback against a ScriptedServer (nothing patched)."""

from __future__ import annotations

import logging
import math
import pickle
import random
import socket
import time
import tomllib
import traceback
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from enhancer.api import (
    ApiClient,
    ApiError,
    ApiUnreachable,
    Artwork,
    BadRequest,
    KeyRefused,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    UnexpectedStatus,
    backoff_delay,
    default_base_url,
    parse_retry_after,
    retry_delay,
)
from enhancer.api.client import MAX_BODY_BYTES
from tests.scripted_server import Delay, RecordedRequest, ScriptedServer

SECRET = "tgr_live_Q7v2xS9kLm4Np8Rt"
CREATE = "/v2/artworks/detailer-upscaler"
ART_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
ARTWORK = {
    "id": ART_ID,
    "artworkType": "detailer_upscaler",
    "parameters": {"imageUrl": "https://site.example/u/a.png", "scaleFactor": 2},
    "duration": 0,
    "results": [],
    "status": "starting",
    "createdAt": "2024-07-29T15:51:28.071Z",
}
DONE = {
    **ARTWORK,
    "status": "succeeded",
    "duration": 3.25,
    "results": ["https://cdn.example/r/1.webp", "https://cdn.example/r/2.webp"],
}


def contract_error(status: int, message: str = "went wrong", error: str | None = "Detail") -> dict:
    body: dict[str, Any] = {"message": message, "statusCode": status}
    if error is not None:
        body["error"] = error
    return body


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


@pytest.fixture
def api(server: ScriptedServer) -> Iterator[ApiClient]:
    with ApiClient(server.url, SECRET, timeout=(1.0, 2.0)) as client:
        yield client


@pytest.fixture
def refused_url() -> Iterator[str]:
    # A bound socket that never listens: connecting is refused, and no one else can take the port.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


# --- requests on the wire -----------------------------------------------------------------------


def test_create_sends_the_contract_field_names_and_the_bearer_key(server, api):
    server.script("POST", CREATE, (202, ARTWORK))

    artwork = api.create(
        "https://site.example/u/a.png",
        scale_factor=4,
        details=3,
        modification=1,
        seed=42,
        webhook="https://site.example/hooks/abc",
        output_format="png",
    )

    assert artwork.id == ART_ID and artwork.status == "starting" and not artwork.is_final
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", CREATE)
    assert sent.json == {
        "imageUrl": "https://site.example/u/a.png",
        "scaleFactor": 4,
        "details": 3,
        "modification": 1,
        "seed": 42,
        "webhook": "https://site.example/hooks/abc",
        "outputFormat": "png",
    }
    assert sent.headers["Authorization"] == f"Bearer {SECRET}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Content-Type"] == "application/json"
    version = tomllib.loads(Path("pyproject.toml").read_text())["project"]["version"]
    assert sent.headers["User-Agent"] == f"Detailer/{version}"


def test_create_omits_unset_options_so_the_server_defaults_apply(server, api):
    server.script("POST", CREATE, (202, ARTWORK))

    api.create("https://site.example/u/a.png", details=1)

    assert server.requests[0].json == {"imageUrl": "https://site.example/u/a.png", "details": 1}


def test_get_parses_the_artwork(server, api):
    server.script("GET", f"/v2/artworks/{ART_ID}", (200, DONE))

    artwork = api.get(ART_ID)

    assert artwork == Artwork(
        id=ART_ID,
        status="succeeded",
        artwork_type="detailer_upscaler",
        parameters={"imageUrl": "https://site.example/u/a.png", "scaleFactor": 2},
        results=["https://cdn.example/r/1.webp", "https://cdn.example/r/2.webp"],
        duration=3.25,
        created_at=datetime(2024, 7, 29, 15, 51, 28, 71000, tzinfo=UTC),
    )
    assert artwork.is_final and artwork.raw == DONE
    assert server.requests[0].headers["Authorization"] == f"Bearer {SECRET}"


def test_get_refuses_ids_that_would_change_the_path(server, api):
    for bad in ["", "..", "a/b", "a?b", "a b", "%2e%2e"]:
        with pytest.raises(ValueError):
            api.get(bad)
    assert server.requests == []


def test_list_sends_offset_and_limit_and_parses_every_artwork(server, api):
    server.script("GET", "/v2/artworks", (200, [DONE, {**ARTWORK, "id": "other-1"}]))

    artworks = api.list(offset=5, limit=2)

    assert [a.id for a in artworks] == [ART_ID, "other-1"]
    assert artworks[0].created_at == datetime(2024, 7, 29, 15, 51, 28, 71000, tzinfo=UTC)
    assert server.requests[0].query == {"offset": ["5"], "limit": ["2"]}


@pytest.mark.parametrize("limit", [0, 501, -1, True, "10", 2.0])
def test_list_limit_is_checked_before_any_request(server, api, limit):
    with pytest.raises(ValueError):
        api.list(limit=limit)
    assert server.requests == []


def test_list_accepts_the_bounds(server, api):
    server.script("GET", "/v2/artworks", (200, []))
    assert api.list(limit=1) == [] and api.list(limit=500) == []


def test_calls_are_logged_with_method_path_and_status(server, api, caplog):
    server.script("GET", f"/v2/artworks/{ART_ID}", (200, ARTWORK))
    with caplog.at_level(logging.DEBUG, logger="enhancer.api"):
        api.get(ART_ID)
    [record] = [r for r in caplog.records if r.name == "enhancer.api.client"]
    assert record.getMessage().startswith(f"GET /v2/artworks/{ART_ID} -> 200 in ")


# --- HTTP errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (400, BadRequest, False),
        (401, KeyRefused, False),
        (403, PermissionDenied, False),
        (404, NotFound, False),
        (409, UnexpectedStatus, False),
        (500, ServerError, True),
        (502, ServerError, True),
        (503, ServerError, True),
    ],
)
def test_error_statuses_map_to_typed_errors(server, api, status, kind, retryable):
    server.script("GET", f"/v2/artworks/{ART_ID}", (status, contract_error(status, "Nope", "Why")))

    with pytest.raises(ApiError) as caught:
        api.get(ART_ID)

    exc = caught.value
    assert type(exc) is kind
    assert (exc.status_code, exc.message, exc.error, exc.retryable) == (
        status,
        "Nope",
        "Why",
        retryable,
    )
    assert exc.user_message and "HTTP" not in exc.user_message
    assert str(exc) == f"HTTP {status}: Nope (Why)"


def test_key_refused_tells_people_what_to_do(server, api):
    server.script("GET", "/v2/artworks", (401, contract_error(401, "Unauthorized", None)))
    with pytest.raises(KeyRefused) as caught:
        api.list()
    assert caught.value.user_message == (
        "The team's API key was refused. Ask a team admin to update it in Team settings."
    )
    assert caught.value.error is None


def test_bad_request_passes_the_servers_reason_on_to_people(server, api):
    # NestJS-style validation errors carry a list of messages.
    body = {"message": ["imageUrl must be a URL", "details must be <= 3"], "statusCode": 400}
    server.script("POST", CREATE, (400, body))
    with pytest.raises(BadRequest) as caught:
        api.create("nope")
    assert caught.value.message == "imageUrl must be a URL; details must be <= 3"
    assert caught.value.user_message.endswith("The service said: " + caught.value.message)


def test_html_error_page_gives_a_generic_message_with_the_status(server, api):
    page = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
    server.script("GET", f"/v2/artworks/{ART_ID}", (502, page, {"Content-Type": "text/html"}))
    with pytest.raises(ServerError) as caught:
        api.get(ART_ID)
    assert caught.value.message == "The API answered HTTP 502 with an HTML page"
    assert caught.value.retryable and caught.value.error is None


@pytest.mark.parametrize("body", [None, b"oops", [1, 2], {"message": 7}, {"msg": "x"}])
def test_absent_or_odd_error_bodies_still_name_the_status(server, api, body):
    server.script("GET", f"/v2/artworks/{ART_ID}", (500, body))
    with pytest.raises(ServerError) as caught:
        api.get(ART_ID)
    assert caught.value.message.startswith("The API answered HTTP 500")


def test_redirects_are_not_followed(server, api):
    server.script("GET", "/v2/artworks", (301, None, {"Location": "https://elsewhere.example/"}))
    with pytest.raises(UnexpectedStatus) as caught:
        api.list()
    assert caught.value.status_code == 301 and not caught.value.retryable
    assert "elsewhere.example" in caught.value.message
    assert len(server.requests) == 1


def test_a_failed_create_on_the_server_side_may_still_have_created_the_artwork(server, api):
    server.script("POST", CREATE, (500, contract_error(500)))
    with pytest.raises(ServerError) as caught:
        api.create("https://site.example/u/a.png")
    assert caught.value.outcome_unknown


# --- 429 and Retry-After (A5) -------------------------------------------------------------------


def http_date(offset: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=offset), usegmt=True)


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [
        ("7", 7, 7),
        ("0", 0, 0),
        (120.0, 110, 121),  # a float here means an HTTP date this many seconds from now
        (-3600.0, 0, 0),
        ("99999999999", 600, 600),
        (86400.0, 600, 600),
    ],
)
def test_rate_limited_honours_retry_after(server, api, header, low, high):
    if isinstance(header, float):
        header = http_date(header)
    server.script(
        "POST", CREATE, (429, contract_error(429, "Too Many Requests"), {"Retry-After": header})
    )
    with pytest.raises(RateLimited) as caught:
        api.create("https://site.example/u/a.png")
    exc = caught.value
    assert exc.retryable and exc.status_code == 429 and exc.message == "Too Many Requests"
    assert low <= exc.retry_after <= high


@pytest.mark.parametrize("headers", [{}, {"Retry-After": "soon"}, {"Retry-After": "-5"}])
def test_rate_limited_without_a_usable_retry_after(server, api, headers):
    server.script("GET", "/v2/artworks", (429, contract_error(429), headers))
    with pytest.raises(RateLimited) as caught:
        api.list()
    assert caught.value.retry_after is None
    assert 15 <= retry_delay(caught.value, attempt=4) <= 32  # falls back to backoff


# --- no HTTP answer -----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "outcome_unknown"), [("GET", False), ("POST", True)])
def test_read_timeout_is_unreachable_and_retryable(server, method, outcome_unknown):
    server.script("*", r"/v2/.*", Delay(1.0, then=(200, ARTWORK)))
    with ApiClient(server.url, SECRET, timeout=(1, 0.3)) as api:
        started = time.monotonic()
        with pytest.raises(ApiUnreachable) as caught:
            api.get(ART_ID) if method == "GET" else api.create("https://site.example/u/a.png")
    assert time.monotonic() - started < 0.9
    exc = caught.value
    assert exc.timed_out and exc.retryable and exc.status_code is None
    assert "read timeout (0.3 s)" in exc.message
    assert exc.outcome_unknown is outcome_unknown
    assert "did not answer in time" in exc.user_message


def test_connection_refused_is_unreachable_and_retryable(refused_url):
    with ApiClient(refused_url, SECRET) as api, pytest.raises(ApiUnreachable) as caught:
        api.create("https://site.example/u/a.png")
    exc = caught.value
    assert exc.retryable and not exc.timed_out and exc.status_code is None
    assert "Connection refused" in exc.message
    assert not exc.outcome_unknown  # nothing was sent, so a retry cannot duplicate the artwork
    assert isinstance(exc.__cause__, requests.ConnectionError)


# --- malformed 2xx ------------------------------------------------------------------------------


def test_invalid_json_on_2xx_is_malformed_and_retryable(server, api):
    server.script(
        "GET",
        f"/v2/artworks/{ART_ID}",
        (200, b'{"id": "x", ', {"Content-Type": "application/json"}),
    )
    with pytest.raises(MalformedResponse) as caught:
        api.get(ART_ID)
    assert caught.value.retryable and caught.value.status_code == 200
    assert "not JSON" in caught.value.message


@pytest.mark.parametrize("body", [b"NaN", b"", b"<html>maintenance</html>"])
def test_non_json_2xx_bodies_are_malformed(server, api, body):
    server.script("GET", "/v2/artworks", (200, body))
    with pytest.raises(MalformedResponse):
        api.list()


def test_wrong_shapes_on_2xx_are_malformed(server, api):
    server.script("GET", f"/v2/artworks/{ART_ID}", (200, {"id": ART_ID}))
    server.script("GET", "/v2/artworks", (200, {"items": []}))
    server.script("POST", CREATE, (202, [ARTWORK]))

    with pytest.raises(MalformedResponse, match="unknown status"):
        api.get(ART_ID)
    with pytest.raises(MalformedResponse, match="expected a JSON array"):
        api.list()
    with pytest.raises(MalformedResponse) as caught:
        api.create("https://site.example/u/a.png")
    assert caught.value.outcome_unknown  # the 202 means the artwork probably exists


def test_one_bad_item_spoils_the_list(server, api):
    server.script("GET", "/v2/artworks", (200, [ARTWORK, {**ARTWORK, "results": "nope"}]))
    with pytest.raises(MalformedResponse, match=r"item 1: .*results must be a list"):
        api.list()


def test_an_absurdly_large_body_is_refused(server, api):
    server.script("GET", "/v2/artworks", (200, b"[" + b" " * MAX_BODY_BYTES + b"]"))
    with pytest.raises(MalformedResponse, match="larger than"):
        api.list()


# --- the key never leaks ------------------------------------------------------------------------


def reachable_text(root: object) -> Iterator[str]:
    """Every string reachable from an exception: its text, args, attributes, cause and context."""
    seen: set[int] = set()
    stack: list[tuple[object, int]] = [(root, 0)]
    while stack:
        obj, depth = stack.pop()
        if id(obj) in seen or depth > 8 or isinstance(obj, type | types.ModuleType):
            continue
        seen.add(id(obj))
        if isinstance(obj, str | bytes):
            yield obj.decode("latin-1") if isinstance(obj, bytes) else obj
            continue
        children: list[object] = []
        if isinstance(obj, BaseException):
            yield str(obj)
            yield repr(obj)
            children += [*obj.args, obj.__cause__, obj.__context__]
        if isinstance(obj, dict):
            children += [*obj.keys(), *obj.values()]
        elif isinstance(obj, list | tuple | set | frozenset):
            children += list(obj)
        attributes = getattr(obj, "__dict__", None)
        if isinstance(attributes, dict):
            children += list(attributes.values())
        stack += [(child, depth + 1) for child in children if child is not None]


def test_the_leak_detector_finds_a_key_in_a_raw_requests_exception(refused_url):
    # Control: requests' own exception holds the prepared request and its headers, which is why
    # the client never chains it as is. If this stopped finding the key, the checks below would
    # prove nothing.
    with pytest.raises(requests.ConnectionError) as caught:
        requests.get(refused_url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=1)
    assert any(SECRET in text for text in reachable_text(caught.value))


ECHO = {"message": f"invalid token {SECRET}", "statusCode": 401, "error": f"Bearer {SECRET}"}
LEAK_SCENARIOS = {
    "400": (400, contract_error(400)),
    "401 echoing the key": (401, ECHO),
    "403": (403, contract_error(403)),
    "404": (404, contract_error(404)),
    "429": (429, contract_error(429), {"Retry-After": "3"}),
    "500 html": (500, b"<html>boom</html>", {"Content-Type": "text/html"}),
    "503": (503, contract_error(503)),
    "redirect": (302, None, {"Location": "http://127.0.0.1:1/"}),
    "invalid json": (200, b"{"),
    "wrong shape echoing the key": (200, {"id": ART_ID, "status": SECRET}),
    "read timeout": Delay(1.0),
}


@pytest.mark.parametrize("response", LEAK_SCENARIOS.values(), ids=LEAK_SCENARIOS.keys())
@pytest.mark.parametrize("call", ["create", "get", "list"])
def test_the_key_never_leaks_into_errors_or_logs(server, caplog, response, call):
    server.script("*", r"/v2/.*", response)
    with ApiClient(server.url, SECRET, timeout=(1, 0.3)) as api:
        assert_no_leak(api, call, caplog)


def test_the_key_never_leaks_when_the_connection_is_refused(refused_url, caplog):
    with ApiClient(refused_url, SECRET) as api:
        assert_no_leak(api, "create", caplog)


def assert_no_leak(api: ApiClient, call: str, caplog: pytest.LogCaptureFixture) -> None:
    calls = {
        "create": lambda: api.create("https://site.example/u/a.png"),
        "get": lambda: api.get(ART_ID),
        "list": lambda: api.list(),
    }
    with caplog.at_level(logging.DEBUG), pytest.raises(ApiError) as caught:
        calls[call]()
    exc = caught.value
    texts = [
        *reachable_text(exc),
        repr(exc.args),
        exc.user_message,
        "".join(traceback.format_exception(exc)),
        repr(api),
        caplog.text,
        *(repr(record.args) for record in caplog.records),
    ]
    assert caplog.records, "the call should have been logged"
    assert not [text for text in texts if SECRET in text]


def test_repr_masks_the_key():
    client = ApiClient("https://api.example", SECRET)
    assert repr(client) == "ApiClient(base_url='https://api.example', api_key='••••p8Rt')"
    assert SECRET not in repr(vars(client))


@pytest.mark.parametrize(
    "key", ["", "   ", f"{SECRET[:5]}\n{SECRET[5:]}", f"{SECRET} x", f"{SECRET}é"]
)
def test_unusable_keys_are_refused_without_echoing_them(key):
    with pytest.raises(ValueError) as caught:
        ApiClient("https://api.example", key)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["api.example", "ftp://api.example", "https://user:pw@api.example", "https://a.example?x=1"],
)
def test_unusable_base_urls_are_refused(url):
    with pytest.raises(ValueError):
        ApiClient(url, SECRET)


def test_errors_survive_pickling_for_task_queues():
    original = RateLimited("slow down", status_code=429, error="Too Many Requests", retry_after=3.0)
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is RateLimited
    assert (copy.message, copy.error, copy.retry_after, copy.retryable, str(copy)) == (
        "slow down",
        "Too Many Requests",
        3.0,
        True,
        str(original),
    )


# --- the scripted server itself -----------------------------------------------------------------


def test_scripted_responses_are_used_in_order_and_the_last_repeats(server, api):
    server.script("GET", "/v2/artworks", (503, contract_error(503)), (200, []))
    with pytest.raises(ServerError):
        api.list()
    assert api.list() == [] and api.list() == []


def test_callable_responses_see_the_request_and_its_path_match(server, api):
    def echo(request: RecordedRequest) -> tuple[int, dict]:
        return 200, {**DONE, "id": request.match["id"]}

    server.script("GET", r"/v2/artworks/(?P<id>[\w-]+)", echo)
    assert api.get("abc-123").id == "abc-123"


def test_unscripted_paths_answer_a_contract_shaped_404(server, api):
    with pytest.raises(NotFound) as caught:
        api.get(ART_ID)
    assert caught.value.message == f"No scripted response for GET /v2/artworks/{ART_ID}"
    assert caught.value.error == "Not Found"


# --- retry helpers ------------------------------------------------------------------------------


class Extreme:
    """A deterministic stand-in for `random`: always the low or the high end of the range."""

    def __init__(self, high: bool) -> None:
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


def test_backoff_grows_and_is_capped():
    lows = [backoff_delay(n, rng=Extreme(high=False)) for n in range(10)]
    highs = [backoff_delay(n, rng=Extreme(high=True)) for n in range(10)]
    assert highs[:6] == [2, 4, 8, 16, 32, 60]  # base 2 s doubling, capped at 60 s
    assert lows[:6] == [1, 2, 4, 8, 16, 30]  # equal jitter: never under half the ceiling
    assert set(highs[5:]) == {60} and set(lows[5:]) == {30}
    assert backoff_delay(10_000, rng=Extreme(high=True)) == 60  # no overflow
    rng = random.Random(7)
    assert all(1 <= backoff_delay(0, rng=rng) <= 2 for _ in range(100))
    with pytest.raises(ValueError):
        backoff_delay(-1)


def test_retry_delay_prefers_the_servers_retry_after():
    assert retry_delay(RateLimited("x", retry_after=42.0), 0) == 42.0
    assert retry_delay(ServerError("x"), 3, rng=Extreme(high=True)) == 16


NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("120", 120.0),
        (" 5 ", 5.0),
        ("1.5", 1.5),
        ("-5", None),
        ("5s", None),
        ("1e3", None),
        ("9" * 400, 600.0),
        ("Tue, 24 Nov 2026 12:00:30 GMT", 30.0),
        ("Tue, 24 Nov 2026 11:00:00 GMT", 0.0),
        ("Wed, 25 Nov 2026 12:00:00 GMT", 600.0),
        ("Tue, 24 Nov 2026 12:00:30 -0000", 30.0),
        ("Tue, 24 Nov 99999 12:00:30 GMT", None),
        ("tomorrow", None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_cap_and_naive_now():
    assert parse_retry_after("100", cap=10) == 10
    naive_now = NOW.replace(tzinfo=None)
    assert parse_retry_after("Tue, 24 Nov 2026 12:01:00 GMT", now=naive_now) == 60


@hypothesis_settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.text(), st.from_regex(r"\A[0-9]{1,30}\Z")), st.floats(0, 1e6))
def test_parse_retry_after_is_none_or_within_bounds(value, cap):
    result = parse_retry_after(value, now=NOW, cap=cap)
    assert result is None or (0 <= result <= cap and not math.isnan(result))


# --- Artwork.from_json --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "artwork",
        {},
        {**ARTWORK, "id": None},
        {**ARTWORK, "id": 7},
        {**ARTWORK, "id": ""},
        {**ARTWORK, "id": "../admin"},
        {**ARTWORK, "id": "a/b"},
        {k: v for k, v in ARTWORK.items() if k != "status"},
        {**ARTWORK, "status": "done"},
        {**ARTWORK, "status": "SUCCEEDED"},
        {**ARTWORK, "status": ["succeeded"]},
        {**ARTWORK, "results": "https://cdn.example/1.png"},
        {**ARTWORK, "results": [1]},
        {**ARTWORK, "results": ["/relative.png"]},
        {**ARTWORK, "results": ["javascript:alert(1)"]},
        {**ARTWORK, "duration": "3"},
        {**ARTWORK, "duration": True},
        {**ARTWORK, "duration": -1},
        {**ARTWORK, "duration": float("nan")},
        {**ARTWORK, "createdAt": "yesterday"},
        {**ARTWORK, "createdAt": 1722268288},
        {**ARTWORK, "parameters": []},
        {**ARTWORK, "artworkType": 5},
    ],
)
def test_from_json_refuses_off_contract_shapes(data):
    with pytest.raises(MalformedResponse) as caught:
        Artwork.from_json(data)
    assert caught.value.status_code is None and caught.value.retryable


def test_from_json_fills_defaults_and_keeps_failure_text():
    # A9: whatever message/error a failed artwork carries is kept for display.
    artwork = Artwork.from_json(
        {"id": "x1", "status": "failed", "message": "Image too large", "error": {"code": 7}}
    )
    assert (artwork.parameters, artwork.results, artwork.duration, artwork.created_at) == (
        {},
        [],
        None,
        None,
    )
    assert artwork.is_final and artwork.artwork_type is None
    assert artwork.failure_text == 'Image too large: {"code": 7}'


def test_from_json_reads_timestamps_as_aware_utc():
    naive = Artwork.from_json({**ARTWORK, "createdAt": "2024-07-29T15:51:28"})
    offset = Artwork.from_json({**ARTWORK, "createdAt": "2024-07-29T17:51:28.5+02:00"})
    assert naive.created_at == datetime(2024, 7, 29, 15, 51, 28, tzinfo=UTC)
    assert offset.created_at == datetime(2024, 7, 29, 15, 51, 28, 500000, tzinfo=UTC)


@pytest.mark.parametrize("status", ["starting", "processing", "succeeded", "failed", "canceled"])
def test_is_final(status):
    final = status in {"succeeded", "failed", "canceled"}
    assert Artwork.from_json({**ARTWORK, "status": status}).is_final is final


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "id",
        "status",
        "artworkType",
        "parameters",
        "results",
        "duration",
        "createdAt",
        "message",
        "error",
    ]
)


@hypothesis_settings(max_examples=100, deadline=None)
@given(st.one_of(JSON, st.dictionaries(FIELDS, JSON)), st.dictionaries(FIELDS, JSON))
def test_from_json_fails_only_with_malformed_response(anything, patch):
    for data in (anything, {**ARTWORK, **patch}):
        try:
            artwork = Artwork.from_json(data)
        except MalformedResponse:
            continue
        assert artwork.status in {"starting", "processing", "succeeded", "failed", "canceled"}
        assert all(isinstance(url, str) for url in artwork.results)


def test_default_base_url_is_read_from_settings_lazily(settings):
    settings.DETAILER_API_URL = "https://proxy.example/tengr/"
    assert default_base_url() == "https://proxy.example/tengr"
    del settings.DETAILER_API_URL
    assert default_base_url() == "https://api.tengr.ai"
