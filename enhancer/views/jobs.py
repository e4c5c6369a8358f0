"""Submitting images, following jobs live, and everything done with one job or batch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.files.storage import default_storage
from django.db import connections, router
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enhancer import rows
from enhancer.erasure import delete_job, forget_at_engine
from enhancer.forms import EnhanceForm
from enhancer.images import ImageProblem, human_size, peek_image
from enhancer.links import storage_name_from_source_token
from enhancer.models import AuditEvent, Batch, Job, ShareLink
from enhancer.models.jobs import Settings
from enhancer.net import FetchPolicy, FetchProblem, check_url_without_dns
from enhancer.prepared import prepared_cursor
from enhancer.provenance.records import provenance, versions
from enhancer.quotas import QuotaExceeded
from enhancer.storage import storage_response
from enhancer.submissions import (
    Rejected,
    Source,
    create_jobs,
    remember_choices,
    remembered_choices,
    run_again,
)
from enhancer.tasks import room_freed
from enhancer.teams import require_membership
from enhancer.tiling.jobs import cancel_tiles
from enhancer.tiling.sizes import MAX_SIDE, SCALES, TARGETS, describe
from enhancer.uploads import oversized_uploads


def load_job(request: HttpRequest, job_id: uuid.UUID) -> Job:
    """The job of the current team, with its sender and batch, or 404 (a job of another
    team is one that does not exist)."""
    return load_job_and_related(request, job_id, related=False)[0]


@dataclass(frozen=True)
class Related:
    """Whether the job has versions (another job of the team from the same stored original
    or file hash) and share links. Most jobs have neither, and the job page then skips the
    five queries that would find nothing."""

    versions: bool = False
    links: bool = False


def load_job_and_related(
    request: HttpRequest, job_id: uuid.UUID, *, related: bool
) -> tuple[Job, Related]:
    membership = require_membership(request)
    found = team_job(membership.team_id, job_id, related=related)
    if found is None:
        raise Http404("Not found")
    job, found_related = found
    job.team = membership.team
    return job, found_related


def team_job(
    team_id: int, job_id: uuid.UUID, *, related: bool = False
) -> tuple[Job, Related] | None:
    """`Job.objects.select_related("created_by", "batch").get(team=…, pk=…)` as one plain
    statement, with `related` also whether it has versions and share links: every job page,
    its status while it runs, and each thumbnail and download ask for it, and building the
    queryset cost the web process about twice what running it does."""
    connection = connections[router.db_for_read(Job)]
    User = get_user_model()
    pk = Job._meta.pk.get_db_prep_value(job_id, connection)
    with prepared_cursor(connection) as cursor:
        cursor.execute(team_job_sql(connection.alias, related=related), [team_id, pk])
        row = cursor.fetchone()
    if row is None:
        return None
    job_fields = Job._meta.concrete_fields
    user_fields, batch_fields = User._meta.concrete_fields, Batch._meta.concrete_fields
    users_at = len(job_fields)
    batches_at = users_at + len(user_fields)
    related_at = batches_at + len(batch_fields)
    job = rows.instance(connection, Job, job_fields, row[:users_at])
    user_row, batch_row = row[users_at:batches_at], row[batches_at:related_at]
    # A foreign key set to None (a deleted sender, no batch) has no row to join.
    job.created_by = (
        rows.instance(connection, User, user_fields, user_row) if job.created_by_id else None
    )
    job.batch = rows.instance(connection, Batch, batch_fields, batch_row) if job.batch_id else None
    versions, links = row[related_at:] if related else (False, False)
    return job, Related(versions=bool(versions), links=bool(links))


@cache
def team_job_sql(alias: str, *, related: bool) -> str:
    quote = connections[alias].ops.quote_name
    User = get_user_model()
    names = ("id", "team", "parent", "created_by", "batch", "original", "original_sha256")
    col = {name: quote(Job._meta.get_field(name).column) for name in names}
    jobs = quote(Job._meta.db_table)
    extra = ""
    if related:
        # Each test an EXISTS of its own, each one probe of its index ((team, original),
        # (team, hash), the link's job) at any size of history; an empty value is no version.
        others = (
            f"SELECT 1 FROM {jobs} o WHERE o.{col['team']} = j.{col['team']}"  # noqa: S608  (the models' own tables)
            f" AND o.{col['parent']} IS NULL AND o.{col['id']} <> j.{col['id']}"
        )
        same = [
            f"(j.{col[name]} <> '' AND EXISTS ({others} AND o.{col[name]} = j.{col[name]}))"
            for name in ("original", "original_sha256")
        ]
        links = quote(ShareLink._meta.db_table)
        link_job = quote(ShareLink._meta.get_field("job").column)
        extra = (
            f", ({' OR '.join(same)}),"  # noqa: S608  (the models' own tables)
            f" EXISTS (SELECT 1 FROM {links} s WHERE s.{link_job} = j.{col['id']})"
        )
    return (
        f"SELECT {rows.columns(quote, 'j', Job._meta.concrete_fields)},"  # noqa: S608  (the models' own tables)
        f" {rows.columns(quote, 'u', User._meta.concrete_fields)},"
        f" {rows.columns(quote, 'b', Batch._meta.concrete_fields)}{extra}"
        f" FROM {jobs} j"
        f" LEFT JOIN {quote(User._meta.db_table)} u"
        f" ON u.{quote(User._meta.pk.column)} = j.{col['created_by']}"
        f" LEFT JOIN {quote(Batch._meta.db_table)} b"
        f" ON b.{quote(Batch._meta.pk.column)} = j.{col['batch']}"
        f" WHERE j.{col['team']} = %s AND j.{col['id']} = %s AND j.{col['parent']} IS NULL"
    )


def initial_choices(request: HttpRequest) -> dict:
    """Last time's choices, or a job's settings for Run again (only a job of the team)."""
    initial = {"auto_fit": False, **remembered_choices(request.user)}
    source_id = request.GET.get("from")
    if source_id:
        try:
            job_id = uuid.UUID(source_id)
        except ValueError as exc:
            raise Http404("No such job") from exc
        job = load_job(request, job_id)
        initial.update(
            scale=job.scale,
            details=job.details,
            modification=job.modification,
            output_format=job.output_format,
            made_for=job.made_for,
            seed=job.seed,
            title=job.title,
            again=job.id,
        )
    return initial


def again_job(request: HttpRequest, form: EnhanceForm) -> Job | None:
    """The earlier job whose image Run again reuses (only a job of the team), or None."""
    value = form["again"].value()
    if not value:
        return None
    try:
        job_id = uuid.UUID(str(value))
    except ValueError:
        return None
    return load_job(request, job_id)


@login_required
@require_http_methods(["GET", "POST"])
def enhance_new(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    posted = request.method == "POST"
    # Bound on every POST, even one whose fields were all dropped (a file over the limit).
    form = EnhanceForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        initial=initial_choices(request),
    )
    context: dict = {
        "max_upload_bytes": settings.DETAILER_MAX_UPLOAD_BYTES,
        "max_request_bytes": settings.DETAILER_MAX_REQUEST_BYTES,
        "max_files": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
        "max_upload_size": human_size(settings.DETAILER_MAX_UPLOAD_BYTES),
        "setting_examples": Settings.examples(),
    }
    valid = posted and form.is_valid()
    earlier = again_job(request, form)
    oversized = oversized_uploads(request)
    if valid and form.cleaned_data["again"] and earlier:
        return enhance_again(request, membership, form, earlier, context)
    if oversized and not request.FILES and not form.data.get("image_url"):
        # Every file was dropped as it arrived, so the form saw none: say why, not "choose one".
        form.errors.pop(NON_FIELD_ERRORS, None)
        for item in oversized:
            form.add_error("images", item.message)
    elif valid:
        data = form.cleaned_data
        sources: list[Source] = []
        rejected = [Rejected(item.name, item.message) for item in oversized]
        if data["image_url"]:
            try:
                check_url_without_dns(data["image_url"], policy=FetchPolicy.for_user_urls())
            except FetchProblem as exc:
                form.add_error("image_url", exc.message)
            else:
                sources.append(Source.from_url(data["image_url"]))
        else:
            for upload in data["images"]:
                try:
                    header = peek_image(upload, max_bytes=settings.DETAILER_MAX_UPLOAD_BYTES)
                except ImageProblem as exc:
                    rejected.append(Rejected(upload.name, exc.message))
                else:
                    sources.append(Source(upload.name, upload=upload, header=header))
        if not sources and not form.errors:
            for item in rejected:
                form.add_error(
                    "images", f"{item.name}: {item.message}" if len(rejected) > 1 else item.message
                )
        if not form.errors:
            options = {
                **form.remembered_choices(),
                "seed": data["seed"],
                "auto_fit": data["auto_fit"],
            }
            try:
                jobs, batch = create_jobs(membership, sources, options=options, title=data["title"])
            except QuotaExceeded as exc:
                form.add_error(None, exc.message)
        if not form.errors:
            remember_choices(request.user, form.remembered_choices())
            problems = [f"{item.name}: {item.message}" for item in rejected]
            if request.htmx:
                # The cards appear under the form and follow their jobs live; the form is
                # fresh for the next image, with the same choices.
                context.update(
                    form=EnhanceForm(initial=initial_choices(request)),
                    new_jobs=jobs,
                    batch=batch,
                    problems=problems,
                    poll=True,
                    since=timezone.now().isoformat(),
                )
                return render(request, "jobs/new.html#submitted", context)
            for problem in problems:
                messages.error(request, f"Not sent: {problem}")
            if batch:
                return redirect("batch_detail", batch.id)
            return redirect("job_detail", jobs[0].id)
    return render_form(request, form, earlier, context)


@login_required
@require_GET
def size_preview(request: HttpRequest) -> JsonResponse:
    """What each chosen image will become, in words, before anything is sent: for the form's
    size preview (static/detailer.js), from the worker's own arithmetic."""
    membership = require_membership(request)
    query = request.GET
    try:
        scale = int(query.get("scale", "2"))
        sizes = [
            (int(w), int(h)) for w, h in zip(query.getlist("w"), query.getlist("h"), strict=True)
        ][:50]
    except ValueError:
        return JsonResponse({"error": "Sizes must be whole numbers."}, status=400)
    made_for = query.get("made_for", "")
    fmt = query.get("format", "webp")
    if scale not in SCALES or made_for not in ("", *TARGETS) or fmt not in MAX_SIDE:
        return JsonResponse({"error": "Unknown settings."}, status=400)
    if any(not (0 < w <= 100_000 and 0 < h <= 100_000) for w, h in sizes):
        return JsonResponse({"error": "Sizes out of range."}, status=400)
    described = [
        describe(
            w,
            h,
            scale=scale,
            made_for=made_for,
            fmt=fmt,
            shrink=query.get("shrink") == "1",
            cloud=membership.team.uses_cloud,
        )
        for w, h in sizes
    ]
    return JsonResponse(
        {
            "texts": [text for text, _ in described],
            # The Enlarge a "Made for" target picks, shown in the Enlarge select.
            "scale": described[0][1] if described and made_for else None,
        }
    )


def render_form(
    request: HttpRequest, form: EnhanceForm, earlier: Job | None, context: dict
) -> HttpResponse:
    context.update(form=form, again=earlier)
    # htmx swaps only 2xx answers by default, so the form with its errors comes back as 200.
    return render(
        request, "jobs/new.html#enhance_form" if request.htmx else "jobs/new.html", context
    )


def enhance_again(
    request: HttpRequest, membership, form: EnhanceForm, earlier: Job, context: dict
) -> HttpResponse:
    """Run again with the stored original of `earlier`: a new version, linked to it."""
    data = form.cleaned_data
    if not earlier.original or not default_storage.exists(earlier.original.name):
        form.add_error(
            "images", "The earlier image is no longer stored. Choose the file again, please."
        )
        return render_form(request, form, None, context)
    options = {**form.remembered_choices(), "seed": data["seed"]}
    try:
        job = run_again(membership, earlier, options=options, title=data["title"])
    except QuotaExceeded as exc:
        form.add_error(None, exc.message)
        return render_form(request, form, earlier, context)
    remember_choices(request.user, form.remembered_choices())
    if request.htmx:
        # Plain navigation to the new job's page, where the versions are listed.
        return HttpResponse(headers={"HX-Redirect": reverse("job_detail", args=[job.id])})
    return redirect("job_detail", job.id)


# Run again's versions listed on either side of the one shown.
VERSIONS_EACH_SIDE = 10


# --- One job ----------------------------------------------------------------------------------


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    status_only = request.htmx and request.GET.get("part") == "status"
    job, related = load_job_and_related(request, job_id, related=not status_only)
    if status_only:
        # The finished page differs in more than the status (comparison, download, the
        # checks' verdict): show all of it, and the polling ends with the old page.
        if request.GET.get("seen") == "checking":
            if not job.awaiting_check:
                return HttpResponse(headers={"HX-Refresh": "true"})
        elif job.is_final:
            return HttpResponse(headers={"HX-Refresh": "true"})
        return render(request, "jobs/detail.html#status", {"job": job})
    has_versions, has_links = related.versions, related.links
    earlier, later = versions(job) if has_versions else ([], [])
    links = list(job.share_links.active()) if has_links else []
    return render(
        request,
        "jobs/detail.html",
        {
            "job": job,
            # Run again's versions: the jobs sharing this job's stored original.
            "versions": (
                job.versions_near(VERSIONS_EACH_SIDE) if job.original and has_versions else None
            ),
            "earlier_versions": earlier[:20],
            "later_versions": later[:20],
            "share_links": links,
            "latest_verdict": (
                job.share_links.exclude(verdict="").order_by("-verdict_at").first()
                if has_links
                else None
            ),
        },
    )


@login_required
@require_GET
def job_provenance(request: HttpRequest, job_id: uuid.UUID) -> JsonResponse:
    """The job's provenance as a JSON file (the same facts as on its page)."""
    job = load_job(request, job_id)
    response = JsonResponse(provenance(job), json_dumps_params={"indent": 2})
    stem = PurePath(job.original_name).stem or "image"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:80] or "image"
    response["Content-Disposition"] = f'attachment; filename="{safe}-provenance.json"'
    response["Cache-Control"] = "private, no-store"
    return response


def file_response(file_field, *, download_name: str | None, attachment: bool) -> FileResponse:
    response = storage_response(
        file_field.name if file_field else None, filename=download_name, attachment=attachment
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def job_result(request: HttpRequest, job_id: uuid.UUID) -> FileResponse:
    job = load_job(request, job_id)
    attachment = "inline" not in request.GET
    return file_response(
        job.result, download_name=job.result_download_name(), attachment=attachment
    )


@login_required
@require_GET
def job_original(request: HttpRequest, job_id: uuid.UUID) -> FileResponse:
    job = load_job(request, job_id)
    attachment = "inline" not in request.GET
    return file_response(job.original, download_name=job.original_name, attachment=attachment)


@login_required
@require_GET
def job_thumbnail(request: HttpRequest, job_id: uuid.UUID) -> FileResponse:
    job = load_job(request, job_id)
    picture = job.thumbnail or job.original
    if not picture:  # an image URL not fetched yet
        raise Http404("No picture yet")
    return file_response(picture, download_name=None, attachment=False)


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = load_job(request, job_id)
    # A4: there is no cancel endpoint; we stop following the job and mark it canceled.
    if job.advance(
        Job.Status.CANCELED,
        allowed_from=Job.PENDING_STATUSES,
        error_message=f"Canceled by {request.user.get_username()}.",
        retry_note="",
    ):
        cancel_tiles(job, f"Canceled by {request.user.get_username()}.")
        room_freed()
        AuditEvent.record(job.team, request.user, AuditEvent.Action.JOB_CANCELED, job_words(job))
        messages.info(request, f"“{job.display_title}” was canceled.")
        forget_at_engine(job)  # nothing of it will be collected: the engine may delete its copies
    else:
        messages.warning(request, f"“{job.display_title}” had already finished.")
    return redirect("job_detail", job.id)


@login_required
@require_http_methods(["GET", "POST"])
def job_delete(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = load_job(request, job_id)
    if request.method == "POST":
        title = job.display_title
        delete_job(job)
        AuditEvent.record(job.team, request.user, AuditEvent.Action.JOB_DELETED, job_words(job))
        messages.success(request, f"“{title}” and its files were deleted.")
        return redirect("dashboard")
    return render(request, "jobs/delete.html", {"job": job})


def job_words(job: Job) -> str:
    """What the activity log says about a job: its title, when and by whom it was sent."""
    sender = job.created_by.get_username() if job.created_by else "someone"
    sent_on = timezone.localtime(job.created_at)
    return f"“{job.display_title}”, sent by {sender} on {sent_on:%d %b %Y}"


# --- For the API ------------------------------------------------------------------------------


@require_GET
def job_source(request: HttpRequest, token: str) -> FileResponse:
    """The original image, for the API to fetch: unguessable, expiring, no login."""
    name = storage_name_from_source_token(token)
    if name is None:
        raise Http404("No such image")
    return storage_response(name)
