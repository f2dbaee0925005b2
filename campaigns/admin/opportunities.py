"""Opportunities in the back office: the list (filters), the change page with its history, follow-up through
the services, the qualify form reached from a lead's stage bar, and the junk purge's confirmation page.

Ops only (``campaigns.work_every_campaign``) see opportunities; qualifying is also open to the lead's approved
caller (the service decides). Every write is a service: ``lead_qualify``, ``opportunity_stage_set``,
``opportunity_won``, ``opportunity_lost``, ``junk_purge``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from campaigns.admin.base import KeepsHistory, ListAtScale, ReadOnlyInline
from campaigns.imports.models import PurgeLog
from campaigns.imports.services.purging import junk_purge, junk_purge_preview
from campaigns.models import ConsiderationStage, Lead, LostReason, Meeting, Opportunity, OpportunityEvent, Project
from campaigns.selectors.callers import may_work_campaign, sees_every_campaign
from campaigns.selectors.opportunities import (
    consideration_stages_offered,
    existing_matches,
    lost_reasons_offered,
    projects_offered,
)
from campaigns.services.opportunities import lead_qualify, opportunity_lost, opportunity_stage_set, opportunity_won
from leadops.errors import LeadopsError

NEW_CUSTOMER = "new"


class QualifyForm(forms.Form):
    customer = forms.ChoiceField(label="Customer", widget=forms.RadioSelect)
    consideration_stage = forms.ModelChoiceField(queryset=ConsiderationStage.objects.none())
    interest = forms.ChoiceField(
        choices=[("project", "Interested in a project"), ("lost", "Lost opportunity")], widget=forms.RadioSelect
    )
    project = forms.ModelChoiceField(queryset=Project.objects.none(), required=False, label="Project or unit")
    lost_reason = forms.ModelChoiceField(queryset=LostReason.objects.none(), required=False)
    lost_note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))
    # The meeting it comes from, when the form was reached from that meeting's outcome (else the latest).
    meeting = forms.ModelChoiceField(queryset=Meeting.objects.none(), required=False, widget=forms.HiddenInput)

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = lead.meetings.all()
        self.matches = {m.key: m for m in existing_matches(lead)}
        self.fields["customer"].choices = [(NEW_CUSTOMER, "New customer")] + [
            (key, f"Existing customer: {match}") for key, match in self.matches.items()
        ]
        self.fields["customer"].initial = NEW_CUSTOMER
        self.fields["consideration_stage"].queryset = consideration_stages_offered(lead)
        self.fields["project"].queryset = projects_offered(lead)
        self.fields["lost_reason"].queryset = lost_reasons_offered(lead)

    def clean(self):
        data = super().clean()
        if data.get("interest") == "project" and not data.get("project"):
            self.add_error("project", "Choose the project or unit the lead is interested in.")
        if data.get("interest") == "lost" and not data.get("lost_reason"):
            self.add_error("lost_reason", "Choose why the opportunity is lost.")
        return data


class FollowUpForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("stage", "Change the consideration stage"), ("won", "Mark won"), ("lost", "Mark lost")],
        widget=forms.RadioSelect,
    )
    consideration_stage = forms.ModelChoiceField(queryset=ConsiderationStage.objects.none(), required=False)
    lost_reason = forms.ModelChoiceField(queryset=LostReason.objects.none(), required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))

    def __init__(self, *args, opportunity: Opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consideration_stage"].queryset = ConsiderationStage.objects.filter(
            campaign_id=opportunity.campaign_id, is_active=True
        )
        self.fields["lost_reason"].queryset = LostReason.objects.filter(
            customer_id=opportunity.customer_id, is_active=True
        )


class OpportunityEventInline(ReadOnlyInline):
    model = OpportunityEvent
    fields = ("at", "kind", "from_value", "to_value", "actor", "actor_job", "note")
    readonly_fields = fields
    verbose_name_plural = "History"

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return sees_every_campaign(request.user)


class OpsReadOnly:
    """Ops read these rows (approved callers do not see them at all); they change only through their own views,
    which call the services."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return sees_every_campaign(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return sees_every_campaign(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Opportunity)
class OpportunityAdmin(OpsReadOnly, ListAtScale, KeepsHistory, admin.ModelAdmin):
    list_display = (
        "__str__",
        "contact",
        "campaign",
        "project",
        "consideration_stage",
        "state",
        "lost_reason",
        "existing_customer",
        "qualified_by",
        "qualified_at",
    )
    list_filter = ("state", "existing_customer", "campaign__customer", "campaign", "consideration_stage__label")
    list_select_related = (
        "account",
        "contact",
        "campaign",
        "project",
        "consideration_stage",
        "lost_reason",
        "qualified_by",
    )
    search_fields = ("account__name", "contact__last_name", "project__name")
    readonly_fields = (
        "customer",
        "account",
        "contact",
        "campaign",
        "lead",
        "meeting",
        "project",
        "consideration_stage",
        "state",
        "lost_reason",
        "lost_note",
        "existing_customer",
        "matched_text",
        "qualified_by",
        "qualified_at",
    )
    fields = readonly_fields
    inlines = [OpportunityEventInline]
    change_form_template = "admin/campaigns/opportunity/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("qualify/<int:lead_id>/", view(self.qualify_view), name="campaigns_opportunity_qualify"),
            path("<path:object_id>/follow-up/", view(self.follow_up_view), name="campaigns_opportunity_follow_up"),
            *super().get_urls(),
        ]

    def _render(self, request: HttpRequest, template: str, context: dict) -> TemplateResponse:
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, template, {**self.admin_site.each_context(request), "opts": self.opts, **context}
        )

    def qualify_view(self, request: HttpRequest, lead_id: int):
        """Qualify the lead with ``lead_qualify``: new or existing customer, stage, project or lost reason."""
        lead = get_object_or_404(Lead.objects.select_related("contact__account", "campaign", "customer"), pk=lead_id)
        if not may_work_campaign(request.user, lead.campaign_id):
            raise PermissionDenied
        form = QualifyForm(request.POST or None, lead=lead, initial={"meeting": request.GET.get("meeting")})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            lost = data["interest"] == "lost"
            try:
                opportunity = lead_qualify(
                    lead=lead,
                    actor=request.user,
                    existing=form.matches.get(data["customer"]),
                    consideration_stage=data["consideration_stage"],
                    project=None if lost else data["project"],
                    lost_reason=data["lost_reason"] if lost else None,
                    lost_note=data["lost_note"] if lost else "",
                    meeting=data["meeting"],
                )
            except LeadopsError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(request, f"Qualified: {opportunity}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:campaigns_lead_change", args=[lead.pk]))
        return self._render(
            request, "admin/campaigns/opportunity/qualify.html", {"title": "Qualify lead", "lead": lead, "form": form}
        )

    def follow_up_view(self, request: HttpRequest, object_id: str):
        """Follow the opportunity up: its stage, won or lost, each through its service (and recorded)."""
        opportunity = self.get_object(request, unquote(object_id))
        if opportunity is None:
            raise Http404("No such opportunity.")
        if not sees_every_campaign(request.user):
            raise PermissionDenied
        form = FollowUpForm(request.POST or None, opportunity=opportunity)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["action"] == "stage":
                    if data["consideration_stage"] is None:
                        raise LeadopsError("Choose the consideration stage.", field="consideration_stage")
                    opportunity_stage_set(
                        opportunity=opportunity, consideration_stage=data["consideration_stage"], actor=request.user
                    )
                elif data["action"] == "won":
                    opportunity_won(opportunity=opportunity, actor=request.user, note=data["note"])
                else:
                    if data["lost_reason"] is None:
                        raise LeadopsError("Choose why it was lost.", field="lost_reason")
                    opportunity_lost(
                        opportunity=opportunity, lost_reason=data["lost_reason"], actor=request.user, note=data["note"]
                    )
            except LeadopsError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(request, "Recorded.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:campaigns_opportunity_change", args=[opportunity.pk]))
        return self._render(
            request,
            "admin/campaigns/opportunity/follow_up.html",
            {"title": f"Follow up {opportunity}", "opportunity": opportunity, "form": form},
        )


@admin.register(PurgeLog)
class PurgeLogAdmin(OpsReadOnly, KeepsHistory, admin.ModelAdmin):
    list_display = ("at", "actor", "actor_job", "junk_rows", "contacts", "leads")
    readonly_fields = list_display
    fields = list_display
    change_list_template = "admin/imports/purgelog/change_list.html"

    def get_urls(self):
        return [
            path("purge/", self.admin_site.admin_view(self.purge_view), name="imports_purgelog_purge"),
            *super().get_urls(),
        ]

    def purge_view(self, request: HttpRequest):
        """Say how many junk rows, contacts and leads a purge deletes; on confirmation, purge with ``junk_purge``."""
        if not (sees_every_campaign(request.user) and request.user.has_perm("campaigns.lift_block")):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("post") == "yes":
            log = junk_purge(actor=request.user)
            self.message_user(
                request,
                f"Purged {log.junk_rows} junk rows, {log.contacts} junk contacts and {log.leads} of their leads.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:imports_purgelog_changelist"))
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/imports/purgelog/purge_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Purge junk",
                "counts": junk_purge_preview(),
            },
        )
