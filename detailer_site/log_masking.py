"""Keep secrets that travel in URLs out of every log line.

Some of our URLs are their own credentials: the per-job webhook URL the API calls, the expiring
source URL it fetches the original from, share and invitation links, password reset links and the
engine's signed result URLs. Access logs and Django's "Not Found: /path" warnings would write them
down in plain text, where anyone who reads the logs could use them. `mask_secrets` keeps the route
(so the log still says what was called) and replaces the secret part with `***`.

Used by the gunicorn access logger (detailer_site/gunicorn_logger.py) and by a filter on every
handler of Django's logging (settings.LOGGING).
"""

from __future__ import annotations

import logging
import re

MASK = "***"

# (pattern, replacement): the route stays, the secret goes. A secret runs to the next slash,
# query, quote or space.
_SECRET = r"[^/\s?&\"']+"
_PATTERNS = [
    # /hooks/jobs/<job id>/<webhook token>/
    (re.compile(rf"(/hooks/jobs/[^/\s]+/){_SECRET}"), rf"\g<1>{MASK}"),
    # /source/<signed storage name>: the whole rest of the path is the token
    (re.compile(r"(/source/)[^\s?\"']+"), rf"\g<1>{MASK}"),
    # /s/<share token>/…  and  /invite/<invitation token>/
    (re.compile(rf"(/s/){_SECRET}"), rf"\g<1>{MASK}"),
    (re.compile(rf"(/invite/){_SECRET}"), rf"\g<1>{MASK}"),
    # /accounts/reset/<uid>/<password reset token>/ (Django swaps in "set-password" itself)
    (re.compile(rf"(/accounts/reset/[^/\s]+/)(?!set-password){_SECRET}"), rf"\g<1>{MASK}"),
    # the engine's signed result URLs: ?expires=…&signature=<hmac>
    (re.compile(r"([?&]signature=)[^&\s\"']+"), rf"\g<1>{MASK}"),
]


def mask_secrets(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class MaskSecretsFilter(logging.Filter):
    """Rewrites each record's message with its secrets masked (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # A traceback can quote a URL too; handlers reuse the text cached here.
            record.exc_text = mask_secrets(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()
