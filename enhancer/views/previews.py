"""Try settings: the nine-cell grid on New enhancement, its tiles, and picking another part."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from enhancer.forms import EnhanceForm
from enhancer.images import ImageProblem, prepare_image
from enhancer.models import SettingsPreview
from enhancer.previews import create_preview, recrop
from enhancer.submissions import EXTENSIONS
from enhancer.teams import get_team_object, require_membership
from enhancer.views.jobs import initial_choices

GRID = "jobs/new.html#try_grid"


def load_preview(request: HttpRequest, preview_id: uuid.UUID) -> SettingsPreview:
    return get_team_object(request, SettingsPreview.objects.all(), pk=preview_id)


def grid_response(
    request: HttpRequest, preview: SettingsPreview | None, error: str = ""
) -> HttpResponse:
    context: dict = {"preview": preview, "try_error": error}
    if not request.htmx:
        # Without JavaScript the whole page comes back, the grid under a fresh form.
        context.update(
            form=EnhanceForm(initial=initial_choices(request)),
            max_upload_mb=settings.DETAILER_MAX_UPLOAD_BYTES // (1024 * 1024),
        )
        return render(request, "jobs/new.html", context)
    response = render(request, GRID, context)
    if preview is not None and not preview.is_pending and request.GET.get("poll"):
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _int(value: str | None, default: int, allowed: tuple[int, ...]) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return number if number in allowed else default


@require_POST
@login_required
def try_settings(request: HttpRequest) -> HttpResponse:
    """From the New enhancement form: the first chosen file, at the chosen enlargement."""
    membership = require_membership(request)
    uploads = request.FILES.getlist("images")
    if not uploads:
        return grid_response(request, None, "Choose an image file first: the grid is made from it.")
    try:
        image = prepare_image(
            uploads[0].read(), max_bytes=settings.DETAILER_MAX_UPLOAD_BYTES, auto_fit=True
        )
    except ImageProblem as exc:
        return grid_response(request, None, exc.message)
    scale = _int(request.POST.get("scale"), 2, (1, 2, 4, 8))
    seed_text = request.POST.get("seed", "").strip()
    seed = int(seed_text) if seed_text.isdigit() and 1 <= int(seed_text) <= 2_147_483_647 else None
    preview = create_preview(
        membership, image.content, EXTENSIONS[image.format], scale=scale, seed=seed
    )
    return grid_response(request, preview)


@require_GET
@login_required
def preview_detail(request: HttpRequest, preview_id: uuid.UUID) -> HttpResponse:
    return grid_response(request, load_preview(request, preview_id))


@require_POST
@login_required
def preview_recrop(request: HttpRequest, preview_id: uuid.UUID) -> HttpResponse:
    preview = load_preview(request, preview_id)
    try:
        x, y = float(request.POST.get("x", "")), float(request.POST.get("y", ""))
    except ValueError:
        return grid_response(request, preview, "Click on the picture to choose the part to try.")
    return grid_response(request, recrop(preview, x, y))


@require_GET
@login_required
def preview_file(request: HttpRequest, preview_id: uuid.UUID, key: str) -> FileResponse:
    preview = load_preview(request, preview_id)
    names = {"source": preview.source.name, "crop": preview.crop_file.name, **preview.tiles}
    name = names.get(key)
    if not name or not default_storage.exists(name):
        raise Http404("No such tile")
    response = FileResponse(default_storage.open(name, "rb"))
    response["Cache-Control"] = "private, max-age=3600"
    return response
