"""Calls and meetings: recorded by the dialer services, shown here."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from campaigns.admin.base import (
    KeepsHistory,
    ListAtScale,
    ScopedToCampaigns,
)
from campaigns.models import (
    Call,
    Contact,
    Meeting,
)

# --- calls and meetings ---------------------------------------------------------------------------


class RecordedByServices(KeepsHistory):
    """Calls and meetings are recorded by the dialer's services; the admin shows them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(ScopedToCampaigns, ListAtScale, RecordedByServices, admin.ModelAdmin):
    list_display = ("id", "created_at", "lead", "contact", "caller", "phone", "disposition", "callback_at")
    list_filter = ("disposition__effect", "caller")
    list_select_related = ("lead__contact", "caller", "phone", "disposition")
    search_fields = ("^caller__username", "^lead__contact__last_name", "=phone__e164")
    search_help_text = "Caller username, contact last name, E.164 number, or a call id."

    @admin.display(description="Contact")
    def contact(self, obj: Call) -> Contact:
        return obj.lead.contact


@admin.register(Meeting)
class MeetingAdmin(ScopedToCampaigns, ListAtScale, RecordedByServices, admin.ModelAdmin):
    list_display = ("id", "lead", "contact", "scheduled_for", "outcome", "outcome_set_at", "outcome_set_by")
    list_filter = ("outcome",)
    list_select_related = ("lead__contact", "outcome_set_by")
    search_fields = ("^lead__contact__last_name",)

    @admin.display(description="Contact")
    def contact(self, obj: Meeting) -> Contact:
        return obj.lead.contact
