"""Leads, with their calls and meetings, Record a call and Meeting outcome."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from import_export.admin import ExportMixin

from campaigns.admin.base import (
    NOTHING_STOPS_THIS_LEAD,
    KeepsHistory,
    ListAtScale,
    MayLiftBlocks,
    MayRunWorkflows,
    ReadOnlyInline,
    ScopedChangeList,
    ScopedToCampaigns,
    audience_of,
    changelist_url,
    take_over,
)
from campaigns.admin.forms import AsOfForm, LeadAddForm, MeetingOutcomeForm, RecordCallForm
from campaigns.admin.lead_filters import DisqualificationSourceFilter, LeadSourceFilter, ReportCellFilter
from campaigns.admin.workflows import (
    WorkflowEntryMixin,
    reopen_leads,
    undisqualify_leads,
    unqualify_leads,
    workflow_url,
)
from campaigns.models import (
    Account,
    Block,
    Call,
    Lead,
    LeadStatus,
    Meeting,
)
from campaigns.resources import LeadExportResource
from campaigns.rules import unqualifies_lead
from campaigns.selectors import can_dial, explain
from campaigns.selectors.account_details import leads_reasons
from campaigns.selectors.callers import campaign_callers
from campaigns.selectors.explaining import moment_words, waiting_sentence
from campaigns.selectors.scope import sees_everything
from campaigns.selectors.searching import leads_found
from campaigns.services import (
    lead_create,
    lead_update,
)
from campaigns.services.calls import call_record, meeting_outcome_set
from leadops.errors import LeadopsError

# --- leads ----------------------------------------------------------------------------------------


class CallInline(ReadOnlyInline):
    model = Call
    fields = ("created_at", "caller", "phone", "disposition", "effect", "notes", "callback_at")
    readonly_fields = ("effect",)
    verbose_name_plural = "Calls (kept for ever; record one with 'Record a call')"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("caller", "phone", "disposition")

    @admin.display(description="Effect")
    def effect(self, obj: Call) -> str:
        return obj.disposition.get_effect_display()


class MeetingInline(ReadOnlyInline):
    model = Meeting
    fields = ("created_at", "scheduled_for", "outcome", "outcome_set_at", "outcome_set_by")
    verbose_name_plural = "Meetings (set an outcome with 'Meeting outcome')"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("outcome_set_by")


class LeadChangeList(ScopedChangeList):
    """Reads every shown lead's reasons once per page (``explain_many``), not once per row, in the words of the
    one reading them."""

    def get_results(self, request):
        super().get_results(request)
        leads = list(self.result_list)
        reasons = leads_reasons(leads, audience=self.audience)
        for lead in leads:
            lead.why_not_sentences = reasons[lead.pk]


def lease_words(lead: Lead) -> str:
    """Return who holds ``lead``'s lease and until when, or that no one does."""
    if lead.leased_to_id is None:
        return "Not leased."
    holder = lead.leased_to.get_full_name() or lead.leased_to.get_username()
    until = moment_words(lead.waiting_until) if lead.waiting_until else "—"
    expired = " (expired)" if lead.waiting_until and lead.waiting_until <= timezone.now() else ""
    return f"Leased to {holder} until {until}{expired}."


def meeting_outcome_words(meeting: Meeting, lead: Lead) -> str:
    """Return what setting a meeting's outcome did, in words: not "the lead is now Disqualified" for a meeting
    that simply did not qualify (outreach is finished, nothing went wrong)."""
    outcome = meeting.get_outcome_display()
    if meeting.outcome == Meeting.Outcome.NOT_QUALIFIED:
        return (
            f"Meeting #{meeting.pk} is {outcome}: outreach to {lead.contact} in {lead.campaign} is finished, "
            "and the lead has left the pool."
        )
    if meeting.outcome == Meeting.Outcome.QUALIFIED:
        return f"Meeting #{meeting.pk} is {outcome}: outreach to {lead.contact} in {lead.campaign} is finished."
    if lead.status == LeadStatus.ELIGIBLE:
        return f"Meeting #{meeting.pk} is {outcome}: the lead is back in the pool."
    return f"Meeting #{meeting.pk} is {outcome}; the lead is {lead.get_status_display()}."


def callers_words(callers) -> str:
    names = [user.get_full_name() or user.get_username() for user in callers]
    return ", ".join(names) if names else "No caller is approved for this campaign."


@admin.register(Lead)
class LeadAdmin(
    ScopedToCampaigns,
    WorkflowEntryMixin,
    MayRunWorkflows,
    MayLiftBlocks,
    ListAtScale,
    KeepsHistory,
    ExportMixin,
    admin.ModelAdmin,
):
    change_form_template = "admin/campaigns/lead/change_form.html"
    # The export button (django-import-export) sits beside an "Import leads" link to the lead import.
    change_list_template = "admin/campaigns/lead/change_list.html"
    resource_classes = [LeadExportResource]
    actions = [undisqualify_leads, unqualify_leads, reopen_leads]
    inlines = [CallInline, MeetingInline]
    list_display = (
        "id",
        "status",
        "why_not_short",
        "campaign",
        "contact",
        "account",
        "priority",
        "attempts",
        "last_attempt_at",
    )
    list_display_links = ("id", "contact")
    list_filter = (
        "status",
        "stage",
        DisqualificationSourceFilter,
        LeadSourceFilter,
        "waiting_reason",
        "campaign",
        "customer",
        ReportCellFilter,
    )
    list_select_related = ("campaign", "customer", "contact__account")
    search_fields = ("contact__first_name", "contact__last_name", "contact__account__name", "contact__emails__email")
    search_help_text = (
        'Names, account name or email ("Mia Young", "Harbor Medical"), a phone number written any way, or a lead id.'
    )
    finds = leads_found
    autocomplete_fields = ("campaign", "contact")
    readonly_fields = (
        "why_not",
        "customer",
        "campaign",
        "contact",
        "account",
        "status",
        "waiting_until",
        "waiting_reason",
        "attempts",
        "last_attempt_at",
        "created_at",
        "blocks_link",
        "lease",
        "approved_callers",
    )
    fieldsets = (
        (None, {"fields": ("status", "why_not", "blocks_link")}),
        ("Lead", {"fields": ("campaign", "customer", "contact", "account", "priority", "source", "created_at")}),
        (
            "Calling",
            {
                "fields": (
                    "lease",
                    "approved_callers",
                    "waiting_until",
                    "waiting_reason",
                    "attempts",
                    "last_attempt_at",
                )
            },
        ),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = LeadAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_changelist(self, request, **kwargs):
        return LeadChangeList

    def has_export_permission(self, request: HttpRequest) -> bool:
        # An export is a list of people and numbers to take away: ops' alone, not an approved caller's.
        return sees_everything(request.user) and super().has_export_permission(request)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ("campaign", "contact", "priority", "source")}),)
        return self.fieldsets

    @admin.display(description="Why not?")
    def why_not_short(self, obj: Lead) -> str:
        # A badge per reason, each expanding to its one sentence: the list stays within a 1400-px window.
        badges = getattr(obj, "why_not_sentences", None)
        if not badges:
            if obj.status == LeadStatus.WAITING:
                return format_html('<span class="waiting">{}</span>', waiting_sentence(obj))
            return "—"
        return format_html_join(
            "",
            '<details class="why-badge"><summary>{}</summary>{}</details>',
            ((badge.words, badge.sentence) for badge in badges),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/record-call/", view(self.record_call_view), name="campaigns_lead_record_call"),
            path(
                "<path:object_id>/meeting-outcome/",
                view(self.meeting_outcome_view),
                name="campaigns_lead_meeting_outcome",
            ),
            path("<path:object_id>/as-of/", view(self.as_of_view), name="campaigns_lead_as_of"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        lead = self.get_object(request, unquote(object_id))
        if lead is not None:
            here = reverse("admin:campaigns_lead_change", args=[lead.pk])
            user = request.user
            links = [
                (
                    user.has_perm("campaigns.add_call"),
                    reverse("admin:campaigns_lead_record_call", args=[lead.pk]),
                    "Record a call",
                ),
                (
                    # Offered only for a lead with a meeting: an outcome is a meeting's.
                    user.has_perm("campaigns.change_meeting") and lead.meetings.exists(),
                    reverse("admin:campaigns_lead_meeting_outcome", args=[lead.pk]),
                    "Meeting outcome",
                ),
                (True, reverse("admin:campaigns_lead_as_of", args=[lead.pk]), "As of…"),
                (
                    self.has_lift_permission(request),
                    workflow_url(Lead, "undisqualify_leads", [lead.pk], here),
                    "Undisqualify",
                ),
                (
                    self.has_unqualify_permission(request),
                    workflow_url(Lead, "unqualify_leads", [lead.pk], here),
                    "Unqualify",
                ),
                (
                    # Offered only for an unqualified lead: Reopen lifts an unqualify (Undisqualify lifts the rest).
                    self.has_reopen_permission(request)
                    and Block.objects.active().filter(unqualifies_lead(), target=Block.Target.LEAD, lead=lead).exists(),
                    workflow_url(Lead, "reopen_leads", [lead.pk], here),
                    "Reopen",
                ),
                (True, reverse("admin:campaigns_account_details", args=[lead.contact.account_id]), "Account details"),
            ]
            extra_context = {
                **(extra_context or {}),
                "workflow_links": [(url, label) for may, url, label in links if may],
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _workflow_lead(self, request: HttpRequest, object_id: str, permission: str) -> Lead:
        # The permission first: without it, whether the lead exists is none of the user's business.
        if not request.user.has_perm(permission):
            raise PermissionDenied
        lead = self.get_object(request, unquote(object_id))
        if lead is None:
            raise Http404("No such lead.")
        return lead

    def _render(self, request, template: str, lead: Lead, title: str, form) -> TemplateResponse:
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "subtitle": None,
                "opts": self.opts,
                "original": lead,
                "lead": lead,
                "form": form,
                "why_not": [r.message for r in explain(lead, audience=audience_of(lead))],
                "media": self.media + form.media,
            },
        )

    def as_of_view(self, request: HttpRequest, object_id: str):
        """Why the lead (or one of its numbers) was stopped at a past moment, as the sentences read then."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        lead = self.get_object(request, unquote(object_id))
        if lead is None:
            raise Http404("No such lead.")
        form = AsOfForm(request.GET or None, lead=lead)
        answer = None
        if form.is_valid():
            at, number = form.cleaned_data["at"], form.cleaned_data["number"]
            try:
                if number:
                    check = can_dial(lead, number, at=at, audience=audience_of(lead))
                    answer = {"allowed": check.allowed, "number": check.number, "reasons": check.reasons, "at": at}
                else:
                    reasons = explain(lead, at=at, audience=audience_of(lead))
                    answer = {"allowed": not reasons, "number": "", "reasons": reasons, "at": at}
            except LeadopsError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/campaigns/lead/as_of.html",
            {
                **self.admin_site.each_context(request),
                "title": f"As of…: {lead.contact}",
                "subtitle": None,
                "opts": self.opts,
                "original": lead,
                "lead": lead,
                "form": form,
                "answer": answer,
                "media": self.media + form.media,
            },
        )

    def record_call_view(self, request: HttpRequest, object_id: str):
        """Record a call on the lead with the dialer's own service, ``call_record``."""
        lead = self._workflow_lead(request, object_id, "campaigns.add_call")
        form = RecordCallForm(request.POST or None, lead=lead)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                call, _ = call_record(
                    lead=lead,
                    caller=request.user,
                    disposition=data["disposition"],
                    number=data["number"],
                    notes=data["notes"],
                    callback_at=data["callback_at"],
                    actor=request.user,
                )
            except LeadopsError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.log_change(request, lead, f"Recorded a call: {call.disposition.label}.")
                lead.refresh_from_db()
                self.message_user(
                    request,
                    f"Recorded '{call.disposition.label}' ({call.disposition.get_effect_display()}). "
                    f"The lead is now {lead.get_status_display()}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:campaigns_lead_change", args=[lead.pk]))
        return self._render(
            request, "admin/campaigns/lead/record_call.html", lead, f"Record a call: {lead.contact}", form
        )

    def meeting_outcome_view(self, request: HttpRequest, object_id: str):
        """Set the outcome of one of the lead's meetings with ``meeting_outcome_set``."""
        lead = self._workflow_lead(request, object_id, "campaigns.change_meeting")
        if not lead.meetings.exists():
            self.message_user(
                request,
                "This lead has no meeting to set an outcome for: record a 'Meeting booked' call first.",
                messages.WARNING,
            )
            return HttpResponseRedirect(reverse("admin:campaigns_lead_change", args=[lead.pk]))
        form = MeetingOutcomeForm(request.POST or None, lead=lead)
        if request.method == "POST" and form.is_valid():
            try:
                meeting = meeting_outcome_set(
                    meeting=form.cleaned_data["meeting"], outcome=form.cleaned_data["outcome"], actor=request.user
                )
            except LeadopsError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_change(request, lead, f"Meeting #{meeting.pk} outcome: {meeting.get_outcome_display()}.")
                if meeting.outcome == Meeting.Outcome.QUALIFIED and not hasattr(lead, "opportunity"):
                    # Qualified leads into the qualify form: what the meeting became is the opportunity.
                    self.message_user(request, f"Meeting #{meeting.pk} is Qualified: say what it became.")
                    qualify = reverse("admin:campaigns_opportunity_qualify", args=[lead.pk])
                    return HttpResponseRedirect(f"{qualify}?meeting={meeting.pk}")
                lead.refresh_from_db()
                self.message_user(request, meeting_outcome_words(meeting, lead), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:campaigns_lead_change", args=[lead.pk]))
        return self._render(
            request, "admin/campaigns/lead/meeting_outcome.html", lead, f"Meeting outcome: {lead.contact}", form
        )

    def get_readonly_fields(self, request, obj=None):
        # The status and calling state are written only by the status recompute and the dialer services.
        return self.readonly_fields if obj is not None else ()

    @admin.display(description="Account", ordering="contact__account__name")
    def account(self, obj: Lead) -> Account:
        return obj.contact.account

    @admin.display(description="Lease")
    def lease(self, obj: Lead) -> str:
        return lease_words(obj)

    @admin.display(description="Approved callers")
    def approved_callers(self, obj: Lead) -> str:
        return callers_words(approval.caller for approval in campaign_callers(obj.campaign_id))

    @admin.display(description="Why not?")
    def why_not(self, obj: Lead) -> str:
        if obj.pk is None:
            return "—"
        reasons = explain(obj, audience=audience_of(obj))
        if not reasons:
            # "Nothing stops this lead" only of a lead that may be pulled now; a Waiting one says why and until when.
            if obj.status == LeadStatus.WAITING:
                return waiting_sentence(obj)
            if obj.status == LeadStatus.DISQUALIFIED:
                return "No block stops this lead any more: its status catches up within moments."
            return NOTHING_STOPS_THIS_LEAD
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r.message,) for r in reasons)))

    @admin.display(description="Blocks")
    def blocks_link(self, obj: Lead) -> str:
        return format_html(
            '<a href="{}">Blocks on this lead</a> · <a href="{}">on its contact</a> · <a href="{}">on its account</a>',
            changelist_url(Block, lead__id__exact=obj.pk),
            changelist_url(Block, contact__id__exact=obj.contact_id),
            changelist_url(Block, account__id__exact=obj.contact.account_id),
        )

    def save_model(self, request, obj, form, change):
        if change:
            lead_update(lead=obj, priority=obj.priority, source=obj.source, actor=request.user)
            return
        lead = lead_create(campaign=obj.campaign, contact=obj.contact, priority=obj.priority, source=obj.source)
        take_over(obj, lead)
