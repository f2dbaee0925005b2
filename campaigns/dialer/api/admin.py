"""API keys in the admin: created (the full key is shown once), listed by prefix, revoked — never deleted.

Django autodiscovers only ``campaigns/admin/`` (its ``__init__``), which imports this module.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns.models import ApiKey
from campaigns.services.api_keys import api_key_create, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "customer", "created_by", "created_at", "revoked_at")
    list_filter = (("customer", admin.RelatedOnlyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("customer", "created_by")
    search_fields = ("name", "prefix")
    fields = ("name", "customer", "prefix", "created_by", "created_at", "revoked_at", "revoked_by")
    readonly_fields = ("prefix", "created_by", "created_at", "revoked_at", "revoked_by")
    actions = ["revoke_selected"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None):
        # Whose key it is is decided once, when it is made.
        return (*self.readonly_fields, "customer") if obj is not None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        api_key, key = api_key_create(name=obj.name, customer=obj.customer, actor=request.user)
        obj.pk = api_key.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            f"The API key for '{api_key.name}' is shown only this once; copy it now: {key}",
        )

    @admin.action(description="Revoke the selected API keys", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key, actor=request.user)
            self.log_change(request, api_key, "Revoked")
            revoked += 1
        self.message_user(request, f"Revoked {revoked} API key(s); requests with them now get 401.")
