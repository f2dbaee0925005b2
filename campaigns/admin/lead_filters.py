"""The lead list's filters by source, by what disqualified a lead, and by a number of the lead report."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters

from campaigns.models import Block, LeadStatus
from campaigns.rules import lead_stopped_by
from campaigns.selectors.reports import cell_from_param, cell_leads
from leadops.errors import LeadopsError


class LeadSourceFilter(admin.SimpleListFilter):
    """Where leads came from: the sources of the leads the user may see (the first hundred, by name)."""

    title = "lead source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        sources = model_admin.get_queryset(request).order_by("source").values_list("source", flat=True).distinct()
        return [(source or "-", source or "(none)") for source in sources[:100]]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(source="" if self.value() == "-" else self.value())


class DisqualificationSourceFilter(admin.SimpleListFilter):
    """Disqualified leads that a block of one source stops now (a lead stopped by two is under both)."""

    title = "disqualified by"
    parameter_name = "dq_source"

    def lookups(self, request, model_admin):
        return Block.Source.choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if self.value() not in Block.Source.values:
            raise IncorrectLookupParameters(f"No block source is called {self.value()!r}.")
        return queryset.filter(status=LeadStatus.DISQUALIFIED).filter(
            lead_stopped_by(Block.objects.filter(source=self.value()))
        )


class ReportCellFilter(admin.SimpleListFilter):
    """The leads behind one number of the lead report (its links carry ``cell=``); shown only when chosen."""

    title = "lead report figure"
    parameter_name = "cell"

    def lookups(self, request, model_admin):
        return [(self.value(), "this figure of the report")] if self.value() else []

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            return cell_leads(cell_from_param(self.value(), customer_id=None), queryset)
        except LeadopsError as error:
            raise IncorrectLookupParameters(str(error)) from error
