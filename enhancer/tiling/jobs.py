"""Jobs sent in tiles: splitting a prepared image, following its tiles, joining their results.

A job whose image is over the API's area limit is never sent itself. `split` (called by
`prepare_job`) cuts its stored original into overlapping tiles (enhancer/tiling/grid.py), stores
each as an input and makes it a tile job (`Job.parent`) with the job's settings and seed. Tile
jobs are ordinary jobs to the machinery: the dispatcher hands them out fairly between teams,
`submit_job` sends each as its own artwork (one ledger row each), retries and polling follow
them, and a dead worker's tile is taken back like any task.

The parent follows its tiles (`tile_settled`, run whenever one of them ends): "Tile 5 of 12" on
its card while they run; when one fails for good, the parent fails with its reason and the tiles
still waiting are canceled, but finished tiles are kept, so Run again with the same settings
sends only the missing ones (`split` reuses them); when all have succeeded, `assemble_job`
joins them, resizes to a "Made for" size and encodes the chosen format.

A job sent whole whose result needs finishing (a "Made for" size, or JPEG, which the API does
not make) takes the same last step with its one result as the only part.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

import pyvips
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django_tasks import task
from PIL import Image

from enhancer.images import fit_within_area
from enhancer.models import Job, Team
from enhancer.tiling.grid import TileRect
from enhancer.tiling.sizes import TARGETS

logger = logging.getLogger(__name__)

JOINING_NOTE = "Joining the tiles…"
FINISHING_NOTE = "Finishing the image…"
CHUNK = 256 * 1024
STUCK_AFTER = timezone.timedelta(minutes=30)


def needs_finishing(job: Job) -> bool:
    """Whether the API's result is not the file delivered: tiles, a "Made for" size or JPEG."""
    return bool(job.tile_count or job.made_for or job.output_format == "jpeg")


def api_output_format(job: Job) -> str:
    """What the API is asked for: lossless PNG for anything we join or finish ourselves."""
    if job.parent_id or needs_finishing(job):
        return "png"
    return job.output_format


def inputs_folder(original_name: str) -> str:
    """Where the tiles of a stored original go: shared by every version made from it."""
    return f"tiles/{PurePath(original_name).stem}"


def whole_name(original_name: str) -> str:
    """The whole image reduced to the API's area limit, which the built-in engine reads to make
    its tiles agree (see `tile_extension`)."""
    return f"{inputs_folder(original_name)}/whole.png"


def tile_title(parent: Job, index: int) -> str:
    return f"{parent.original_name} · tile {index + 1} of {parent.tile_count}"


# --- Splitting --------------------------------------------------------------------------------


def _save_png(image: Image.Image, name: str) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    if default_storage.exists(name):
        default_storage.delete(name)  # an input left by a run that died half-way
    return default_storage.save(name, ContentFile(buffer.getvalue()))


def store_inputs(original_name: str, rects: list[TileRect]) -> list[str]:
    """Each tile's input file (and the reduced whole), made from the stored original once.

    Inputs already stored (by an earlier version of the same original) are reused. A name says
    the tile's place and size, so a grid planned otherwise never picks up another's tile.
    """
    folder = inputs_folder(original_name)
    names = [f"{folder}/{r.left}-{r.top}-{r.width}x{r.height}.png" for r in rects]
    missing = [
        rect for rect, name in zip(rects, names, strict=True) if not default_storage.exists(name)
    ]
    whole = whole_name(original_name)
    if not missing and default_storage.exists(whole):
        return names
    with default_storage.open(original_name, "rb") as stored, Image.open(stored) as picture:
        picture.load()
        picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
        for rect in missing:
            crop = picture.crop((rect.left, rect.top, rect.right, rect.bottom))
            _save_png(crop, names[rect.index])
        if not default_storage.exists(whole):
            reduced = picture.resize(fit_within_area(*picture.size), Image.Resampling.LANCZOS)
            _save_png(reduced, whole)
    return names


def finished_earlier(parent: Job, input_name: str) -> Job | None:
    """A succeeded tile of an earlier version with the same input and settings, if its result
    is still stored: Run again on a failed tiled job sends only the tiles it lacks."""
    earlier = (
        Job.all_objects.filter(
            team_id=parent.team_id,
            original=input_name,
            status=Job.Status.SUCCEEDED,
            provider=parent.provider,
            scale=parent.scale,
            details=parent.details,
            modification=parent.modification,
            seed=parent.seed,
            parent__isnull=False,
        )
        .exclude(result="")
        .exclude(parent_id=parent.pk)
        .order_by("-finished_at")
        .first()
    )
    if earlier and default_storage.exists(earlier.result.name):
        return earlier
    return None


def split(parent: Job, rects: list[TileRect], names: list[str]) -> list[Job]:
    """Make the tile jobs of `parent` (saved), queued, or done already when inherited. `names`:
    their inputs, from `store_inputs` (called first, outside any transaction: it decodes and
    encodes for seconds)."""
    now = timezone.now()
    tiles = []
    for rect, input_name in zip(rects, names, strict=True):
        tile = Job(
            team_id=parent.team_id,
            created_by_id=parent.created_by_id,
            parent=parent,
            tile_index=rect.index,
            tile_left=rect.left,
            tile_top=rect.top,
            original_name=tile_title(parent, rect.index)[:255],
            provider=parent.provider,
            status=Job.Status.QUEUED,
            original_width=rect.width,
            original_height=rect.height,
            scale=parent.scale,
            details=parent.details,
            modification=parent.modification,
            output_format="png",
            seed=parent.seed,
            # Tiles leave the queue in order: the dispatcher takes the oldest first.
            created_at=now + timezone.timedelta(microseconds=rect.index),
        )
        tile.original.name = input_name
        earlier = finished_earlier(parent, input_name)
        if earlier is not None:
            tile.status = Job.Status.SUCCEEDED
            tile.result.name = earlier.result.name
            tile.result_width, tile.result_height = earlier.result_width, earlier.result_height
            tile.upstream_id = earlier.upstream_id
            tile.duration = earlier.duration
            tile.engine_version = earlier.engine_version
            tile.finished_at = now
            tile.retry_note = "Kept from the earlier run."
        tiles.append(tile)
    Job.all_objects.bulk_create(tiles)
    return tiles


def tile_extension(tile: Job) -> dict | None:
    """The built-in engine's own request field for a tile: where it sits in the whole image,
    and the whole image reduced, so its local contrast and grain continue across tiles."""
    if tile.parent_id is None or tile.provider != Team.Provider.BUILTIN:
        return None
    from enhancer.links import source_url

    parent = Job.all_objects.only("original", "original_width", "original_height").get(
        pk=tile.parent_id
    )
    return {
        "tile": {
            "left": tile.tile_left,
            "top": tile.tile_top,
            "imageWidth": parent.original_width,
            "imageHeight": parent.original_height,
            "contextUrl": source_url(whole_name(parent.original.name)),
        }
    }


# --- Following --------------------------------------------------------------------------------


def progress_note(done: int, total: int) -> str:
    return f"Tile {min(done + 1, total)} of {total}"


def tile_settled(parent_id) -> None:
    """A tile of `parent_id` ended (or a tile left the queue): move the parent along.

    Safe to run any number of times, from anywhere: every change is a conditional UPDATE.
    """
    from enhancer.tasks import fail, room_freed

    parent = Job.objects.select_related("team").filter(pk=parent_id).first()
    if parent is None or parent.is_final:
        return
    counts = dict(
        Job.all_objects.filter(parent_id=parent_id)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    done = counts.get(Job.Status.SUCCEEDED, 0)
    total = parent.tile_count
    broken = (
        Job.all_objects.filter(
            parent_id=parent_id, status__in=(Job.Status.FAILED, Job.Status.CANCELED)
        )
        .order_by("tile_index")
        .first()
    )
    if broken is not None:
        kept = (
            f" The {done} finished tiles are kept: press Run again with the same settings "
            "to send only the missing ones."
            if done
            else ""
        )
        reason = broken.error_message or "It was canceled."
        with transaction.atomic():
            if fail(parent, f"Tile {broken.tile_index + 1} of {total} failed. {reason}{kept}"):
                # Tiles still waiting are not sent; those at the API finish and are kept.
                Job.all_objects.filter(parent_id=parent_id, status=Job.Status.QUEUED).update(
                    status=Job.Status.CANCELED,
                    finished_at=timezone.now(),
                    updated_at=timezone.now(),
                    error_message="Not sent: another tile of this image failed.",
                )
                room_freed()
        return
    if done >= total:
        # Enqueued once: only the call that writes the note enqueues the join.
        marked = (
            Job.objects.filter(pk=parent_id, status__in=Job.PENDING_STATUSES)
            .exclude(retry_note=JOINING_NOTE)
            .update(
                status=Job.Status.PROCESSING, retry_note=JOINING_NOTE, updated_at=timezone.now()
            )
        )
        if marked:
            transaction.on_commit(lambda: assemble_job.enqueue(str(parent_id)))
        return
    now = timezone.now()
    pending = Job.objects.filter(pk=parent_id, status__in=Job.PENDING_STATUSES)
    started = done or total - done - counts.get(Job.Status.QUEUED, 0)  # a tile left the queue
    note = progress_note(done, total) if started else f"Sent as {total} tiles; waiting its turn."
    if started:
        pending.filter(status=Job.Status.QUEUED).update(
            status=Job.Status.PROCESSING, retry_note=note, updated_at=now
        )
    pending.exclude(retry_note=note).update(retry_note=note, updated_at=now)


def cancel_tiles(job: Job, message: str) -> None:
    """The tiles of a canceled job: none is sent any more, and the engine may forget them."""
    from enhancer.erasure import forget_at_engine

    for tile in Job.all_objects.filter(parent_id=job.pk, status__in=Job.PENDING_STATUSES):
        if tile.advance(
            Job.Status.CANCELED, allowed_from=Job.PENDING_STATUSES, error_message=message
        ):
            forget_at_engine(tile)


def settle_stuck_parents() -> int:
    """The sweep's safety net: a parent whose tiles all ended while nobody moved it along (its
    worker died between the two), or whose join was lost."""
    # Quiet for a while: a join in progress (minutes for hundreds of megapixels) is left alone.
    quiet = timezone.now() - STUCK_AFTER
    stuck = (
        Job.objects.filter(status__in=Job.PENDING_STATUSES, tile_count__gt=0, updated_at__lt=quiet)
        .exclude(status=Job.Status.PREPARING)  # not split yet: the sweep's own age limit
        .exclude(tiles__status__in=Job.PENDING_STATUSES)
    )
    count = 0
    for parent_id in stuck.values_list("pk", flat=True):
        Job.objects.filter(pk=parent_id, retry_note=JOINING_NOTE).update(retry_note="")
        tile_settled(parent_id)
        count += 1
    return count


# --- Joining ----------------------------------------------------------------------------------


def parts_of(job: Job) -> list[tuple[TileRect, str]]:
    if not job.tile_count:
        rect = TileRect(0, 0, 0, job.original_width, job.original_height)
        return [(rect, job.result.name)]
    tiles = Job.all_objects.filter(parent_id=job.pk).order_by("tile_index")
    return [
        (
            TileRect(t.tile_index, t.tile_left, t.tile_top, t.original_width, t.original_height),
            t.result.name,
        )
        for t in tiles
    ]


@contextmanager
def local_files(names: list[str]) -> Iterator[tuple[Path, list[Path]]]:
    """A temporary folder and a local path for each stored file (downloaded from a bucket in
    chunks; on a local disk, the file itself)."""
    folder = Path(tempfile.mkdtemp(prefix="detailer-join-"))
    try:
        paths = []
        for index, name in enumerate(names):
            try:
                paths.append(Path(default_storage.path(name)))
                continue
            except NotImplementedError:
                pass
            local = folder / f"part-{index}{PurePath(name).suffix}"
            with default_storage.open(name, "rb") as source, local.open("wb") as target:
                shutil.copyfileobj(source, target, CHUNK)
            paths.append(local)
        yield folder, paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


@task()
def assemble_job(job_id: str) -> str:
    """Join the job's parts (its tiles, or its one result), finish and store the file."""
    from enhancer.tasks import fail, room_freed

    job = Job.objects.select_related("team").filter(pk=job_id).first()
    if job is None or job.is_final:
        return job.status if job else "deleted"
    parts = parts_of(job)
    if any(not name or not default_storage.exists(name) for _, name in parts):
        fail(job, "A finished part of this image is no longer stored. Press Run again.")
        return job.status
    try:
        stored = join_and_store(job, parts)
    except Exception as exc:  # a library error here must end the job, not leave it hanging
        logger.exception("Joining job %s failed", job.id)
        fail(
            job,
            f"The enhanced parts could not be joined ({type(exc).__name__}). They are kept: "
            "press Run again to try once more.",
        )
        return job.status
    tiles = Job.all_objects.filter(parent_id=job.pk)
    first_tile = tiles.order_by("tile_index").first()
    if not job.advance(
        Job.Status.SUCCEEDED,
        allowed_from=Job.PENDING_STATUSES,
        retry_note="",
        duration=sum(t.duration or 0 for t in tiles) if job.tile_count else job.duration,
        engine_version=first_tile.engine_version if first_tile else job.engine_version,
        **stored,
    ):
        for name in (stored["result"], stored["thumbnail"]):
            default_storage.delete(name)
        return job.status
    room_freed()
    from enhancer.result_checks import check_result

    transaction.on_commit(lambda: check_result.enqueue(str(job.id)))
    delete_parts(job, [name for _, name in parts])
    return job.status


def join_and_store(job: Job, parts: list[tuple[TileRect, str]]) -> dict:
    from enhancer.provenance.credentials import CredentialsProblem, embed_file
    from enhancer.tiling.output import finish, thumbnail
    from enhancer.tiling.stitch import stitch

    # libvips' operation cache would keep every tile's pixels alive for the whole join: the
    # join reads each tile once, so a cache only costs memory (figures in stitch.py).
    pyvips.cache_set_max(0)
    target = TARGETS.get(job.made_for)
    final = (
        (job.final_width, job.final_height)
        if job.final_width and job.final_height
        else (job.original_width * job.scale, job.original_height * job.scale)
    )
    with local_files([name for _, name in parts]) as (folder, paths):
        image = stitch(
            list(zip([rect for rect, _ in parts], paths, strict=True)),
            width=job.original_width,
            height=job.original_height,
            scale=job.scale,
        )
        finished = finish(
            image,
            folder / "result",
            fmt=job.output_format,
            final_size=final,
            dpi=target.dpi if target else None,
        )
        name = f"results/{job.id}-{job.scale}x.{finished.extension}"
        path, has_credentials, note = finished.path, False, "Switched off in Team settings."
        if job.team.content_credentials:
            signed = folder / f"signed.{finished.extension}"
            try:
                embed_file(
                    job, finished.path, signed, name, width=finished.width, height=finished.height
                )
                path, has_credentials, note = signed, True, ""
            except CredentialsProblem:
                note = "Signing failed; see the server log."
        small = thumbnail(path)
        with path.open("rb") as handle:
            result_name = default_storage.save(name, File(handle))
        thumbnail_name = default_storage.save(f"thumbnails/{job.id}.webp", ContentFile(small))
        return {
            "result": result_name,
            "thumbnail": thumbnail_name,
            "result_width": finished.width,
            "result_height": finished.height,
            "result_bytes": path.stat().st_size,
            "result_sha256": file_sha256(path),
            "has_credentials": has_credentials,
            "credentials_note": note,
        }


def delete_parts(job: Job, names: list[str]) -> None:
    """The parts' files once joined: each unless another job still holds it."""
    for name in names:
        if (
            name
            and not Job.all_objects.filter(result=name)
            .exclude(Q(pk=job.pk) | Q(parent_id=job.pk))
            .exists()
        ):
            default_storage.delete(name)
    Job.all_objects.filter(parent_id=job.pk).update(result="")


def delete_tile_files(job: Job, *, original_goes: bool, forget: bool = True) -> None:
    """A deleted (or expired) job's tile files: results and inputs no other job holds, and the
    reduced whole when the original itself goes. `forget`: the engine's copies too."""
    for tile in Job.all_objects.filter(parent_id=job.pk):
        for field_name in ("result", "original"):
            name = getattr(tile, field_name).name
            if (
                name
                and not Job.all_objects.filter(**{field_name: name})
                .exclude(parent_id=job.pk)
                .exists()
            ):
                default_storage.delete(name)
        if forget:
            from enhancer.erasure import forget_at_engine

            forget_at_engine(tile)
    if original_goes and job.original:
        default_storage.delete(whole_name(job.original.name))
