"""django-import-export resources of the domain core: exports people open in a spreadsheet."""

from __future__ import annotations

from import_export import fields, resources

from campaigns.models import Lead
from campaigns.selectors.explaining import explain_many
from leadops.exporting import escape_formula

CHUNK = 2000


class EscapedResource(resources.ModelResource):
    """A resource whose every exported text cell is safe from formula injection (=, +, -, @, tab, CR)."""

    def export_field(self, field, instance, **kwargs):
        return escape_formula(super().export_field(field, instance, **kwargs))


class LeadExportResource(EscapedResource):
    """Leads with their status and the first (most serious) reason that stops them."""

    campaign = fields.Field(attribute="campaign__name", column_name="campaign")
    customer = fields.Field(attribute="customer__name", column_name="customer")
    first_name = fields.Field(attribute="contact__first_name", column_name="first name")
    last_name = fields.Field(attribute="contact__last_name", column_name="last name")
    title = fields.Field(attribute="contact__title", column_name="title")
    account = fields.Field(attribute="contact__account__name", column_name="account")
    domain = fields.Field(attribute="contact__account__domain", column_name="domain")
    first_reason = fields.Field(column_name="first reason", readonly=True)

    class Meta:
        model = Lead
        fields = (
            "id",
            "campaign",
            "customer",
            "first_name",
            "last_name",
            "title",
            "account",
            "domain",
            "status",
            "priority",
            "attempts",
            "last_attempt_at",
            "source",
            "first_reason",
        )
        export_order = fields

    def iter_queryset(self, queryset):
        """Yield leads chunk by chunk, wording each chunk's reasons in a few queries (no N+1)."""
        queryset = queryset.select_related("contact__account", "campaign", "customer").order_by("pk")
        last = 0
        while True:
            chunk = list(queryset.filter(pk__gt=last)[:CHUNK])
            if not chunk:
                return
            last = chunk[-1].pk
            stopped = [lead for lead in chunk if lead.status == "disqualified"]
            self._reasons = explain_many(stopped) if stopped else {}
            yield from chunk

    def dehydrate_first_reason(self, lead: Lead) -> str:
        reasons = getattr(self, "_reasons", {}).get(lead.pk) or []
        return reasons[0].message if reasons else ""
