"""What a person is told when Detailer cannot import an image from a URL: the one table.

Every message of the guarded fetcher (enhancer/net/) comes from here, and so does the one
for a link that leads to something other than a picture (enhancer/submissions.py). Write new
wording here, not where the problem is raised.

No network oracle: a name that does not exist, a name that exists but points into a private
network, and a public site that cannot be connected to all read the same, "could not reach". If
they differed, anyone could use the form to learn which internal names resolve, or which
addresses answer, on the network around this server. The messages name only what the person typed
(or where their link forwarded), never an address we resolved.
"""

from __future__ import annotations

COULD_NOT_REACH = (
    "Detailer could not reach {host}. Check the address; if it is right, the site may not be "
    "public, or this server may have no internet access."
)

# code -> message template. Codes are for code and tests; people see only the text.
MESSAGES: dict[str, str] = {
    # Not found, not reachable from this server, or not allowed: one message, on purpose.
    "not_resolved": COULD_NOT_REACH,
    "forbidden_address": COULD_NOT_REACH,
    "connection_failed": COULD_NOT_REACH,
    "host_not_allowed": "This server does not fetch from {host}; it is not allowed here.",
    # The site answered, but refused to send the picture.
    "http_status": (
        "The website answered “{reason}” instead of sending the picture. "
        "Check that the link opens the picture in a browser."
    ),
    "tls_error": (
        "The secure connection to {host} could not be verified, so nothing was downloaded."
    ),
    "timeout": (
        "The website took too long to send the picture. "
        "Try again later, or download the picture and upload it instead."
    ),
    "too_large": "The file at this link is larger than the {limit} limit.",
    "not_an_image": (
        "The link to {host} led to something that is not a picture. Open it in a browser and "
        "copy the address of the picture itself (JPEG, PNG or WebP)."
    ),
    "malformed": "This link is not a valid web address. {detail}",
    "bad_scheme": "Only http and https links can be used.",
    "credentials": (
        "Links that contain a user name or password cannot be used. "
        "Use a public link to the picture instead."
    ),
    "too_many_redirects": (
        "The link forwarded to other addresses more than {limit} times. "
        "Open it in a browser and use the address of the picture itself."
    ),
    "bad_redirect": "The website tried to forward the link elsewhere but did not say where.",
}

# After a redirect the person never typed the address. "Could not reach" names the host the link
# forwarded to and gets no prefix: a prefix on only some of its causes would be an oracle again.
REDIRECTED_PREFIX = {"bad_scheme": "The link forwarded to another kind of address. "}


def message_for(code: str, *, redirected: bool = False, **details: object) -> str:
    """The message for `code`, filled in with `details` (host, reason, limit, detail)."""
    if code == "malformed":
        details.setdefault("detail", "Check it and try again.")
    text = MESSAGES[code].format(**details)
    if redirected:
        text = REDIRECTED_PREFIX.get(code, "") + text
    return text
