"""Engine keys and artworks in Django admin. A key's plaintext is shown once, when created."""

from __future__ import annotations

from django.contrib import admin, messages

from enhancer.engine.models import Artwork, EngineKey


@admin.register(EngineKey)
class EngineKeyAdmin(admin.ModelAdmin):
    list_display = ["label", "hint", "is_active", "max_in_flight", "created_at", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["label", "hint"]
    readonly_fields = ["hint", "created_at", "last_used_at"]
    fields = ["label", "is_active", "max_in_flight", "hint", "created_at", "last_used_at"]

    def save_model(self, request, obj: EngineKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        raw_key = obj.issue()
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            f"The new key is {raw_key} — copy it now: it is stored only as a hash and will "
            "never be shown again.",
        )


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = ["id", "key", "status", "duration", "created_at", "webhook_attempts"]
    list_filter = ["status", "key"]
    search_fields = ["id"]
    list_select_related = ["key"]
    date_hierarchy = "created_at"
    # Everything but the encrypted webhook URL: parameters show it masked.
    readonly_fields = [f.name for f in Artwork._meta.fields if f.name != "webhook_url"]
    exclude = ["webhook_url"]

    def has_add_permission(self, request) -> bool:
        return False
