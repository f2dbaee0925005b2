"""Customers' suppression lists: the uploads they send, the entries those add, and the rows refused.

An entry is never deleted: removing it stamps ``removed_at`` and lifts the blocks whose evidence it was.
At most one *active* entry exists per (customer, kind, value); that partial unique index is what makes
deduplicating a million-row upload against the active list one ``INSERT … ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from campaigns.models import Customer, User
from leadops.storage import random_upload_name


def upload_path(instance: Upload, filename: str) -> str:
    """Store the file under a random name (see ``leadops.storage``)."""
    return random_upload_name("suppressions", filename)


class Upload(models.Model):
    """One file a customer (or ops on its behalf) sent, and what became of every row in it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        READING = "reading", "Reading"
        MATCHING = "matching", "Matching"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="suppression_uploads")
    uploaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty for a command."
    )
    original_name = models.CharField(max_length=255)
    file = models.FileField(upload_to=upload_path, max_length=255)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    allow_broad_domains = models.BooleanField(
        default=False, help_text="Accept free-mail domains (gmail.com) and public suffixes (co.uk)."
    )
    column_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='Column header, or "#2" for the second column → kind ("phone", "email", "domain", "auto", "ignore").',
    )

    rows_total = models.PositiveIntegerField(default=0, help_text="Estimated until reading ends, then exact.")
    rows_done = models.PositiveIntegerField(default=0)
    values_read = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicate = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    blocks_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True, help_text="When its entries committed.")
    finished_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    # Who is processing it now: one reader at a time holds the claim and beats (``heartbeat_at``) on a
    # second connection while it works. A claim whose heartbeat stopped belongs to a dead reader; the
    # sweeper enqueues the upload again and the next reader takes the claim over (``pipeline.upload_claim``).
    claimed_by = models.CharField(max_length=120, blank=True, help_text="host:pid:token of the reader at work.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    claims = models.PositiveIntegerField(default=0, help_text="How many readers have taken it up.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Nothing is silently dropped: every value read is accepted, a duplicate, or rejected.
            models.CheckConstraint(
                condition=Q(values_read=F("accepted") + F("duplicate") + F("rejected")),
                name="upload_counts_add_up",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="upload_status_created"),
            models.Index(fields=["customer", "created_at"], name="upload_customer_created"),
            # Uploads not yet in force hold their customer's calls: the dial check and the pull probe this
            # index on every call, and it holds only the few uploads waiting to be read (usually none).
            models.Index(
                fields=["customer", "created_at"],
                condition=Q(status__in=["queued", "reading"]),
                name="upload_pending_customer",
            ),
        ]
        permissions = [("allow_broad_domains", "Can allow free-mail domains and public suffixes in an upload")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def in_force(self) -> bool:
        """Whether its entries are committed (they stop calls); until then it holds its customer's calls."""
        return self.status not in PENDING_STATUSES

    @property
    def progress_percent(self) -> int:
        if self.status in (self.Status.MATCHING, self.Status.DONE):
            return 100
        if not self.rows_total:
            return 0
        return min(100, round(100 * self.rows_done / self.rows_total))

    @property
    def report(self) -> str:
        """Return the upload's outcome in one sentence."""
        if self.status == self.Status.FAILED:
            return f"Failed, nothing was added: {self.error}"
        if self.status in (self.Status.QUEUED, self.Status.READING):
            return f"{self.get_status_display()}: {self.rows_done:,} of about {self.rows_total:,} rows read."
        return (
            f"{self.values_read:,} values read from {self.rows_total:,} rows: {self.accepted:,} accepted, "
            f"{self.duplicate:,} duplicates, {self.rejected:,} rejected "
            f"({self.accepted:,} + {self.duplicate:,} + {self.rejected:,} = {self.values_read:,})."
        )


# An upload in one of these states is not in force yet: its customer's calls wait until it is read or fails.
PENDING_STATUSES = (Upload.Status.QUEUED, Upload.Status.READING)


class EntryQuerySet(models.QuerySet):
    def active(self) -> EntryQuerySet:
        return self.filter(removed_at__isnull=True)


class Entry(models.Model):
    """One value a customer must not be reached on: an E.164 number, a lower-case email, an IDNA domain."""

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone number"
        EMAIL = "email", "Email address"
        DOMAIN = "domain", "Domain"

    # The references to the customer and the upload are checked once per INSERT statement by a trigger
    # (migration 0004), not by PostgreSQL's per-row foreign key triggers: those cost about 5 s per million
    # rows each, which doubled the time of a million-row upload. The trigger refuses a statement that
    # references a missing customer or upload, and an upload with entries cannot be deleted, so what a
    # foreign key promises still holds. The partial unique index below leads with customer, so the
    # reference needs no index of its own.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="suppression_entries",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=6, choices=Kind.choices)
    value = models.CharField(max_length=320)
    # Indexed by migration 0005: a BRIN index on PostgreSQL (an upload's entries are written together, so
    # block ranges find them, and a million-row upload does not pay for a million btree insertions).
    upload = models.ForeignKey(
        Upload,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
        db_index=False,
    )
    line = models.PositiveIntegerField(null=True, blank=True, help_text="Line of the upload it came from.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Not indexed: nobody looks entries up by who removed them, and every upload would pay for the index.
    removed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    removed_by_job = models.CharField(max_length=80, blank=True)
    remove_reason = models.TextField(blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "value"],
                condition=Q(removed_at__isnull=True),
                name="entry_one_active_per_customer_value",
            ),
            models.CheckConstraint(condition=Q(kind__in=["phone", "email", "domain"]), name="entry_kind_known"),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True, removed_by__isnull=True, removed_by_job="", remove_reason="")
                | Q(removed_at__isnull=False) & ~Q(remove_reason=""),
                name="entry_removal_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None

    @property
    def evidence_text(self) -> str:
        """Return where the entry came from, as a block's evidence says it."""
        if self.upload_id is None:
            return f"entry #{self.pk}: {self.value}"
        return f"upload {self.upload.original_name}, line {self.line}: {self.value}"


class RejectedRow(models.Model):
    """A value of an upload that could not be suppressed, and why; downloadable as CSV."""

    upload = models.ForeignKey(Upload, on_delete=models.PROTECT, related_name="rejected_rows")
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=255, blank=True)
    raw_value = models.TextField(blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["upload", "line", "id"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


# --- Platform-level registries (the national Do-Not-Call registry, state lists) ----------------------------
# Not a customer's list: ops load them for every customer. Each load is a dated version with its counts; a
# number is never deleted: a load that drops it stamps ``removed_load``, so which numbers were listed at any
# past moment is read from the loads' times (``suppressions.registries``).
NATIONAL = "national"


class RegistryLoad(models.Model):
    """One load of a registry: a full copy (the list becomes exactly its files) or a change list (additions
    and deletions), when, by whom, from which files (names and SHA-256), and what it changed."""

    class Kind(models.TextChoices):
        FULL = "full", "Full copy"
        CHANGES = "changes", "Change list"

    registry = models.CharField(
        max_length=8, help_text='"national", or a state\'s two-letter code (TX) for its own list.'
    )
    kind = models.CharField(max_length=7, choices=Kind.choices)
    files = models.JSONField(default=list, help_text="Each file read: its name, SHA-256 and line count.")
    loaded_at = models.DateTimeField(default=timezone.now, editable=False)
    loaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty for a command."
    )
    loaded_by_job = models.CharField(max_length=80, blank=True)
    added = models.PositiveBigIntegerField(default=0)
    removed = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0, help_text="Numbers listed once this load is in force.")

    class Meta:
        ordering = ["-loaded_at", "-id"]
        indexes = [models.Index(fields=["registry", "loaded_at"], name="registryload_registry_at")]

    def __str__(self) -> str:
        return f"{registry_name(self.registry)}, {self.get_kind_display().lower()} of {self.loaded_at:%Y-%m-%d}"


def registry_name(registry: str) -> str:
    """Return "the national Do-Not-Call registry" or "the TX state Do-Not-Call list"."""
    return "the national Do-Not-Call registry" if registry == NATIONAL else f"the {registry} state Do-Not-Call list"


class RegistryNumber(models.Model):
    """One number listed by a registry from ``added_load`` until ``removed_load`` (still listed while empty)."""

    registry = models.CharField(max_length=8)
    e164 = models.CharField(max_length=16)
    added_load = models.ForeignKey(RegistryLoad, on_delete=models.PROTECT, related_name="+", db_index=False)
    removed_load = models.ForeignKey(
        RegistryLoad, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            # The dial check probes this index by the dialled number; a load adds a number at most once.
            models.UniqueConstraint(
                fields=["e164", "registry"],
                condition=Q(removed_load__isnull=True),
                name="registrynumber_one_listed",
            ),
        ]
        indexes = [models.Index(fields=["e164"], name="registrynumber_e164")]

    def __str__(self) -> str:
        return f"{self.e164} on {registry_name(self.registry)}"


class RegistryExemption(models.Model):
    """A business campaign exempted from the registries (its calls are business-to-business), who granted it
    and when, and, once revoked, who revoked it and when. Never deleted: a revoked one is history."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="registry_exemptions", db_index=False
    )
    reason = models.TextField(help_text="Why its calls are business-to-business.")
    granted_at = models.DateTimeField(default=timezone.now, editable=False)
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign"], condition=Q(revoked_at__isnull=True), name="registryexemption_one_in_force"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True)
                | Q(revoked_at__isnull=False, revoked_by__isnull=False),
                name="registryexemption_revocation_complete",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "granted_at"], name="registryexemption_campaign")]

    def __str__(self) -> str:
        return f"{self.campaign} exempted from the registries"
