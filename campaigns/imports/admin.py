"""Admin of lead imports (upload → preview → confirm → progress and report) and campaign fit rules.

The admin only parses input and calls ``campaigns.imports.services``; the import itself runs in Celery.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from campaigns.imports.columns import FIELDS, IGNORE
from campaigns.imports.models import FitRule, LeadImport, LeadImportIssue
from campaigns.imports.services import (
    FIT_RULE_FIELDS,
    FitRuleSpec,
    fit_rules_preview,
    fit_rules_save,
    lead_import_confirm,
    lead_import_create,
    lead_import_preview,
    lead_import_remap,
)
from campaigns.models import Campaign
from leadops.errors import LeadopsError
from leadops.exporting import csv_download
from leadops.previewing import PreviewedForm, previewed_field


def parse_mapping(text: str) -> dict[str, str]:
    """Read ``Header=field`` (or ``#2=field``) lines into a mapping; raise naming the line when one is malformed."""
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        header, sep, field_name = line.partition("=")
        if not sep or not header.strip() or not field_name.strip():
            raise forms.ValidationError(f"Line {number} ('{line.strip()}') is not Header=field.")
        mapping[header.strip()] = field_name.strip()
    return mapping


class LeadImportForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.select_related("customer"))
    file = forms.FileField(help_text="CSV, TSV or XLSX; a header row names the columns.")
    source = forms.CharField(required=False, max_length=120, help_text="Lead source for rows without one.")
    mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "Optional, one per line: Header=field, or #2=field for the second column (a file without a header). "
            f"Fields: {', '.join(FIELDS)}, {IGNORE}."
        ),
    )

    def clean_mapping(self):
        return parse_mapping(self.cleaned_data["mapping"])


@admin.register(LeadImport)
class LeadImportAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "campaign",
        "status",
        "progress",
        "rows_read",
        "leads_created",
        "junk",
        "eligible",
        "disqualified",
        "uploaded_by",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["original_name", "campaign__name", "campaign__customer__name"]
    list_select_related = ["campaign", "uploaded_by"]
    show_full_result_count = False
    readonly_fields = [
        "campaign",
        "original_name",
        "uploaded_by",
        "source",
        "status",
        "progress",
        "rows_read",
        "junk",
        "leads_created",
        "leads_existing",
        "accounts_created",
        "contacts_created",
        "eligible",
        "waiting",
        "disqualified",
        "disqualified_why",
        "unknown_columns",
        "error",
        "junk_rows",
        "created_at",
        "started_at",
        "finished_at",
    ]
    exclude = ["file", "column_mapping", "rows_total", "rows_done", "disqualified_by_source"]

    def has_change_permission(self, request, obj=None):
        return False if obj is not None and request.method == "POST" else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", wrap(self.preview_view), name="imports_leadimport_preview"),
            path("<int:pk>/junk.csv", wrap(self.junk_csv_view), name="imports_leadimport_junk_csv"),
            *super().get_urls(),
        ]

    @admin.display(description="progress")
    def progress(self, obj: LeadImport):
        return format_html(
            '<progress max="100" value="{}" title="{} of {} rows">{}%</progress> {} / {} rows',
            obj.progress_percent,
            obj.rows_done,
            obj.rows_total,
            obj.progress_percent,
            obj.rows_done,
            obj.rows_total,
        )

    @admin.display(description="Disqualified, by reason")
    def disqualified_why(self, obj: LeadImport):
        items = sorted(obj.disqualified_by_source.items(), key=lambda kv: -kv[1])
        return ", ".join(f"{source}: {count}" for source, count in items) or "—"

    @admin.display(description="Junk rows (first 50)")
    def junk_rows(self, obj: LeadImport):
        issues = list(obj.issues.filter(kind=LeadImportIssue.Kind.JUNK)[:50])
        if not issues:
            return "None."
        url = reverse("admin:imports_leadimport_junk_csv", args=[obj.pk])
        rows = format_html_join("", "<li>line {}: {}</li>", ((i.line_number, i.message) for i in issues))
        return format_html('<p><a href="{}">Download every junk row as CSV</a></p><ul>{}</ul>', url, rows)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None and obj.status in (
            LeadImport.Status.QUEUED,
            LeadImport.Status.READING,
            LeadImport.Status.SCRUBBING,
        ):
            extra_context["refresh_seconds"] = 2
        if obj is not None and obj.status == LeadImport.Status.PREVIEW:
            return HttpResponseRedirect(reverse("admin:imports_leadimport_preview", args=[obj.pk]))
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request: HttpRequest, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = LeadImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                lead_import = lead_import_create(
                    campaign=form.cleaned_data["campaign"],
                    stream=upload,
                    filename=upload.name,
                    actor=request.user,
                    source=form.cleaned_data["source"],
                    column_mapping=form.cleaned_data["mapping"],
                    confirm=False,
                )
            except LeadopsError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                return HttpResponseRedirect(reverse("admin:imports_leadimport_preview", args=[lead_import.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import leads into a campaign",
            "form": form,
        }
        return TemplateResponse(request, "admin/imports/leadimport/upload.html", context)

    def preview_view(self, request: HttpRequest, pk: int):
        if not self.has_add_permission(request):
            raise PermissionDenied
        lead_import = get_object_or_404(LeadImport.objects.select_related("campaign__customer"), pk=pk)
        if lead_import.status != LeadImport.Status.PREVIEW:
            return HttpResponseRedirect(reverse("admin:imports_leadimport_change", args=[pk]))
        if request.method == "POST" and "confirm" in request.POST:
            lead_import_confirm(lead_import=lead_import)
            self.log_addition(request, lead_import, [{"added": {}}])
            messages.success(request, f"Importing {lead_import.original_name}: follow its progress below.")
            return HttpResponseRedirect(reverse("admin:imports_leadimport_change", args=[pk]))
        error = ""
        if request.method == "POST" and "remap" in request.POST:
            mapping = {
                key.removeprefix("map:"): value
                for key, value in request.POST.items()
                if key.startswith("map:") and value
            }
            try:
                lead_import_remap(lead_import=lead_import, column_mapping=mapping)
            except LeadopsError as exc:
                error = exc.message
        try:
            preview = lead_import_preview(lead_import=lead_import)
        except LeadopsError as exc:
            preview, error = None, exc.message
        headers = self._headers(lead_import)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Preview: {lead_import.original_name} into {lead_import.campaign}",
            "lead_import": lead_import,
            "preview": preview,
            "error": error,
            "fields": [*FIELDS, IGNORE],
            "headers": headers,
            "current": dict(preview.columns) if preview else {},
        }
        return TemplateResponse(request, "admin/imports/leadimport/preview.html", context)

    @staticmethod
    def _headers(lead_import: LeadImport) -> list[str]:
        from suppressions.reading import open_table

        try:
            with lead_import.file.open("rb") as stream, open_table(stream, filename=lead_import.original_name) as t:
                head = t.head()
        except LeadopsError:
            return []
        return [cell for cell in head[0].cells if cell] if head else []

    def junk_csv_view(self, request: HttpRequest, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        lead_import = get_object_or_404(LeadImport, pk=pk)

        issues = lead_import.issues.filter(kind=LeadImportIssue.Kind.JUNK).order_by("line_number").iterator()
        rows = (
            [issue.line_number, issue.rules, issue.message, *(str(cell) for cell in issue.cells)] for issue in issues
        )
        return csv_download(f"import-{pk}-junk.csv", ["line", "rules", "reason", "row"], rows, excel_bom=False)


class FitRuleAdminForm(PreviewedForm, forms.ModelForm):
    """A fit rule; saved only once the page has shown what it would do to the campaign's pool."""

    previewed = previewed_field()

    class Meta:
        model = FitRule
        fields = ["campaign", *FIT_RULE_FIELDS]

    def _campaign(self, cleaned):
        return cleaned.get("campaign") or (self.instance.campaign if self.instance.campaign_id else None)

    def previewed_values(self, cleaned):
        campaign = self._campaign(cleaned)
        return {"campaign": campaign.pk if campaign else None, **{n: cleaned.get(n) for n in FIT_RULE_FIELDS}}

    def preview_of(self, cleaned):
        spec = FitRuleSpec.of(cleaned)
        campaign = self._campaign(cleaned)
        if self.instance.pk:
            return fit_rules_preview(campaign=campaign, changed={self.instance.pk: spec})
        return fit_rules_preview(campaign=campaign, added=[spec])


@admin.register(FitRule)
class FitRuleAdmin(admin.ModelAdmin):
    form = FitRuleAdminForm
    change_form_template = "admin/imports/fitrule/change_form.html"
    list_display = ["__str__", "campaign", "field", "operator", "is_active"]
    list_filter = ["field", "is_active"]
    search_fields = ["campaign__name", "values"]
    autocomplete_fields = ["campaign"]
    list_select_related = ["campaign"]
    fields = ["campaign", *FIT_RULE_FIELDS]

    def has_delete_permission(self, request, obj=None):
        # A rule is the evidence of its blocks: switch it off (its blocks are lifted) instead of deleting it.
        return False

    def get_readonly_fields(self, request, obj=None):
        # A rule stays its campaign's: it is the evidence of that campaign's fit blocks.
        return ("campaign",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        spec = FitRuleSpec.of(form.cleaned_data)
        if change:
            fit_rules_save(campaign=obj.campaign, changed={obj.pk: spec}, actor=request.user)
        else:
            (rule,) = fit_rules_save(campaign=form.cleaned_data["campaign"], added=[spec], actor=request.user)
            obj.pk = rule.pk
            obj.refresh_from_db()
        messages.info(request, f"Saved as previewed: the leads of {obj.campaign} are being re-evaluated against it.")
