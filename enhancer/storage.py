"""Reading stored images for downloads: from local disk or the bucket, never by local path.

Every image (originals, results, thumbnails, the engine's inputs and results) is written and
read through Django's storage API: local disk by default, an S3-compatible bucket when
DETAILER_S3_BUCKET is set (see settings.py). Writes use `default_storage.save` directly; reads
for a download come through here, because django-storages' own S3 file object downloads the
whole object into a buffer before the first byte can be read. Here the object's body streams
from the bucket in chunks, so a large result, or a batch ZIP of many, is never held whole in
memory or spooled onto the web host's disk.

Downloads stream through the site rather than redirecting to presigned bucket URLs: the access
check, file name and Content-Disposition stay on every request, the bucket may sit on a private
network the browsers cannot reach, and the Content Security Policy stays 'self' (see the README,
"Object storage").
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePath
from typing import BinaryIO

from django.core.files.storage import Storage, default_storage
from django.http import FileResponse, Http404

# Downloads are read and sent in pieces of this size.
CHUNK = 256 * 1024


def is_bucket(storage: Storage) -> bool:
    """True for django-storages' S3 storage (imported lazily: boto3 is only needed then)."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is a dependency
        return False
    return isinstance(storage, S3Storage)


def open_stream(name: str, storage: Storage | None = None) -> tuple[BinaryIO, int]:
    """The stored file `name` opened for reading in chunks, and its size in bytes.

    Raises FileNotFoundError when there is no such file.
    """
    storage = storage or default_storage
    if is_bucket(storage):
        from botocore.exceptions import ClientError

        key = storage._normalize_name(name)  # the object key, with the storage's location prefix
        try:
            answer = storage.bucket.Object(key).get()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise FileNotFoundError(name) from exc
            raise
        return answer["Body"], int(answer["ContentLength"])
    handle = storage.open(name, "rb")
    return handle, handle.size


def iter_chunks(name: str, chunk_size: int = CHUNK, storage: Storage | None = None):
    """The stored file's bytes, one chunk at a time (closing the file at the end)."""
    body, _size = open_stream(name, storage)
    try:
        while chunk := body.read(chunk_size):
            yield chunk
    finally:
        body.close()


def storage_response(
    name: str | None, *, filename: str | None = None, attachment: bool = False
) -> FileResponse:
    """A streamed response for the stored file `name`, or 404 when it is gone.

    `filename` is the name the browser is told (Content-Disposition; the stored file's own name
    when not given); the type comes from the stored name, which carries the real extension.
    """
    if not name:
        raise Http404("The file is gone")
    try:
        body, size = open_stream(name)
    except FileNotFoundError as exc:
        raise Http404("The file is gone") from exc
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(
        body,
        as_attachment=attachment,
        filename=filename or PurePath(name).name,
        content_type=content_type,
    )
    response["Content-Length"] = str(size)
    response.block_size = CHUNK  # FileResponse's 4 KB reads cost a call each; a bucket's more
    return response
