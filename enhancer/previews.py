"""Try settings: render a crop of an image at all nine Detail x Change combinations.

On the built-in engine the nine crops are rendered in one task by the engine's own pipeline,
in this process: free (no job is counted against the team's limits), with the highest task
priority so a preview goes ahead of queued batch work, and outside the engine's in-flight cap
(that cap meters API jobs; nine previews would otherwise wait behind them), so all nine come
back together in seconds. On the cloud the nine are real API jobs, billed by Tengr.ai, which
the page says before anything is sent.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from PIL import Image

from enhancer.models import Membership, SettingsPreview, Team
from enhancer.submissions import new_seed

logger = logging.getLogger(__name__)

# Each tile is about this many pixels wide whatever the enlargement: the crop is this divided
# by the scale (192 px at 2x, 48 px at 8x), so nine tiles render in seconds on two cores.
TILE_SIDE = 384
MIN_CROP = 32
PREVIEW_PRIORITY = 100  # the highest django-tasks allows: ahead of every queued job
CLOUD_POLL_DELAY = 3.0
CLOUD_MAX_AGE = timedelta(minutes=15)
# A grid is for choosing settings now; the sweep deletes it and its files after this long.
PREVIEW_KEEP = timedelta(days=1)


def crop_side(width: int, height: int, scale: int) -> int:
    return max(1, min(width, height, max(MIN_CROP, TILE_SIDE // scale)))


def most_detailed_square(image: Image.Image, side: int) -> tuple[int, int]:
    """(left, top) of the side x side square with the most fine detail (gradient energy)."""
    if image.width <= side and image.height <= side:
        return 0, 0
    # On a copy at most 256 px wide: cheap, and detail at that scale is what a person sees.
    factor = max(1, max(image.width, image.height) // 256)
    small = np.asarray(image.convert("L").reduce(factor), dtype=np.float32)
    energy = np.zeros_like(small)
    energy[:, 1:] += np.abs(np.diff(small, axis=1))
    energy[1:, :] += np.abs(np.diff(small, axis=0))
    window = max(1, side // factor)
    summed = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    rows, cols = small.shape[0] - window + 1, small.shape[1] - window + 1
    if rows <= 0 or cols <= 0:
        return 0, 0
    totals = (
        summed[window:, window:]
        - summed[:-window, window:]
        - summed[window:, :-window]
        + summed[:-window, :-window]
    )[:rows, :cols]
    top, left = np.unravel_index(int(np.argmax(totals)), totals.shape)
    return (
        min(int(left) * factor, image.width - side),
        min(int(top) * factor, image.height - side),
    )


def create_preview(
    membership: Membership, content: bytes, extension: str, *, scale: int, seed: int | None
) -> SettingsPreview:
    with Image.open(io.BytesIO(content)) as image:
        width, height = image.size
        side = crop_side(width, height, scale)
        left, top = most_detailed_square(image, side)
    preview = SettingsPreview(
        team=membership.team,
        created_by=membership.user,
        provider=membership.team.provider,
        width=width,
        height=height,
        scale=scale,
        seed=seed or new_seed(),
        crop_left=left,
        crop_top=top,
        crop_side=side,
    )
    preview.source.save(f"{preview.id}.{extension}", ContentFile(content), save=False)
    with transaction.atomic():
        preview.save()
        transaction.on_commit(lambda: enqueue_render(preview))
    return preview


def recrop(preview: SettingsPreview, x: float, y: float) -> SettingsPreview:
    """A new grid of the same image centred where the person pointed (fractions 0..1)."""
    side = preview.crop_side
    left = round(min(max(x, 0.0), 1.0) * preview.width - side / 2)
    top = round(min(max(y, 0.0), 1.0) * preview.height - side / 2)
    again = SettingsPreview(
        team=preview.team,
        created_by=preview.created_by,
        provider=preview.team.provider,
        width=preview.width,
        height=preview.height,
        scale=preview.scale,
        seed=preview.seed,
        crop_left=min(max(0, left), preview.width - side),
        crop_top=min(max(0, top), preview.height - side),
        crop_side=side,
        crop_chosen=True,
    )
    with preview.source.open("rb") as source:
        again.source.save(
            preview.source.name.rsplit("/", 1)[-1], ContentFile(source.read()), save=False
        )
    with transaction.atomic():
        again.save()
        transaction.on_commit(lambda: enqueue_render(again))
    return again


def enqueue_render(preview: SettingsPreview) -> None:
    render_preview.using(priority=PREVIEW_PRIORITY).enqueue(str(preview.id))


def crop_image(preview: SettingsPreview) -> Image.Image:
    with preview.source.open("rb") as source, Image.open(source) as image:
        image.load()
        box = (
            preview.crop_left,
            preview.crop_top,
            preview.crop_left + preview.crop_side,
            preview.crop_top + preview.crop_side,
        )
        return image.crop(box)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def fail_preview(preview: SettingsPreview, message: str) -> None:
    SettingsPreview.objects.filter(pk=preview.pk, status=SettingsPreview.Status.PENDING).update(
        status=SettingsPreview.Status.FAILED,
        error_message=message[:255],
        finished_at=timezone.now(),
    )


@task()
def render_preview(preview_id: str) -> str:
    preview = SettingsPreview.objects.select_related("team").filter(pk=preview_id).first()
    if preview is None or not preview.is_pending:
        return "nothing to do"
    crop = crop_image(preview)
    crop_name = default_storage.save(f"previews/{preview.id}-crop.png", ContentFile(_png(crop)))
    SettingsPreview.objects.filter(pk=preview.pk).update(crop_file=crop_name)
    preview.crop_file.name = crop_name
    if preview.provider == Team.Provider.CLOUD:
        return start_cloud_preview(preview)
    return render_builtin(preview, crop)


def render_builtin(preview: SettingsPreview, crop: Image.Image) -> str:
    from enhancer.engine.pipeline import EnhanceSettings, enhance_image

    tiles = {}
    try:
        for cell in preview.grid():
            settings = EnhanceSettings(
                scale=preview.scale,
                details=cell["details"],
                modification=cell["change"],
                seed=preview.seed,
            )
            result = enhance_image(crop, settings)
            buffer = io.BytesIO()
            result.convert("RGBA" if "A" in result.getbands() else "RGB").save(
                buffer, "WEBP", quality=90, method=2
            )
            tiles[cell["key"]] = default_storage.save(
                f"previews/{preview.id}-{cell['key']}.webp", ContentFile(buffer.getvalue())
            )
    except (OSError, ValueError, MemoryError) as exc:
        logger.warning("Preview %s failed: %s", preview.id, exc)
        fail_preview(preview, "The preview could not be made. Try another image or part.")
        return "failed"
    # All nine at once: the grid fills in one swap, never half old, half new.
    SettingsPreview.objects.filter(pk=preview.pk).update(
        tiles=tiles, status=SettingsPreview.Status.DONE, finished_at=timezone.now()
    )
    return "done"


# --- The cloud: nine real API jobs ------------------------------------------------------------


def start_cloud_preview(preview: SettingsPreview) -> str:
    from enhancer.api.errors import ApiError
    from enhancer.links import source_url
    from enhancer.models import ApiJob
    from enhancer.providers import client_for

    if not preview.team.api_key:
        fail_preview(preview, "This team has no API key for the Tengr.ai cloud.")
        return "failed"
    client = client_for(preview.team, Team.Provider.CLOUD)
    upstream = {}
    try:
        for cell in preview.grid():
            artwork = client.create(
                source_url(preview.crop_file.name),
                scale_factor=preview.scale,
                details=cell["details"],
                modification=cell["change"],
                seed=preview.seed,
                webhook=None,
                output_format="webp",
            )
            upstream[cell["key"]] = artwork.id
            # Nine billed API jobs: the ledger counts them against the month's limits.
            ApiJob.record_preview(preview, artwork.id)
    except ApiError as exc:
        SettingsPreview.objects.filter(pk=preview.pk).update(upstream_ids=upstream)
        fail_preview(preview, exc.user_message)
        return "failed"
    SettingsPreview.objects.filter(pk=preview.pk).update(upstream_ids=upstream)
    poll_cloud_preview.using(
        run_after=timezone.now() + timedelta(seconds=CLOUD_POLL_DELAY), priority=PREVIEW_PRIORITY
    ).enqueue(str(preview.id))
    return "sent"


@task()
def poll_cloud_preview(preview_id: str) -> str:
    from enhancer.api.errors import ApiError
    from enhancer.net import FetchPolicy, FetchProblem, fetch_image_url
    from enhancer.providers import client_for

    preview = SettingsPreview.objects.select_related("team").filter(pk=preview_id).first()
    if preview is None or not preview.is_pending:
        return "nothing to do"
    if timezone.now() - preview.created_at > CLOUD_MAX_AGE:
        fail_preview(preview, "The cloud did not finish the nine previews in time.")
        return "failed"
    client = client_for(preview.team, Team.Provider.CLOUD)
    tiles = dict(preview.tiles)
    try:
        for key, artwork_id in preview.upstream_ids.items():
            if key in tiles:
                continue
            artwork = client.get(artwork_id)
            if artwork.status in {"failed", "canceled"}:
                fail_preview(preview, "The cloud could not make one of the previews.")
                return "failed"
            if artwork.status == "succeeded" and artwork.results:
                fetched = fetch_image_url(
                    artwork.results[0],
                    max_bytes=20 * 1024 * 1024,
                    timeout=60.0,
                    policy=FetchPolicy.for_user_urls(),
                )
                tiles[key] = default_storage.save(
                    f"previews/{preview.id}-{key}.webp", ContentFile(fetched.content)
                )
    except (ApiError, FetchProblem) as exc:
        logger.info("Polling preview %s: %s", preview.id, exc)
    if len(tiles) == len(preview.upstream_ids):
        SettingsPreview.objects.filter(pk=preview.pk).update(
            tiles=tiles, status=SettingsPreview.Status.DONE, finished_at=timezone.now()
        )
        return "done"
    # Tiles found so far are kept (and shown): only the missing ones are asked for again.
    SettingsPreview.objects.filter(pk=preview.pk).update(tiles=tiles)
    poll_cloud_preview.using(
        run_after=timezone.now() + timedelta(seconds=CLOUD_POLL_DELAY), priority=PREVIEW_PRIORITY
    ).enqueue(str(preview.id))
    return "waiting"


def delete_old_previews() -> int:
    """Delete grids older than PREVIEW_KEEP with their files (called by the sweep)."""
    old = SettingsPreview.objects.filter(created_at__lt=timezone.now() - PREVIEW_KEEP)
    deleted = 0
    for preview in old:
        names = [preview.source.name, preview.crop_file.name, *preview.tiles.values()]
        for name in filter(None, names):
            default_storage.delete(name)
        preview.delete()
        deleted += 1
    return deleted
