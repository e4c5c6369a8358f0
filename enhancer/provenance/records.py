"""A job's provenance: what the job page shows and the "Provenance" download gives as JSON."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from enhancer.api import Artwork
    from enhancer.models import Job, JobQuerySet

CLOUD_API = "Tengr.ai Detailer Upscaler API v2"


def engine_description(job: Job, artwork: Artwork | None = None) -> str:
    """The engine or API that made the result, as precisely as we know it."""
    from enhancer.models import Team

    if job.provider == Team.Provider.BUILTIN:
        return builtin_engine_description()
    described = CLOUD_API
    # The contract documents no version field; should the API send one, keep it.
    raw = artwork.raw if artwork is not None else {}
    for key in ("version", "modelVersion", "engineVersion"):
        if isinstance(raw.get(key), str | int):
            described += f", {key} {raw[key]}"
    return described[:200]


@lru_cache(maxsize=1)
def builtin_engine_description() -> str:
    from enhancer.provenance.credentials import _version

    core = getattr(settings, "DETAILER_ENGINE_CORE", "learned")
    described = f"Detailer built-in engine {_version()}, {core} core"
    if core == "learned":
        from enhancer.engine.learned import WEIGHTS_DIR

        digest = hashlib.sha256()
        for path in sorted(WEIGHTS_DIR.glob("x*.onnx")):
            digest.update(path.read_bytes())
        described += f" (weights {digest.hexdigest()[:12]})"
    return described


def versions(job: Job) -> tuple[JobQuerySet, JobQuerySet]:
    """(earlier, later) jobs of the team made from the very same original file."""
    from enhancer.models import Job

    if not job.original_sha256:
        none = Job.objects.none()
        return none, none
    same = (
        Job.objects.filter(team_id=job.team_id, original_sha256=job.original_sha256)
        .exclude(pk=job.pk)
        .select_related("created_by")
    )
    earlier = same.filter(created_at__lt=job.created_at).order_by("-created_at")
    later = same.filter(created_at__gte=job.created_at).order_by("created_at")
    return earlier, later


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def provenance(job: Job) -> dict[str, Any]:
    """Everything the product knows about how this result came to be, for the JSON download."""
    earlier, later = versions(job)

    def brief(other: Job) -> dict[str, Any]:
        return {
            "id": str(other.id),
            "createdAt": _iso(other.created_at),
            "settings": other.settings_in_words,
            "seed": other.seed,
            "status": other.status,
        }

    return {
        "job": str(job.id),
        "title": job.display_title,
        "status": job.status,
        "original": {
            "name": job.original_name,
            "uploadedSha256": job.upload_sha256 or None,
            "storedSha256": job.original_sha256 or None,
            "width": job.original_width,
            "height": job.original_height,
            "fitNote": job.fit_message or None,
        },
        "result": {
            "sha256": job.result_sha256 or None,
            "width": job.result_width,
            "height": job.result_height,
            "bytes": job.result_bytes,
            "contentCredentials": job.has_credentials,
            "contentCredentialsNote": job.credentials_note or None,
        },
        "settings": {
            "scale": job.scale,
            "details": job.details,
            "detailsInWords": job.get_details_display(),
            "modification": job.modification,
            "modificationInWords": job.get_modification_display(),
            "outputFormat": job.output_format,
            "seed": job.seed,
        },
        "provider": job.get_provider_display(),
        "engine": job.engine_version or None,
        "upstreamId": job.upstream_id or None,
        "sentBy": job.created_by.get_username() if job.created_by else None,
        "createdAt": _iso(job.created_at),
        "submittedAt": _iso(job.submitted_at),
        "finishedAt": _iso(job.finished_at),
        "processingSeconds": job.duration,
        "checks": {
            "checkedAt": _iso(job.checked_at),
            "figures": job.check_figures or None,
            "warnings": job.check_warnings,
        },
        "earlierVersions": [brief(other) for other in earlier],
        "laterVersions": [brief(other) for other in later],
    }
