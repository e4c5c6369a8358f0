"""Signed Content Credentials (C2PA manifests) in results, written and read with c2pa-python.

The manifest says what happened in the order the C2PA validator wants: `c2pa.opened` with the
original as its ingredient (the first action must be opened or created), then `c2pa.edited` by
the softwareAgent "Detailer" with the engine or API used, marked with the IPTC digital source
type for a photo altered by a trained model, then `c2pa.resized` when the image was enlarged.
The ingredient carries the SHA-256 of the original as stored, so anyone holding the original
can check it is the one this result was made from.

Who sent the job is deliberately not embedded: a result travels outside the team, the name of
a team member should not travel with it (it stays on the job page and in the JSON download).
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, BinaryIO

from enhancer.provenance.signing import SigningCredentials, signing_credentials

if TYPE_CHECKING:
    from enhancer.models import Job

logger = logging.getLogger(__name__)

MIME_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
DIGITAL_SOURCE_TYPE = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
)
INGREDIENT_HASH_KEY = "ai.detailer.sha256"
PROVENANCE_LABEL = "ai.detailer.provenance"
SOFTWARE = "Detailer"
# The C2PA thumbnail of the result is made by decoding the whole image again: past this size it
# is left out (readers do not require it): it cost 1.5 s on a 4x result of 23.6 MP.
THUMBNAIL_MAX_PIXELS = 6_000_000
# c2pa-python 0.38.1 does not stream: signing file to file, it still holds the result about twice
# over (measured, `manage.py tiling_benchmark`: a 249 MB PNG of 384 MP added 490 MB to the
# worker's peak, a 51 MB JPEG 157 MB). Past this size a result is kept unsigned, with a note,
# rather than cross the worker's 1.5 GiB budget.
EMBED_FILE_MAX_BYTES = 500_000_000


class CredentialsProblem(Exception):
    """Content Credentials could not be written; the result is kept without them."""


@dataclass(frozen=True)
class CredentialsReport:
    """What a reader finds in a file: enough for the job page, the tests and the README."""

    present: bool
    state: str = ""  # "Valid", "Trusted" or "Invalid", as c2pa-python says
    problems: tuple[str, ...] = ()  # validation codes, e.g. "signingCredential.untrusted"
    manifest: dict[str, Any] | None = None

    @property
    def valid_but_untrusted(self) -> bool:
        return (
            self.present
            and self.state in {"Valid", "Trusted"}
            and set(self.problems) <= {"signingCredential.untrusted"}
        )

    @property
    def ingredient_sha256(self) -> str | None:
        for ingredient in (self.manifest or {}).get("ingredients", []):
            value = (ingredient.get("metadata") or {}).get(INGREDIENT_HASH_KEY)
            if value:
                return value
        return None

    @property
    def actions(self) -> list[dict[str, Any]]:
        for assertion in (self.manifest or {}).get("assertions", []):
            if assertion.get("label", "").startswith("c2pa.actions"):
                return assertion["data"]["actions"]
        return []


def mime_type(name: str) -> str:
    return MIME_TYPES[PurePath(name).suffix.lstrip(".").lower()]


def manifest_for(job: Job, result_name: str) -> dict[str, Any]:
    agent = {"name": SOFTWARE, "version": job.engine_version or job.get_provider_display()}
    actions: list[dict[str, Any]] = [
        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}},
        {
            "action": "c2pa.edited",
            "softwareAgent": agent,
            "digitalSourceType": DIGITAL_SOURCE_TYPE,
            "description": f"Sharpened and detailed: {job.settings_in_words}",
        },
    ]
    if job.scale > 1:
        actions.append(
            {
                "action": "c2pa.resized",
                "softwareAgent": agent,
                "description": (
                    f"Enlarged {job.scale}x: {job.original_width} x {job.original_height} "
                    f"became {job.target_width} x {job.target_height}"
                ),
            }
        )
    return {
        "claim_generator_info": [{"name": SOFTWARE, "version": _version()}],
        "title": job.result_download_name(),
        "format": mime_type(result_name),
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {
                "label": PROVENANCE_LABEL,
                "data": {
                    "scale": job.scale,
                    "details": job.get_details_display(),
                    "change": job.get_modification_display(),
                    "seed": job.seed,
                    "engine": job.engine_version,
                    "originalSha256": job.original_sha256,
                    "uploadSha256": job.upload_sha256,
                },
            },
        ],
    }


def embed(job: Job, content: bytes, result_name: str, *, width: int, height: int) -> bytes:
    """`content` with a signed manifest in it. Raises CredentialsProblem in plain words."""
    signed = io.BytesIO()
    _sign_job(job, io.BytesIO(content), signed, result_name, width * height)
    return signed.getvalue()


def embed_file(
    job: Job,
    source_path: Path,
    dest_path: Path,
    result_name: str,
    *,
    width: int,
    height: int,
) -> None:
    """`source_path` signed into `dest_path`, file to file: our side holds no copy of the result
    (c2pa itself still reads it whole, hence EMBED_FILE_MAX_BYTES). Raises CredentialsProblem
    in plain words, and leaves no `dest_path`."""
    size = source_path.stat().st_size
    if size > EMBED_FILE_MAX_BYTES:
        raise CredentialsProblem(
            f"The result is {size / 1e6:,.0f} MB, too large to sign within the memory budget."
        )
    try:
        with open(source_path, "rb") as source, open(dest_path, "wb") as dest:
            _sign_job(job, source, dest, result_name, width * height)
    except BaseException:
        dest_path.unlink(missing_ok=True)
        raise


def _sign_job(job: Job, source: BinaryIO, dest: BinaryIO, result_name: str, pixels: int) -> None:
    import c2pa  # a native library: loaded by the workers that sign, not by every web process

    try:
        with job.original.open("rb") as original:
            sign_stream(
                manifest_for(job, result_name),
                ingredient={
                    "title": job.original_name,
                    "relationship": "parentOf",
                    "label": "original",
                    "metadata": {INGREDIENT_HASH_KEY: job.original_sha256},
                },
                ingredient_stream=original,
                ingredient_mime=mime_type(job.original.name),
                source=source,
                dest=dest,
                mime=mime_type(result_name),
                pixels=pixels,
            )
    except (c2pa.C2paError, OSError, ValueError) as exc:
        logger.warning("Content Credentials for job %s failed: %s", job.id, exc)
        raise CredentialsProblem(str(exc)) from exc


def sign_stream(
    manifest: dict[str, Any],
    *,
    ingredient: dict[str, Any],
    ingredient_stream: BinaryIO,
    ingredient_mime: str,
    source: BinaryIO,
    dest: BinaryIO,
    mime: str,
    pixels: int,
) -> None:
    """The signing itself, streams in and out (c2pa errors pass through)."""
    import c2pa

    builder = c2pa.Builder(manifest, _context(pixels))
    builder.add_ingredient(ingredient, ingredient_mime, ingredient_stream)
    builder.sign(_signer(signing_credentials()), mime, source, dest)


def read(content: bytes | io.BufferedIOBase, name: str) -> CredentialsReport:
    """Read and validate the Content Credentials of a file, as any C2PA reader would."""
    import c2pa

    stream = io.BytesIO(content) if isinstance(content, bytes) else content
    try:
        reader = c2pa.Reader(mime_type(name), stream)
    except c2pa.C2paError:
        return CredentialsReport(present=False)
    with reader:
        store = json.loads(reader.json())
        manifest = store["manifests"][store["active_manifest"]]
        problems = tuple(item["code"] for item in store.get("validation_status", []))
        return CredentialsReport(
            present=True,
            state=reader.get_validation_state() or "",
            problems=problems,
            manifest=manifest,
        )


def _signer(credentials: SigningCredentials):
    import c2pa

    return c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(
            credentials.algorithm,
            credentials.chain_pem,
            credentials.key_pem,
            credentials.timestamp_url,
        )
    )


def _context(pixels: int):
    import c2pa

    thumbnail = pixels <= THUMBNAIL_MAX_PIXELS
    return c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": thumbnail}}})


@lru_cache(maxsize=1)
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("detailer")
    except PackageNotFoundError:
        return "0.1.0"
