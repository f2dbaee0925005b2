"""API keys in the admin: created (the full key is shown once), listed by prefix, revoked — never deleted.

Django autodiscovers only ``campaigns/admin/`` (its ``__init__``), which imports this module.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns.models import ApiKey
from campaigns.services.api_keys import api_key_create, api_key_rename, api_keys_revoke


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
            api_key_rename(api_key=obj, name=obj.name, actor=request.user)
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
        revoked = api_keys_revoke(api_keys=queryset, actor=request.user)
        if revoked:
            LogEntry.objects.log_actions(
                user_id=request.user.pk,
                queryset=ApiKey.objects.filter(pk__in=revoked),
                action_flag=CHANGE,
                change_message="Revoked",
            )
        self.message_user(request, f"Revoked {len(revoked)} API key(s); requests with them now get 401.")
