"""Share links: made and revoked by members; the public pages and files they open.

The public side shows a job's comparison and download, or a batch's results, to anyone with
the link, and nothing else: no team name, no member names, no other job. Every public URL goes
through the token (`ShareLink.find`), so a revoked or expired link stops working at once, and a
bad token is a 404 like any other.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.mail import send_mail
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST

from enhancer.models import AuditEvent, Batch, Job, ShareLink
from enhancer.team_forms import ShareLinkForm, VerdictForm
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
            {
                "owner": owner,
                "links": owner.share_links.active(),
                "created": created,
                "share_action": action,
            },
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
    if target.get("job") is not None and form.is_valid() and form.cleaned_data["ask_approval"]:
        link.ask_approval = True
        link.save(update_fields=["ask_approval"])
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
    # same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with the
    # approval form's POST, which Django's CSRF check refuses. Other sites still get nothing.
    response["Referrer-Policy"] = "same-origin"
    if page:
        # A revoked link must stop working at once, also from the browser's cache.
        response["Cache-Control"] = "no-store"
    return response


def withdrawn_page(request: HttpRequest, token: str) -> HttpResponse | None:
    """For a link that existed but was revoked or has expired: say that in plain words (410),
    not "page not found ... a team you are not in", which misleads whoever was sent it."""
    link = ShareLink.find_inactive(token)
    if link is None:
        return None
    expired = link.revoked_at is None
    response = render(request, "share/withdrawn.html", {"expired": expired}, status=410)
    return public(response)


@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    if (withdrawn := withdrawn_page(request, token)) is not None:
        return withdrawn
    link = load_link(token)
    if link.job_id:
        job = shared_job(link, link.job_id)
        context = {"job": job, "token": token, "link": link, "form": VerdictForm()}
        return public(render(request, "share/job.html", context))
    jobs = list(link.shared_jobs())
    if not jobs:
        raise Http404("Nothing to show")
    return public(render(request, "share/batch.html", {"jobs": jobs, "token": token}))


@require_GET
def share_batch_job(request: HttpRequest, token: str, job_id: uuid.UUID) -> HttpResponse:
    """One image of a shared batch, with its comparison."""
    if (withdrawn := withdrawn_page(request, token)) is not None:
        return withdrawn
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


# --- Client approval --------------------------------------------------------------------------

VERDICT_LIMIT = 10  # verdict posts per hour from one address (a link takes one answer anyway)


def rate_limited(request: HttpRequest) -> bool:
    """A cheap brake on the public form: at most VERDICT_LIMIT posts an hour per address."""
    key = f"share-verdict:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=3600)
    try:
        return cache.incr(key) > VERDICT_LIMIT
    except ValueError:  # evicted between add and incr
        return False


@require_POST
def share_verdict(request: HttpRequest, token: str) -> HttpResponse:
    """The client's Approve / Request changes, from a share page that asks for approval."""
    link = load_link(token)
    if not (link.job_id and link.ask_approval):
        raise Http404("This link does not ask for approval")
    job = shared_job(link, link.job_id)
    if rate_limited(request):
        response = render(
            request,
            "share/job.html",
            {
                "job": job,
                "token": token,
                "link": link,
                "form": VerdictForm(request.POST),
                "verdict_error": "Too many answers from this address. Please try again in an hour.",
            },
            status=429,
        )
        return public(response)
    form = VerdictForm(request.POST)
    if not form.is_valid():
        context = {"job": job, "token": token, "link": link, "form": form}
        return public(render(request, "share/job.html", context, status=400))
    data = form.cleaned_data
    if link.give_verdict(data["verdict"], data["comment"].strip(), data["name"].strip()):
        tell_the_team(link, job)
    return public(redirect("share_page", token))


def tell_the_team(link: ShareLink, job: Job) -> None:
    """The activity log, and an e-mail to the person who shared it (the dashboard shows it too)."""
    approved = link.verdict == ShareLink.Verdict.APPROVED
    who = link.verdict_name or "The client"
    detail = f"“{job.display_title}”: {who}"
    if link.verdict_comment:
        detail += f": {link.verdict_comment}"
    action = (
        AuditEvent.Action.SHARE_APPROVED if approved else AuditEvent.Action.SHARE_CHANGES_REQUESTED
    )
    AuditEvent.record(link.team, None, action, detail)
    sharer = link.created_by
    if sharer is not None and sharer.email:
        subject = (
            f"{who} {'approved' if approved else 'asked for changes to'} “{job.display_title}”"
        )
        body = (
            f"{subject}.\n\n"
            + (f"Their comment:\n{link.verdict_comment}\n\n" if link.verdict_comment else "")
            + f"The job: {settings.SITE_URL}{reverse('job_detail', args=[job.id])}\n"
        )
        send_mail(subject[:200], body, None, [sharer.email], fail_silently=True)


@require_POST
@login_required
def share_reopen(request: HttpRequest, link_id: int) -> HttpResponse:
    link = get_team_object(request, ShareLink.objects.select_related("team", "job"), pk=link_id)
    if link.reopen():
        what = f"“{link.job.display_title}”" if link.job_id else "a batch"
        AuditEvent.record(link.team, request.user, AuditEvent.Action.SHARE_REOPENED, what)
        messages.info(request, "Approval reopened: the client can answer again.")
    if link.job_id:
        return redirect("job_detail", link.job_id)
    return redirect("batch_detail", link.batch_id)
