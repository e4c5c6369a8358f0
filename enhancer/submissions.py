"""Turning checked images into jobs. Stores the originals and enqueues; never calls the API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from enhancer.fetch import FetchPolicy, fetch_image_url
from enhancer.images import ImageProblem, PreparedImage, prepare_image
from enhancer.models import Batch, Job, Membership, Preferences
from enhancer.quotas import check_quota
from enhancer.tasks import submit_job

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


@dataclass(frozen=True)
class Source:
    name: str
    data: bytes


@dataclass(frozen=True)
class Rejected:
    name: str
    message: str


def source_from_url(url: str) -> Source:
    """Fetch a user's image URL through the SSRF guard. Raises FetchProblem in plain words."""
    fetched = fetch_image_url(
        url,
        max_bytes=settings.DETAILER_MAX_UPLOAD_BYTES,
        timeout=15.0,
        policy=FetchPolicy.for_user_urls(),
    )
    name = PurePath(fetched.final_url.split("?", 1)[0]).name or "image"
    return Source(name=name[:200], data=fetched.content)


def prepare_all(
    sources: list[Source], *, auto_fit: bool
) -> tuple[list[tuple[Source, PreparedImage]], list[Rejected]]:
    prepared, rejected = [], []
    for source in sources:
        try:
            image = prepare_image(
                source.data, max_bytes=settings.DETAILER_MAX_UPLOAD_BYTES, auto_fit=auto_fit
            )
        except ImageProblem as exc:
            rejected.append(Rejected(source.name, exc.message))
        else:
            prepared.append((source, image))
    return prepared, rejected


def create_jobs(
    membership: Membership,
    prepared: list[tuple[Source, PreparedImage]],
    *,
    options: dict,
    title: str = "",
) -> tuple[list[Job], Batch | None]:
    team, user = membership.team, membership.user
    with transaction.atomic():
        check_quota(membership, len(prepared))  # raises QuotaExceeded, creating nothing
        batch = Batch.objects.create(team=team, created_by=user) if len(prepared) > 1 else None
        jobs = []
        for index, (source, image) in enumerate(prepared, start=1):
            job = Job(
                team=team,
                batch=batch,
                created_by=user,
                title=f"{title} ({index})" if title and batch else title,
                original_name=source.name[:255],
                provider=team.provider,
                original_width=image.width,
                original_height=image.height,
                fit_message=image.message or "",
                scale=options["scale"],
                details=options["details"],
                modification=options["modification"],
                output_format=options["output_format"],
                seed=options.get("seed"),
            )
            # A generated name: the user's file name is kept only as text, never as a path.
            job.original.save(
                f"{job.id}.{EXTENSIONS[image.format]}", ContentFile(image.content), save=False
            )
            job.save()
            jobs.append(job)
            transaction.on_commit(lambda job_id=str(job.id): submit_job.enqueue(job_id))
    return jobs, batch


def remember_choices(user, choices: dict) -> None:
    Preferences.objects.update_or_create(user=user, defaults={"enhance_defaults": choices})


def remembered_choices(user) -> dict:
    prefs = Preferences.objects.filter(user=user).first()
    return dict(prefs.enhance_defaults) if prefs else {}


def resubmit(job: Job) -> Job:
    """A new job with the same settings and a copy of the original (the admin's Retry).

    Statuses only move forward, so a failed or canceled job is never put back in the queue;
    the new job runs on the team's current engine and the old one stays as it was.
    """
    with transaction.atomic():
        copy = Job(
            team=job.team,
            batch=None,
            created_by=job.created_by,
            title=job.title,
            original_name=job.original_name,
            provider=job.team.provider,
            original_width=job.original_width,
            original_height=job.original_height,
            fit_message=job.fit_message,
            scale=job.scale,
            details=job.details,
            modification=job.modification,
            output_format=job.output_format,
            seed=job.seed,
        )
        extension = PurePath(job.original.name).suffix or ".png"
        with job.original.open("rb") as original:
            copy.original.save(f"{copy.id}{extension}", ContentFile(original.read()), save=False)
        copy.save()
        transaction.on_commit(lambda: submit_job.enqueue(str(copy.id)))
    return copy
