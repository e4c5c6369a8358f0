"""Django admin for site administrators.

Secrets are write-only here as everywhere: the Team form has fields to replace or remove the API
key and webhook secret, never one that shows them. Job state belongs to the workers, so it is
read-only, with actions that go through the same transitions as the product. Security-relevant
changes made here are written to the audit log like those made on the team pages.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from enhancer.models import (
    ApiJob,
    AuditEvent,
    Batch,
    Invitation,
    Job,
    Membership,
    Preferences,
    SettingsPreview,
    ShareLink,
    Team,
    UsageMonth,
    WebhookEvent,
    WorkerHeartbeat,
)
from enhancer.submissions import resubmit
from enhancer.tasks import FOLLOW_PRIORITY, check_job, enqueue_for, room_freed
from enhancer.team_forms import SecretInput
from enhancer.tiling.jobs import cancel_tiles

KEEP = "Leave empty to keep what is saved."


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the product (or the audit log): to be looked at, never edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# --- Teams ------------------------------------------------------------------------------------


class TeamAdminForm(forms.ModelForm):
    api_base_url = forms.URLField(
        label="API address",
        required=False,
        assume_scheme="https",
        help_text="Leave empty for the default cloud address (DETAILER_API_URL).",
    )
    new_api_key = forms.CharField(
        label="New API key", required=False, widget=SecretInput(), help_text=KEEP
    )
    remove_api_key = forms.BooleanField(label="Remove the API key", required=False)
    new_webhook_secret = forms.CharField(
        label="New webhook secret", required=False, widget=SecretInput(), help_text=KEEP
    )
    remove_webhook_secret = forms.BooleanField(label="Remove the webhook secret", required=False)

    class Meta:
        model = Team
        # Not the encrypted fields: as model fields they would put the plaintext in the form.
        fields = [
            "name",
            "created_by",
            "provider",
            "api_base_url",
            "api_key_invalid_at",
            "monthly_job_limit",
            "member_monthly_job_limit",
        ]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "joined_at"]
    readonly_fields = ["joined_at"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ["name", "provider", "key_status", "member_count", "created_by", "created_at"]
    search_fields = ["name", "memberships__user__username", "memberships__user__email"]
    list_filter = ["provider", "created_at"]
    list_select_related = ["created_by"]
    readonly_fields = ["saved_key", "saved_webhook_secret", "created_at"]
    autocomplete_fields = ["created_by"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["name", "created_by", "created_at"]}),
        ("Engine", {"fields": ["provider", "api_base_url"]}),
        (
            "Secrets (write-only)",
            {
                "fields": [
                    "saved_key",
                    "new_api_key",
                    "remove_api_key",
                    "api_key_invalid_at",
                    "saved_webhook_secret",
                    "new_webhook_secret",
                    "remove_webhook_secret",
                ]
            },
        ),
        ("Monthly limits", {"fields": ["monthly_job_limit", "member_monthly_job_limit"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_total=Count("memberships"))

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, team: Team) -> int:
        return team.member_total

    @admin.display(description="API key")
    def key_status(self, team: Team) -> str:
        if not team.api_key_hint:
            return "—"
        return (
            f"{team.api_key_masked} (refused)" if team.api_key_invalid_at else team.api_key_masked
        )

    @admin.display(description="Saved API key")
    def saved_key(self, team: Team) -> str:
        return team.api_key_masked or "None"

    @admin.display(description="Saved webhook secret")
    def saved_webhook_secret(self, team: Team) -> str:
        return "Saved (hidden)" if team.webhook_secret else "None"

    def save_model(self, request: HttpRequest, team: Team, form, change: bool) -> None:
        data = form.cleaned_data
        actor, log = request.user, []
        if data["remove_api_key"] and team.api_key:
            log.append((AuditEvent.Action.KEY_REMOVED, team.api_key_masked))
            team.set_api_key("")
        elif data["new_api_key"].strip():
            team.set_api_key(data["new_api_key"].strip())
            log.append((AuditEvent.Action.KEY_SET, team.api_key_masked))
        if data["remove_webhook_secret"] and team.webhook_secret:
            team.webhook_secret = ""
            log.append((AuditEvent.Action.WEBHOOK_SECRET_REMOVED, ""))
        elif data["new_webhook_secret"].strip():
            team.webhook_secret = data["new_webhook_secret"].strip()
            log.append((AuditEvent.Action.WEBHOOK_SECRET_SET, ""))
        if change and "provider" in form.changed_data:
            log.append((AuditEvent.Action.PROVIDER_CHANGED, team.get_provider_display()))
        super().save_model(request, team, form, change)
        for action, detail in log:
            AuditEvent.record(team, actor, action, f"{detail} (in Django admin)".strip())

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        changed_roles = [
            f.instance for f in formset.forms if f.instance.pk and "role" in f.changed_data
        ]
        super().save_formset(request, form, formset, change)
        team = form.instance
        for membership in formset.new_objects:
            log_membership(request, team, AuditEvent.Action.MEMBER_ADDED, membership)
        for membership in changed_roles:
            log_membership(request, team, AuditEvent.Action.ROLE_CHANGED, membership)
        for membership in formset.deleted_objects:
            log_membership(request, team, AuditEvent.Action.MEMBER_REMOVED, membership)


def log_membership(request: HttpRequest, team: Team, action: str, membership: Membership) -> None:
    detail = f"{membership.user.get_username()} as {membership.get_role_display()}"
    AuditEvent.record(team, request.user, action, f"{detail} (in Django admin)")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "joined_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__email", "team__name"]
    list_select_related = ["user", "team"]
    autocomplete_fields = ["user", "team"]

    def save_model(self, request: HttpRequest, obj: Membership, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            log_membership(request, obj.team, AuditEvent.Action.MEMBER_ADDED, obj)
        elif "role" in form.changed_data:
            log_membership(request, obj.team, AuditEvent.Action.ROLE_CHANGED, obj)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        log_membership(request, obj.team, AuditEvent.Action.MEMBER_REMOVED, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("user", "team"):
            log_membership(request, membership.team, AuditEvent.Action.MEMBER_REMOVED, membership)
        super().delete_queryset(request, queryset)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["team", "email", "role", "status", "created_by", "created_at", "expires_at"]
    list_filter = ["role", "team"]
    search_fields = ["email", "team__name", "created_by__username"]
    list_select_related = ["team", "created_by"]
    readonly_fields = [
        "team",
        "email",
        "role",
        "created_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]
    exclude = ["token_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invitations are made on the Team page, where the link is shown once

    @admin.action(description="Revoke the selected invitations")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        count = 0
        for invitation in queryset.select_related("team"):
            if invitation.revoke():
                count += 1
                AuditEvent.record(
                    invitation.team,
                    request.user,
                    AuditEvent.Action.INVITATION_REVOKED,
                    f"{invitation.email or 'A link'} (in Django admin)",
                )
        self.message_user(request, f"Revoked {count} invitation(s).")


# --- Jobs -------------------------------------------------------------------------------------


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "display_title",
        "team",
        "status",
        "scale",
        "provider",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "provider", "scale", "team"]
    search_fields = ["title", "original_name", "upstream_id", "team__name", "created_by__username"]
    list_select_related = ["team", "created_by"]
    date_hierarchy = "created_at"
    # The state is the workers' to change, through the conditional transitions only.
    readonly_fields = [
        field.name
        for field in Job._meta.get_fields()
        if getattr(field, "concrete", False) and field.name not in {"title"}
    ]
    actions = ["refresh_status", "retry", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Job, form, change: bool) -> None:
        # Only the title is editable; a full save could write back a status a worker has
        # moved on since the form was loaded.
        obj.save(update_fields=["title", "updated_at"])

    @admin.action(description="Refresh status from the API")
    def refresh_status(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        jobs = list(queryset.filter(status__in=Job.PENDING_STATUSES).exclude(upstream_id=""))
        for job in jobs:
            enqueue_for(job, check_job, priority=FOLLOW_PRIORITY)
        skipped = queryset.count() - len(jobs)
        note = f" {skipped} were skipped: finished, or not yet sent to the API." if skipped else ""
        self.message_user(request, f"Asked the API about {len(jobs)} job(s).{note}")

    @admin.action(description="Retry (as a new job)")
    def retry(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        # Statuses only move forward: a retry is a new job with the same settings and a copy
        # of the original; the old job stays as it was.
        ended = queryset.filter(status__in=(Job.Status.FAILED, Job.Status.CANCELED))
        new = [resubmit(job) for job in ended.select_related("team", "created_by")]
        skipped = queryset.count() - len(new)
        note = (
            f" {skipped} were skipped: only failed or canceled jobs are retried." if skipped else ""
        )
        self.message_user(
            request,
            f"Started {len(new)} new job(s) with the same settings and a copy of the original; "
            f"the old ones stay as they were.{note}",
            messages.SUCCESS if new else messages.WARNING,
        )

    @admin.action(description="Cancel")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        # A4: there is no cancel endpoint; we stop following the job and mark it canceled.
        message = f"Canceled by {request.user.get_username()} in Django admin."
        count = 0
        for job in queryset.filter(status__in=Job.PENDING_STATUSES):
            if job.advance(
                Job.Status.CANCELED,
                allowed_from=Job.PENDING_STATUSES,
                error_message=message,
                retry_note="",
            ):
                count += 1
                cancel_tiles(job, message)
        room_freed()
        self.message_user(request, f"Canceled {count} job(s); finished jobs were left alone.")


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "created_by", "created_at"]
    list_filter = ["team"]
    search_fields = ["id", "team__name", "created_by__username"]
    list_select_related = ["team", "created_by"]
    readonly_fields = ["id", "team", "created_by", "created_at"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["job", "status", "received_at"]
    list_filter = ["status"]
    search_fields = ["job__id", "job__title", "job__original_name"]
    list_select_related = ["job"]


@admin.register(SettingsPreview)
class SettingsPreviewAdmin(ReadOnlyAdmin):
    """Try settings grids: short-lived (the sweep deletes them after a day)."""

    list_display = ["id", "team", "created_by", "provider", "scale", "status", "created_at"]
    list_filter = ["status", "provider"]
    search_fields = ["id", "team__name", "created_by__username"]
    list_select_related = ["team", "created_by"]


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "enhance_defaults"]
    search_fields = ["user__username"]
    list_select_related = ["user"]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "team", "created_by", "created_at", "expires_at", "is_active"]
    list_filter = ["team", "created_at"]
    search_fields = ["team__name", "job__title", "job__original_name", "created_by__username"]
    list_select_related = ["team", "job", "batch", "created_by"]
    # The token opens the shared images: it is not shown here, not even to site admins.
    fields = ["team", "job", "batch", "created_by", "created_at", "expires_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(boolean=True, description="Active")
    def is_active(self, link: ShareLink) -> bool:
        return link.is_active

    @admin.action(description="Revoke the selected share links")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ShareLink]) -> None:
        count = 0
        for link in queryset.select_related("team", "job", "batch"):
            if link.revoke(request.user):
                count += 1
                AuditEvent.record(
                    link.team,
                    request.user,
                    AuditEvent.Action.SHARE_REVOKED,
                    f"{link} (in Django admin)",
                )
        self.message_user(request, f"Revoked {count} share link(s).")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "team_name", "actor_name", "action", "detail"]
    list_filter = ["action", "created_at"]
    search_fields = ["team_name", "actor_name", "detail"]
    list_select_related = ["team", "actor"]
    date_hierarchy = "created_at"


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    """Which task workers are alive (seen within the lease) and which queues they work."""

    list_display = ["worker_id", "queues", "hostname", "pid", "started_at", "last_seen"]
    search_fields = ["worker_id", "hostname", "queues"]
    list_select_related = True


@admin.register(ApiJob)
class ApiJobAdmin(ReadOnlyAdmin):
    """The ledger that monthly limits count: never edited, kept when jobs are deleted."""

    list_display = ["sent_at", "team", "created_by", "provider", "upstream_id", "scale", "job"]
    list_filter = ["provider", "sent_at"]
    search_fields = ["upstream_id", "team__name"]
    list_select_related = ["team", "created_by", "job"]
    date_hierarchy = "sent_at"


@admin.register(UsageMonth)
class UsageMonthAdmin(ReadOnlyAdmin):
    """The ledger's monthly roll-up, which the Usage page and the limits read."""

    list_display = ["month", "team", "member", "provider", "api_jobs", "succeeded", "failed"]
    list_filter = ["provider", "month"]
    search_fields = ["team__name", "member__username"]
    list_select_related = ["team", "member"]
