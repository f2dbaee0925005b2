"""Calling rules in the back office: the maintained jurisdiction table (windows, caps, holidays) and each
campaign's calling policy (an inline of the campaign's page). Saved through ``campaigns.services.calling``."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from campaigns.admin.base import KeepsHistory, formset_changes, formset_saved
from campaigns.models import CallingPolicy, Jurisdiction, JurisdictionHoliday
from campaigns.selectors.calling import parse_hours
from campaigns.services.calling import (
    calling_policy_save,
    jurisdiction_delete,
    jurisdiction_holidays_save,
    jurisdiction_save,
)

POLICY_FIELDS = ("hours", "number_cap", "contact_cap", "account_cap", "consumer_rules_waived", "waiver_note")


class JurisdictionHolidayInline(admin.TabularInline):
    model = JurisdictionHoliday
    extra = 1
    fields = ("date", "name")
    verbose_name_plural = "Holidays (no calls on them when 'closed on holidays' is ticked)"


@admin.register(Jurisdiction)
class JurisdictionAdmin(KeepsHistory, admin.ModelAdmin):
    list_display = ("name", "code", "country", "opens_at", "closes_at", "calls_per_24h", "consumer_only", "is_active")
    list_filter = ("country", "consumer_only", "is_active")
    search_fields = ("name", "code", "prefixes")
    fields = (
        "code",
        "name",
        "country",
        "prefixes",
        "consumer_only",
        "opens_at",
        "closes_at",
        "closed_weekdays",
        "calls_per_24h",
        "closed_on_holidays",
        "is_active",
        "source",
    )
    inlines = [JurisdictionHolidayInline]

    def save_model(self, request, obj, form, change):
        jurisdiction_save(jurisdiction=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        """Save the holidays through the service, never the formset itself."""
        deleted = [f for f in formset.deleted_forms if f.instance.pk is not None]
        added, changed = formset_changes(formset)
        changed = [f for f in changed if f not in deleted]
        jurisdiction_holidays_save(
            jurisdiction=form.instance,
            saved=[f.instance for f in (*added, *changed)],
            deleted=[f.instance for f in deleted],
            actor=request.user,
        )
        formset_saved(formset, new=[f.instance for f in added], changed=[(f.instance, f) for f in changed])
        formset.deleted_objects = [f.instance for f in deleted]

    def delete_model(self, request, obj):
        jurisdiction_delete(jurisdiction=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for jurisdiction in queryset:
            jurisdiction_delete(jurisdiction=jurisdiction, actor=request.user)


class CallingPolicyForm(forms.ModelForm):
    class Meta:
        model = CallingPolicy
        fields = POLICY_FIELDS

    def clean_hours(self):
        hours = self.cleaned_data["hours"]
        try:
            parse_hours(hours)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return hours


class CallingPolicyInline(admin.StackedInline):
    """The campaign's calling policy; without one the default applies (8:00 to 21:00 every day, no caps)."""

    model = CallingPolicy
    form = CallingPolicyForm
    extra = 0
    max_num = 1
    can_delete = False
    fields = (*POLICY_FIELDS, "waived_by", "waived_at")
    readonly_fields = ("waived_by", "waived_at")
    verbose_name = "calling policy (local hours of the called party, caps in 24 hours)"
    verbose_name_plural = "Calling policy (none: 8:00 to 21:00 every day, the jurisdictions' rules, no caps of its own)"


def calling_policy_formset_save(formset, *, campaign, actor) -> None:
    """Save the inline's policy through the service (never the formset itself)."""
    for form in formset.forms:
        if not form.has_changed() or not form.is_valid():
            continue
        data = form.cleaned_data
        policy = calling_policy_save(campaign=campaign, **{name: data[name] for name in POLICY_FIELDS}, actor=actor)
        form.instance = policy
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
