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

The package, by seam: `policy` (what may be fetched, the problems and files returned),
`addresses` (public or not, resolving), `guard` (connections that check the address they
connect to, under one deadline), `fetch` (fetching, checking a URL, posting a webhook) and
`messages` (the one table of what a person is told for each failure).
"""

from __future__ import annotations

from enhancer.net.addresses import is_public_address
from enhancer.net.fetch import check_url, check_url_without_dns, fetch_image_url, post_json
from enhancer.net.messages import message_for
from enhancer.net.policy import FetchedFile, FetchPolicy, FetchProblem, Resolver

__all__ = [
    "FetchPolicy",
    "FetchProblem",
    "FetchedFile",
    "Resolver",
    "check_url",
    "check_url_without_dns",
    "fetch_image_url",
    "is_public_address",
    "message_for",
    "post_json",
]
