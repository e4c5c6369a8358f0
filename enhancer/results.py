"""Copying a finished job's result into our own storage, with a thumbnail."""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Q
from PIL import Image

from enhancer.images import AREA_LIMIT
from enhancer.models import Job
from enhancer.net import FetchPolicy, FetchProblem, fetch_image_url
from enhancer.provenance.credentials import CredentialsProblem, embed

THUMBNAIL_SIZE = (480, 480)
# The largest result there can be: an 8x enlargement of an input at the area limit (94.6 MP).
RESULT_MAX_PIXELS = AREA_LIMIT * 8 * 8
RESULT_FORMATS = {"PNG": "png", "WEBP": "webp", "JPEG": "jpg"}


class ResultProblem(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class StoredResult:
    result_name: str
    thumbnail_name: str
    width: int
    height: int
    size: int
    sha256: str = ""
    has_credentials: bool = False
    credentials_note: str = ""

    def discard(self) -> None:
        """Delete this copy: another collection of the job finished first, or it was canceled.

        Two collections of one job at once (the webhook's check and the poll's) can both be
        given the same free name by the storage, the second writing over the first; the one
        whose job took the name then points at that very file. So a name a job refers to is
        kept: the winner's advance has committed by the time the loser's fails.
        """
        for name in (self.result_name, self.thumbnail_name):
            taken = Job.all_objects.filter(Q(result=name) | Q(thumbnail=name))  # tiles too
            if name and not taken.exists():
                default_storage.delete(name)


def fetch_result(url: str, *, trusted_host: str | None) -> bytes:
    policy = FetchPolicy.only_hosts([trusted_host]) if trusted_host else FetchPolicy.for_user_urls()
    try:
        return fetch_image_url(
            url, max_bytes=settings.DETAILER_MAX_RESULT_BYTES, timeout=300.0, policy=policy
        ).content
    except FetchProblem as exc:
        raise ResultProblem(
            f"The finished image could not be downloaded ({exc.message}). Press Run again to retry."
        ) from exc


@contextmanager
def opened_result(content: bytes) -> Iterator[Image.Image]:
    """The API's result opened (header only) and checked: one of our three formats, no larger
    than any artwork can be. Raises ResultProblem."""
    try:
        # Only our three decoders run on what the API sends, and its size is checked by us
        # before any pixel is decoded (Pillow's own bomb warning fires above 89 MP).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=list(RESULT_FORMATS)) as image:
                if image.width * image.height > RESULT_MAX_PIXELS:
                    raise ResultProblem("The API sent a result larger than any it can make.")
                yield image
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ResultProblem("The API sent a result that is not a readable image.") from exc


def store_result(job: Job, url: str, *, trusted_host: str | None) -> StoredResult:
    fetched = fetch_result(url, trusted_host=trusted_host)
    with opened_result(fetched) as image:
        width, height = image.size
        extension = RESULT_FORMATS[image.format]
        thumbnail = make_thumbnail(image)
    name = f"results/{job.id}-{job.scale}x.{extension}"
    content, has_credentials, note = with_credentials(job, fetched, name, width, height)
    result_name = default_storage.save(name, ContentFile(content))
    thumbnail_name = default_storage.save(f"thumbnails/{job.id}.webp", ContentFile(thumbnail))
    return StoredResult(
        result_name,
        thumbnail_name,
        width,
        height,
        len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        has_credentials=has_credentials,
        credentials_note=note,
    )


def store_part(job: Job, url: str, *, trusted_host: str | None) -> tuple[str, int, int]:
    """A tile's result (or a result still to be finished) as the API sent it, checked like any
    result but not decoded (it is joined in bounded memory later). Returns its storage name
    and size."""
    fetched = fetch_result(url, trusted_host=trusted_host)
    with opened_result(fetched) as image:
        extension = RESULT_FORMATS[image.format]
        width, height = image.size
    name = default_storage.save(f"parts/{job.id}.{extension}", ContentFile(fetched))
    return name, width, height


def with_credentials(
    job: Job, content: bytes, name: str, width: int, height: int
) -> tuple[bytes, bool, str]:
    """The result signed with Content Credentials when the team wants them.

    Signed here, once, when the result enters our storage: every way out (download, ZIP, share
    page) then hands out the same signed file. A signing failure keeps the result unsigned
    and says so on the job page, rather than failing a job whose image is fine.
    """
    if not job.team.content_credentials:
        return content, False, "Switched off in Team settings."
    try:
        return embed(job, content, name, width=width, height=height), True, ""
    except CredentialsProblem:
        return content, False, "Signing failed; see the server log."


def make_thumbnail(image: Image.Image) -> bytes:
    # draft() lets JPEG decode at reduced size; reduce() keeps the big-image case cheap.
    image.draft("RGB", THUMBNAIL_SIZE)
    # Converted first: reduce() refuses palette, 1-bit and 16-bit images, which an API may send.
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    factor = max(1, min(image.width // THUMBNAIL_SIZE[0], image.height // THUMBNAIL_SIZE[1]))
    small = image.reduce(factor) if factor > 1 else image.copy()
    small.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, "WEBP", quality=82, method=4)
    return buffer.getvalue()
