"""The catalogues qualifying offers: each customer's projects and lost reasons, each campaign's consideration
stages. Ops keep them (model permissions; callers hold none); nothing is deleted, a row is switched off.

A row never moves to another customer or campaign (its opportunities are that one's): the owner is a disabled
field on the change form, so the form still checks the name against the owner's other rows, and the service
refuses it again with its own message.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from campaigns.admin.base import KeepsHistory, ListAtScale, take_over
from campaigns.models import ConsiderationStage, LostReason, Project
from campaigns.services.catalogues import (
    consideration_stage_create,
    consideration_stage_update,
    lost_reason_create,
    lost_reason_update,
    project_campaigns_checked,
    project_create,
    project_update,
)
from leadops.errors import LeadopsError


class OwnerFixed:
    """The owner (``owner_field``) is chosen on the add page and shown, disabled, on the change page."""

    owner_field: str

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            form.base_fields[self.owner_field].disabled = True
        return form


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["customer", "name", "campaigns", "is_active"]

    def clean(self):
        cleaned = super().clean()
        customer, campaigns = cleaned.get("customer"), cleaned.get("campaigns")
        if customer is not None and campaigns:
            try:
                project_campaigns_checked(customer=customer, campaigns=list(campaigns))
            except LeadopsError as exc:
                self.add_error(exc.field, exc.message)
        return cleaned


@admin.register(Project)
class ProjectAdmin(OwnerFixed, ListAtScale, KeepsHistory, admin.ModelAdmin):
    form = ProjectForm
    owner_field = "customer"
    list_display = ("name", "customer", "offered_in", "is_active", "created_at")
    list_filter = ("is_active", "customer")
    list_select_related = ("customer",)
    search_fields = ("name", "customer__name")
    autocomplete_fields = ("customer", "campaigns")
    fields = ("customer", "name", "campaigns", "is_active")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("campaigns")

    @admin.display(description="Offered in")
    def offered_in(self, obj: Project) -> str:
        return ", ".join(c.name for c in obj.campaigns.all()) or "Every campaign"

    def save_model(self, request, obj, form, change):
        # The campaigns are saved with the project by the service, never by ``save_related``'s ``save_m2m``.
        campaigns = list(form.cleaned_data["campaigns"])
        name = form.cleaned_data["name"]
        if change:
            project_update(
                project=obj,
                name=name,
                campaigns=campaigns,
                is_active=form.cleaned_data["is_active"],
                actor=request.user,
            )
            return
        project = project_create(
            customer=form.cleaned_data["customer"],
            name=name,
            campaigns=campaigns,
            is_active=form.cleaned_data["is_active"],
            actor=request.user,
        )
        take_over(obj, project)

    def save_related(self, request, form, formsets, change):
        """Save nothing more: ``save_model``'s service set the campaigns (the form's ``save_m2m`` would set them
        a second time, outside the service), and there are no inlines."""


LOST_REASON_FIELDS = ("label", "needs_note", "is_active", "sort_order")


@admin.register(LostReason)
class LostReasonAdmin(OwnerFixed, ListAtScale, KeepsHistory, admin.ModelAdmin):
    owner_field = "customer"
    list_display = ("label", "customer", "needs_note", "is_active", "sort_order")
    list_filter = ("is_active", "needs_note", "customer")
    list_select_related = ("customer",)
    search_fields = ("label", "customer__name")
    autocomplete_fields = ("customer",)
    fields = ("customer", *LOST_REASON_FIELDS)

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in LOST_REASON_FIELDS}
        if change:
            lost_reason_update(lost_reason=obj, **values, actor=request.user)
            return
        take_over(obj, lost_reason_create(customer=form.cleaned_data["customer"], **values, actor=request.user))


STAGE_FIELDS = ("label", "is_active", "sort_order")


@admin.register(ConsiderationStage)
class ConsiderationStageAdmin(OwnerFixed, ListAtScale, KeepsHistory, admin.ModelAdmin):
    owner_field = "campaign"
    list_display = ("label", "campaign", "customer", "is_active", "sort_order")
    list_filter = ("is_active", "campaign__customer")
    list_select_related = ("campaign__customer",)
    search_fields = ("label", "campaign__name", "campaign__customer__name")
    autocomplete_fields = ("campaign",)
    fields = ("campaign", *STAGE_FIELDS)

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in STAGE_FIELDS}
        if change:
            consideration_stage_update(consideration_stage=obj, **values, actor=request.user)
            return
        take_over(obj, consideration_stage_create(campaign=form.cleaned_data["campaign"], **values, actor=request.user))

    @admin.display(description="Customer", ordering="campaign__customer__name")
    def customer(self, obj: ConsiderationStage):
        return obj.campaign.customer
