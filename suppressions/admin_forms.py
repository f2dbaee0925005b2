"""Forms of the suppression admin: the import steps and the removal confirmation."""

from __future__ import annotations

from pathlib import Path

from django import forms
from import_export.forms import ImportForm

from campaigns.models import Customer

COLUMN_KINDS = ("phone", "email", "domain", "auto", "ignore", "area_code")


def parse_columns(text: str) -> dict[str, str]:
    """Read ``"Mobile=phone, Work email=email, #3=domain"`` into a column mapping; raise ValueError."""
    mapping: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in text.replace("\n", ",").split(","))):
        column, separator, kind = part.rpartition("=")
        column, kind = column.strip(), kind.strip().lower()
        if not separator or not column or kind not in COLUMN_KINDS:
            raise ValueError(f"'{part}' is not 'column=kind' with kind one of {', '.join(COLUMN_KINDS)}.")
        mapping[column] = kind
    return mapping


class SuppressionImportForm(ImportForm):
    """django-import-export's import form (file and format choices) plus what a suppression upload needs."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.order_by("name"))
    columns = forms.CharField(
        required=False,
        label="Columns",
        help_text=(
            "Leave empty to detect them. Otherwise e.g. <code>Mobile=phone, Work email=email, Website=domain"
            "</code>; use <code>#2=phone</code> for the second column of a file without a header."
        ),
    )
    allow_broad_domains = forms.BooleanField(
        required=False,
        label="Allow free-mail domains and public suffixes",
        help_text="Only when the customer really means to suppress e.g. everyone at gmail.com.",
    )
    field_order = ["resource", "customer", "import_file", "columns", "allow_broad_domains"]

    def __init__(self, formats, resources, *, may_allow_broad_domains: bool = False, **kwargs):
        super().__init__(formats, resources, **kwargs)
        # The format is read from the file itself (the shared reader sniffs a workbook, an encoding, a
        # delimiter): ops never pick one.
        self.fields.pop("format", None)
        self.fields["import_file"].help_text = "CSV, TSV, TXT or XLSX: the format is read from the file itself."
        if not may_allow_broad_domains:
            del self.fields["allow_broad_domains"]

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if Path(upload.name).suffix.lower() not in {".csv", ".tsv", ".txt", ".xlsx"}:
            raise forms.ValidationError("Upload a CSV, TSV, TXT or XLSX file.")
        return upload

    def clean_columns(self):
        try:
            return parse_columns(self.cleaned_data.get("columns", ""))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class SuppressionConfirmForm(forms.Form):
    """The second step: re-posts what the preview showed, with the stored file named by a signed token."""

    token = forms.CharField(widget=forms.HiddenInput)


class RemoveForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), help_text="Recorded on every lifted block."
    )
