"""The SSRF guard and the fetcher, against real sockets on loopback.

Only name resolution is faked (a resolver passed in), so "evil.example" can point anywhere
without real DNS; every connection is a real one to a real server in this process.
"""

from __future__ import annotations

import datetime
import http.server
import io
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from enhancer.net import (
    FetchedFile,
    FetchPolicy,
    FetchProblem,
    fetch_image_url,
    is_public_address,
    post_json,
)

PUBLIC_IP = "93.184.216.34"  # only ever handed out by the fake resolver, never connected to

# One per category the guard must refuse.
FORBIDDEN_ADDRESSES = [
    "10.0.0.1",  # private
    "10.255.255.254",
    "172.16.0.1",
    "172.31.255.1",
    "192.168.1.1",
    "127.0.0.1",  # loopback
    "127.8.9.10",
    "::1",
    "169.254.0.1",  # link-local
    "169.254.169.254",  # cloud metadata (AWS, GCP, Azure)
    "fe80::1",
    "fd00:ec2::254",  # AWS metadata over IPv6 (unique-local)
    "fc00::1",  # unique-local
    "fdff:ffff::1",
    "0.0.0.0",  # "this network"
    "0.1.2.3",
    "::",
    "100.64.0.1",  # carrier-grade NAT
    "100.127.255.254",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "ff02::1",
    "ff0e::1",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "198.51.100.7",
    "203.0.113.9",
    "2001:db8::1",
    "3fff::1",
    "198.18.0.1",  # benchmarking
    "192.0.0.8",  # IETF protocol assignments
    "::ffff:127.0.0.1",  # IPv4-mapped IPv6
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible IPv6 (deprecated)
    "::10.0.0.1",
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "2002:a00:1::1",  # 6to4 around 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "fec0::1",  # site-local (deprecated)
    "100::1",  # discard-only
]
PUBLIC_ADDRESSES = [
    "8.8.8.8",
    "1.1.1.1",
    PUBLIC_IP,
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "64:ff9b::808:808",  # NAT64 around 8.8.8.8: how IPv6-only networks reach it
    "2002:808:808::1",  # 6to4 around 8.8.8.8
]


# --------------------------------------------------------------------------- test server


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


IMAGE = png_bytes()


class Handler(http.server.BaseHTTPRequestHandler):
    server: LoopbackServer

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        route = url.path
        if route == "/image.png":
            self.answer(200, IMAGE, {"Content-Type": "image/png"})
        elif route == "/redirect":
            self.answer(int(query.get("status", 302)), b"", {"Location": query["to"]})
        elif route == "/relative":
            self.answer(301, b"", {"Location": "image.png?from=relative"})
        elif route.startswith("/chain/"):
            left = int(route.rsplit("/", 1)[1])
            if left:
                self.answer(302, b"", {"Location": f"/chain/{left - 1}"})
            else:
                self.answer(200, IMAGE, {"Content-Type": "image/png"})
        elif route == "/no-location":
            self.answer(302, b"", {})
        elif route.startswith("/status/"):
            self.answer(int(route.rsplit("/", 1)[1]), b"gone", {})
        elif route == "/big-declared":
            self.send_raw(b"HTTP/1.0 200 OK\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 1000)
        elif route == "/big-chunked":
            # A Content-Length that lies, next to chunked encoding (which wins, per RFC 9112).
            self.send_raw(
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            self.keep_sending(lambda: b"4000\r\n" + b"y" * 0x4000 + b"\r\n", times=64)
        elif route == "/big-unsized":
            self.send_raw(b"HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n\r\n")
            self.keep_sending(lambda: b"z" * 0x4000, times=64)
        elif route == "/drip":
            self.send_raw(b"HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n")
            self.keep_sending(lambda: b"d", times=400, pause=0.02)
        elif route == "/drip-headers":
            self.keep_sending(lambda: b"X", times=400, pause=0.02, prefix=b"HTTP/1.0 200 OK\r\nX: ")
        else:
            self.answer(404, b"", {})

    def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_raw(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def keep_sending(
        self, piece: Callable[[], bytes], *, times: int, pause: float = 0.0, prefix: bytes = b""
    ) -> None:
        try:
            self.send_raw(prefix)
            for _ in range(times):
                self.send_raw(piece())
                time.sleep(pause)
        except OSError:
            pass  # the client hung up, as it should


class LoopbackServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.paths: list[str] = []

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="module")
def running_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(running_server: LoopbackServer) -> LoopbackServer:
    running_server.paths.clear()
    return running_server


@pytest.fixture
def loopback(server: LoopbackServer) -> FetchPolicy:
    """The user-URL guard with the test server let through, as DETAILER_SSRF_ALLOW_HOSTS does."""
    return FetchPolicy.public_only([f"127.0.0.1:{server.port}"])


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeDNS:
    """Answers from a table; a list of answers per name is handed out one per lookup."""

    def __init__(self, table: dict[str, list[Sequence[str]]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        answers = self.table.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers.pop(0) if len(answers) > 1 else answers[0]


def fetch(url: str, policy: FetchPolicy, **options) -> FetchedFile:
    options.setdefault("max_bytes", 100_000)
    options.setdefault("timeout", 5.0)
    return fetch_image_url(url, policy=policy, **options)


def refusal(url: str, policy: FetchPolicy, **options) -> FetchProblem:
    with pytest.raises(FetchProblem) as caught:
        fetch(url, policy, **options)
    return caught.value


# --------------------------------------------------------------------------- the address check


@pytest.mark.parametrize("address", FORBIDDEN_ADDRESSES)
def test_non_public_addresses_are_not_public(address):
    assert not is_public_address(address)
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_are_public(address):
    assert is_public_address(address)


def test_nonsense_is_not_a_public_address():
    assert not is_public_address("not an address")


@pytest.mark.parametrize("address", FORBIDDEN_ADDRESSES)
def test_a_name_resolving_to_a_non_public_address_is_refused(address):
    dns = FakeDNS({"evil.example": [[address]]})
    problem = refusal("https://evil.example/cat.png", FetchPolicy.public_only(), resolver=dns)
    assert problem.code == "forbidden_address"
    assert problem.message == (
        "Detailer could not reach evil.example. Check the address; if it is right, the site may "
        "not be public, or this server may have no internet access."
    )
    assert address not in problem.message  # never map our network for the asker


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://0.0.0.0/",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a00:1]/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1%25eth0]/",
        "http://10.0.0.1:8080/",
    ],
)
def test_urls_to_local_addresses_are_refused(url):
    # These go through the system resolver: numeric forms and "localhost" need no DNS server.
    problem = refusal(url, FetchPolicy.public_only())
    assert problem.code in {"forbidden_address", "not_resolved"}
    if "localhost" not in url:
        assert problem.code == "forbidden_address"


def test_every_address_of_a_name_must_be_public():
    dns = FakeDNS({"mixed.example": [[PUBLIC_IP, "127.0.0.1"]]})
    problem = refusal("http://mixed.example/", FetchPolicy.public_only(), resolver=dns)
    assert problem.code == "forbidden_address"


def test_dns_rebinding_is_caught_at_connect_time(server):
    # The first lookup (the early check) says public; the lookup made while connecting says
    # loopback. Only a check on the address actually connected to catches the switch.
    dns = FakeDNS({"rebind.example": [[PUBLIC_IP], ["127.0.0.1"]]})
    problem = refusal(
        server.url("/image.png", host="rebind.example"), FetchPolicy.public_only(), resolver=dns
    )
    assert problem.code == "forbidden_address"
    assert dns.lookups == ["rebind.example", "rebind.example"]
    assert server.paths == []  # nothing reached the server


def test_a_name_that_does_not_resolve_is_refused():
    problem = refusal(
        "https://nowhere.example/cat.png", FetchPolicy.public_only(), resolver=FakeDNS({})
    )
    assert problem.code == "not_resolved"
    assert problem.message == (
        "Detailer could not reach nowhere.example. Check the address; if it is right, the site "
        "may not be public, or this server may have no internet access."
    )


def test_no_oracle_an_internal_name_reads_like_one_that_does_not_exist(server):
    """Whether a name resolves into our network, does not resolve at all, or resolves to a
    public address that refuses connections, the person is told the same words."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens here now
    dns = FakeDNS({"intranet.corp": [["10.1.2.3"]], "db.corp": [["127.0.0.1"]]})
    messages = {
        refusal(f"http://{host}/a.png", FetchPolicy.public_only(), resolver=dns).message.replace(
            host, "HOST"
        )
        for host in ("intranet.corp", "db.corp", "nothing.corp")
    }
    # A public site that refuses the connection (an allowed host stands in for it).
    refused = refusal(
        f"http://127.0.0.1:{closed_port}/a.png",
        FetchPolicy.public_only([f"127.0.0.1:{closed_port}"]),
    )
    assert refused.code == "connection_failed"
    messages.add(refused.message.replace("127.0.0.1", "HOST"))
    assert messages == {
        "Detailer could not reach HOST. Check the address; if it is right, the site may not be "
        "public, or this server may have no internet access."
    }


def test_no_oracle_through_a_redirect_either(server):
    policy = FetchPolicy.public_only([f"images.test:{server.port}"])
    dns = FakeDNS({"images.test": [["127.0.0.1"]], "intranet.corp": [["10.1.2.3"]]})
    inside = refusal(
        server.url("/redirect?to=http://intranet.corp/a.png", host="images.test"),
        policy,
        resolver=dns,
    )
    nowhere = refusal(
        server.url("/redirect?to=http://nothing.corp/a.png", host="images.test"),
        policy,
        resolver=dns,
    )
    assert (inside.code, nowhere.code) == ("forbidden_address", "not_resolved")
    assert inside.message.replace("intranet.corp", "X") == nowhere.message.replace(
        "nothing.corp", "X"
    )


# --------------------------------------------------------------------------- the URL itself


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/cat.png",
        "gopher://example.com:70/_GET",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/stat",
    ],
)
def test_only_http_and_https_are_fetched(url, loopback):
    problem = refusal(url, loopback)
    assert problem.code == "bad_scheme"
    assert problem.message == "Only http and https links can be used."


@pytest.mark.parametrize(
    "url",
    [
        "http://user:secret@example.com/cat.png",
        "https://user@example.com/cat.png",
        "http://@example.com/",
        "http://example.com\\@127.0.0.1/",
        "http://example.com:80@127.0.0.1/",
    ],
)
def test_credentials_in_the_url_are_refused(url):
    problem = refusal(url, FetchPolicy.public_only(), resolver=FakeDNS({}))
    assert problem.code == "credentials"
    assert "user name or password" in problem.message


def test_credentials_are_refused_even_for_an_allowed_host(server, loopback):
    url = f"http://user:pw@127.0.0.1:{server.port}/image.png"
    assert refusal(url, loopback).code == "credentials"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "http://",
        "http:///cat.png",
        "http://exa mple.com/",
        "http://[::1/",
        "http://example.com:99999/",
        "http://example.com:0/",
        "http://%31%32%37.0.0.1/",
        "http://example.com/\r\nX-Injected: 1",
        "http://" + "a" * 5000 + ".com/",
    ],
)
def test_malformed_urls_are_refused(url):
    problem = refusal(url, FetchPolicy.public_only(), resolver=FakeDNS({}))
    assert problem.code == "malformed"
    assert problem.message.startswith("This link is not a valid web address.")


def test_a_url_without_a_scheme_says_how_it_should_start():
    problem = refusal("/cat.png", FetchPolicy.public_only())
    assert problem.code == "malformed"
    assert "https://" in problem.message


# --------------------------------------------------------------------------- fetching


def test_it_fetches_from_an_allowed_loopback_host(server, loopback):
    fetched = fetch(server.url("/image.png?size=big"), loopback)
    assert fetched.content == IMAGE
    assert fetched.content_type == "image/png"
    assert fetched.final_url == server.url("/image.png?size=big")
    assert server.paths == ["/image.png?size=big"]


def test_without_the_allowance_the_same_server_is_refused(server):
    problem = refusal(server.url("/image.png"), FetchPolicy.public_only())
    assert problem.code == "forbidden_address"
    assert server.paths == []


def test_the_allowance_is_for_one_port_when_a_port_is_given(server, loopback):
    other = f"http://127.0.0.1:{unused_port()}/image.png"
    assert refusal(other, loopback).code == "forbidden_address"


def test_the_allowance_skips_only_the_address_check(server, loopback):
    assert refusal(f"ftp://127.0.0.1:{server.port}/image.png", loopback).code == "bad_scheme"


def test_a_relative_redirect_is_followed(server, loopback):
    fetched = fetch(server.url("/relative"), loopback)
    assert fetched.content == IMAGE
    assert fetched.final_url == server.url("/image.png?from=relative")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_each_redirect_status_is_followed(server, loopback, status):
    url = server.url(f"/redirect?status={status}&to=/image.png")
    assert fetch(url, loopback).content == IMAGE


def test_a_redirect_to_a_forbidden_address_is_refused(server):
    # The first hop's name is let through by the allowance; the redirect's 127.0.0.1 is not.
    dns = FakeDNS({"images.test": [["127.0.0.1"]]})
    policy = FetchPolicy.public_only([f"images.test:{server.port}"])
    target = server.url("/image.png")
    url = server.url(f"/redirect?to={target}", host="images.test")
    problem = refusal(url, policy, resolver=dns)
    assert problem.code == "forbidden_address"
    assert problem.message.startswith("Detailer could not reach 127.0.0.1.")
    assert server.paths == [f"/redirect?to={target}"]  # the image itself was never requested


def test_a_redirect_to_another_scheme_is_refused(server, loopback):
    problem = refusal(server.url("/redirect?to=file:///etc/passwd"), loopback)
    assert problem.code == "bad_scheme"
    assert problem.message.startswith("The link forwarded to another kind of address.")


def test_a_redirect_to_the_metadata_service_is_refused(server, loopback):
    url = server.url("/redirect?to=http://169.254.169.254/latest/meta-data/")
    assert refusal(url, loopback).code == "forbidden_address"


def test_redirects_up_to_the_limit_are_followed(server, loopback):
    assert fetch(server.url("/chain/3"), loopback, max_redirects=3).content == IMAGE


def test_too_many_redirects_are_refused(server, loopback):
    problem = refusal(server.url("/chain/4"), loopback, max_redirects=3)
    assert problem.code == "too_many_redirects"
    assert "more than 3 times" in problem.message
    assert len(server.paths) == 4
    assert refusal(server.url("/chain/1"), loopback, max_redirects=0).code == "too_many_redirects"


def test_a_redirect_without_a_location_is_refused(server, loopback):
    assert refusal(server.url("/no-location"), loopback).code == "bad_redirect"


@pytest.mark.parametrize(("status", "phrase"), [(404, "404 Not Found"), (500, "500 Internal")])
def test_an_error_answer_is_refused(server, loopback, status, phrase):
    problem = refusal(server.url(f"/status/{status}"), loopback)
    assert problem.code == "http_status"
    assert phrase in problem.message


def test_a_closed_port_is_a_connection_failure(loopback):
    port = unused_port()
    policy = FetchPolicy.public_only([f"127.0.0.1:{port}"])
    problem = refusal(f"http://127.0.0.1:{port}/", policy)
    assert problem.code == "connection_failed"


# --------------------------------------------------------------------------- size and time caps


def test_a_declared_length_over_the_cap_is_refused_up_front(server, loopback):
    problem = refusal(server.url("/big-declared"), loopback, max_bytes=50_000)
    assert problem.code == "too_large"
    assert problem.message == "The file at this link is larger than the 50,000 bytes limit."


@pytest.mark.parametrize("path", ["/big-chunked", "/big-unsized"])
def test_a_body_without_an_honest_length_is_cut_at_the_cap(server, loopback, path):
    started = time.monotonic()
    problem = refusal(server.url(path), loopback, max_bytes=100_000)
    assert problem.code == "too_large"
    assert time.monotonic() - started < 3


def test_a_body_exactly_at_the_cap_is_fine(server, loopback):
    assert fetch(server.url("/image.png"), loopback, max_bytes=len(IMAGE)).content == IMAGE


def test_the_cap_message_uses_megabytes(server, loopback):
    problem = refusal(server.url("/big-declared"), loopback, max_bytes=5 * 1024 * 1024)
    assert problem.message == "The file at this link is larger than the 5 MB limit."


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_slow_drip_is_cut_off_at_the_overall_deadline(server, loopback, path):
    # One byte every 20 ms never trips a per-socket timeout; only the overall deadline helps.
    started = time.monotonic()
    problem = refusal(server.url(path), loopback, timeout=0.6)
    elapsed = time.monotonic() - started
    assert problem.code == "timeout"
    assert "took too long" in problem.message
    assert 0.5 < elapsed < 2.5


# --------------------------------------------------------------------------- only_hosts


def test_only_hosts_fetches_from_a_listed_host_and_port(server):
    policy = FetchPolicy.only_hosts([f"127.0.0.1:{server.port}"])
    assert fetch(server.url("/image.png"), policy).content == IMAGE


def test_only_hosts_entries_are_normalised(server):
    dns = FakeDNS({"site.test": [["127.0.0.1"]]})
    policy = FetchPolicy.only_hosts([f" SITE.test.:{server.port} "])
    assert fetch(server.url("/image.png", host="site.test"), policy, resolver=dns).content == IMAGE


def test_only_hosts_without_a_port_allows_any_port(server):
    policy = FetchPolicy.only_hosts(["127.0.0.1"])
    assert fetch(server.url("/image.png"), policy).content == IMAGE


def test_only_hosts_refuses_another_port(server):
    policy = FetchPolicy.only_hosts([f"127.0.0.1:{server.port}"])
    other = unused_port()
    problem = refusal(f"http://127.0.0.1:{other}/image.png", policy)
    assert problem.code == "host_not_allowed"
    assert problem.message == (
        f"This server does not fetch from 127.0.0.1:{other}; it is not allowed here."
    )
    assert str(server.port) not in problem.message  # the allowed hosts are not revealed


def test_only_hosts_refuses_another_host_without_looking_it_up(server):
    dns = FakeDNS({"elsewhere.example": [[PUBLIC_IP]]})
    policy = FetchPolicy.only_hosts([f"127.0.0.1:{server.port}"])
    problem = refusal("https://elsewhere.example/cat.png", policy, resolver=dns)
    assert problem.code == "host_not_allowed"
    assert "elsewhere.example" in problem.message
    assert dns.lookups == []


def test_only_hosts_follows_redirects_within_the_list(server):
    policy = FetchPolicy.only_hosts([f"127.0.0.1:{server.port}"])
    assert fetch(server.url("/chain/2"), policy).content == IMAGE


def test_only_hosts_refuses_a_redirect_leaving_the_list(server):
    policy = FetchPolicy.only_hosts([f"127.0.0.1:{server.port}"])
    url = server.url(f"/redirect?to=http://localhost:{server.port}/image.png")
    assert refusal(url, policy).code == "host_not_allowed"
    assert server.paths == [f"/redirect?to=http://localhost:{server.port}/image.png"]


@pytest.mark.parametrize("entry", ["http://localhost:8000", "localhost:port", "user@host", "[::1"])
def test_a_misconfigured_host_entry_fails_loudly(entry):
    with pytest.raises(ValueError):
        FetchPolicy.only_hosts([entry])


def test_ipv6_entries_match_ipv6_hosts():
    policy = FetchPolicy.only_hosts(["[::1]:8000", "::2"])
    assert policy.lists("::1", 8000)
    assert not policy.lists("::1", 8001)
    assert policy.lists("::2", 1234)


def test_user_urls_use_the_allow_hosts_setting(settings):
    settings.DETAILER_SSRF_ALLOW_HOSTS = ["images.internal:8080", "LocalHost"]
    policy = FetchPolicy.for_user_urls()
    assert policy.allowed_hosts == frozenset({"images.internal:8080", "localhost"})
    assert not policy.allow_private
    assert not policy.only_listed


def test_user_urls_without_the_setting_allow_nothing_extra(settings):
    del settings.DETAILER_SSRF_ALLOW_HOSTS
    assert FetchPolicy.for_user_urls() == FetchPolicy.public_only()


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[int, list[str | None]]]:
    """A TLS server with a self-signed certificate for images.test, recording the SNI it sees."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "images.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("images.test")]), False)
        .sign(key, hashes.SHA256())
    )
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        cert_path, key_path = f"{folder}/cert.pem", f"{folder}/key.pem"
        with open(cert_path, "wb") as out:
            out.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as out:
            out.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)

    names: list[str | None] = []
    context.sni_callback = lambda sslobj, server_name, ctx: names.append(server_name)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(2)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1024)
            except OSError:
                pass  # the client refused our certificate, as it should
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], names
    stop.set()
    listener.close()


def test_https_checks_the_certificate_for_the_url_host(tls_server):
    port, names = tls_server
    names.clear()
    dns = FakeDNS({"images.test": [["127.0.0.1"]]})
    policy = FetchPolicy.public_only([f"images.test:{port}"])
    problem = refusal(f"https://images.test:{port}/cat.png", policy, resolver=dns)
    assert problem.code == "tls_error"
    assert "images.test" in problem.message
    # SNI carries the URL's host name, not the address we connected to.
    assert names == ["images.test"]


def test_a_single_string_is_not_taken_for_a_list_of_hosts():
    with pytest.raises(TypeError):
        FetchPolicy.public_only("localhost")


def test_post_json_delivers_and_returns_the_status(server):
    policy = FetchPolicy.public_only([f"127.0.0.1:{server.port}"])
    status = post_json(server.url("/image.png"), b"{}", headers={}, policy=policy)
    assert status in (200, 405, 501)


def test_post_json_refuses_private_addresses():
    with pytest.raises(FetchProblem) as caught:
        post_json(
            "http://169.254.169.254/hook", b"{}", headers={}, policy=FetchPolicy.public_only()
        )
    assert caught.value.code == "forbidden_address"
