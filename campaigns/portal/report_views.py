"""The portal's lead report: the customer's own figures (the same selector as the admin's page and
``manage.py lead_report``), its CSV, and the list of the customer's leads behind each number."""

from __future__ import annotations

import urllib.parse

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from campaigns.models import Campaign, Lead
from campaigns.portal.forms import ReportFilter
from campaigns.portal.views import PER_PAGE, customer_required
from campaigns.selectors.reports import (
    COLUMN_BY_KEY,
    CUSTOMER,
    DIMENSIONS,
    Cell,
    cell_from_param,
    cell_leads,
    cell_of,
    csv_rows,
    lead_report,
    params_of,
    query_from_params,
    report_page,
)
from leadops.errors import LeadopsError
from leadops.exporting import csv_download


def _leads_url(cell: Cell) -> str:
    return reverse("portal:report_leads") + "?" + urllib.parse.urlencode({"cell": cell.to_param()})


@require_safe
@customer_required
def report(request):
    customer = request.customer
    dimensions = [(key, label) for key, (_, label) in DIMENSIONS.items() if key != "customer"]
    context = {
        "campaigns": Campaign.objects.filter(customer=customer).order_by("name"),
        "filter": ReportFilter(request.GET or None, customer=customer, dimensions=dimensions),
        "nav": "report",
    }
    status = 200
    try:
        query = query_from_params(params_of(request.GET), customer_id=customer.pk)
    except LeadopsError as error:
        context["error"] = str(error)
        status = 400
    else:
        context.update(report_page(lead_report(query, audience=CUSTOMER), url_for=_leads_url))
        context["export_url"] = reverse("portal:report_csv") + "?" + request.GET.urlencode()
    return render(request, "portal/report.html", context, status=status)


@require_safe
@customer_required
def report_csv(request):
    try:
        query = query_from_params(params_of(request.GET), customer_id=request.customer.pk)
    except LeadopsError as error:
        return render(request, "portal/report.html", {"error": str(error), "nav": "report"}, status=400)
    header, rows = csv_rows(lead_report(query, audience=CUSTOMER))
    return csv_download("lead-report.csv", header, rows)


@require_safe
@customer_required
def report_leads(request):
    """The customer's leads behind one number of the report (without one: every lead the report counts)."""
    customer = request.customer
    try:
        if "cell" in request.GET:
            cell = cell_from_param(request.GET["cell"], customer_id=customer.pk)
        else:
            cell = cell_of(query_from_params(params_of(request.GET), customer_id=customer.pk), "leads")
    except LeadopsError as error:
        return render(request, "portal/report_leads.html", {"error": str(error), "nav": "report"}, status=400)
    leads = (
        cell_leads(cell, Lead.objects.filter(customer=customer))
        .select_related("contact__account", "campaign")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(leads, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/report_leads.html",
        {
            "leads": page,
            "figure": COLUMN_BY_KEY[cell.column].label,
            "values": cell.values,
            "back": reverse("portal:report") + "?" + urllib.parse.urlencode(cell.query.to_params()),
            "nav": "report",
        },
    )
