"""Customers' requests to lift a block: ops see the open ones on their home page and answer each with the
Undisqualify workflow's service (the block asked about is lifted) or decline it with a reason.

Only ops see them (approved callers do not: the customer's words are about any of its campaigns). The answer's
words are what the customer reads in the portal; who answered stays with the agency.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from campaigns.admin.opportunities import OpsReadOnly
from campaigns.models import UndoRequest
from campaigns.selectors.callers import sees_every_campaign
from campaigns.services.undo_requests import undo_request_decline, undo_request_lift
from leadops.errors import LeadopsError
from leadops.home import home_panel_register

OPEN_SHOWN = 10


class AnswerForm(forms.Form):
    words = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), label="What the customer reads"
    )


@admin.register(UndoRequest)
class UndoRequestAdmin(OpsReadOnly, admin.ModelAdmin):
    list_display = ("requested_at", "customer", "lead_link", "state", "requested_by", "answered_at")
    list_filter = ("state", "customer")
    list_select_related = ("customer", "lead__contact", "requested_by")
    search_fields = ("reason", "sentence", "lead__contact__last_name")
    fields = (
        "customer",
        "lead_link",
        "sentence",
        "reason",
        "requested_by",
        "requested_at",
        "state",
        "answer",
        "answered_by",
        "answered_at",
    )
    readonly_fields = fields
    change_form_template = "admin/campaigns/undorequest/change_form.html"

    def has_delete_permission(self, request, obj=None):
        return False  # a request and its answer are the record of what was asked and done

    @admin.display(description="Lead")
    def lead_link(self, obj: UndoRequest):
        url = reverse("admin:campaigns_lead_change", args=[obj.lead_id])
        return format_html('<a href="{}">{}</a>', url, obj.lead.contact)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/lift/", wrap(self.lift_view), name="campaigns_undorequest_lift"),
            path("<int:pk>/decline/", wrap(self.decline_view), name="campaigns_undorequest_decline"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {**(extra_context or {}), "answer_form": AnswerForm()}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def _answer(self, request: HttpRequest, pk: int, answer) -> HttpResponseRedirect:
        if not self.has_view_permission(request):
            raise PermissionDenied
        undo = get_object_or_404(UndoRequest.objects.select_related("lead", "block"), pk=pk)
        back = HttpResponseRedirect(reverse("admin:campaigns_undorequest_change", args=[undo.pk]))
        if request.method != "POST":
            return back
        form = AnswerForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Write what the customer reads (up to 2,000 characters).")
            return back
        try:
            answered = answer(undo, form.cleaned_data["words"])
        except LeadopsError as exc:
            messages.error(request, exc.message)
            return back
        self.log_change(request, answered, f"Answered: {answered.get_state_display()}")
        messages.success(request, f"Answered ({answered.get_state_display().lower()}); the customer sees it now.")
        return back

    def lift_view(self, request: HttpRequest, pk: int):
        """Lift the block asked about with the Undisqualify workflow's service, as this user."""
        return self._answer(
            request, pk, lambda undo, words: undo_request_lift(request=undo, actor=request.user, reason=words)
        )

    def decline_view(self, request: HttpRequest, pk: int):
        return self._answer(
            request, pk, lambda undo, words: undo_request_decline(request=undo, actor=request.user, answer=words)
        )


def _open_requests_panel(request: HttpRequest) -> dict | None:
    """The ops home's panel: the open requests, oldest first (none for an approved caller, none when none)."""
    if not sees_every_campaign(request.user):
        return None
    waiting = UndoRequest.objects.filter(state=UndoRequest.State.OPEN)
    count = waiting.count()
    if not count:
        return None
    return {
        "count": count,
        "requests": list(
            waiting.select_related("customer", "lead__contact").order_by("requested_at", "pk")[:OPEN_SHOWN]
        ),
        "list_url": f"{reverse('admin:campaigns_undorequest_changelist')}?state__exact=open",
    }


home_panel_register(
    name="undo_requests", template="admin/campaigns/undorequest/home_panel.html", context=_open_requests_panel, order=20
)
