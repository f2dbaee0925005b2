"""The portal's forms: signing in (customers only), uploading a suppression file, marking Do Not Call."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from campaigns.models import User

STAFF_REFUSED = "This portal is for customers. Agency staff sign in to the admin at /admin/."

# Extension → the content types a browser may declare for it. ``application/octet-stream`` is what some
# browsers send for any file they do not know; the content itself is checked as well (``_sniff``).
ALLOWED_TYPES: dict[str, set[str]] = {
    ".csv": {"text/csv", "text/plain", "application/csv", "application/vnd.ms-excel", "application/octet-stream"},
    ".tsv": {"text/tab-separated-values", "text/plain", "text/csv", "application/octet-stream"},
    ".txt": {"text/plain", "text/csv", "application/octet-stream"},
    ".xlsx": {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
        "application/zip",
        "application/octet-stream",
    },
}
_ZIP_MAGIC = b"PK\x03\x04"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Signatures of files that are certainly not a list of numbers, whatever their name says.
_BINARY_MAGICS = (_ZIP_MAGIC, b"%PDF", b"\x7fELF", b"MZ", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0")


def upload_limit() -> int:
    return settings.LEADOPS_PORTAL_UPLOAD_MAX_BYTES


def too_large_message(size: int | None = None) -> str:
    limit = filesizeformat(upload_limit())
    if size is None:
        return f"The file is too large: the limit is {limit}. Split it into smaller files and upload each."
    return f"The file is {filesizeformat(size)}; the limit is {limit}. Split it into smaller files and upload each."


class PortalAuthenticationForm(AuthenticationForm):
    """Django's sign-in form (throttled by django-axes), refusing anyone who is not a customer's user."""

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if user.customer_id is None:
            raise ValidationError(STAFF_REFUSED, code="staff_refused")


class PortalPasswordResetForm(PasswordResetForm):
    """Send reset links to customers' users only: staff reset their password through the agency."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.customer_id is not None)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Suppression file",
        help_text="CSV, TSV, TXT or XLSX: one column of phone numbers, emails or domains, or a CRM export.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > upload_limit():
            raise ValidationError(too_large_message(upload.size), code="too_large")
        suffix = Path(upload.name).suffix.lower()
        if suffix not in ALLOWED_TYPES:
            raise ValidationError("Upload a CSV, TSV, TXT or XLSX file.", code="extension")
        declared = (upload.content_type or "").split(";")[0].strip().lower()
        if declared not in ALLOWED_TYPES[suffix]:
            raise ValidationError(
                f"The file says it is {declared or 'of no type'}, which is not a {suffix[1:].upper()} file.",
                code="content_type",
            )
        if not _sniff(upload, suffix):
            raise ValidationError(
                f"The file's content is not a {suffix[1:].upper()} file. Export it again as CSV or XLSX.",
                code="content",
            )
        return upload


def _sniff(upload, suffix: str) -> bool:
    """Return whether the file's first bytes agree with its extension."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if suffix == ".xlsx":
        return head.startswith(_ZIP_MAGIC)
    if head.startswith(_BINARY_MAGICS):
        return False
    # Text: UTF-16 (Excel's "Unicode text") carries NUL bytes after its BOM; any other text has none.
    return head.startswith(_UTF16_BOMS) or b"\x00" not in head


class DoNotCallForm(forms.Form):
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why, e.g. 'asked us by email on 3 March'"}),
    )
    days = forms.IntegerField(
        label="For how many days",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Empty: until you remove the mark. 90 for 'call back after the budget cycle'.",
    )


class LiftForm(forms.Form):
    reason = forms.CharField(
        label="Why remove it",
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "e.g. 'they asked to hear from us again'"}),
    )


class EntriesRemoveForm(forms.Form):
    """Remove the chosen entries of the customer's active list; ``entries`` is that list, scoped."""

    entries = forms.ModelMultipleChoiceField(queryset=None, widget=forms.MultipleHiddenInput)
    reason = forms.CharField(
        label="Why remove them",
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "e.g. 'added by mistake'"}),
    )

    def __init__(self, *args, entries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entries"].queryset = entries
        self.fields["entries"].error_messages["invalid_choice"] = "Some of the chosen entries are no longer active."


class ReportForm(forms.Form):
    """The lead report's pickers: a campaign of the customer's, one or two groupings, the days leads came in."""

    campaign = forms.ModelChoiceField(queryset=None, required=False, empty_label="Every campaign")
    by = forms.ChoiceField(required=False)
    then_by = forms.ChoiceField(required=False)
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)

    def __init__(self, *args, customer, dimensions: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = customer.campaigns.order_by("name")
        self.fields["by"].choices = dimensions
        self.fields["then_by"].choices = [("", "—"), *dimensions]


class ReportFilter:
    """The report's pickers shaped like the list pages' filter sets (a ``form``), which the pages' walkers read."""

    def __init__(self, data, *, customer, dimensions: list[tuple[str, str]]):
        self.form = ReportForm(data, customer=customer, dimensions=dimensions)
