"""Lead imports (a file into a campaign, and what became of every row) and campaign fit rules."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, Contact, Lead, User
from leadops.storage import random_upload_name


def import_path(instance: LeadImport, filename: str) -> str:
    """Store the file under a random name (see ``leadops.storage``)."""
    return random_upload_name("lead-imports", filename)


class LeadImport(models.Model):
    class Status(models.TextChoices):
        PREVIEW = "preview", "Awaiting confirmation"
        QUEUED = "queued", "Queued"
        READING = "reading", "Reading"
        SCRUBBING = "scrubbing", "Scrubbing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="imports")
    uploaded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    original_name = models.CharField(max_length=255)
    file = models.FileField(upload_to=import_path, max_length=255)
    source = models.CharField(max_length=120, blank=True, help_text="Lead source label for rows without one.")
    column_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='Column header, or "#2" for the second column → field ("first_name", "phone", … or "ignore").',
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0, help_text="Estimated while reading, then exact.")
    rows_done = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    junk = models.PositiveIntegerField(default=0)
    leads_created = models.PositiveIntegerField(default=0)
    leads_existing = models.PositiveIntegerField(default=0)
    accounts_created = models.PositiveIntegerField(default=0)
    contacts_created = models.PositiveIntegerField(default=0)
    eligible = models.PositiveIntegerField(default=0)
    waiting = models.PositiveIntegerField(default=0)
    disqualified = models.PositiveIntegerField(default=0)
    disqualified_by_source = models.JSONField(default=dict, blank=True)
    unknown_columns = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Nothing silently dropped: every row read is junk, or became (or joined) a lead.
            models.CheckConstraint(
                condition=Q(status__in=["preview", "queued", "reading", "scrubbing", "failed"])
                | Q(rows_read=models.F("junk") + models.F("leads_created") + models.F("leads_existing")),
                name="lead_import_rows_add_up",
            )
        ]

    def __str__(self) -> str:
        return f"{self.original_name} → {self.campaign}"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, int(100 * self.rows_done / self.rows_total)) if self.rows_total else 0


class LeadImportIssue(models.Model):
    """A row kept out of the pool (junk) or a value dropped from a kept row (warning), with the rule."""

    class Kind(models.TextChoices):
        JUNK = "junk", "Junk row (not imported)"
        WARNING = "warning", "Value dropped"

    lead_import = models.ForeignKey(LeadImport, on_delete=models.CASCADE, related_name="issues")
    line_number = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    rules = models.CharField(max_length=200)
    message = models.TextField()
    cells = models.JSONField(default=list)

    class Meta:
        ordering = ["lead_import", "line_number", "id"]
        indexes = [models.Index(fields=["lead_import", "kind"], name="lead_import_issue_kind")]

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.message}"


class ImportedLead(models.Model):
    """Which leads an import created or met again, so its report can say where they ended up."""

    # ``db_constraint=False``: the database checks both once per statement (``leadops.references``).
    lead_import = models.ForeignKey(
        LeadImport, on_delete=models.CASCADE, related_name="imported_leads", db_constraint=False
    )
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    created = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead_import", "lead"], name="imported_lead_unique")]

    def __str__(self) -> str:
        return f"{self.lead_import_id}:{self.lead_id}"


class FitRule(models.Model):
    """One condition of a campaign's ideal customer profile; a lead that fails it is Disqualified."""

    class Field(models.TextChoices):
        COUNTRY = "country", "Country"
        EMPLOYEES = "employees", "Employee count"
        INDUSTRY = "industry", "Industry"
        TITLE = "title", "Title"
        AGE = "age", "Age"
        NATIONALITY = "nationality", "Nationality"
        INCOME = "income", "Income band"

    class Operator(models.TextChoices):
        IN = "in", "is one of"
        NOT_IN = "not_in", "is none of"
        BETWEEN = "between", "is between"
        CONTAINS_ANY = "contains_any", "contains any of"
        CONTAINS_NONE = "contains_none", "contains none of"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="fit_rules")
    field = models.CharField(max_length=12, choices=Field.choices)
    operator = models.CharField(max_length=14, choices=Operator.choices)
    values = models.CharField(max_length=500, blank=True, help_text="Comma-separated, for the list operators.")
    minimum = models.IntegerField(null=True, blank=True)
    maximum = models.IntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["campaign", "field", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(operator="between") | Q(minimum__isnull=False) | Q(maximum__isnull=False),
                name="fit_rule_between_has_a_bound",
            ),
            models.CheckConstraint(condition=Q(operator="between") | ~Q(values=""), name="fit_rule_list_has_values"),
        ]

    def __str__(self) -> str:
        return self.describe()

    def value_list(self) -> list[str]:
        return [v.strip() for v in self.values.split(",") if v.strip()]

    def describe(self) -> str:
        """Return the rule in words: ``country is one of US, CA``."""
        if self.operator == self.Operator.BETWEEN:
            name = self.get_field_display().lower()
            if self.maximum is None:
                return f"{name} is at least {self.minimum}"
            if self.minimum is None:
                return f"{name} is at most {self.maximum}"
            return f"{name} is between {self.minimum} and {self.maximum}"
        return f"{self.get_field_display().lower()} {self.get_operator_display()} {', '.join(self.value_list())}"


class ContactJunk(models.Model):
    """The junk judgement of a contact added one at a time (by hand in the admin): the same rules as an import's
    rows (``campaigns.imports.junk``). Not a block: a junk contact has no number to dial, so its leads are
    already out of the pool; the judgement is what lets ``junk_purge`` delete it. Judged again on every change
    (the scrub): a contact that gains a real number or name loses it."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="junk")
    rules = models.CharField(max_length=200)
    judged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-judged_at", "-id"]
        verbose_name_plural = "contact junk judgements"

    def __str__(self) -> str:
        return f"{self.contact}: {self.rules}"


class PurgeLog(models.Model):
    """One junk purge: who ran it, when, and how many of each it deleted."""

    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_job = models.CharField(max_length=80, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    junk_rows = models.PositiveIntegerField(default=0)
    contacts = models.PositiveIntegerField(default=0)
    leads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor__isnull=False, actor_job="") | Q(actor__isnull=True) & ~Q(actor_job=""),
                name="purge_log_has_one_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"Purge of {self.at:%Y-%m-%d %H:%M}: {self.junk_rows} rows, {self.contacts} contacts, {self.leads} leads"
