"""Django admin for site administrators."""

from __future__ import annotations

from django.contrib import admin

from enhancer.models import Batch, Job, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "joined_at"]
    readonly_fields = ["joined_at"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "created_by", "created_at"]
    search_fields = ["name", "memberships__user__username", "memberships__user__email"]
    list_filter = ["created_at"]
    list_select_related = ["created_by"]
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]

    @admin.display(description="Members")
    def member_count(self, team: Team) -> int:
        return team.memberships.count()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "joined_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__email", "team__name"]
    list_select_related = ["user", "team"]
    autocomplete_fields = ["user", "team"]


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

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "created_by", "created_at"]
    list_filter = ["team"]
    list_select_related = ["team", "created_by"]
    readonly_fields = ["id", "team", "created_by", "created_at"]
