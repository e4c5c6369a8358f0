"""A batch: its progress, its cards, and all its results as one streamed ZIP."""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from enhancer.models import Batch, Job
from enhancer.storage import iter_chunks
from enhancer.teams import get_team_object
from enhancer.views.pages import batch_progress

CHUNK = 256 * 1024


def load_batch(request: HttpRequest, batch_id: uuid.UUID) -> Batch:
    return get_team_object(request, Batch.objects.all(), pk=batch_id)


@login_required
@require_GET
def batch_detail(request: HttpRequest, batch_id: uuid.UUID) -> HttpResponse:
    batch = load_batch(request, batch_id)
    jobs = list(batch.jobs.select_related("created_by").order_by("created_at"))
    return render(
        request,
        "jobs/batch.html",
        {
            "batch": batch,
            "jobs": jobs,
            **batch_progress(batch.jobs.all()),
            "poll": any(job.is_pending or job.awaiting_check for job in jobs),
            "since": timezone.now().isoformat(),
            "scope": f"batch:{batch.id}",
        },
    )


class _Pipe:
    """A write-only file that hands what is written to a generator, chunk by chunk."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.offset = 0

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def zip_stream(jobs: list[Job]) -> Iterator[bytes]:
    """Stream a ZIP of the results without holding more than one chunk in memory.

    Images are already compressed, so entries are stored, not deflated. The pipe is not
    seekable, so zipfile writes data descriptors after each entry instead of seeking back.
    """
    pipe = _Pipe()
    used: set[str] = set()
    with zipfile.ZipFile(
        pipe, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True
    ) as archive:
        for job in jobs:
            name = unique_name(job.result_download_name(), used)
            info = zipfile.ZipInfo(
                name, date_time=timezone.localtime(job.created_at).timetuple()[:6]
            )
            # Straight from storage in chunks: with a bucket, nothing lands on the web host.
            with archive.open(info, mode="w", force_zip64=True) as entry:
                for chunk in iter_chunks(job.result.name, CHUNK):
                    entry.write(chunk)
                    yield pipe.take()
            yield pipe.take()
    yield pipe.take()


def unique_name(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        n += 1
        stem, dot, ext = name.rpartition(".")
        candidate = f"{stem} ({n}).{ext}" if dot else f"{name} ({n})"
    used.add(candidate)
    return candidate


@login_required
@require_GET
def batch_download(request: HttpRequest, batch_id: uuid.UUID) -> HttpResponse:
    batch = load_batch(request, batch_id)
    jobs = [
        job
        for job in batch.jobs.order_by("created_at")
        if job.status == Job.Status.SUCCEEDED and job.result
    ]
    if not jobs:
        messages.info(request, "No image of this batch is done yet; download again when one is.")
        return redirect("batch_detail", batch.id)
    response = StreamingHttpResponse(zip_stream(jobs), content_type="application/zip")
    stamp = timezone.localtime(batch.created_at).strftime("%Y-%m-%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="detailer-batch-{stamp}.zip"'
    return response
