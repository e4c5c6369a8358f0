"""Share links: made and revoked by members; the public pages and files they open.

The public side shows a job's comparison and download, or a batch's results, to anyone with
the link, and nothing else: no team name, no member names, no other job. Every public URL goes
through the token (`ShareLink.find`), so a revoked or expired link stops working at once, and a
bad token is a 404 like any other.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST

from enhancer.models import AuditEvent, Batch, Job, ShareLink
from enhancer.team_forms import ShareLinkForm
from enhancer.teams import get_team_object
from enhancer.views.batches import zip_stream
from enhancer.views.jobs import file_response

# --- For the team -----------------------------------------------------------------------------


def links_response(
    request: HttpRequest, owner: Job | Batch, *, created: ShareLink | None = None
) -> HttpResponse:
    """The Share section again (htmx), or back to the page it is on."""
    if request.htmx:
        action = (
            reverse("share_job", args=[owner.id])
            if isinstance(owner, Job)
            else reverse("share_batch", args=[owner.id])
        )
        return render(
            request,
            "share/links.html",
            {"owner": owner, "created": created, "share_action": action},
        )
    if isinstance(owner, Job):
        return redirect("job_detail", owner.id)
    return redirect("batch_detail", owner.id)


def create_link(request: HttpRequest, owner: Job | Batch, **target) -> HttpResponse:
    form = ShareLinkForm(request.POST)
    # An expiry that is not one of the choices fails closed: the shortest, not "never".
    days = (
        form.cleaned_data["expires_in_days"]
        if form.is_valid()
        else min(int(days) for days, _ in ShareLink.EXPIRY_CHOICES if days)
    )
    link = ShareLink.create(created_by=request.user, expires_in_days=days, **target)
    what = f"“{owner.display_title}”" if isinstance(owner, Job) else str(owner)
    expiry = (
        f", expires {date_format(timezone.localtime(link.expires_at), 'j M Y')}" if days else ""
    )
    AuditEvent.record(owner.team, request.user, AuditEvent.Action.SHARE_CREATED, f"{what}{expiry}")
    if not request.htmx:
        messages.success(request, "Share link created: anyone with it can see the result.")
    return links_response(request, owner, created=link)


@require_POST
@login_required
def share_job(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = get_team_object(request, Job.objects.select_related("team"), pk=job_id)
    if job.status != Job.Status.SUCCEEDED:
        messages.error(request, "Only a finished enhancement can be shared.")
        return redirect("job_detail", job.id)
    return create_link(request, job, job=job)


@require_POST
@login_required
def share_batch(request: HttpRequest, batch_id: uuid.UUID) -> HttpResponse:
    batch = get_team_object(request, Batch.objects.select_related("team"), pk=batch_id)
    if not batch.jobs.filter(status=Job.Status.SUCCEEDED).exists():
        messages.error(request, "No image of this batch is done yet, so there is nothing to share.")
        return redirect("batch_detail", batch.id)
    return create_link(request, batch, batch=batch)


@require_POST
@login_required
def share_revoke(request: HttpRequest, link_id: int) -> HttpResponse:
    link = get_team_object(
        request, ShareLink.objects.select_related("team", "job", "batch"), pk=link_id
    )
    owner = link.job or link.batch
    if link.revoke(request.user):
        what = f"“{owner.display_title}”" if link.job_id else str(owner)
        AuditEvent.record(link.team, request.user, AuditEvent.Action.SHARE_REVOKED, what)
        if not request.htmx:
            messages.success(request, "The share link was revoked; it no longer opens anything.")
    return links_response(request, owner)


# --- For the public ---------------------------------------------------------------------------


def load_link(token: str) -> ShareLink:
    link = ShareLink.find(token)
    if link is None:
        raise Http404("No such link")
    return link


def shared_job(link: ShareLink, job_id: uuid.UUID) -> Job:
    job = link.shared_jobs().filter(pk=job_id).first()
    if job is None:
        raise Http404("No such image")
    return job


def public(response: HttpResponse, *, page: bool = True) -> HttpResponse:
    """Keep shared results out of search engines, and the token out of Referer headers."""
    response["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    response["Referrer-Policy"] = "no-referrer"
    if page:
        # A revoked link must stop working at once, also from the browser's cache.
        response["Cache-Control"] = "no-store"
    return response


@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    link = load_link(token)
    if link.job_id:
        job = shared_job(link, link.job_id)
        return public(render(request, "share/job.html", {"job": job, "token": token}))
    jobs = list(link.shared_jobs())
    if not jobs:
        raise Http404("Nothing to show")
    return public(render(request, "share/batch.html", {"jobs": jobs, "token": token}))


@require_GET
def share_batch_job(request: HttpRequest, token: str, job_id: uuid.UUID) -> HttpResponse:
    """One image of a shared batch, with its comparison."""
    link = load_link(token)
    if not link.batch_id:
        raise Http404("No such image")
    job = shared_job(link, job_id)
    return public(render(request, "share/job.html", {"job": job, "token": token, "in_batch": True}))


FILES = {"original", "result", "thumbnail"}


@require_GET
def share_file(request: HttpRequest, token: str, job_id: uuid.UUID, kind: str) -> HttpResponse:
    if kind not in FILES:
        raise Http404("No such file")
    job = shared_job(load_link(token), job_id)
    attachment = "inline" not in request.GET and kind != "thumbnail"
    if kind == "result":
        response = file_response(
            job.result, download_name=job.result_download_name(), attachment=attachment
        )
    elif kind == "original":
        response = file_response(
            job.original, download_name=job.original_name, attachment=attachment
        )
    else:
        response = file_response(
            job.thumbnail or job.original, download_name=None, attachment=False
        )
    return public(response, page=False)


@require_GET
def share_download_all(request: HttpRequest, token: str) -> HttpResponse:
    link = load_link(token)
    jobs = [job for job in link.shared_jobs() if job.result] if link.batch_id else []
    if not jobs:
        raise Http404("Nothing to download")
    response = StreamingHttpResponse(zip_stream(jobs), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="detailer-results.zip"'
    return public(response, page=False)
