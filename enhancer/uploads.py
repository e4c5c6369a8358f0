"""Refusing oversized uploads before they cost memory.

Two limits, both checked before an image is read into memory:

- the whole request (`DETAILER_MAX_REQUEST_MB`, sized for a normal batch): `RequestSizeLimit`
  answers 413 from the `Content-Length` header, before a byte of the body is read;
- each image (`DETAILER_MAX_UPLOAD_MB`): `SizeLimitedUploadHandler` streams every uploaded file
  to a temporary file on disk, and stops keeping one the moment it passes the limit. The view
  then names the file and its size in the form (`oversized_uploads`).

Images are decoded and checked later, in a worker (enhancer/intake.py): the web process only
streams bytes to storage and reads each image's header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from enhancer.images import human_size


@dataclass(frozen=True)
class Oversized:
    name: str
    size: int

    @property
    def message(self) -> str:
        return (
            f"{self.name} is {human_size(self.size)}; each image may be at most "
            f"{human_size(settings.DETAILER_MAX_UPLOAD_BYTES)}. Make it smaller and try again."
        )


def request_too_large_message(size: int) -> str:
    return (
        f"This upload is {human_size(size)}; one sending may carry at most "
        f"{human_size(settings.DETAILER_MAX_REQUEST_BYTES)}, and each image at most "
        f"{human_size(settings.DETAILER_MAX_UPLOAD_BYTES)}. Send fewer or smaller images at a time."
    )


def oversized_uploads(request: HttpRequest) -> list[Oversized]:
    return getattr(request, "_oversized_uploads", [])


class SizeLimitedUploadHandler(TemporaryFileUploadHandler):
    """Every file to a temporary file; a file over the per-image limit is dropped on the way."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.too_large or start + len(raw_data) > settings.DETAILER_MAX_UPLOAD_BYTES:
            if not self.too_large:
                self.too_large = True
                self.file.close()  # the temporary file is deleted; the rest is only counted
            return None
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int):
        if self.too_large:
            if not hasattr(self.request, "_oversized_uploads"):
                self.request._oversized_uploads = []
            self.request._oversized_uploads.append(Oversized(self.file_name or "", file_size))
            return None
        return super().file_complete(file_size)


def declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class RequestSizeLimit:
    """Answer 413 to a request whose declared body is over the cap, without reading the body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        size = declared_length(request)
        if size > settings.DETAILER_MAX_REQUEST_BYTES:
            message = request_too_large_message(size)
            if request.headers.get("HX-Request"):
                # Shown in the form's error area (static/detailer.js lets htmx swap a 413).
                response = HttpResponse(
                    render_to_string("partials/upload_refused.html", {"message": message}),
                    status=413,
                )
                response["HX-Retarget"] = "#upload-refused"
                response["HX-Reswap"] = "outerHTML"
            else:
                response = HttpResponse(
                    render_to_string("413.html", {"message": message}, request=None),
                    status=413,
                )
            # The body was not read: make the server close the connection rather than parse it.
            response["Connection"] = "close"
            return response
        return self.get_response(request)
