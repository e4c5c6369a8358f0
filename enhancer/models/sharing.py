"""Public share links: a job's or a batch's results, for people outside the team.

The link's token is looked up by its hash. The token itself is also kept, encrypted like the
API keys, because the team wants to copy a link again from the job page; a database copy alone
still opens nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from enhancer.crypto import EncryptedTextField
from enhancer.models.jobs import Batch, Job
from enhancer.models.teams import Team
from enhancer.tokens import hash_token, new_token


class ShareLinkQuerySet(models.QuerySet["ShareLink"]):
    def active(self) -> ShareLinkQuerySet:
        return (
            self.filter(revoked_at__isnull=True)
            .filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now()))
            .select_related("created_by")
        )


class ShareLink(models.Model):
    EXPIRY_CHOICES = [
        ("", "Never"),
        ("1", "After 1 day"),
        ("7", "After 7 days"),
        ("30", "After 30 days"),
    ]

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="share_links")
    # Exactly one of the two; deleting the job or batch deletes its links.
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links"
    )
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links"
    )
    token = EncryptedTextField(editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Client approval (issue 22): the person opening the link may approve or ask for changes,
    # once; the team can reopen it. The latest verdict is copied onto the job for its card.
    class Verdict(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES = "changes", "Changes requested"

    ask_approval = models.BooleanField(default=False)
    verdict = models.CharField(max_length=10, choices=Verdict.choices, blank=True)
    verdict_comment = models.TextField(blank=True)
    verdict_name = models.CharField(max_length=80, blank=True)
    verdict_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(job__isnull=False, batch__isnull=True)
                | models.Q(job__isnull=True, batch__isnull=False),
                name="share_link_has_job_or_batch",
            )
        ]

    def __str__(self) -> str:
        return f"Share link of {self.job or self.batch}"

    @classmethod
    def create(
        cls,
        *,
        created_by,
        job: Job | None = None,
        batch: Batch | None = None,
        expires_in_days: int | None = None,
    ) -> ShareLink:
        owner = job or batch
        token = new_token()
        return cls.objects.create(
            team_id=owner.team_id,
            job=job,
            batch=batch,
            token=token,
            token_hash=hash_token(token),
            created_by=created_by,
            expires_at=(
                timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
            ),
        )

    @classmethod
    def find(cls, token: str) -> ShareLink | None:
        """The active link for a token, or None however it is unusable."""
        if not token or len(token) > 100:
            return None
        return cls.objects.active().filter(token_hash=hash_token(token)).first()

    @classmethod
    def find_inactive(cls, token: str) -> ShareLink | None:
        """The revoked or expired link for a token (to say so), or None."""
        if not token or len(token) > 100:
            return None
        link = cls.objects.filter(token_hash=hash_token(token)).first()
        return link if link is not None and not link.is_active else None

    @property
    def path(self) -> str:
        return reverse("share_page", args=[self.token])

    @property
    def url(self) -> str:
        return settings.SITE_URL + self.path

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    def revoke(self, user) -> bool:
        changed = ShareLink.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=user
        )
        return bool(changed)

    def give_verdict(self, verdict: str, comment: str, name: str) -> bool:
        """Record the client's verdict, once: a conditional UPDATE, so two clicks (or two
        people) cannot both answer. Returns whether this call recorded it."""
        now = timezone.now()
        changed = ShareLink.objects.filter(pk=self.pk, ask_approval=True, verdict="").update(
            verdict=verdict, verdict_comment=comment, verdict_name=name, verdict_at=now
        )
        if changed:
            self.verdict, self.verdict_comment, self.verdict_name = verdict, comment, name
            self.verdict_at = now
            if self.job_id:
                Job.objects.filter(pk=self.job_id).update(approval=verdict, updated_at=now)
        return bool(changed)

    def reopen(self) -> bool:
        changed = ShareLink.objects.filter(pk=self.pk, ask_approval=True).exclude(verdict="")
        if not changed.update(verdict="", verdict_comment="", verdict_name="", verdict_at=None):
            return False
        self.verdict = ""
        if self.job_id:
            Job.objects.filter(pk=self.job_id).update(approval="", updated_at=timezone.now())
        return True

    def shared_jobs(self) -> models.QuerySet[Job]:
        """What the public may see: only finished results, only of this job or batch."""
        jobs = Job.objects.filter(status=Job.Status.SUCCEEDED)
        if self.job_id:
            return jobs.filter(pk=self.job_id)
        return jobs.filter(batch_id=self.batch_id).order_by("created_at")
