"""Login throttling behind a TLS proxy: the client's address comes from trusted proxies only,
and one address's failures do not lock the account for anyone else."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.urls import reverse

from enhancer.checks import check_secrets_and_proxy
from enhancer.client_ip import client_ip, parse_networks
from tests.conftest import PASSWORD, make_user

PROXY = "10.0.0.1"  # the TLS proxy, as gunicorn sees it


@pytest.fixture(autouse=True)
def behind_a_proxy(settings):
    settings.DETAILER_TRUSTED_PROXIES = [PROXY, "fd00::/8"]
    settings.AXES_FAILURE_LIMIT = 3


def via_proxy(forwarded_for: str) -> Client:
    """A browser reaching us through our proxy, which appends the address it saw."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


def direct(remote: str, forwarded_for: str | None = None) -> Client:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return Client(REMOTE_ADDR=remote, **extra)


def login(client: Client, password: str = PASSWORD, username: str = "erin") -> int:
    return client.post(reverse("login"), {"username": username, "password": password}).status_code


def fail_until_locked(client: Client, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "wrong")
    assert login(client) == 429  # locked, even with the right password


@pytest.mark.django_db
def test_one_addresss_failures_do_not_lock_the_account_for_another(settings):
    make_user("erin")
    fail_until_locked(via_proxy("203.0.113.5"), settings)

    # The same person, or a colleague, from another address behind the same proxy.
    assert login(via_proxy("198.51.100.7")) == 302
    # And the attacker's address stays locked.
    assert login(via_proxy("203.0.113.5")) == 429


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_from_an_untrusted_address_is_ignored(settings):
    make_user("erin")
    attacker = "192.0.2.66"
    # Each attempt claims another address; none is believed, all count against the attacker.
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(direct(attacker, forwarded_for=f"198.51.100.{n}"), "wrong")
    assert login(direct(attacker, forwarded_for="198.51.100.200")) == 429
    # The address the attacker named is not locked: it was never believed.
    assert login(via_proxy("198.51.100.0")) == 302


@pytest.mark.django_db
def test_a_forwarded_for_the_client_wrote_itself_is_ignored_through_the_proxy(settings):
    make_user("erin")
    # The client sends its own X-Forwarded-For; our proxy appends the real address after it.
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(via_proxy(f"198.51.100.{n}, 203.0.113.5"), "wrong")
    assert login(via_proxy("198.51.100.99, 203.0.113.5")) == 429
    assert login(via_proxy("198.51.100.1")) == 302


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),  # no proxy in between
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # an untrusted sender's header
        (PROXY, "198.51.100.1", "198.51.100.1"),
        (PROXY, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own entry is left
        (PROXY, f"198.51.100.1, {PROXY}", "198.51.100.1"),  # two of our proxies in a row
        ("fd00::5", "2001:db8::7", "2001:db8::7"),  # a trusted network, IPv6
        (PROXY, "", PROXY),  # the proxy sent no header: count it against the proxy
        (PROXY, "not-an-address", PROXY),
    ],
)
def test_client_ip(settings, remote, forwarded, expected):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **extra)
    assert client_ip(request) == expected


def test_a_wrong_trusted_proxy_setting_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match="DETAILER_TRUSTED_PROXIES"):
        parse_networks(["10.0.0.0/8", "proxy.internal"])


def test_without_trusted_proxies_the_header_is_never_read(settings):
    settings.DETAILER_TRUSTED_PROXIES = []
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_ip(request) == PROXY


def test_check_deploy_warns_about_an_https_site_without_trusted_proxies(settings):
    settings.SITE_IS_HTTPS = True
    settings.DETAILER_TRUSTED_PROXIES = []
    assert "detailer.W002" in [m.id for m in check_secrets_and_proxy()]
    settings.DETAILER_TRUSTED_PROXIES = ["127.0.0.1"]
    assert "detailer.W002" not in [m.id for m in check_secrets_and_proxy()]
