"""The lead report in the back office: ops only (an approved caller sees no report at all, not even of their own
campaigns: its false blocks and customer-wide blocks reach across campaigns). Every number links to the lead
list filtered to the leads behind it (``cell=`` of ``campaigns.admin.leads.ReportCellFilter``)."""

from __future__ import annotations

import urllib.parse

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from campaigns.admin.opportunities import OpsReadOnly
from campaigns.models import Campaign, Customer, LeadFact
from campaigns.selectors.callers import sees_every_campaign
from campaigns.selectors.reports import OPS, Cell, csv_rows, lead_report, params_of, query_from_params, report_page
from campaigns.services.reporting import lead_facts_refresh_enqueue
from leadops.errors import LeadopsError
from leadops.exporting import csv_download


def lead_list_url(cell: Cell) -> str:
    return reverse("admin:campaigns_lead_changelist") + "?" + urllib.parse.urlencode({"cell": cell.to_param()})


@admin.register(LeadFact)
class LeadReportAdmin(OpsReadOnly, admin.ModelAdmin):
    """The report's page is this model's list: the facts themselves are never listed or edited."""

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("export.csv", view(self.export_view), name="campaigns_leadfact_export"),
            path("refresh/", view(self.refresh_view), name="campaigns_leadfact_refresh"),
            *super().get_urls(),
        ]

    def _query(self, request: HttpRequest):
        return query_from_params(params_of(request.GET), customer_id=None)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Lead report",
            "opts": self.model._meta,
            "customers": Customer.objects.order_by("name"),
            "campaigns": Campaign.objects.select_related("customer").order_by("customer__name", "name"),
            "can_refresh": True,
        }
        status = 200
        try:
            query = self._query(request)
        except LeadopsError as error:
            context["error"] = str(error)
            status = 400
        else:
            context.update(report_page(lead_report(query, audience=OPS), url_for=lead_list_url))
            context["export_url"] = reverse("admin:campaigns_leadfact_export") + "?" + request.GET.urlencode()
        return TemplateResponse(request, "admin/campaigns/leadfact/report.html", context, status=status)

    def export_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            query = self._query(request)
        except LeadopsError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(reverse("admin:campaigns_leadfact_changelist"))
        header, rows = csv_rows(lead_report(query, audience=OPS))
        return csv_download("lead-report.csv", header, rows)

    def refresh_view(self, request: HttpRequest):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:campaigns_leadfact_changelist"))
        if not sees_every_campaign(request.user):
            raise PermissionDenied
        customer = Customer.objects.filter(pk=request.POST.get("customer") or None).first()
        lead_facts_refresh_enqueue(customer=customer, actor=request.user)
        messages.info(
            request,
            f"The figures of {customer or 'every customer'} are being rebuilt; reload the page in a few minutes.",
        )
        back = reverse("admin:campaigns_leadfact_changelist")
        return HttpResponseRedirect(f"{back}?customer={customer.pk}" if customer else back)
