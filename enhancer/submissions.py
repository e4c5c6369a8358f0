"""Turning images people give us into jobs. Stores what came and enqueues; never calls an API.

The web request only streams uploads into storage and reads their headers (enhancer/intake.py
decodes and checks them in a worker); an image URL is fetched by that worker too.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from enhancer.images import ImageHeader
from enhancer.intake import CHECKING_NOTE, EXTENSIONS, fetching_note, name_from_url, prepare_job
from enhancer.models import Batch, Job, Membership, Preferences
from enhancer.quotas import check_quota
from enhancer.tiling.grid import needs_tiles, plan_tiles

SEED_MAX = 2_147_483_647  # the contract's largest seed


def new_seed() -> int:
    """A seed for a job whose sender typed none: sent, so Run again can reproduce the result."""
    return secrets.randbelow(SEED_MAX) + 1


@dataclass(frozen=True)
class Source:
    """One image to enhance: an upload (with its header read) or an address to fetch."""

    name: str
    upload: UploadedFile | None = None
    header: ImageHeader | None = None
    url: str = ""

    @classmethod
    def from_url(cls, url: str) -> Source:
        return cls(name=name_from_url(url), url=url)


@dataclass(frozen=True)
class Rejected:
    name: str
    message: str


def create_jobs(
    membership: Membership,
    sources: list[Source],
    *,
    options: dict,
    title: str = "",
) -> tuple[list[Job], Batch | None]:
    team, user = membership.team, membership.user
    shrink = options.get("auto_fit", False)
    planned = [planned_tiles(source.header, shrink) for source in sources]
    with transaction.atomic():
        # Raises QuotaExceeded, creating nothing. A tiled image counts each tile.
        check_quota(membership, sum(max(1, n) for n in planned), tiles=any(n > 1 for n in planned))
        batch = Batch.objects.create(team=team, created_by=user) if len(sources) > 1 else None
        jobs = []
        for index, source in enumerate(sources, start=1):
            header = source.header
            job = Job(
                team=team,
                batch=batch,
                created_by=user,
                title=f"{title} ({index})" if title and batch else title,
                original_name=source.name[:255],
                provider=team.provider,
                status=Job.Status.PREPARING,
                source_url=source.url,
                fit_to_limit=shrink,
                tile_count=planned[index - 1],
                made_for=options.get("made_for") or "",
                # From the header; the worker writes the final size once it has checked it.
                original_width=header.width if header else 0,
                original_height=header.height if header else 0,
                retry_note=fetching_note(source.url) if source.url else CHECKING_NOTE,
                scale=options["scale"],
                details=options["details"],
                modification=options["modification"],
                output_format=options["output_format"],
                seed=options.get("seed") or new_seed(),
            )
            if source.upload is not None and header is not None:
                # A generated name: the user's file name is kept only as text, never as a
                # path. Storage streams it from the temporary file, chunk by chunk.
                job.original.save(
                    f"{job.id}.{EXTENSIONS[header.format]}", source.upload, save=False
                )
            job.save()
            jobs.append(job)
            transaction.on_commit(lambda job_id=str(job.id): prepare_job.enqueue(job_id))
    return jobs, batch


def planned_tiles(header: ImageHeader | None, shrink: bool) -> int:
    """How many tiles an upload will be sent as (0: whole), from its header. The worker decides
    for good once the image is checked; an image URL is not known until it is fetched."""
    if header is None or shrink or not needs_tiles(header.width, header.height):
        return 0
    return len(plan_tiles(header.width, header.height))


def run_again(membership: Membership, earlier: Job, *, options: dict, title: str = "") -> Job:
    """A new version of `earlier`: the same stored original (shared, not copied), new settings.

    The original file stays as long as any version uses it (see `delete_job`). An original that
    a worker already checked goes straight to the queue; one that never got that far (its job
    failed the checks, say) is checked again.
    """
    team, user = membership.team, membership.user
    checked = bool(earlier.original_sha256 or earlier.upstream_id)
    # Planned like the first time; tiles kept from an earlier run (same settings) cost nothing,
    # but the limit is checked for all of them, as the form cannot know which will be kept.
    tiles = len(plan_tiles(earlier.original_width, earlier.original_height))
    tiles = 0 if tiles == 1 else tiles
    with transaction.atomic():
        check_quota(membership, max(1, tiles), tiles=tiles > 1)
        job = Job(
            team=team,
            created_by=user,
            title=title,
            original_name=earlier.original_name,
            provider=team.provider,
            # Through the worker even when checked: it plans the tiles and the final size.
            status=Job.Status.PREPARING,
            retry_note=CHECKING_NOTE,
            fit_to_limit=earlier.fit_to_limit,
            tile_count=tiles,
            made_for=options.get("made_for") or "",
            original_width=earlier.original_width,
            original_height=earlier.original_height,
            original_bytes=earlier.original_bytes,
            fit_message=earlier.fit_message,
            upload_sha256=earlier.upload_sha256,
            original_sha256=earlier.original_sha256,
            scale=options["scale"],
            details=options["details"],
            modification=options["modification"],
            output_format=options["output_format"],
            seed=options.get("seed") or new_seed(),
            run_again_of=earlier,
        )
        job.original.name = earlier.original.name
        if not checked:
            job.original_sha256 = ""  # checked afresh, from the file stored
        job.save()
        transaction.on_commit(lambda: prepare_job.enqueue(str(job.id)))
    return job


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
            original_bytes=job.original_bytes,
            fit_message=job.fit_message,
            scale=job.scale,
            details=job.details,
            modification=job.modification,
            output_format=job.output_format,
            seed=job.seed or new_seed(),
            upload_sha256=job.upload_sha256,
            original_sha256=job.original_sha256,
            made_for=job.made_for,
            fit_to_limit=job.fit_to_limit,
            # Planned again by the worker: tiles, Enlarge and final size.
            status=Job.Status.PREPARING,
            retry_note=CHECKING_NOTE,
        )
        extension = PurePath(job.original.name).suffix or ".png"
        with job.original.open("rb") as original:
            copy.original.save(f"{copy.id}{extension}", ContentFile(original.read()), save=False)
        copy.save()
        # The copy was checked when its first job was made: the worker only plans it.
        transaction.on_commit(lambda: prepare_job.enqueue(str(copy.id)))
    return copy
