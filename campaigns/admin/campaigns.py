"""Campaigns, their disposition catalogue and fit rules."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.html import format_html_join

from campaigns.admin.base import (
    KeepsHistory,
    ListAtScale,
    ScopedToCampaigns,
    changelist_url,
    formset_changes,
    formset_saved,
    take_over,
)
from campaigns.admin.callers import CallerApprovalInline, approvals_save
from campaigns.admin.calling import CallingPolicyInline, calling_policy_formset_save
from campaigns.imports.models import FitRule
from campaigns.imports.services import FIT_RULE_FIELDS
from campaigns.models import (
    CallerApproval,
    CallingPolicy,
    Campaign,
    Customer,
    Disposition,
    Lead,
)
from campaigns.services import (
    campaign_create,
    campaign_update,
    disposition_create,
    disposition_update,
)

# --- campaigns ------------------------------------------------------------------------------------


DISPOSITION_FIELDS = ("code", "label", "effect", "block_days", "is_active", "sort_order")


class DispositionInline(admin.TabularInline):
    model = Disposition
    extra = 0
    can_delete = False
    fields = ("sort_order", "code", "label", "effect", "block_days", "is_active")
    ordering = ("sort_order", "label")
    verbose_name_plural = "Disposition catalogue (each disposition's effect on the lead is its 'effect')"


class FitRuleInline(admin.TabularInline):
    """The campaign's ideal customer profile, read here: a rule is added or changed on its own page
    (``FitRuleAdmin``), which shows what the change will do before it is saved. Switch a rule off rather than
    delete it (it is evidence)."""

    model = FitRule
    extra = 0
    fields = FIT_RULE_FIELDS
    readonly_fields = FIT_RULE_FIELDS
    can_delete = False
    show_change_link = True
    verbose_name_plural = (
        "Fit rules (add or change one on its own page, under Lead import, Fit rules: it shows which leads "
        "leave or come back before anything is saved)"
    )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _dispositions_save(formset, *, campaign: Campaign, actor) -> None:
    added, changed = formset_changes(formset)
    new = [
        disposition_create(
            campaign=campaign, **{name: f.cleaned_data[name] for name in DISPOSITION_FIELDS}, actor=actor
        )
        for f in added
    ]
    for f in changed:
        disposition_update(
            disposition=f.instance, **{name: f.cleaned_data[name] for name in DISPOSITION_FIELDS}, actor=actor
        )
    formset_saved(formset, new=new, changed=[(f.instance, f) for f in changed])


def in_force_callers() -> Subquery:
    """Return, for a campaign row, how many callers are approved for it now: one indexed count per row shown
    (``caller_approval_campaign``), no join or GROUP BY on the list's own query."""
    return Coalesce(
        Subquery(
            CallerApproval.objects.in_force()
            .filter(campaign_id=OuterRef("pk"))
            .order_by()
            .values("campaign_id")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


@admin.register(Campaign)
class CampaignAdmin(ScopedToCampaigns, ListAtScale, KeepsHistory, admin.ModelAdmin):
    list_display = ("name", "customer", "status", "callers", "cooldown_hours", "attempt_cap", "created_at")
    list_filter = ("status", "customer")
    list_select_related = ("customer",)
    search_fields = ("name", "customer__name")
    autocomplete_fields = ("customer",)
    readonly_fields = ("leads_by_status",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(callers_in_force=in_force_callers())

    @admin.display(description="Callers", ordering="callers_in_force")
    def callers(self, obj: Campaign) -> int:
        return obj.callers_in_force

    def get_fields(self, request, obj=None):
        fields = ["customer", "name", "status", "cooldown_hours", "attempt_cap"]
        return [*fields, "leads_by_status"] if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        # A campaign never moves to another customer: its leads, blocks and calls belong to that one.
        return ("customer", "leads_by_status") if obj is not None else ()

    def get_inlines(self, request, obj):
        # A new campaign gets the default disposition catalogue from campaign_create; edit it afterwards.
        return [CallerApprovalInline, DispositionInline, CallingPolicyInline, FitRuleInline] if obj is not None else []

    def save_formset(self, request, form, formset, change):
        """Save the disposition catalogue and the fit rules through their services, never the formset itself."""
        if formset.model is Disposition:
            _dispositions_save(formset, campaign=form.instance, actor=request.user)
        elif formset.model is CallerApproval:
            approvals_save(formset, campaign=form.instance, actor=request.user)
        elif formset.model is CallingPolicy:
            calling_policy_formset_save(formset, campaign=form.instance, actor=request.user)
        elif formset.model is FitRule:
            # Read-only here: a fit rule changes on its own page, after its preview (``FitRuleAdmin``).
            formset_saved(formset, new=[], changed=[])
        else:
            raise ImproperlyConfigured(f"No service saves the {formset.model._meta.verbose_name} inline.")

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "subtitle": "The default disposition catalogue (No answer, Busy, … Meeting booked) is created with "
            "the campaign; edit it on the campaign's page afterwards.",
        }
        return super().add_view(request, form_url, extra_context)

    @admin.display(description="Leads")
    def leads_by_status(self, obj: Campaign) -> str:
        counts = dict(Lead.objects.filter(campaign=obj).values_list("status").annotate(n=Count("pk")))
        if not counts:
            return "No leads yet."
        return format_html_join(
            ", ",
            '<a href="{}">{} {}</a>',
            (
                (changelist_url(Lead, campaign__id__exact=obj.pk, status__exact=status), n, label)
                for status, label in Lead._meta.get_field("status").choices
                if (n := counts.get(status))
            ),
        )

    def save_model(self, request, obj, form, change):
        if change:
            campaign_update(
                campaign=obj,
                name=obj.name,
                status=obj.status,
                cooldown_hours=obj.cooldown_hours,
                attempt_cap=obj.attempt_cap,
                actor=request.user,
            )
            return
        campaign = campaign_create(
            customer=obj.customer,
            name=obj.name,
            status=obj.status,
            cooldown_hours=obj.cooldown_hours,
            attempt_cap=obj.attempt_cap,
        )
        take_over(obj, campaign)


@admin.register(Disposition)
class DispositionAdmin(ScopedToCampaigns, ListAtScale, KeepsHistory, admin.ModelAdmin):
    list_display = ("label", "code", "effect", "campaign", "customer", "is_active", "sort_order")
    list_filter = ("effect", "is_active", "campaign__customer")
    list_select_related = ("campaign__customer",)
    search_fields = ("label", "code", "campaign__name")
    autocomplete_fields = ("campaign",)
    fields = ("campaign", *DISPOSITION_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        # A disposition stays in its campaign's catalogue: the calls that recorded it are that campaign's.
        return ("campaign",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in DISPOSITION_FIELDS}
        if change:
            disposition_update(disposition=obj, **fields, actor=request.user)
            return
        take_over(obj, disposition_create(campaign=form.cleaned_data["campaign"], **fields, actor=request.user))

    @admin.display(description="Customer", ordering="campaign__customer__name")
    def customer(self, obj: Disposition) -> Customer:
        return obj.campaign.customer
