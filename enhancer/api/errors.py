"""Typed errors of the Detailer Upscaler API client.

Every failure a caller can meet is an `ApiError`. Callers branch on the class (or on `retryable`)
and show `user_message` to people; `message`/`error` carry the server's own words for logs and
for the job's detail view.

None of these objects may ever hold the API key: the client builds them from the status, the
server's body (with the key redacted) and the URL, never from headers, and it never attaches the
`requests` request/response objects (those carry the Authorization header).
"""

from __future__ import annotations

from typing import Any

_RETRY_LATER = "Please try again in a few minutes."


class ApiError(Exception):
    """Base class: any failure talking to the API.

    `retryable` says whether the same call may succeed if repeated later (a transient condition),
    not whether repeating it is free of side effects; see `outcome_unknown` for that.

    `outcome_unknown` is True when a create (POST) may have taken effect upstream although we got
    an error (read timeout, dropped connection, 5xx, unreadable 2xx). Re-posting blindly could start
    a second, billed artwork; look for it first, e.g. with `ApiClient.list()` matching
    `parameters.imageUrl`, which is unique per job.
    """

    default_status: int | None = None
    default_retryable = False
    default_user_message = "The image service reported a problem."

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        retryable: bool | None = None,
        user_message: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        self.status_code = status_code if status_code is not None else self.default_status
        self.message = message
        self.error = error
        self.retryable = self.default_retryable if retryable is None else retryable
        self.user_message = user_message or self.default_user_message
        self.outcome_unknown = outcome_unknown
        # args holds the one human-readable line, so str(), repr() and pickling agree.
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = self.message
        if self.error and self.error != self.message:
            text = f"{text} ({self.error})"
        if self.status_code is not None:
            text = f"HTTP {self.status_code}: {text}"
        return text

    def __str__(self) -> str:
        return self._describe()


class BadRequest(ApiError):
    """400: the server refused the input (bad URL, image too large, A6 unsupported scale...)."""

    default_status = 400
    default_user_message = "The image service refused this image or these settings."

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        # The server's reason is the only thing that tells the user what to change.
        if "user_message" not in kwargs and message:
            self.user_message = f"{self.default_user_message} The service said: {message}"


class KeyRefused(ApiError):
    """401: the key is missing, invalid or revoked."""

    default_status = 401
    default_user_message = (
        "The team's API key was refused. Ask a team admin to update it in Team settings."
    )


class PermissionDenied(ApiError):
    """403: the key lacks the scope or the domain."""

    default_status = 403
    default_user_message = (
        "The team's API key lacks permission for this. Ask a team admin to set a key with the "
        "generator scope in Team settings."
    )


class NotFound(ApiError):
    """404: unknown artwork, or expired (records are deleted 8 days after creation)."""

    default_status = 404
    default_user_message = (
        "The image service has no record of this job. It deletes jobs 8 days after they start."
    )


class RateLimited(ApiError):
    """429: too many requests; `retry_after` is the server's hint in seconds, if any (A5)."""

    default_status = 429
    default_retryable = True
    default_user_message = f"The image service is busy with too many requests. {_RETRY_LATER}"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(ApiError):
    """5xx: the service failed on its side."""

    default_status = 500
    default_retryable = True
    default_user_message = f"The image service had a problem on its side. {_RETRY_LATER}"


class UnexpectedStatus(ApiError):
    """Any other status (another 4xx, or a redirect, which the client does not follow)."""

    default_user_message = (
        "The image service gave an unexpected answer. A team admin should check the API address "
        "in Team settings."
    )


class ApiUnreachable(ApiError):
    """No HTTP answer: connection refused, DNS or TLS failure, timeout, dropped connection."""

    default_retryable = True
    default_user_message = f"The image service could not be reached. {_RETRY_LATER}"

    def __init__(self, message: str, *, timed_out: bool = False, **kwargs: Any) -> None:
        self.timed_out = timed_out
        if timed_out and "user_message" not in kwargs:
            kwargs["user_message"] = f"The image service did not answer in time. {_RETRY_LATER}"
        super().__init__(message, **kwargs)


class MalformedResponse(ApiError):
    """A 2xx whose body is not JSON or not the contract's shape; also a malformed webhook body.

    Retryable: a 2xx means the request reached the service, so an unreadable body is most often a
    transient intermediary fault (truncated transfer, a proxy or maintenance page answering 200);
    repeating a GET is harmless, and a persistent fault exhausts the caller's bounded retry budget
    and surfaces anyway. A create that got here has `outcome_unknown` set: the artwork probably
    exists, so reconcile before re-posting.
    """

    default_retryable = True
    default_user_message = f"The image service sent an answer we could not read. {_RETRY_LATER}"
