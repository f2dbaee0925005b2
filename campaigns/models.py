"""The domain core: who is called (accounts, contacts, numbers), for whom (customers, campaigns), and why not.

Facts that must never be false are database constraints here, not form validation. Business rules live in
``campaigns.services`` (writes) and ``campaigns.selectors`` (reads), never in ``save()`` or signals.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone


class BaseModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Customer(BaseModel):
    """The tenant: owns campaigns, accounts, contacts, suppressions and its own users."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    phone_region = models.CharField(
        max_length=2,
        default="US",
        help_text="ISO country code used to read national-format numbers, e.g. US or GB.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone_region__regex=r"^[A-Z]{2}$"), name="customer_phone_region_is_iso_code"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who logs in: agency staff (no customer) or a customer's user (exactly one customer)."""

    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="Set for a customer's portal user; empty for agency staff.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["username"]
        constraints = [
            # A customer's user never reaches the admin, where every customer's data is visible.
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(is_staff=False, is_superuser=False),
                name="customer_user_is_not_staff",
            ),
        ]
        permissions = [
            ("lift_platform_dnc", "Can lift a platform-wide Do-Not-Call the person asked for"),
            ("lift_block", "Can lift blocks (undisqualify)"),
            (
                "work_every_campaign",
                "Can see and work every campaign's leads (agency ops); without it, only the approved campaigns'",
            ),
            ("approve_callers", "Can approve callers for campaigns and revoke their approvals"),
            ("reopen_lead", "Can reopen a lead that Unqualify or the attempt cap closed"),
        ]

    @property
    def is_agency_staff(self) -> bool:
        return self.customer_id is None and self.is_staff


class Campaign(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ARCHIVED = "archived", "Archived"

    class Audience(models.TextChoices):
        CONSUMER = "consumer", "Consumers"
        BUSINESS = "business", "Businesses"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    cooldown_hours = models.PositiveIntegerField(default=24, help_text="Hours a lead waits after an attempt.")
    attempt_cap = models.PositiveIntegerField(
        default=6, help_text="Attempts without a connect before the lead is Unreachable."
    )
    audience = models.CharField(
        max_length=10,
        choices=Audience.choices,
        default=Audience.CONSUMER,
        help_text="Who the campaign calls. Consumer calls follow the consumer-only rules (calling windows, the "
        "national registry); a business campaign may be exempted from them, and the exemption is recorded.",
    )

    class Meta:
        ordering = ["customer__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "name"], name="campaign_name_unique_per_customer"),
            models.CheckConstraint(condition=Q(attempt_cap__gte=1), name="campaign_attempt_cap_at_least_one"),
        ]

    def __str__(self) -> str:
        return self.name


class CallerApprovalQuerySet(models.QuerySet):
    def in_force(self) -> CallerApprovalQuerySet:
        """The approvals not revoked (a revoked one is history, never deleted)."""
        return self.filter(revoked_at__isnull=True)


class CallerApproval(models.Model):
    """An agency user approved to call one campaign's leads: who approved them and when, and, once revoked,
    who revoked it and when. Approvals are history: revoking ends one; the database refuses to delete one.

    A caller may pull a campaign's leads, record calls on them and work them in the admin only while an
    approval of theirs for that campaign is in force (``campaigns.services.callers``).
    """

    caller = models.ForeignKey(User, on_delete=models.PROTECT, related_name="approvals")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="approvals")
    approved_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    approved_by_job = models.CharField(max_length=80, blank=True, help_text="The job that approved, if no person.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoked_by_job = models.CharField(max_length=80, blank=True, help_text="The job that revoked, if no person.")
    revoke_reason = models.CharField(max_length=500, blank=True)

    objects = CallerApprovalQuerySet.as_manager()

    class Meta:
        ordering = ["-approved_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["caller", "campaign"],
                condition=Q(revoked_at__isnull=True),
                name="caller_approval_one_in_force_per_campaign",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=False) | ~Q(approved_by_job=""),
                name="caller_approval_has_approver",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True, revoked_by_job="")
                | Q(revoked_at__isnull=False) & (Q(revoked_by__isnull=False) | ~Q(revoked_by_job="")),
                name="caller_approval_revocation_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=F("approved_at")),
                name="caller_approval_revoked_after_approved",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign"], condition=Q(revoked_at__isnull=True), name="caller_approval_campaign"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} for {self.campaign}"

    @property
    def in_force(self) -> bool:
        return self.revoked_at is None


class Account(BaseModel):
    """A company being prospected. ``domain`` is lower-case IDNA without ``www.``, or empty."""

    # ``db_constraint=False``: the database checks it once per statement (``leadops.references``).
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="accounts", db_constraint=False)
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True)
    attributes = models.JSONField(
        default=dict,
        db_default=models.Value({}, output_field=models.JSONField()),
        blank=True,
        help_text="Firmographics from imports: country, industry, employees.",
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["customer", "domain"], name="account_customer_domain"),
            models.Index(fields=["customer", "name"], name="account_customer_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(BaseModel):
    """A person at an account. ``customer`` repeats the account's, so tenant scoping needs no join."""

    # No index of its own: ``contact_customer_last_name`` serves it. ``db_constraint=False`` here and below: the
    # database checks each reference once per statement (``leadops.references``).
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="contacts", db_index=False, db_constraint=False
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="contacts", db_constraint=False)
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    title = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(
        default=dict,
        db_default=models.Value({}, output_field=models.JSONField()),
        blank=True,
        help_text="Facts from imports: country, age, nationality, income band.",
    )

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["customer", "last_name"], name="contact_customer_last_name")]

    def __str__(self) -> str:
        return self.full_name or f"Contact #{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactEmail(models.Model):
    """One address of a contact, lower-case; ``domain`` is its IDNA domain, kept for domain matching."""

    # No index of its own: the unique (contact, email) serves it.
    # ``db_constraint=False``: the database checks it once per statement (``leadops.references``).
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="emails", db_index=False, db_constraint=False
    )
    email = models.CharField(max_length=320)
    domain = models.CharField(max_length=255)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "email"], name="contact_email_unique"),
            models.CheckConstraint(condition=Q(email=models.functions.Lower("email")), name="contact_email_lower"),
        ]
        indexes = [
            models.Index(fields=["email"], name="contact_email_email"),
            models.Index(fields=["domain"], name="contact_email_domain"),
        ]

    def __str__(self) -> str:
        return self.email


class PhoneNumber(models.Model):
    """One real number, stored once in E.164 and shared by every contact that has it."""

    e164 = models.CharField(max_length=20, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["e164"]
        constraints = [
            models.CheckConstraint(condition=Q(e164__regex=r"^\+[1-9][0-9]{6,14}$"), name="phone_is_e164"),
        ]

    def __str__(self) -> str:
        from leadops.normalizing import format_phone

        return format_phone(self.e164)


class ContactPhone(models.Model):
    """A contact's use of one number."""

    class Kind(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        DIRECT = "direct", "Direct dial"
        OFFICE = "office", "Office / switchboard"

    # Neither has an index of its own: the unique (contact, phone) and (phone, contact) serve them.
    # ``db_constraint=False``: the database checks both once per statement (``leadops.references``).
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="phones", db_index=False, db_constraint=False
    )
    phone = models.ForeignKey(
        PhoneNumber, on_delete=models.PROTECT, related_name="contact_links", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DIRECT)

    class Meta:
        ordering = ["contact", "kind", "id"]
        constraints = [models.UniqueConstraint(fields=["contact", "phone"], name="contact_phone_unique")]
        indexes = [models.Index(fields=["phone", "contact"], name="contact_phone_by_phone")]

    def __str__(self) -> str:
        return f"{self.contact} · {self.phone} ({self.get_kind_display()})"


class LeadStatus(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    WAITING = "waiting", "Waiting"
    DISQUALIFIED = "disqualified", "Disqualified"


class LeadStage(models.TextChoices):
    """Where a lead is in its outreach, independent of its status (``campaigns.rules.lead_stage_expression``)."""

    NEW = "new", "New"
    ATTEMPTED = "attempted", "Attempted"
    CONNECTED = "connected", "Connected"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    QUALIFIED = "qualified", "Qualified"
    UNQUALIFIED = "unqualified", "Unqualified"


class Lead(BaseModel):
    """One contact inside one campaign's pool.

    ``status`` is stored so that pulling is one index scan, and ``stage`` so that lists filter on it;
    ``campaigns.services.statuses`` is the only code that writes either. The blocks, calls and meetings
    themselves remain the authoritative answer.
    """

    class WaitingReason(models.TextChoices):
        NONE = "", "—"
        COOLDOWN = "cooldown", "Cooling down after an attempt"
        CALLBACK = "callback", "Callback booked"
        LEASED = "leased", "Leased to a caller"
        MEETING = "meeting", "Waiting for the meeting outcome"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    # No index of its own: every index below that starts with the campaign serves it (fewer to write).
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="leads", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="leads")
    status = models.CharField(max_length=12, choices=LeadStatus.choices, default=LeadStatus.ELIGIBLE)
    waiting_until = models.DateTimeField(null=True, blank=True)
    waiting_reason = models.CharField(max_length=10, choices=WaitingReason.choices, blank=True, default="")
    leased_to = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="leased_leads")
    priority = models.IntegerField(default=0, help_text="Higher is pulled first.")
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=120, blank=True, help_text="Where the lead came from (list, vendor…).")
    stage = models.CharField(max_length=14, choices=LeadStage.choices, default=LeadStage.NEW, editable=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="lead_unique_per_campaign_contact"),
            models.CheckConstraint(
                condition=Q(leased_to__isnull=True) | Q(waiting_until__isnull=False),
                name="lead_lease_has_expiry",
            ),
        ]
        indexes = [
            # The pull's index ("next eligible leads of a campaign by priority, least recently attempted
            # first") is created by migration 0002: SQLite cannot write NULLS FIRST in an index.
            models.Index(fields=["campaign", "status"], name="lead_campaign_status"),
            models.Index(fields=["campaign", "stage"], name="lead_campaign_stage"),
            models.Index(fields=["waiting_until"], condition=Q(status="waiting"), name="lead_waiting_until"),
        ]

    def __str__(self) -> str:
        return f"Lead #{self.pk}"


class BlockQuerySet(models.QuerySet):
    def delete(self):
        raise BlockDeletionError("Blocks are never deleted; lift them instead.")

    def active(self) -> BlockQuerySet:
        return self.filter(lifted_at__isnull=True)


class BlockDeletionError(Exception):
    pass


class Block(models.Model):
    """One recorded reason not to reach out. Never deleted: lifted, with who, when and why."""

    class Target(models.TextChoices):
        LEAD = "lead", "Lead"
        CONTACT = "contact", "Contact"
        ACCOUNT = "account", "Account"
        PHONE = "phone", "Phone number"
        CONTACT_PHONE = "contact_phone", "Contact's use of a number"

    class Source(models.TextChoices):
        DISPOSITION = "disposition", "Call disposition"
        OPS_DISQUALIFY = "ops_disqualify", "Disqualify workflow"
        OPS_PHONE_DNC = "ops_phone_dnc", "Mark Phone DNC workflow"
        CUSTOMER_DNC = "customer_dnc", "Customer Do Not Call"
        SUPPRESSION = "suppression", "Customer suppression"
        CRM_RULE = "crm_rule", "CRM rule"
        MEETING_OUTCOME = "meeting_outcome", "Meeting outcome"
        UNREACHABLE = "unreachable", "Attempt cap reached"
        FIT_RULE = "fit_rule", "Campaign fit rule"
        # A number listed by a platform registry (``suppressions.registries``), for one scrubbed campaign.
        REGISTRY = "registry", "Do-Not-Call registry"

    class Reach(models.TextChoices):
        PLATFORM = "platform", "Platform-wide"
        CUSTOMER = "customer", "This customer"
        CAMPAIGN = "campaign", "This campaign"

    class Reason(models.TextChoices):
        DO_NOT_CALL = "do_not_call", "Asked not to be called"
        NOT_INTERESTED = "not_interested", "Not interested"
        # A "Not now — try again in N days" disposition's: the person asked to be called later, not to be left alone.
        CALL_LATER = "call_later", "Asked to be called later"
        NO_LONGER_INTERESTED = "no_longer_interested", "No longer interested"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        INVALID_NUMBER = "invalid_number", "Invalid number"
        UNREACHABLE = "unreachable", "Unreachable"
        EXISTING_CUSTOMER = "existing_customer", "Existing customer"
        OPEN_DEAL = "open_deal", "Open deal"
        COMPETITOR = "competitor", "Competitor"
        NOT_A_FIT = "not_a_fit", "Not a fit"
        DUPLICATE = "duplicate", "Duplicate"
        JUNK = "junk", "Junk data"
        SUPPRESSED = "suppressed", "On the customer's suppression list"
        QUALIFIED = "qualified", "Meeting qualified"
        NOT_QUALIFIED = "not_qualified", "Meeting not qualified"
        # A registry block's: which kind of list (the dialer's reason code, as the registries' live check gives).
        NATIONAL_DNC = "national_dnc", "On the national Do-Not-Call registry"
        STATE_DNC = "state_dnc", "On a state Do-Not-Call list"
        OTHER = "other", "Other"

    target = models.CharField(max_length=14, choices=Target.choices)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.PROTECT, related_name="blocks")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="blocks")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="blocks")
    phone = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.PROTECT, related_name="blocks")

    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.CharField(max_length=24, choices=Reason.choices, default=Reason.OTHER)
    reach = models.CharField(max_length=8, choices=Reach.choices)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Blocks are written in bulk by matching: an index is kept only where a query reads through it. Lookups by
    # campaign go through the lead; by evidence type through ``block_evidence``; by actor nowhere hot.
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    actor_job = models.CharField(max_length=80, blank=True, help_text="The job that made it, when no person did.")
    # Who the actor was when they made it: an approved caller working this campaign (their role, named in the
    # block's sentence); empty for ops, for jobs and for a customer's own user. Read with the block only.
    caller_campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="The campaign the actor worked as its approved caller when they made the block.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    evidence_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    evidence_id = models.PositiveBigIntegerField(null=True, blank=True)
    evidence = GenericForeignKey("evidence_type", "evidence_id")
    evidence_text = models.TextField(blank=True, help_text="What the evidence says, in words.")
    note = models.TextField(blank=True)
    # Ops write notes for each other ("Harbor is a competitor of Northwind since the merger"): a note stays
    # internal unless they tick "shown to the customer". The database default keeps it so for the
    # set-based INSERTs that name their columns (matching, CRM rules).
    note_shown = models.BooleanField(
        default=False,
        db_default=False,
        verbose_name="note shown to the customer",
        help_text="Shown in the customer's portal and to its API key; otherwise only agency staff read the note.",
    )

    # A block may end by itself ("do not call for 90 days"): from ``ends_at`` on it is no longer in force, at
    # read time (``campaigns.rules``); the expiry job then lifts it, recorded like any lift.
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="When the block ends by itself; empty for a block that lasts until lifted."
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    lifted_by_job = models.CharField(max_length=80, blank=True)
    lift_reason = models.TextField(blank=True)

    objects = BlockQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = []
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        target="lead",
                        lead__isnull=False,
                        contact__isnull=True,
                        account__isnull=True,
                        phone__isnull=True,
                    )
                    | Q(
                        target="contact",
                        lead__isnull=True,
                        contact__isnull=False,
                        account__isnull=True,
                        phone__isnull=True,
                    )
                    | Q(
                        target="account",
                        lead__isnull=True,
                        contact__isnull=True,
                        account__isnull=False,
                        phone__isnull=True,
                    )
                    | Q(
                        target="phone",
                        lead__isnull=True,
                        contact__isnull=True,
                        account__isnull=True,
                        phone__isnull=False,
                    )
                    | Q(
                        target="contact_phone",
                        lead__isnull=True,
                        contact__isnull=False,
                        account__isnull=True,
                        phone__isnull=False,
                    )
                ),
                name="block_target_matches_its_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(reach="platform", customer__isnull=True, campaign__isnull=True)
                    | Q(reach="customer", customer__isnull=False, campaign__isnull=True)
                    | Q(reach="campaign", customer__isnull=False, campaign__isnull=False)
                ),
                name="block_reach_matches_scope",
            ),
            models.CheckConstraint(
                condition=(Q(actor__isnull=False, actor_job="") | Q(actor__isnull=True) & ~Q(actor_job="")),
                name="block_has_one_actor",
            ),
            models.CheckConstraint(
                condition=(
                    Q(lifted_at__isnull=True, lifted_by__isnull=True, lifted_by_job="", lift_reason="")
                    | Q(lifted_at__isnull=False)
                    & ~Q(lift_reason="")
                    & (Q(lifted_by__isnull=False, lifted_by_job="") | Q(lifted_by__isnull=True) & ~Q(lifted_by_job=""))
                ),
                name="block_lift_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(evidence_type__isnull=True, evidence_id__isnull=True)
                | Q(evidence_type__isnull=False, evidence_id__isnull=False),
                name="block_evidence_is_complete",
            ),
            # At most one active block per target + source + reach + evidence.
            models.UniqueConstraint(
                "target",
                Coalesce("lead", 0),
                Coalesce("contact", 0),
                Coalesce("account", 0),
                Coalesce("phone", 0),
                "source",
                "reach",
                Coalesce("customer", 0),
                Coalesce("campaign", 0),
                Coalesce("evidence_type", 0),
                Coalesce("evidence_id", 0),
                condition=Q(lifted_at__isnull=True),
                name="block_one_active_per_target_source_evidence",
            ),
        ]
        indexes = [
            models.Index(fields=["lead"], condition=Q(lifted_at__isnull=True), name="block_active_lead"),
            models.Index(fields=["contact"], condition=Q(lifted_at__isnull=True), name="block_active_contact"),
            models.Index(fields=["account"], condition=Q(lifted_at__isnull=True), name="block_active_account"),
            models.Index(fields=["phone"], condition=Q(lifted_at__isnull=True), name="block_active_phone"),
            models.Index(fields=["evidence_type", "evidence_id"], name="block_evidence"),
            models.Index(fields=["lifted_at"], condition=Q(lifted_at__isnull=False), name="block_lifted_at"),
            # The expiry job's scan: only blocks in force that carry an end.
            models.Index(
                fields=["ends_at"], condition=Q(lifted_at__isnull=True, ends_at__isnull=False), name="block_ends_at"
            ),
            models.Index(fields=["source", "customer"], name="block_source_customer"),
        ]

    def __str__(self) -> str:
        return f"Block #{self.pk} ({self.get_source_display()}, {self.get_target_display()})"

    def delete(self, *args, **kwargs):
        raise BlockDeletionError("Blocks are never deleted; lift them instead.")

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None

    @property
    def actor_name(self) -> str:
        return self.actor.get_username() if self.actor_id else self.actor_job

    @property
    def lifted_by_name(self) -> str:
        return self.lifted_by.get_username() if self.lifted_by_id else self.lifted_by_job

    @property
    def note_for_customer(self) -> str:
        """Return the note if the customer may read it (ops marked it shown, or the customer's own user
        wrote it), else an empty string. Needs ``actor`` loaded."""
        if not self.note:
            return ""
        if self.note_shown:
            return self.note
        own = self.actor_id is not None and self.customer_id is not None and self.actor.customer_id == self.customer_id
        return self.note if own else ""

    @property
    def is_platform_dnc(self) -> bool:
        """True for a platform-wide Do-Not-Call the person asked for; lifting it needs a permission."""
        return self.reach == self.Reach.PLATFORM and self.reason == self.Reason.DO_NOT_CALL


# The reasons ops choose from when they disqualify a contact or an account, and a CRM rule's (it disqualifies
# too). The unqualify reasons of a lead (``campaigns.rules.UNQUALIFY_REASONS``) are a lead's own workflow; the
# others are given by what makes the block (a suppression, a meeting's outcome, a registry), never chosen.
DISQUALIFY_REASONS = (
    Block.Reason.NOT_INTERESTED,
    Block.Reason.DO_NOT_CALL,
    Block.Reason.EXISTING_CUSTOMER,
    Block.Reason.OPEN_DEAL,
    Block.Reason.COMPETITOR,
    Block.Reason.NOT_A_FIT,
    Block.Reason.DUPLICATE,
    Block.Reason.JUNK,
    Block.Reason.OTHER,
)


class Disposition(models.Model):
    """One outcome in a campaign's catalogue, and what it does to the lead."""

    class Effect(models.TextChoices):
        NO_CONNECT = "no_connect", "No connect: cool down, counts toward the attempt cap"
        CONNECT = "connect", "Connected: cool down"
        CALLBACK = "callback", "Call back: waiting until the callback time"
        NOT_INTERESTED = "not_interested", "Not interested: lead disqualified"
        DO_NOT_CALL = "do_not_call", "Do not call: number DNC platform-wide, contact disqualified"
        WRONG_NUMBER = "wrong_number", "Wrong number: number blocked for this contact"
        INVALID_NUMBER = "invalid_number", "Invalid number: number blocked"
        MEETING_BOOKED = "meeting_booked", "Meeting booked: waiting for the meeting outcome"
        NOT_NOW = "not_now", "Not now: lead disqualified for a number of days, then back in the pool"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="dispositions")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=80)
    effect = models.CharField(max_length=16, choices=Effect.choices)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)
    block_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="For Not now: the days the lead stays out of the pool before it returns."
    )

    class Meta:
        ordering = ["campaign", "sort_order", "label"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="disposition_code_unique_per_campaign"),
            models.CheckConstraint(
                condition=Q(effect="not_now", block_days__gte=1) | (~Q(effect="not_now") & Q(block_days__isnull=True)),
                name="disposition_not_now_has_days",
                violation_error_message=(
                    "A Not now disposition needs its days (1 or more); no other disposition has days."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def connected(self) -> bool:
        return self.effect != self.Effect.NO_CONNECT


class Call(models.Model):
    """A call a caller made on a lead, and the disposition recorded for it. Kept for ever."""

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="calls")
    caller = models.ForeignKey(User, on_delete=models.PROTECT, related_name="calls")
    phone = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.PROTECT, related_name="calls")
    disposition = models.ForeignKey(Disposition, on_delete=models.PROTECT, related_name="calls")
    notes = models.TextField(blank=True)
    callback_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    idempotency_key = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The frequency caps count a number's and a lead's calls of the last 24 hours.
        indexes = [
            models.Index(fields=["phone", "created_at"], name="call_phone_recent"),
            models.Index(fields=["lead", "created_at"], name="call_lead_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["caller", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="call_idempotency_key_unique_per_caller",
            )
        ]

    def __str__(self) -> str:
        return f"{self.disposition} by {self.caller} on {self.created_at:%Y-%m-%d}"


class Meeting(models.Model):
    """A meeting booked with a lead; its outcome ends outreach for the campaign when it qualifies."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        QUALIFIED = "qualified", "Qualified"
        NOT_QUALIFIED = "not_qualified", "Not qualified"
        NO_SHOW = "no_show", "No-show"

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="meetings")
    booked_by_call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    scheduled_for = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=14, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_set_at = models.DateTimeField(null=True, blank=True)
    outcome_set_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Meeting #{self.pk} ({self.get_outcome_display()})"


class ApiKey(models.Model):
    """A per-integration key for the dialer API: ``Authorization: Bearer lok_<prefix>_<secret>``.

    Only the SHA-256 of the whole key is stored; the key itself is shown once, when it is created. A key
    with no customer is the agency's (callers pull and record calls); a customer's key sees only that
    customer's data and is read-only.
    """

    name = models.CharField(max_length=120, help_text="Which integration uses it, e.g. 'Dialer production'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False, help_text="Shown, to tell keys apart.")
    hashed_secret = models.CharField(max_length=64, editable=False)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_keys",
        help_text="Empty for the agency's key; set for a key of one customer (read-only).",
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(condition=Q(hashed_secret__regex=r"^[0-9a-f]{64}$"), name="api_key_hash_is_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Project(BaseModel):
    """One of a customer's projects or units a qualified lead may be interested in (the customer's catalogue)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    campaigns = models.ManyToManyField(
        Campaign,
        blank=True,
        related_name="projects",
        help_text="The campaigns that offer it; none means every campaign of the customer.",
    )

    class Meta:
        ordering = ["customer__name", "name"]
        constraints = [models.UniqueConstraint(fields=["customer", "name"], name="project_name_unique_per_customer")]

    def __str__(self) -> str:
        return self.name


class LostReason(models.Model):
    """Why a qualified lead is a lost opportunity (a list per customer); some need a note to say more."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="lost_reasons")
    label = models.CharField(max_length=120)
    needs_note = models.BooleanField(default=False, help_text="The person choosing it must say more in a note.")
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["customer", "sort_order", "label"]
        constraints = [models.UniqueConstraint(fields=["customer", "label"], name="lost_reason_unique_per_customer")]

    def __str__(self) -> str:
        return self.label


class ConsiderationStage(models.Model):
    """How far a qualified lead is in buying (a list per campaign: Awareness, Consideration, Decision…)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="consideration_stages")
    label = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["campaign", "sort_order", "label"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "label"], name="consideration_stage_unique_per_campaign")
        ]

    def __str__(self) -> str:
        return self.label


class Opportunity(BaseModel):
    """What a qualified lead became: on the account, for a project (or lost, with its reason), at a stage.

    ``existing_customer`` says the prospect's company already buys from the customer; ``matched`` is the
    record it was merged into (an ``Account``, or a CRM record marked as a customer). Every change after
    qualifying is an ``OpportunityEvent``; ``campaigns.services.opportunities`` is the one code that writes.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="opportunities")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="opportunities")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="opportunities")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="opportunities")
    lead = models.OneToOneField(Lead, on_delete=models.PROTECT, related_name="opportunity")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    calls = models.ManyToManyField(Call, blank=True, related_name="+", help_text="The calls it came from.")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="opportunities")
    consideration_stage = models.ForeignKey(ConsiderationStage, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=4, choices=State.choices, default=State.OPEN)
    lost_reason = models.ForeignKey(LostReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lost_note = models.TextField(blank=True)
    existing_customer = models.BooleanField(default=False)
    matched_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    matched_id = models.PositiveBigIntegerField(null=True, blank=True)
    matched = GenericForeignKey("matched_type", "matched_id")
    matched_text = models.CharField(max_length=300, blank=True, help_text="The existing record, in words.")
    qualified_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    qualified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-qualified_at", "-id"]
        verbose_name_plural = "opportunities"
        constraints = [
            # Lost means a reason; open or won means a project it is about.
            models.CheckConstraint(
                condition=Q(state="lost", lost_reason__isnull=False)
                | Q(~Q(state="lost"), lost_reason__isnull=True, project__isnull=False),
                name="opportunity_lost_has_reason_else_project",
            ),
            models.CheckConstraint(
                condition=Q(existing_customer=True) | Q(matched_type__isnull=True, matched_id__isnull=True),
                name="opportunity_match_only_for_existing_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "state"], name="opportunity_customer_state"),
            models.Index(fields=["account"], name="opportunity_account"),
        ]

    def __str__(self) -> str:
        return f"Opportunity #{self.pk} ({self.account})"


class OpportunityEvent(models.Model):
    """One change of an opportunity: who, when, from what to what. History: never edited."""

    class Kind(models.TextChoices):
        QUALIFIED = "qualified", "Qualified"
        STAGE = "stage", "Consideration stage changed"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    opportunity = models.ForeignKey(Opportunity, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_job = models.CharField(max_length=80, blank=True)
    at = models.DateTimeField(default=timezone.now)
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["opportunity", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor__isnull=False, actor_job="") | Q(actor__isnull=True) & ~Q(actor_job=""),
                name="opportunity_event_has_one_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.from_value} → {self.to_value}"


class UndoRequest(models.Model):
    """A customer's request that the agency lift one block stopping one of its leads, and the agency's answer.

    A request lifts nothing by itself: ops answer it with the Undisqualify workflow (``state`` lifted) or decline
    it with a reason the customer reads (``answer``). Who answered stays with the agency: the portal says "the
    agency".
    """

    class State(models.TextChoices):
        OPEN = "open", "Waiting for the agency"
        LIFTED = "lifted", "Lifted by the agency"
        DECLINED = "declined", "Declined by the agency"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="undo_requests")
    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="undo_requests")
    sentence = models.TextField(help_text="The sentence the customer asked about, as it read then.")
    reason = models.TextField(help_text="Why the customer asks (its own words).")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    answer = models.TextField(blank=True, help_text="What the customer reads: the lift's or the refusal's reason.")
    answered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "block"], condition=Q(state="open"), name="undo_request_one_open_per_block"
            ),
            models.CheckConstraint(
                condition=Q(state="open", answered_at__isnull=True)
                | (~Q(state="open") & Q(answered_at__isnull=False) & ~Q(answer="")),
                name="undo_request_answered_with_words",
            ),
        ]
        indexes = [models.Index(fields=["state", "requested_at"], name="undo_request_state")]

    def __str__(self) -> str:
        return f"Undo request #{self.pk} for {self.lead}"


class Verdict(models.Model):
    """One answer the dialer was given: a dial check's, or a number a pull handed out. Kept, never changed.

    What stopped the number is kept as the answer gave it (``reasons``: each reason's code, and the block or
    suppression entry behind it), so that "what did you tell the dialer, and why?" is read, not recomputed.
    Append-only: a database trigger refuses any UPDATE or DELETE (migration 0019). On PostgreSQL the table is
    partitioned by month on ``at`` (``campaigns.services.verdicts``), so years of verdicts stay cheap to keep
    and a month past the retention is detached whole; the embedded SQLite keeps one plain table. No foreign
    key is checked: a verdict outlives nothing it names (leads and keys are never deleted), and per-row
    checks would cost the hot path.
    """

    class Kind(models.TextChoices):
        DIAL_CHECK = "dial_check", "Dial check"
        PULL = "pull", "Pull"

    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    lead = models.ForeignKey(Lead, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    number = models.CharField(max_length=20, help_text="The number as E.164.")
    api_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    caller = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    allowed = models.BooleanField()
    reasons = models.JSONField(default=list, help_text='[{"code": …, "block_id": …, "entry_id": …}, …]')

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "at"], name="verdict_lead_at"),
            models.Index(fields=["number", "at"], name="verdict_number_at"),
        ]

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "refused"
        return f"{self.get_kind_display()} of {self.number}: {verdict}"


class LeadFact(models.Model):
    """What the lead report counts about one lead, kept so that a report of a million leads is one GROUP BY.

    A rollup, never the truth: ``campaigns.services.reporting.lead_facts_refresh`` rebuilds a customer's rows
    from the leads, calls, meetings and blocks (every night, and when ops ask), and
    ``tests/campaigns/test_reports.py`` holds it equal to the live computation. Segment values are the
    lead's data as imported ("" when missing); ``size_band`` is read from the account's employee count.
    """

    lead = models.OneToOneField(Lead, primary_key=True, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False)
    source = models.CharField(max_length=120, blank=True)
    entered_at = models.DateTimeField()
    country = models.CharField(max_length=120, blank=True)
    industry = models.CharField(max_length=200, blank=True)
    size_band = models.CharField(max_length=12, blank=True)
    title = models.CharField(max_length=200, blank=True)
    age = models.CharField(max_length=40, blank=True)
    nationality = models.CharField(max_length=120, blank=True)
    income = models.CharField(max_length=120, blank=True)
    has_phone = models.BooleanField(default=False)
    has_email = models.BooleanField(default=False)
    has_title = models.BooleanField(default=False)
    has_industry = models.BooleanField(default=False)
    has_size = models.BooleanField(default=False)
    has_country = models.BooleanField(default=False)
    # Disqualified at entry: by a block made before the lead came in, or by the scrub as it came in.
    entry_existing = models.BooleanField(default=False)
    entry_suppression = models.BooleanField(default=False)
    entry_crm_rule = models.BooleanField(default=False)
    entry_fit_rule = models.BooleanField(default=False)
    entry_registry = models.BooleanField(default=False)
    entry_other = models.BooleanField(default=False)
    entry_disqualified = models.BooleanField(default=False, help_text="Any of the entry_ flags.")
    attempted = models.BooleanField(default=False)
    connected = models.BooleanField(default=False)
    meeting = models.BooleanField(default=False)
    qualified = models.BooleanField(default=False)
    unqualified_reason = models.CharField(max_length=24, blank=True)
    # Disqualified later: a block made after entry stopped the lead, by the block's source (one flag each, so
    # that a report counts flags: no string is looked into per row).
    later_any = models.BooleanField(default=False)
    later_disposition = models.BooleanField(default=False)
    later_ops_disqualify = models.BooleanField(default=False)
    later_ops_phone_dnc = models.BooleanField(default=False)
    later_customer_dnc = models.BooleanField(default=False)
    later_suppression = models.BooleanField(default=False)
    later_crm_rule = models.BooleanField(default=False)
    later_meeting_outcome = models.BooleanField(default=False)
    later_unreachable = models.BooleanField(default=False)
    later_fit_rule = models.BooleanField(default=False)
    later_registry = models.BooleanField(default=False)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["lead"]
        verbose_name = "lead report"
        verbose_name_plural = "lead reports"
        indexes = [
            models.Index(fields=["customer", "entered_at"], name="lead_fact_customer_entered"),
            # A fit-rule change's windows: one campaign's leads before and after a moment.
            models.Index(fields=["campaign", "entered_at"], name="lead_fact_campaign_entered"),
        ]

    def __str__(self) -> str:
        return f"Facts of lead #{self.lead_id}"


class LeadFactRefresh(models.Model):
    """When a customer's lead facts were last rebuilt (what the report says its figures are as of)."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+", primary_key=True)
    refreshed_at = models.DateTimeField()
    leads = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.customer_id} at {self.refreshed_at:%Y-%m-%d %H:%M}"


class FitRuleChange(models.Model):
    """One change of a campaign's fit rules: when, who, and the rules before and after, in words. History."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="fit_rule_changes")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_job = models.CharField(max_length=80, blank=True)
    summary = models.TextField(help_text="What changed, in words: added, changed, switched off.")
    rules_before = models.JSONField(default=list, blank=True, help_text="The active rules before, in words.")
    rules_after = models.JSONField(default=list, blank=True, help_text="The active rules after, in words.")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor__isnull=False, actor_job="") | Q(actor__isnull=True) & ~Q(actor_job=""),
                name="fit_rule_change_has_one_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.summary}"

    @property
    def actor_name(self) -> str:
        return self.actor.get_username() if self.actor_id else self.actor_job


# --- Calling windows and frequency caps (docs/calling-windows.md) ---------------------------------------------


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_calling_hours() -> dict[str, list[str]]:
    """Every day, 8:00 to 21:00 in the called party's local time."""
    return {day: ["08:00", "21:00"] for day in WEEKDAYS}


class Jurisdiction(BaseModel):
    """One row of the maintained table of calling rules: a country's or a state's window, caps and holidays.

    A number falls under a jurisdiction when its country is ``country`` and, if ``prefixes`` are given, its
    E.164 starts with one of them (a US state by its area codes). Every jurisdiction a number falls under
    applies at once: the federal window and the state's, whichever is stricter at each moment.
    """

    code = models.SlugField(max_length=20, unique=True, help_text="e.g. us, us-fl.")
    name = models.CharField(max_length=120, help_text="As a sentence names it: Florida, the United States.")
    country = models.CharField(max_length=2, help_text="ISO 3166 region code of the numbers, e.g. US.")
    prefixes = models.TextField(
        blank=True,
        help_text="E.164 prefixes, separated by spaces or commas (+1305 +1786 …); empty for the whole country.",
    )
    consumer_only = models.BooleanField(
        default=True, help_text="A consumer-only rule: a business campaign exempted from those rules skips it."
    )
    opens_at = models.TimeField(help_text="Local time calls may start.")
    closes_at = models.TimeField(help_text="Local time calls must stop (exclusive).")
    closed_weekdays = models.CharField(
        max_length=40, blank=True, help_text="Days without calls, e.g. 'sun' or 'sat sun'."
    )
    calls_per_24h = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many calls to one number in 24 hours, every customer counted."
    )
    closed_on_holidays = models.BooleanField(default=False, help_text="No calls on the holidays listed below.")
    is_active = models.BooleanField(default=True)
    source = models.TextField(blank=True, help_text="The statute or guidance the row follows, for whoever checks it.")

    class Meta:
        ordering = ["country", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(opens_at__lt=F("closes_at")), name="jurisdiction_opens_before_close"),
            models.CheckConstraint(condition=~Q(calls_per_24h=0), name="jurisdiction_cap_at_least_one"),
        ]

    def __str__(self) -> str:
        return self.name


class JurisdictionHoliday(models.Model):
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["jurisdiction", "date"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "date"], name="jurisdiction_holiday_unique_date")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date:%d %b %Y})"


class CallingRulesVersion(models.Model):
    """One row: bumped by every change of the jurisdiction table, so the dial check's statement can tell a
    process whether the rules it holds in memory are still the table's."""

    version = models.PositiveBigIntegerField(default=1)

    def __str__(self) -> str:
        return f"Calling rules version {self.version}"


class CallingPolicy(models.Model):
    """A campaign's calling policy: local hours per weekday, its frequency caps, and (for a business
    campaign) whether the consumer-only rules are waived, by whom and when. A campaign without one follows
    the default: 8:00 to 21:00 every day, every jurisdiction's rules, no caps of its own."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, primary_key=True, related_name="calling_policy")
    hours = models.JSONField(
        default=default_calling_hours,
        help_text='Per weekday, ["HH:MM", "HH:MM"] local to the called party, or null for no calls that day.',
    )
    number_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Calls to one number in 24 hours, across the customer's campaigns."
    )
    contact_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Calls to one contact in 24 hours, across the customer's campaigns."
    )
    account_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Calls to one account in 24 hours, across the customer's campaigns."
    )
    consumer_rules_waived = models.BooleanField(
        default=False, help_text="A business campaign skips the consumer-only jurisdiction rules."
    )
    waived_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    waived_at = models.DateTimeField(null=True, blank=True)
    waiver_note = models.TextField(blank=True, help_text="Why the campaign's calls are business calls.")
    version = models.PositiveBigIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "calling policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(consumer_rules_waived=False) | Q(waived_by__isnull=False, waived_at__isnull=False),
                name="calling_policy_waiver_recorded",
            ),
            models.CheckConstraint(
                condition=~Q(number_cap=0) & ~Q(contact_cap=0) & ~Q(account_cap=0),
                name="calling_policy_caps_at_least_one",
            ),
        ]

    def __str__(self) -> str:
        return f"Calling policy of {self.campaign}"
