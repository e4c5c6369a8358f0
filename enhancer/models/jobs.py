"""Enhancement jobs and batches.

Status only moves forward:

    preparing -> queued -> submitting -> starting -> processing -> succeeded | failed | canceled

`preparing`: the upload is stored as it came (or the image URL is still to be fetched); a worker
decodes, checks and cleans it (enhancer/intake.py), never the web request.

`queued`: stored, waiting in our own queue until the API has room for it (`enhancer.dispatch`
hands queued jobs out fairly between teams). `submitting`: it has left our queue and a worker is
sending it to the API (and stays there while a rate limit or an outage is retried, for at most the
job's maximum age counted from `dispatched_at`). `starting`/`processing`: the API has it.
Every transition is one conditional UPDATE on the allowed predecessors (`Job.advance`), so a late
or duplicated webhook, or two workers at once, can never move a job backwards.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import PurePath

from django.conf import settings
from django.db import models, transaction
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.functional import cached_property

from enhancer.models.teams import Team

# How long pages keep waiting for a finished job's automatic checks (a worker runs them at once).
CHECK_WAIT = timedelta(minutes=2)


class Settings:
    """Plain words for the API's numbers, as people see them."""

    SCALE_CHOICES = [
        (1, "1x (same size, details only)"),
        (2, "2x"),
        (4, "4x"),
        (8, "8x"),
    ]
    DETAIL_CHOICES = [(1, "Low"), (2, "Medium"), (3, "High")]
    CHANGE_CHOICES = [(1, "Subtle"), (2, "Balanced"), (3, "Strong")]
    FORMAT_CHOICES = [("webp", "WebP"), ("png", "PNG"), ("jpeg", "JPEG")]
    # One line per level, shown under the choice on the New enhancement form.
    DETAIL_HELP = {
        1: "Low: enlarges cleanly and adds nothing. The most faithful.",
        2: "Medium: brings out fine detail and sharpens edges a little.",
        3: "High: sharpens strongly; fine textures such as wood grain can turn into hard lines.",
    }
    CHANGE_HELP = {
        1: "Subtle: colours and contrast stay as they were. The most faithful.",
        2: "Balanced: a little more local contrast and livelier colours.",
        3: "Strong: more contrast and colour and a fine grain; furthest from the original.",
    }
    # What each example picture shows, for people who cannot see it.
    EXAMPLE_ALT = {
        ("detail", 1): "the wood grain soft and natural",
        ("detail", 2): "the grain and the saucer's edge a little crisper",
        ("detail", 3): "the grain crisp, some of it hard lines",
        ("change", 1): "colours as in the original",
        ("change", 2): "a little more contrast and warmer colours",
        ("change", 3): "strong contrast and colour, with fine grain",
    }

    @classmethod
    def examples(cls) -> list[dict]:
        """The pictures of static/examples/ (made by `manage.py settings_examples`)."""
        rows = []
        for key, title, texts in (
            ("detail", "Detail", cls.DETAIL_HELP),
            ("change", "Change", cls.CHANGE_HELP),
        ):
            levels = []
            for level, line in texts.items():
                label, text = line.split(": ", 1)
                levels.append(
                    {
                        "image": f"examples/{key}-{level}.webp",
                        "label": label,
                        "text": text,
                        "alt": cls.EXAMPLE_ALT[(key, level)],
                    }
                )
            rows.append({"title": title, "levels": levels})
        return rows


class Batch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return f"Batch of {self.created_at:%Y-%m-%d %H:%M}"


# A job's URLs differ only by its id: reversed once per process, then filled in. A card needs
# three, and a page 24 cards; reversing each cost about a third of rendering one.
URL_PLACEHOLDER = uuid.UUID(int=0)


@cache
def url_pattern(name: str, script_prefix: str) -> str:
    return reverse(name, args=[URL_PLACEHOLDER])


def job_url(name: str, pk: uuid.UUID) -> str:
    return url_pattern(name, get_script_prefix()).replace(str(URL_PLACEHOLDER), str(pk), 1)


def local_midnight(day: date) -> datetime:
    """The first moment of `day` in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


# What a job card shows, or decides what it shows (partials/job_card.html, enhancer/cards.py),
# besides its creator's name.
CARD_FIELDS = (
    "id",
    "team_id",
    "created_by_id",
    "status",
    "title",
    "original_name",
    "scale",
    "details",
    "modification",
    "made_for",
    "result_width",
    "result_height",
    "retry_note",
    "error_message",
    "created_at",
    "finished_at",
    "original",
    "thumbnail",
    "fit_message",
    "check_warnings",
    "checked_at",
    "approval",
)


class JobQuerySet(models.QuerySet["Job"]):
    def for_cards(self) -> JobQuerySet:
        """Only what a job card shows (partials/job_card.html): 24 full rows cost more to
        load than the page's queries. A card that shows another field must add it here, or
        each card pays a query of its own (tests/test_page_queries.py would notice)."""
        return self.select_related("created_by").only(*CARD_FIELDS, "created_by__username")

    def pending(self) -> JobQuerySet:
        return self.filter(status__in=Job.PENDING_STATUSES)

    def pending_or_checking(self) -> JobQuerySet:
        """Pending, or just succeeded with its automatic checks still to come: pages keep
        following these, so a check's warning appears without a reload."""
        return self.filter(
            models.Q(status__in=Job.PENDING_STATUSES)
            | models.Q(
                status=Job.Status.SUCCEEDED,
                checked_at__isnull=True,
                finished_at__gt=timezone.now() - CHECK_WAIT,
            )
        )

    def for_team(self, team: Team) -> JobQuerySet:
        return self.filter(team=team)

    def gallery(
        self,
        *,
        search: str = "",
        member=None,
        status: str = "",
        scale: int | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> JobQuerySet:
        """The gallery's filters; dates are whole days in the site's time zone."""
        jobs = self
        if search:
            jobs = jobs.filter(
                models.Q(title__icontains=search) | models.Q(original_name__icontains=search)
            )
        if member is not None:
            jobs = jobs.filter(created_by=member)
        if status:
            jobs = jobs.filter(status=status)
        if scale:
            jobs = jobs.filter(scale=scale)
        # Whole local days as ranges of created_at, which its indexes serve (a __date lookup
        # converts every row's time first).
        if date_from:
            jobs = jobs.filter(created_at__gte=local_midnight(date_from))
        if date_to:
            jobs = jobs.filter(created_at__lt=local_midnight(date_to + timedelta(days=1)))
        return jobs.order_by("-created_at", "-pk")


class JobManager(models.Manager.from_queryset(JobQuerySet)):  # type: ignore[misc]
    """The jobs people made. The tiles of a large image are jobs too (each is one artwork at
    the API, sent, retried and followed like any job), but they belong to their image's job and
    never appear on their own: pages, counts and the admin see only these."""

    def get_queryset(self) -> JobQuerySet:
        return super().get_queryset().filter(parent__isnull=True)


@dataclass(frozen=True)
class NearVersions:
    """A job among its versions (Job.versions_near)."""

    jobs: list[Job]
    more_before: bool
    more_after: bool


class Job(models.Model):
    class Status(models.TextChoices):
        PREPARING = "preparing", "Checking"
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Sending"
        STARTING = "starting", "Starting"
        PROCESSING = "processing", "Working"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    PENDING_STATUSES = (
        Status.PREPARING,
        Status.QUEUED,
        Status.SUBMITTING,
        Status.STARTING,
        Status.PROCESSING,
    )
    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Every index below on the team leads with it, so the foreign key needs none of its own.
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="jobs", db_index=False)
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    title = models.CharField(max_length=120, blank=True)
    original_name = models.CharField(max_length=255)
    # Indexed with the team and with the provider (Meta), not alone.
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)

    # What was asked for, in the API's terms.
    scale = models.PositiveSmallIntegerField(choices=Settings.SCALE_CHOICES, default=2)
    details = models.PositiveSmallIntegerField(choices=Settings.DETAIL_CHOICES, default=2)
    modification = models.PositiveSmallIntegerField(choices=Settings.CHANGE_CHOICES, default=2)
    output_format = models.CharField(max_length=4, choices=Settings.FORMAT_CHOICES, default="webp")
    seed = models.PositiveIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=10, choices=Team.Provider.choices)

    # Where the image comes from when it was given as an address (fetched by a worker).
    source_url = models.URLField(max_length=2000, blank=True)
    # Shrink an image over the API's area limit to fit it, as one artwork, instead of sending it
    # whole in tiles (the default).
    fit_to_limit = models.BooleanField(default=False)

    # Our copies of the files: the cloud deletes its own after 8 days. Until the job is
    # prepared, `original` is the file as uploaded (empty for an image URL not yet fetched).
    original = models.FileField(upload_to="originals/", max_length=255, blank=True)
    original_width = models.PositiveIntegerField()
    original_height = models.PositiveIntegerField()
    original_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    fit_message = models.CharField(max_length=255, blank=True)
    result = models.FileField(upload_to="results/", max_length=255, blank=True)
    result_width = models.PositiveIntegerField(null=True, blank=True)
    result_height = models.PositiveIntegerField(null=True, blank=True)
    result_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    thumbnail = models.FileField(upload_to="thumbnails/", max_length=255, blank=True)
    # Run again makes a new version of the same original: it shares the stored file (same
    # `original` name) and remembers the job it was started from.
    run_again_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs_again"
    )

    # Talking to the API.
    # Never looked up by value (a webhook finds its job by the job's own token): no index.
    upstream_id = models.CharField(max_length=64, blank=True)
    webhook_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Submission attempts.")
    # True from just before `create` until the API's answer is known: after a timeout or a
    # worker that died mid-call, the next attempt first looks for the artwork it may have made.
    create_in_doubt = models.BooleanField(default=False, editable=False)
    polls = models.PositiveIntegerField(default=0)
    retry_note = models.CharField(
        max_length=255, blank=True, help_text="Why the job is waiting to retry, in plain words."
    )
    error_message = models.TextField(blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds of processing.")

    # Provenance (see enhancer/provenance/): fingerprints of the files, the engine that ran.
    upload_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the file as uploaded, before conversion."
    )
    original_sha256 = models.CharField(max_length=64, blank=True)
    result_sha256 = models.CharField(max_length=64, blank=True)
    engine_version = models.CharField(max_length=200, blank=True)
    # Whether the stored result carries signed Content Credentials (C2PA), and if not, why.
    has_credentials = models.BooleanField(default=False)
    credentials_note = models.CharField(max_length=255, blank=True)

    # The latest client verdict on a share link asking for approval ("", approved, changes).
    approval = models.CharField(max_length=10, blank=True)

    # Automatic result checks (enhancer/result_checks.py), run by a worker after success.
    checked_at = models.DateTimeField(null=True, blank=True)
    check_figures = models.JSONField(default=dict, blank=True)
    check_warnings = models.JSONField(default=list, blank=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # When the job left our own queue: its maximum age counts from here, not from created_at,
    # so a long batch waiting its turn never ages out.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When retention deleted the job's result or original (the record itself stays).
    files_deleted_at = models.DateTimeField(null=True, blank=True)

    # Tiles (see enhancer/tiling/): a job for an image over the API's area limit is split into
    # tile jobs, one artwork each; the job itself is never sent and joins their results.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="tiles"
    )
    tile_index = models.PositiveSmallIntegerField(null=True, blank=True)
    # A tile's place in its parent's stored original, in input pixels (overlaps included).
    tile_left = models.PositiveIntegerField(null=True, blank=True)
    tile_top = models.PositiveIntegerField(null=True, blank=True)
    # How many tiles this job is sent as (0: sent whole, as one artwork).
    tile_count = models.PositiveSmallIntegerField(default=0)
    # "Made for" (enhancer/tiling/sizes.py TARGETS; "" = any use) and the size it delivers.
    made_for = models.CharField(max_length=10, blank=True)
    final_width = models.PositiveIntegerField(null=True, blank=True)
    final_height = models.PositiveIntegerField(null=True, blank=True)

    objects = JobManager()
    # Every job, tiles included: for the machinery that sends and follows artworks.
    all_objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["team", "-created_at"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["team", "updated_at"]),
            models.Index(fields=["status", "provider", "created_at"]),
            # A stored original's versions, and a tile's earlier runs. With the parent, the
            # gallery counts its cards (tiles aside) from the index alone.
            models.Index(fields=["team", "original", "parent"], name="job_versions"),
            # A file's other versions in the team (provenance.records.versions, the job page).
            models.Index(fields=["team", "original_sha256"]),
            # Results whose automatic checks are still to come: a handful at any time, which
            # every poll looks for (enhancer/polling.py) and no other index finds quickly.
            models.Index(
                fields=["team", "finished_at"],
                condition=models.Q(status="succeeded", checked_at__isnull=True),
                name="job_awaiting_check",
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return self.title or self.original_name

    @cached_property
    def detail_url(self) -> str:
        return job_url("job_detail", self.pk)

    @property
    def thumbnail_url(self) -> str:
        return job_url("job_thumbnail", self.pk)

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING_STATUSES

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def is_tiled(self) -> bool:
        return self.tile_count > 0

    @property
    def made_for_display(self) -> str:
        from enhancer.tiling.sizes import TARGETS

        target = TARGETS.get(self.made_for)
        return target.label if target else ""

    # Share links of a job (not of a batch) may ask the client for approval.
    can_ask_approval = True

    @property
    def approval_display(self) -> str:
        return {"approved": "Approved", "changes": "Changes requested"}.get(self.approval, "")

    @property
    def awaiting_check(self) -> bool:
        return (
            self.status == self.Status.SUCCEEDED
            and self.checked_at is None
            and self.finished_at is not None
            and timezone.now() - self.finished_at < CHECK_WAIT
        )

    @property
    def started_waiting_at(self):
        """Where the job's maximum age counts from: when it left our own queue."""
        return self.dispatched_at or self.submitted_at or self.created_at

    @property
    def target_width(self) -> int:
        return self.final_width or self.original_width * self.scale

    @property
    def target_height(self) -> int:
        return self.final_height or self.original_height * self.scale

    @property
    def settings_in_words(self) -> str:
        enlarge = "Same size" if self.scale == 1 else f"Enlarge {self.scale}x"
        made_for = f" · Made for: {self.made_for_display}" if self.made_for else ""
        return (
            f"{enlarge}{made_for} · Detail: {self.get_details_display()} · "
            f"Change: {self.get_modification_display()}"
        )

    @property
    def elapsed_seconds(self) -> float:
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.created_at).total_seconds())

    def versions(self) -> JobQuerySet:
        """Every job of the team made from the same stored original, this one included."""
        return Job.objects.filter(team_id=self.team_id, original=self.original.name).order_by(
            "created_at", "pk"
        )

    def versions_near(self, each_side: int) -> NearVersions:
        """This job and up to `each_side` of its versions on either side, oldest first, and
        whether more lie beyond: a photo run again five hundred times still makes a page of
        a few rows (two probes of the (team, original) index)."""
        same, at = self.versions(), self.created_at
        older = models.Q(created_at__lt=at) | models.Q(created_at=at, pk__lt=self.pk)
        newer = models.Q(created_at__gt=at) | models.Q(created_at=at, pk__gt=self.pk)
        before = list(same.filter(older).order_by("-created_at", "-pk")[: each_side + 1])
        after = list(same.filter(newer)[: each_side + 1])
        return NearVersions(
            jobs=[*reversed(before[:each_side]), self, *after[:each_side]],
            more_before=len(before) > each_side,
            more_after=len(after) > each_side,
        )

    def original_shared(self) -> bool:
        """Whether another job still uses this job's stored original."""
        return (
            Job.all_objects.filter(original=self.original.name).exclude(pk=self.pk).exists()
            if self.original
            else False
        )

    def result_download_name(self) -> str:
        stem = PurePath(self.original_name).stem or "image"
        suffix = PurePath(self.result.name).suffix if self.result else f".{self.output_format}"
        return f"{stem}-{self.scale}x{suffix}"

    def advance(self, to: str, *, allowed_from: tuple[str, ...], **fields) -> bool:
        """Move to `to` only from one of `allowed_from`, as one conditional UPDATE.

        Returns whether this call made the change. `updated_at` moves with it, which is how
        the dashboard's poll finds the cards that changed.
        """
        fields["updated_at"] = timezone.now()
        if to in self.FINAL_STATUSES:
            fields.setdefault("finished_at", timezone.now())
        changed = Job.all_objects.filter(pk=self.pk, status__in=allowed_from).update(
            status=to, **fields
        )
        if changed:
            self.status = to
            for name, value in fields.items():
                setattr(self, name, value)
            if to in (self.Status.SUCCEEDED, self.Status.FAILED):
                # The usage roll-up counts how the sent work went (imported here: the ledger's
                # module imports this one).
                from enhancer.models.ledger import ApiJob

                ApiJob.record_outcome(self.pk)
            if self.parent_id and to in self.FINAL_STATUSES:
                # Every way a tile ends comes through here: its image's job follows.
                from enhancer.tiling.jobs import tile_settled

                parent_id = self.parent_id
                transaction.on_commit(lambda: tile_settled(parent_id))
        return bool(changed)

    def touch(self, **fields) -> None:
        """Update bookkeeping fields (no status change) and mark the card as changed."""
        fields["updated_at"] = timezone.now()
        Job.all_objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)


class WebhookEvent(models.Model):
    """One row per (job, reported status): a duplicate delivery is recognised and ignored."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="webhook_events")
    status = models.CharField(max_length=12)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "status"], name="one_event_per_job_status")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.status}"


class Preferences(models.Model):
    """What a person chose last time on the New enhancement form."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="detailer_preferences"
    )
    enhance_defaults = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"
