"""CRM integrations: a customer's CRM records synced in, and the rules that disqualify from them.

Events arrive first (webhook or file) and are stored as they came; a Celery task folds them into
``CrmRecord`` rows and re-evaluates the customer's rules. A rule matching a record is a ``CrmMatch``
episode: it is the evidence of the blocks it makes, and it ends (lifting them) when the record stops
matching. A later match is a new episode, so blocks ops lifted by hand for an episode stay lifted.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.models import DISQUALIFY_REASONS, Block, Customer


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class CrmConnection(models.Model):
    class Kind(models.TextChoices):
        HUBSPOT = "hubspot", "HubSpot"
        SALESFORCE = "salesforce", "Salesforce"
        GENERIC = "generic", "Generic (leadops JSON)"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="crm_connections")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.GENERIC)
    secret = models.CharField(
        max_length=128, default=new_secret, help_text="Shared secret that signs webhook bodies (HMAC-SHA256)."
    )
    is_active = models.BooleanField(default=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "CRM connection"
        verbose_name_plural = "CRM connections"
        ordering = ["customer__name", "name"]
        constraints = [models.UniqueConstraint(fields=["customer", "name"], name="crm_connection_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class ObjectType(models.TextChoices):
    COMPANY = "company", "Company / account"
    CONTACT = "contact", "Contact"
    DEAL = "deal", "Deal"


class CrmEvent(models.Model):
    """One event as received; ``event_id`` is unique per connection, so a replay is ignored."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(CrmConnection, on_delete=models.PROTECT, related_name="events")
    event_id = models.CharField(max_length=200)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "CRM event"
        verbose_name_plural = "CRM events"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "event_id"], name="crm_event_unique_per_connection")
        ]
        indexes = [models.Index(fields=["connection", "status"], name="crm_event_pending")]

    def __str__(self) -> str:
        return f"{self.connection} event {self.event_id}"


class CrmRecord(models.Model):
    """A company, contact or deal as the CRM last described it."""

    connection = models.ForeignKey(CrmConnection, on_delete=models.PROTECT, related_name="records")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    object_type = models.CharField(max_length=8, choices=ObjectType.choices)
    external_id = models.CharField(max_length=200)
    name = models.CharField(max_length=255, blank=True)
    domain = models.CharField(max_length=255, blank=True, help_text="Lower-case IDNA; for a deal, its company's.")
    emails = models.JSONField(default=list, blank=True)
    phones = models.JSONField(default=list, blank=True, help_text="E.164 numbers.")
    properties = models.JSONField(default=dict, blank=True)
    is_deleted = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "CRM record"
        verbose_name_plural = "CRM records"
        ordering = ["connection", "object_type", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "object_type", "external_id"], name="crm_record_unique_per_connection"
            )
        ]
        indexes = [models.Index(fields=["customer", "object_type"], name="crm_record_customer_type")]

    def __str__(self) -> str:
        return self.name or f"{self.get_object_type_display()} {self.external_id}"


class CrmRecordIdentifier(models.Model):
    """An email or phone of a record, normalised, so matching contacts is an indexed join."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"

    record = models.ForeignKey(CrmRecord, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    value = models.CharField(max_length=320)

    class Meta:
        verbose_name = "CRM record identifier"
        verbose_name_plural = "CRM record identifiers"
        constraints = [models.UniqueConstraint(fields=["record", "kind", "value"], name="crm_identifier_unique")]
        indexes = [models.Index(fields=["kind", "value"], name="crm_identifier_value")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class CrmRule(models.Model):
    class Operator(models.TextChoices):
        EQUALS = "equals", "equals"
        IN = "in", "is one of"
        NOT_IN = "not_in", "is none of"
        CONTAINS = "contains", "contains"
        IS_SET = "is_set", "is set"
        GREATER = "gt", "is greater than"
        LESS = "lt", "is less than"

    class Effect(models.TextChoices):
        ACCOUNT = "account", "Disqualify the matching account"
        CONTACT = "contact", "Disqualify the matching contact"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="crm_rules")
    name = models.CharField(max_length=120)
    object_type = models.CharField(max_length=8, choices=ObjectType.choices)
    property = models.CharField(max_length=120, help_text="The CRM property, e.g. lifecyclestage or dealstage.")
    operator = models.CharField(max_length=8, choices=Operator.choices)
    value = models.CharField(
        max_length=500, blank=True, help_text="For 'is one of' / 'is none of', separate values with commas."
    )
    effect = models.CharField(max_length=8, choices=Effect.choices, default=Effect.ACCOUNT)
    # What ops may choose when they disqualify: a CRM rule disqualifies too (never a registry's or a
    # suppression's reason, which only what makes those blocks gives).
    reason = models.CharField(
        max_length=24,
        choices=[(reason.value, reason.label) for reason in DISQUALIFY_REASONS],
        default=Block.Reason.EXISTING_CUSTOMER,
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "CRM rule"
        verbose_name_plural = "CRM rules"
        ordering = ["customer__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "name"], name="crm_rule_name_unique"),
            models.CheckConstraint(condition=Q(operator="is_set") | ~Q(value=""), name="crm_rule_value_unless_is_set"),
        ]

    def __str__(self) -> str:
        return self.name

    def describe(self) -> str:
        """Return the rule in words: ``company lifecyclestage equals customer``."""
        value = "" if self.operator == self.Operator.IS_SET else f" {self.value}"
        return f"{self.object_type} {self.property} {self.get_operator_display()}{value}"


class CrmMatch(models.Model):
    """One episode of a rule matching a record: the evidence of the blocks it makes."""

    rule = models.ForeignKey(CrmRule, on_delete=models.PROTECT, related_name="matches")
    record = models.ForeignKey(CrmRecord, on_delete=models.PROTECT, related_name="matches")
    matched_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "CRM match"
        verbose_name_plural = "CRM matches"
        ordering = ["-matched_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "record"], condition=Q(ended_at__isnull=True), name="crm_match_one_open_episode"
            )
        ]
        indexes = [models.Index(fields=["rule"], condition=Q(ended_at__isnull=True), name="crm_match_open")]

    def __str__(self) -> str:
        return f"{self.rule} ↔ {self.record}"


class CrmRuleChange(models.Model):
    """One change of a rule: who made it, when, and the rule before and after (``RULE_FIELDS``)."""

    rule = models.ForeignKey(CrmRule, on_delete=models.PROTECT, related_name="changes")
    changed_by = models.ForeignKey(
        "campaigns.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for a job.",
    )
    actor_job = models.CharField(max_length=60, blank=True)
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    before = models.JSONField(null=True, blank=True, help_text="Empty when the rule was added.")
    after = models.JSONField()

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule} changed {self.changed_at:%Y-%m-%d}"

    @property
    def by_customer(self) -> bool:
        """Whether one of the rule's customer's own users made it (their name may be shown to the customer)."""
        return self.changed_by_id is not None and self.changed_by.customer_id == self.rule.customer_id
