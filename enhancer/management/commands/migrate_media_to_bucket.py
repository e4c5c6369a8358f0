"""`manage.py migrate_media_to_bucket`: copy an installation's local media into the bucket.

For a team moving from one machine to object storage without losing history: every file under
the media directory (originals, results, thumbnails, the engine's files) is uploaded under the
same name, so the database needs no change. Each copy is verified by reading it back from the
bucket and comparing its size and SHA-256 with the local file. The command is resumable: an
object already in the bucket with the same size and the SHA-256 recorded at upload is skipped,
so running it again after an interruption only copies what is missing. Local files are never
deleted; remove the media directory yourself once the site runs on the bucket.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from enhancer.storage import is_bucket, iter_chunks

CHUNK = 1024 * 1024
# Object metadata key holding the file's SHA-256 (S3 stores it as x-amz-meta-sha256).
HASH_KEY = "sha256"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def local_files(root: Path):
    """Every regular file under root, as (storage name, path), in a stable order."""
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for filename in sorted(files):
            path = Path(folder) / filename
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


class Command(BaseCommand):
    help = "Copy the local media directory into the S3 bucket (resumable, verified)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--source",
            default=None,
            help="The local media directory to copy (default: the data directory's media/).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be copied; copy nothing."
        )

    def handle(self, *args, source: str | None, dry_run: bool, **options) -> None:
        if not is_bucket(default_storage):
            raise CommandError(
                "Files are stored on local disk: set DETAILER_S3_BUCKET (and the other "
                "DETAILER_S3_* and AWS_* variables) to the bucket to copy into, then run it again."
            )
        root = Path(source or settings.MEDIA_ROOT)
        if not root.is_dir():
            raise CommandError(f"There is no media directory at {root}.")
        bucket = default_storage.bucket
        copied = skipped = failed = 0
        copied_bytes = 0
        for name, path in local_files(root):
            size = path.stat().st_size
            digest = sha256_of(path)
            key = default_storage._normalize_name(name)
            present = self.stored_object(bucket, key)
            if present == (size, digest):
                skipped += 1
                continue
            if dry_run:
                self.stdout.write(f"would copy {name} ({size:,} bytes)")
                copied += 1
                continue
            extra = {"Metadata": {HASH_KEY: digest}}
            content_type = mimetypes.guess_type(name)[0]
            if content_type:
                extra["ContentType"] = content_type
            with path.open("rb") as handle:
                bucket.upload_fileobj(handle, key, ExtraArgs=extra)
            problem = self.verify(name, size, digest)
            if problem:
                failed += 1
                self.stderr.write(f"{name}: {problem}")
                continue
            copied += 1
            copied_bytes += size
            self.stdout.write(f"copied {name} ({size:,} bytes)")
        verb = "Would copy" if dry_run else "Copied"
        self.stdout.write(
            f"{verb} {copied} file(s) ({copied_bytes:,} bytes); {skipped} already in the bucket "
            f"(same size and SHA-256); {failed} failed."
        )
        if failed:
            raise CommandError(f"{failed} file(s) did not verify; run the command again.")

    def stored_object(self, bucket, key: str) -> tuple[int, str] | None:
        """(size, recorded SHA-256) of an object in the bucket, or None when it is not there."""
        from botocore.exceptions import ClientError

        try:
            head = bucket.meta.client.head_object(Bucket=bucket.name, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return int(head["ContentLength"]), head.get("Metadata", {}).get(HASH_KEY, "")

    def verify(self, name: str, size: int, digest: str) -> str | None:
        """Read the object back: None when its size and SHA-256 match, else what differs."""
        check = hashlib.sha256()
        read = 0
        for chunk in iter_chunks(name, CHUNK):
            check.update(chunk)
            read += len(chunk)
        if read != size:
            return f"the bucket holds {read:,} bytes, the local file {size:,}"
        if check.hexdigest() != digest:
            return "the bucket's copy has a different SHA-256 from the local file"
        return None
