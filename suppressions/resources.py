"""django-import-export resources: the suppression list's export, escaped for spreadsheets.

Imports do not go through a resource's row-by-row ``import_data`` (about 1,500 rows/s): the admin's
import button hands the file to the upload pipeline (``suppressions.services.pipeline``), which COPYs a
million rows in seconds. See ``suppressions.admin.EntryAdmin``.
"""

from __future__ import annotations

from import_export import fields, resources

from leadops.exporting import escape_formula
from suppressions.models import Entry


class EntryExportResource(resources.ModelResource):
    """One row per entry. Every text cell is escaped so a spreadsheet never runs it as a formula: a
    customer's file can contain ``=HYPERLINK(…)``, and E.164 numbers themselves start with ``+``."""

    customer = fields.Field(attribute="customer__slug", column_name="customer")
    upload = fields.Field(attribute="upload__original_name", column_name="upload")
    status = fields.Field(column_name="status")

    class Meta:
        model = Entry
        fields = ("id", "customer", "kind", "value", "upload", "line", "created_at", "status", "removed_at")
        export_order = fields
        import_id_fields = ("id",)

    def dehydrate_status(self, entry: Entry) -> str:
        return "active" if entry.is_active else "removed"

    def export_field(self, field, instance, **kwargs):
        return escape_formula(super().export_field(field, instance, **kwargs))

    def get_export_headers(self, selected_fields=None):
        return [escape_formula(header) for header in super().get_export_headers(selected_fields)]
