"""Build a realistic demo: two customers, their campaigns, a few thousand leads, and a block of every source.

The people whose stories the demo tells (a shared switchboard marked DNC, a caller's Do Not Call, a
customer's suppression …) are created one by one through the services, as ops and the dialer would. The
bulk of the leads is inserted set-based (``bulk_create``) and scrubbed set-based (``contacts_scrub``), as
a lead import's batch is. Everything is made in one transaction: a demo
is there whole or not at all.
"""

from __future__ import annotations

import math
import random
import secrets
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from campaigns.imports.models import FitRule
from campaigns.imports.services import FitRuleSpec, campaign_fit_evaluate, fit_rules_save
from campaigns.models import (
    WEEKDAYS,
    Account,
    Block,
    Call,
    Campaign,
    ConsiderationStage,
    Contact,
    ContactEmail,
    ContactPhone,
    Customer,
    Disposition,
    FitRuleChange,
    Lead,
    LostReason,
    Meeting,
    PhoneNumber,
    User,
)
from campaigns.selectors.explaining import DialCheck, blocks_stopping, can_dial
from campaigns.selectors.opportunities import existing_matches
from campaigns.services import (
    BlockTarget,
    account_create,
    block_create,
    blocks_lift,
    campaign_create,
    contact_create,
    contacts_scrub,
    customer_create,
    lead_create,
    lead_statuses_recompute,
)
from campaigns.services.callers import callers_approve
from campaigns.services.calling import calling_policy_save
from campaigns.services.calls import meeting_outcome_set
from campaigns.services.catalogues import project_create
from campaigns.services.opportunities import lead_qualify
from campaigns.services.reporting import lead_facts_refresh
from campaigns.services.undo_requests import undo_request_create
from campaigns.services.verdicts import HandedOut, verdict_record_dial_check, verdicts_record_pull
from leadops.errors import LeadopsError
from leadops.normalizing import format_phone, normalize_phone
from suppressions.crm.models import CrmConnection
from suppressions.crm.services import crm_events_process, crm_events_receive, crm_rule_templates_add
from suppressions.crm.services.connections import crm_connection_create
from suppressions.services.pipeline import upload_process
from suppressions.services.registries import registry_load
from suppressions.services.uploads import upload_create

OPS_USERNAME = "ops"  # an Ops lead
OPS_MEMBER_USERNAME = "ops.olga"  # in the Ops group: everything but lifting a platform DNC
ADMIN_URL = "http://127.0.0.1:8000/admin/"
PORTAL_URL = "http://127.0.0.1:8000/portal/"
ATTEMPT_CAP_JOB = "dialer.attempt_cap"
CALLERS_GROUP = "Callers"  # seeded by campaigns/migrations/0009


@dataclass(frozen=True)
class CallerSpec:
    """One of the demo's approved callers: who they are and the campaigns (by name) they call."""

    username: str
    first_name: str
    last_name: str
    campaigns: tuple[str, ...]


APPROVED_CALLERS = (
    CallerSpec("caller.amy", "Amy", "Lee", ("Clinic outreach Q3", "Hospital IT refresh")),
    CallerSpec("caller.ben", "Ben", "Okafor", ("Commercial solar",)),
)


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    cooldown_hours: int
    attempt_cap: int


@dataclass(frozen=True)
class CustomerSpec:
    name: str
    slug: str
    region: str
    campaigns: tuple[CampaignSpec, ...]
    company_words: tuple[str, ...]
    company_kinds: tuple[str, ...]
    titles: tuple[str, ...]


CUSTOMERS = (
    CustomerSpec(
        name="Northwind Health",
        slug="northwind-health",
        region="US",
        campaigns=(
            CampaignSpec("Clinic outreach Q3", cooldown_hours=24, attempt_cap=6),
            CampaignSpec("Hospital IT refresh", cooldown_hours=48, attempt_cap=4),
            CampaignSpec("Pharmacy partners", cooldown_hours=12, attempt_cap=8),
        ),
        company_words=("Riverside", "Oak Park", "Lakeview", "Summit", "Cedar", "Harbor", "Maple", "Pioneer"),
        company_kinds=("Family Clinic", "Medical Group", "Pharmacy", "Pediatrics", "Urgent Care", "Hospital"),
        titles=("Practice Manager", "Office Manager", "IT Director", "Head Pharmacist", "CFO", "Medical Director"),
    ),
    CustomerSpec(
        name="Bluebird Energy",
        slug="bluebird-energy",
        region="GB",
        campaigns=(
            CampaignSpec("Commercial solar", cooldown_hours=24, attempt_cap=6),
            CampaignSpec("SME tariff switch", cooldown_hours=72, attempt_cap=5),
        ),
        company_words=("Thames", "Pennine", "Severn", "Cotswold", "Mersey", "Highland", "Kestrel", "Wessex"),
        company_kinds=("Logistics", "Bakery", "Engineering Ltd", "Hotels", "Garden Centre", "Print Works"),
        titles=("Facilities Manager", "Operations Director", "Finance Director", "Owner", "Office Manager"),
    ),
)

FIRST_NAMES = (  # noqa: SIM905 -- a list of names reads best as words
    "Olivia Liam Emma Noah Ava Oliver Sophia Elijah Isabella James Mia William Amelia Benjamin Harper Lucas "
    "Evelyn Henry Abigail Alexander Emily Daniel Ella Matthew Grace Samuel Chloe David Priya Arjun Mei Kenji"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson Anderson "
    "Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Walker Young Allen Patel Nguyen "
    "Okafor Murphy Kowalski Rossi Schmidt"
).split()
LEAD_SOURCES = ("Conference list 2024", "ZoomInfo export", "Website form", "Partner referral")
# The industries of each customer's accounts, for the lead report; the last is the one a fit rule turns away.
REPORT_INDUSTRIES = {
    "northwind-health": ("Primary care", "Hospitals", "Pharmacy", "Dental", "Veterinary"),
    "bluebird-energy": ("Logistics", "Manufacturing", "Hospitality", "Retail", "Agriculture"),
}


# James's mobile: a caller's Do Not Call, with the dialer's pull and dial checks around it.
DOSSIER_NUMBER = "+17185550121"


@dataclass
class DemoResult:
    created: bool
    password: str
    # The first demo customer's portal login, so a newcomer sees what a customer sees.
    portal_username: str = ""
    portal_password: str = ""
    leads_by_campaign: list[tuple[str, str, dict[str, int]]] = field(default_factory=list)
    blocks_by_source: dict[str, int] = field(default_factory=dict)
    # The approved callers' admin logins: (caller, password, the campaigns they are approved for).
    callers: list[tuple[User, str, list[str]]] = field(default_factory=list)
    # The admin path of a dossier worth opening (a number a caller marked Do Not Call, with the dialer's record).
    dossier_path: str = ""
    # The Ops group's login (``OPS_MEMBER_USERNAME``): one login per role.
    ops_member_password: str = ""
    # The dial check's answer, at this moment, for the numbers of the "not now" stories: (who, number, words).
    not_now: list[tuple[str, str, str]] = field(default_factory=list)


def demo_seed(*, leads: int = 5000, seed: int = 7) -> DemoResult:
    """Build the demo with about ``leads`` leads, and give ``ops`` (an Ops lead), ``ops.olga`` (Ops), the first
    customer's portal user and the approved callers new passwords: one login per role.

    A repeat call finds the demo customers and only resets the passwords (and approves a demo caller an
    older demo had not approved): nothing is duplicated.
    """
    password, portal_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    with transaction.atomic():
        ops = _ops_user(password)
        ops_member_password = secrets.token_urlsafe(12)
        _staff_user(OPS_MEMBER_USERNAME, ops_member_password, group="Ops", first_name="Olga", last_name="Novak")
        created = not Customer.objects.filter(slug__in=[spec.slug for spec in CUSTOMERS]).exists()
        if created:
            _Builder(ops=ops, leads=leads, rng=random.Random(seed)).build()
        portal_user = User.objects.get(username=_portal_username(CUSTOMERS[0]))
        portal_user.set_password(portal_password)
        portal_user.save(update_fields=["password"])
        callers = _approved_callers(ops)
    return DemoResult(
        created=created,
        password=password,
        portal_username=portal_user.username,
        portal_password=portal_password,
        leads_by_campaign=_leads_by_campaign(),
        blocks_by_source=_blocks_by_source(),
        callers=callers,
        dossier_path=_dossier_path(),
        ops_member_password=ops_member_password,
        not_now=_not_now_answers(),
    )


def _dossier_path() -> str:
    number = PhoneNumber.objects.filter(e164=DOSSIER_NUMBER).first()
    return f"campaigns/phonenumber/{number.pk}/dossier/" if number is not None else ""


# The featured contacts whose dial check the demo prints: not now (a cap, a window), or blocked until a date.
NOT_NOW_STORIES = ("Lucia Alvarez", "Keala Kahale", "Noah Bennett")


def _not_now_answers() -> list[tuple[str, str, str]]:
    """Return what the dial check says now for the numbers of the "not now" stories."""
    answers = []
    for name in NOT_NOW_STORIES:
        first, last = name.split(" ", 1)
        lead = Lead.objects.filter(contact__first_name=first, contact__last_name=last, source="Featured").first()
        if lead is None:
            continue
        e164 = lead.contact.phones.select_related("phone").first().phone.e164
        check = can_dial(lead, e164)
        words = "allowed now" if check.allowed else " ".join(f"[{r.code}] {r.message}" for r in check.reasons)
        answers.append((name, e164, words))
    return answers


def _approved_callers(ops: User) -> list[tuple[User, str, list[str]]]:
    """Make the demo's callers approved callers who sign in to the admin, each with a new password."""
    group = Group.objects.filter(name=CALLERS_GROUP).first()
    if group is None:
        raise LeadopsError(f"The '{CALLERS_GROUP}' group is missing: run `manage.py migrate` first.")
    found = []
    for spec in APPROVED_CALLERS:
        caller, _ = User.objects.get_or_create(
            username=spec.username, defaults={"email": f"{spec.username}@example.com"}
        )
        caller.first_name, caller.last_name, caller.is_staff, caller.is_active = (
            spec.first_name,
            spec.last_name,
            True,
            True,
        )
        password = secrets.token_urlsafe(12)
        caller.set_password(password)
        caller.save(update_fields=["first_name", "last_name", "is_staff", "is_active", "password"])
        caller.groups.add(group)
        campaigns = list(Campaign.objects.filter(customer__in=_demo_customers(), name__in=spec.campaigns))
        callers_approve(callers=[caller], campaigns=campaigns, actor=ops)
        approved = {campaign.name for campaign in campaigns}
        found.append((caller, password, [name for name in spec.campaigns if name in approved]))
    return found


def _portal_username(spec: CustomerSpec) -> str:
    return f"{spec.slug}.portal"


def _ops_user(password: str) -> User:
    """The demo's ``ops``: an Ops lead (the seeded group), not a superuser, so the demo shows what ops see."""
    return _staff_user(OPS_USERNAME, password, group="Ops lead")


def _staff_user(username: str, password: str, *, group: str, **names: str) -> User:
    from django.contrib.auth.models import Group

    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, f"{username}@agency.example", password, is_staff=True, **names)
    user.set_password(password)
    user.is_staff = user.is_active = True
    user.is_superuser = False
    user.save(update_fields=["password", "is_staff", "is_superuser", "is_active"])
    user.groups.add(Group.objects.get(name=group))
    return user


def _demo_customers():
    return Customer.objects.filter(slug__in=[spec.slug for spec in CUSTOMERS])


def _leads_by_campaign() -> list[tuple[str, str, dict[str, int]]]:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    rows = (
        Lead.objects.filter(customer__in=_demo_customers())
        .values_list("campaign__customer__name", "campaign__name", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for customer, campaign, status, n in rows:
        counts[(customer, campaign)][status] = n
    return [(customer, campaign, counts[(customer, campaign)]) for customer, campaign in sorted(counts)]


def _blocks_by_source() -> dict[str, int]:
    return dict(Counter(Block.objects.active().values_list("source", flat=True)))


class _Numbers:
    """Hand out distinct numbers that the normaliser reads back unchanged."""

    PATTERNS = {
        ("US", ContactPhone.Kind.OFFICE): ("+1202{}", "+1312{}", "+1617{}", "+1415{}"),
        ("US", ContactPhone.Kind.MOBILE): ("+1646{}", "+1718{}", "+1773{}"),
        ("US", ContactPhone.Kind.DIRECT): ("+1202{}", "+1312{}"),
        ("GB", ContactPhone.Kind.OFFICE): ("+4420{}", "+44161{}"),
        ("GB", ContactPhone.Kind.MOBILE): ("+447{}",),
        ("GB", ContactPhone.Kind.DIRECT): ("+4420{}",),
    }

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set(PhoneNumber.objects.values_list("e164", flat=True))

    def take(self, region: str, kind: str) -> str:
        pattern = self.rng.choice(self.PATTERNS[(region, kind)])
        digits = {"+4420{}": 8, "+44161{}": 7, "+447{}": 9}.get(pattern, 7)
        while True:
            candidate = pattern.format(self.rng.randint(2 * 10 ** (digits - 1), 10**digits - 1))
            if candidate in self.used:
                continue
            try:
                if normalize_phone(candidate, region) != candidate:
                    continue
            except LeadopsError:
                continue
            self.used.add(candidate)
            return candidate


@dataclass
class _Tenant:
    spec: CustomerSpec
    customer: Customer
    campaigns: list[Campaign]
    portal_user: User
    featured: dict[str, Contact] = field(default_factory=dict)
    featured_leads: dict[str, Lead] = field(default_factory=dict)
    featured_accounts: dict[str, Account] = field(default_factory=dict)
    bulk_leads: list[Lead] = field(default_factory=list)


class _Builder:
    def __init__(self, *, ops: User, leads: int, rng: random.Random) -> None:
        self.ops = ops
        self.target_leads = max(leads, 60)
        self.rng = rng
        self.now = timezone.now()
        self.numbers = _Numbers(rng)
        self.callers = [self._staffless_user(name) for name in ("caller.amy", "caller.ben", "caller.chidi")]

    def build(self) -> None:
        tenants = [self._tenant(spec) for spec in CUSTOMERS]
        self._featured_us(tenants[0])
        self._featured_gb(tenants[1])
        featured = sum(len(t.featured_leads) for t in tenants)
        share = math.ceil((self.target_leads - featured) / len(tenants))
        self.numbers.used |= set(PhoneNumber.objects.values_list("e164", flat=True))
        for tenant in tenants:
            self._bulk_people_and_leads(tenant, share)
        # The scrub a lead import runs on each batch (suppressions, fit rules, statuses), set-based over the
        # bulk-inserted people; then one recompute at the demo's clock for every lead, as their history is dated.
        for tenant in tenants:
            contacts_scrub(customer=tenant.customer, contact_ids={lead.contact_id for lead in tenant.bulk_leads})
        # The stage too: the bulk-inserted calls moved it (the status check finds a stage left at New).
        lead_statuses_recompute(
            leads=Lead.objects.filter(customer__in=[t.customer for t in tenants]), now=self.now, stages=True
        )
        self._stories_us(tenants[0])
        self._registries()
        self._stories_gb(tenants[1])
        self._existing_customer_opportunity(tenants[1])
        for tenant in tenants:
            self._rule_blocks(tenant)
        for tenant in tenants:
            self._report_story(tenant)

    # --- people ---------------------------------------------------------------------------------

    def _staffless_user(self, username: str, customer: Customer | None = None) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={"customer": customer, "email": f"{username}@example.com"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user

    def _tenant(self, spec: CustomerSpec) -> _Tenant:
        customer = customer_create(name=spec.name, slug=spec.slug, phone_region=spec.region)
        campaigns = [
            campaign_create(customer=customer, name=c.name, cooldown_hours=c.cooldown_hours, attempt_cap=c.attempt_cap)
            for c in spec.campaigns
        ]
        portal_user = self._staffless_user(_portal_username(spec), customer=customer)
        return _Tenant(spec=spec, customer=customer, campaigns=campaigns, portal_user=portal_user)

    def _featured(self, tenant: _Tenant, key: str, account: Account, name: str, title: str, phones) -> Contact:
        first, last = name.split(" ", 1)
        contact = contact_create(
            account=account,
            first_name=first,
            last_name=last,
            title=title,
            emails=[f"{first}.{last}@{account.domain}".lower()],
            phones=phones,
        )
        tenant.featured[key] = contact
        tenant.featured_leads[key] = lead_create(campaign=tenant.campaigns[0], contact=contact, source="Featured")
        return contact

    def _featured_us(self, t: _Tenant) -> None:
        office, mobile = ContactPhone.Kind.OFFICE, ContactPhone.Kind.MOBILE
        clinic = account_create(customer=t.customer, name="Riverside Family Clinic", domain="riverside-clinic.example")
        t.featured_accounts["switchboard"] = clinic
        self._featured(
            t,
            "maria",
            clinic,
            "Maria Lopez",
            "Practice Manager",
            [("(202) 555-0143", office), ("646-555-0188", mobile)],
        )
        self._featured(t, "tom", clinic, "Tom Becker", "Office Manager", [("202.555.0143", office)])
        self._featured(t, "grace", clinic, "Grace Kim", "Medical Director", [("+1 202 555 0143", office)])
        pharmacy = account_create(
            customer=t.customer, name="Summit Pharmacy", domain="https://www.summit-pharmacy.example/"
        )
        self._featured(
            t,
            "james",
            pharmacy,
            "James Carter",
            "Head Pharmacist",
            [("(312) 555-0110", office), ("(718) 555-0121", mobile)],
        )
        self._featured(t, "priya", pharmacy, "Priya Patel", "CFO", [("(646) 555-0132", mobile)])
        group = account_create(customer=t.customer, name="Lakeview Medical Group", domain="lakeview-medical.example")
        self._featured(
            t, "daniel", group, "Daniel Murphy", "IT Director", [("(617) 555-0154", ContactPhone.Kind.DIRECT)]
        )
        self._featured(
            t, "emma", group, "Emma Wilson", "Practice Manager", [("(617) 555-0165", ContactPhone.Kind.DIRECT)]
        )
        self._featured(
            t, "henry", group, "Henry Clark", "Office Manager", [("(617) 555-0176", ContactPhone.Kind.DIRECT)]
        )
        # Not now: a Miami number already called three times today (Florida's cap), a Honolulu one, and a
        # "Not now — try again in 30 days" (docs/calling-windows.md).
        urgent = account_create(customer=t.customer, name="Harbor Urgent Care", domain="harbor-urgent.example")
        self._featured(t, "lucia", urgent, "Lucia Alvarez", "Office Manager", [("(305) 555-0187", office)])
        self._featured(t, "noah", urgent, "Noah Bennett", "CFO", [("(305) 555-0198", ContactPhone.Kind.DIRECT)])
        kona = account_create(customer=t.customer, name="Kona Pediatrics", domain="kona-pediatrics.example")
        self._featured(t, "keala", kona, "Keala Kahale", "Practice Manager", [("(808) 555-0199", office)])

    def _featured_gb(self, t: _Tenant) -> None:
        office, mobile = ContactPhone.Kind.OFFICE, ContactPhone.Kind.MOBILE
        rival = account_create(customer=t.customer, name="Kestrel Power Ltd", domain="kestrel-power.example")
        t.featured_accounts["rival"] = rival
        self._featured(t, "oliver", rival, "Oliver Hughes", "Operations Director", [("020 7946 0321", office)])
        existing = account_create(customer=t.customer, name="Severn Logistics", domain="severn-logistics.example")
        t.featured_accounts["existing"] = existing
        self._featured(t, "amelia", existing, "Amelia Shaw", "Facilities Manager", [("0161 496 0432", office)])
        bakery = account_create(customer=t.customer, name="Cotswold Bakery", domain="cotswold-bakery.example")
        self._featured(t, "george", bakery, "George Evans", "Owner", [("07911 123456", mobile)])
        self._featured(
            t, "isla", bakery, "Isla Reid", "Office Manager", [("07911 234567", mobile), ("020 7946 0654", office)]
        )

    def _bulk_people_and_leads(self, t: _Tenant, share: int) -> None:
        """Insert accounts' contacts, numbers, emails, leads and past calls set-based."""
        rng, spec = self.rng, t.spec
        n_contacts = max(len(t.campaigns) * 4, math.ceil(share / 1.5))
        n_accounts = max(6, n_contacts // 8)
        names: set[str] = set()
        accounts = []
        while len(accounts) < n_accounts:
            name = f"{rng.choice(spec.company_words)} {rng.choice(spec.company_kinds)}"
            if name in names:
                name = f"{name} {rng.choice(('North', 'South', 'East', 'West', 'Central'))} {len(accounts)}"
            names.add(name)
            slug = name.lower().replace(" ", "-")
            # Per-row service calls are affordable for a few hundred accounts, and normalise the domains.
            accounts.append(account_create(customer=t.customer, name=name, domain=f"{slug}.example"))
        switchboards: dict[int, str] = {
            a.pk: self.numbers.take(spec.region, ContactPhone.Kind.OFFICE) for a in accounts if rng.random() < 0.9
        }
        contacts = Contact.objects.bulk_create(
            Contact(
                customer=t.customer,
                account=accounts[i % n_accounts],
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                title=rng.choice(spec.titles),
                created_at=self.now - timedelta(days=rng.randint(20, 200)),
            )
            for i in range(n_contacts)
        )
        account_by_id = {a.pk: a for a in accounts}
        links: list[tuple[Contact, str, str]] = []
        for contact in contacts:
            board = switchboards.get(contact.account_id)
            if board:
                links.append((contact, board, ContactPhone.Kind.OFFICE))
            roll = rng.random()
            if roll < 0.45 or (not board and roll < 0.95):
                links.append(
                    (contact, self.numbers.take(spec.region, ContactPhone.Kind.MOBILE), ContactPhone.Kind.MOBILE)
                )
            elif roll < 0.6:
                links.append(
                    (contact, self.numbers.take(spec.region, ContactPhone.Kind.DIRECT), ContactPhone.Kind.DIRECT)
                )
        phones = PhoneNumber.objects.bulk_create(PhoneNumber(e164=e164) for e164 in {e164 for _, e164, _ in links})
        phone_id = {p.e164: p.pk for p in phones}
        ContactPhone.objects.bulk_create(
            ContactPhone(contact=contact, phone_id=phone_id[e164], kind=kind) for contact, e164, kind in links
        )
        first_phone = {}
        for contact, e164, _ in reversed(links):
            first_phone[contact.pk] = phone_id[e164]
        emails = []
        for contact in contacts:
            domain = account_by_id[contact.account_id].domain
            email = f"{contact.first_name}.{contact.last_name}.{contact.pk}@{domain}".lower()
            emails.append(ContactEmail(contact=contact, email=email, domain=domain))
        ContactEmail.objects.bulk_create(emails)
        t.bulk_leads = Lead.objects.bulk_create(self._leads(t, contacts, share))
        self._past_calls(t, first_phone)

    def _leads(self, t: _Tenant, contacts: list[Contact], share: int):
        rng = self.rng
        made = 0
        for round_ in range(len(t.campaigns)):
            for i, contact in enumerate(contacts):
                if made >= share:
                    return
                campaign = t.campaigns[(i + round_) % len(t.campaigns)]
                lead = Lead(
                    customer=t.customer,
                    campaign=campaign,
                    contact=contact,
                    priority=rng.choices((0, 1, 2, 5), weights=(70, 15, 10, 5))[0],
                    source=rng.choice(LEAD_SOURCES),
                    created_at=contact.created_at + timedelta(days=rng.randint(0, 10)),
                )
                self._history(lead, campaign, index=made)
                made += 1
                yield lead

    def _history(self, lead: Lead, campaign: Campaign, *, index: int) -> None:
        """Give some leads past attempts: cooling down now, a callback booked, or the attempt cap reached."""
        rng, now = self.rng, self.now
        roll = rng.random()
        cooldown = timedelta(hours=campaign.cooldown_hours)
        if index % 90 == 7:
            lead.attempts = campaign.attempt_cap
            lead.last_attempt_at = now - timedelta(days=rng.uniform(2, 20))
            return
        if roll >= 0.40:
            return
        lead.attempts = rng.randint(1, campaign.attempt_cap - 1)
        if roll < 0.04:
            lead.last_attempt_at = now - timedelta(hours=rng.uniform(1, 30))
            lead.waiting_until = now + timedelta(days=rng.uniform(1, 7))
            lead.waiting_reason = Lead.WaitingReason.CALLBACK
        elif roll < 0.16:
            lead.last_attempt_at = now - cooldown * rng.uniform(0.05, 0.9)
            lead.waiting_until = lead.last_attempt_at + cooldown
            lead.waiting_reason = Lead.WaitingReason.COOLDOWN
        else:
            lead.last_attempt_at = now - cooldown - timedelta(hours=rng.uniform(1, 24 * 14))

    def _past_calls(self, t: _Tenant, first_phone: dict[int, int]) -> None:
        dispositions = {(d.campaign_id, d.code): d.pk for d in Disposition.objects.filter(campaign__in=t.campaigns)}
        calls = []
        for lead in t.bulk_leads:
            for n in range(lead.attempts):
                last = n == lead.attempts - 1
                code = self.rng.choice(("no_answer", "busy", "left_voicemail"))
                callback_at = None
                if last and lead.waiting_reason == Lead.WaitingReason.CALLBACK:
                    code, callback_at = "call_back_later", lead.waiting_until
                calls.append(
                    Call(
                        lead=lead,
                        caller=self.rng.choice(self.callers),
                        phone_id=first_phone.get(lead.contact_id),
                        disposition_id=dispositions[(lead.campaign_id, code)],
                        callback_at=callback_at,
                        created_at=lead.last_attempt_at - timedelta(days=2 * (lead.attempts - 1 - n)),
                    )
                )
        Call.objects.bulk_create(calls, batch_size=2000)

    # --- stories: one block of every source, made as the workflows would --------------------------
    # A block a dated call makes is made at the call's moment (``now=``), as ``call_record`` makes it in the
    # call's own transaction: its sentence's date, the dossier's order and the opt-out figures are the call's.

    def _call(self, lead: Lead, code: str, phone: PhoneNumber | None, when: datetime) -> Call:
        call = Call.objects.create(
            lead=lead,
            caller=self.callers[0],
            phone=phone,
            disposition=Disposition.objects.get(campaign_id=lead.campaign_id, code=code),
            created_at=when,
        )
        # A dated call written directly moves the lead's stage as ``call_record`` would.
        lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk), now=self.now, stages=True)
        return call

    def _stories_us(self, t: _Tenant) -> None:
        f, leads = t.featured, t.featured_leads
        self._not_now_us(t)
        switchboard = PhoneNumber.objects.get(e164="+12025550143")
        # Reception asked us to stop calling the switchboard: Maria keeps her mobile, Tom and Grace have none.
        block_create(
            target=BlockTarget(phone=switchboard),
            source=Block.Source.OPS_PHONE_DNC,
            reason=Block.Reason.DO_NOT_CALL,
            reach=Block.Reach.PLATFORM,
            actor=self.ops,
            note="Reception asked us to stop calling the front desk",
        )
        # James asked Amy (the demo's approved caller for this campaign) not to be called again: his mobile for
        # everyone, and him for this customer.
        mobile = PhoneNumber.objects.get(e164="+17185550121")
        call = self._call(leads["james"], "do_not_call", mobile, self.now - timedelta(days=3))
        for target, reach in (
            (BlockTarget(phone=mobile), Block.Reach.PLATFORM),
            (BlockTarget(contact=f["james"]), Block.Reach.CUSTOMER),
        ):
            block_create(
                target=target,
                source=Block.Source.DISPOSITION,
                reason=Block.Reason.DO_NOT_CALL,
                reach=reach,
                actor=self.callers[0],
                evidence=call,
                evidence_text="Do not call",
                caller_campaign=leads["james"].campaign,
                now=call.created_at,
            )
        self._dialer_record(leads["james"], mobile, call)
        call = self._call(leads["priya"], "not_interested", None, self.now - timedelta(days=5))
        block_create(
            target=BlockTarget(lead=leads["priya"]),
            source=Block.Source.DISPOSITION,
            reason=Block.Reason.NOT_INTERESTED,
            reach=Block.Reach.CAMPAIGN,
            campaign=leads["priya"].campaign,
            actor=self.callers[0],
            evidence=call,
            evidence_text="Not interested",
            caller_campaign=leads["priya"].campaign,
            now=call.created_at,
        )
        block_create(
            target=BlockTarget(contact=f["daniel"]),
            source=Block.Source.CUSTOMER_DNC,
            reason=Block.Reason.DO_NOT_CALL,
            reach=Block.Reach.CUSTOMER,
            actor=t.portal_user,
            note="He sits on our board; do not prospect him",
        )
        # Henry's meeting went well: ops qualified him into an open opportunity for the patient portal.
        henry = self._meeting(leads["henry"], days_ago=2)
        portal = project_create(customer=t.customer, name="Patient portal", actor=self.ops)
        project_create(customer=t.customer, name="Telehealth suite", campaigns=t.campaigns[:1], actor=self.ops)
        lead_qualify(
            lead=leads["henry"],
            actor=self.ops,
            consideration_stage=self._stage(leads["henry"], "Decision"),
            project=portal,
            meeting=henry,
        )
        # Emma's meeting found the budget spent for this year: a lost opportunity, for Timing.
        emma = self._meeting(leads["emma"], days_ago=3)
        lead_qualify(
            lead=leads["emma"],
            actor=self.ops,
            consideration_stage=self._stage(leads["emma"], "Consideration"),
            lost_reason=LostReason.objects.get(customer=t.customer, label="Timing"),
            meeting=emma,
        )

    def _registries(self) -> None:
        """A national Do-Not-Call registry copy loaded 6 days ago (5,000 generated numbers and Priya's mobile), a
        change list since, and a Texas list: consumer dial checks of Priya's mobile refuse with ``national_dnc``."""
        national = {
            f"{self.rng.randint(201, 989)}{self.rng.randint(200, 999)}{self.rng.randint(0, 9999):04d}"
            for _ in range(5_000)
        }
        national = {n for n in national if n[0] not in "01" and n[1:3] != "11" and n[3] not in "01"}
        national.add("6465550132")  # Priya Patel's mobile
        with tempfile.TemporaryDirectory() as folder:
            full = Path(folder) / "national-full.txt"
            full.write_text("\r\n".join(sorted(national)) + "\r\n")
            registry_load(
                registry="national", paths=[full], changes=False, job="demo", now=self.now - timedelta(days=6)
            )
            changes = Path(folder) / "national-changes.txt"
            dropped = sorted(national - {"6465550132"})[0]
            changes.write_text(f"2125550199,A\n{dropped},D\n")
            registry_load(
                registry="national", paths=[changes], changes=True, job="demo", now=self.now - timedelta(days=1)
            )
            texas = Path(folder) / "tx.txt"
            texas.write_text("5125550100\n5125550101\n")
            registry_load(registry="TX", paths=[texas], changes=False, job="demo", now=self.now - timedelta(days=3))

    def _dialer_record(self, lead: Lead, number: PhoneNumber, call: Call) -> None:
        """What the dialer was told of James's mobile: handed out by a pull and allowed by the dial check just before
        the call in which he asked not to be called, then refused the next day; his number's dossier reads it."""
        caller = self.callers[0]
        verdicts_record_pull(
            handed_out=[HandedOut(lead_id=lead.pk, number=number.e164, reasons=[])],
            api_key=None,
            caller=caller,
            at=call.created_at - timedelta(minutes=4),
        )
        verdict_record_dial_check(
            lead_id=lead.pk,
            check=DialCheck(allowed=True, number=number.e164),
            api_key=None,
            at=call.created_at - timedelta(minutes=1),
        )
        next_day = call.created_at + timedelta(days=1)
        verdict_record_dial_check(
            lead_id=lead.pk, check=can_dial(lead, number.e164, now=next_day), api_key=None, at=next_day
        )

    def _not_now_us(self, t: _Tenant) -> None:
        leads = t.featured_leads
        # Lucia's front desk was called three times in the last hours, by two campaigns: Florida allows 3 calls to
        # one number in 24 hours, every customer counted, so the dial check says "not now" whatever the hour.
        front_desk = PhoneNumber.objects.get(e164="+13055550187")
        for hours_ago in (20, 9, 2):
            self._call(leads["lucia"], "no_answer", front_desk, self.now - timedelta(hours=hours_ago))
        # Noah asked to be called again after the budget cycle: out of the pool for 30 days, then back by itself.
        when = self.now - timedelta(days=5)
        call = self._call(leads["noah"], "not_now_30", PhoneNumber.objects.get(e164="+13055550198"), when)
        block_create(
            target=BlockTarget(lead=leads["noah"]),
            source=Block.Source.DISPOSITION,
            reason=Block.Reason.CALL_LATER,
            reach=Block.Reach.CAMPAIGN,
            campaign=leads["noah"].campaign,
            actor=self.callers[0],
            evidence=call,
            evidence_text=call.disposition.label,
            caller_campaign=leads["noah"].campaign,
            ends_at=when + timedelta(days=call.disposition.block_days),
            now=when,
        )
        # Pharmacy partners calls on weekdays, 9 to 5 local, and at most twice a day to a number or a contact.
        weekdays = {day: ["09:00", "17:00"] if day not in ("sat", "sun") else None for day in WEEKDAYS}
        calling_policy_save(
            campaign=t.campaigns[2], hours=weekdays, number_cap=2, contact_cap=2, account_cap=20, actor=self.ops
        )

    def _meeting(self, lead: Lead, *, days_ago: int) -> Meeting:
        call = self._call(lead, "meeting_booked", None, self.now - timedelta(days=days_ago + 7))
        return Meeting.objects.create(lead=lead, booked_by_call=call, scheduled_for=self.now - timedelta(days=days_ago))

    def _stage(self, lead: Lead, label: str) -> ConsiderationStage:
        return ConsiderationStage.objects.get(campaign_id=lead.campaign_id, label=label)

    def _existing_customer_opportunity(self, t: _Tenant) -> None:
        """A depot of Severn Logistics (a customer, says the CRM) is qualified as that existing customer."""
        severn = t.featured_accounts["existing"]
        depot = account_create(
            customer=t.customer, name="Severn Logistics Avonmouth", domain="avonmouth.severn-logistics.example"
        )
        contact = contact_create(
            account=depot,
            first_name="Ruth",
            last_name="Price",
            title="Depot Manager",
            emails=["ruth.price@avonmouth.severn-logistics.example"],
            phones=[("0117 496 0765", ContactPhone.Kind.OFFICE)],
        )
        lead = lead_create(campaign=t.campaigns[0], contact=contact, source="Featured")
        meeting = self._meeting(lead, days_ago=1)
        [match] = [m for m in existing_matches(lead) if m.record == severn]
        lead_qualify(
            lead=lead,
            actor=self.ops,
            consideration_stage=self._stage(lead, "Awareness"),
            existing=match,
            project=project_create(customer=t.customer, name="Rooftop solar", actor=self.ops),
            meeting=meeting,
        )

    def _stories_gb(self, t: _Tenant) -> None:
        f, leads = t.featured, t.featured_leads
        block_create(
            target=BlockTarget(account=t.featured_accounts["rival"]),
            source=Block.Source.OPS_DISQUALIFY,
            reason=Block.Reason.COMPETITOR,
            reach=Block.Reach.CUSTOMER,
            actor=self.ops,
            note="Kestrel sells solar themselves",
        )
        # The customer disagrees, from the sentence in its portal: the request waits on the ops home.
        rival_lead = Lead.objects.filter(contact__account=t.featured_accounts["rival"]).order_by("pk").first()
        if rival_lead is not None:
            stopping, _ = blocks_stopping(rival_lead)
            undo_request_create(
                lead=rival_lead,
                block=stopping[0],
                reason="They stopped selling solar last spring: please call them again.",
                actor=t.portal_user,
            )
        self._crm_sync(t)
        wrong = PhoneNumber.objects.get(e164="+447911234567")
        call = self._call(leads["isla"], "wrong_number", wrong, self.now - timedelta(days=4))
        block_create(
            target=BlockTarget(contact=f["isla"], phone=wrong),
            source=Block.Source.DISPOSITION,
            reason=Block.Reason.WRONG_NUMBER,
            reach=Block.Reach.PLATFORM,
            actor=self.callers[1],
            evidence=call,
            evidence_text="Wrong number",
            caller_campaign=leads["isla"].campaign,
            now=call.created_at,
        )
        # A disqualification made by mistake and lifted: it stays on record, lifted, with who and why.
        mistake, _ = block_create(
            target=BlockTarget(contact=f["george"]),
            source=Block.Source.OPS_DISQUALIFY,
            reason=Block.Reason.NOT_A_FIT,
            reach=Block.Reach.CUSTOMER,
            actor=self.ops,
            note="Bakery too small",
        )
        blocks_lift(
            blocks=Block.objects.filter(pk=mistake.pk),
            actor=self.ops,
            reason="Wrong bakery: Cotswold Bakery has 40 staff and three sites.",
        )

    def _rule_blocks(self, t: _Tenant) -> None:
        """Attempt caps reached, fit rules failed, and a few suppressed numbers among the bulk leads."""
        caps = {c.pk: c.attempt_cap for c in t.campaigns}
        for lead in t.bulk_leads:
            if lead.attempts >= caps[lead.campaign_id]:
                block_create(
                    target=BlockTarget(lead=lead),
                    source=Block.Source.UNREACHABLE,
                    reason=Block.Reason.UNREACHABLE,
                    reach=Block.Reach.CAMPAIGN,
                    campaign=lead.campaign,
                    actor=ATTEMPT_CAP_JOB,
                    evidence_text=f"{lead.attempts} attempts without a connect",
                )
        untouched = [lead for lead in t.bulk_leads if lead.attempts == 0]
        self._fit_rules(t, untouched)
        picked = self.rng.sample(sorted({lead.contact_id for lead in untouched}), k=3)
        suppressed = list(Contact.objects.filter(pk__in=picked))
        if "emma" in t.featured:
            suppressed.append(t.featured["emma"])
        self._suppression_upload(t, suppressed)

    def _fit_rules(self, t: _Tenant, untouched: list[Lead]) -> None:
        """The first campaign targets companies of 50+ staff; a few small companies among the leads fail it."""
        campaign = t.campaigns[0]
        in_campaign = [lead for lead in untouched if lead.campaign_id == campaign.pk]
        small_contacts = [lead.contact_id for lead in self.rng.sample(in_campaign, k=max(2, len(in_campaign) // 30))]
        small = set(Contact.objects.filter(pk__in=small_contacts).values_list("account_id", flat=True))
        accounts = list(Account.objects.filter(customer=t.customer))
        for account in accounts:
            staff = self.rng.randint(2, 40) if account.pk in small else self.rng.randint(50, 5000)
            account.attributes = {**account.attributes, "employees": staff}
        Account.objects.bulk_update(accounts, ["attributes"], batch_size=1000)
        FitRule.objects.create(
            campaign=campaign, field=FitRule.Field.EMPLOYEES, operator=FitRule.Operator.BETWEEN, minimum=50
        )
        campaign_fit_evaluate(campaign=campaign)

    # --- the lead report: segments, outcomes, a fit-rule change and the blocks it made -------------------

    def _report_story(self, t: _Tenant) -> None:
        """Give the report something to say: industries and countries on the accounts, connected calls, meetings
        and qualified leads (more from the partner referrals than from the bought list), a fit-rule change on the
        first campaign 45 days ago whose blocks judged the leads as they came in, two of them lifted as wrong;
        then build the report's figures."""
        rng, now = self.rng, self.now
        industries = REPORT_INDUSTRIES[t.customer.slug]
        accounts = list(Account.objects.filter(customer=t.customer))
        # The featured people's stories are told by their own blocks: their accounts are never in the industry
        # the fit-rule change below stops calling (``industries[-1]``), which would add a block to every story.
        featured_accounts = {contact.account_id for contact in t.featured.values()}
        for account in accounts:
            industry = rng.choice(industries)
            if account.pk in featured_accounts and industry == industries[-1]:
                industry = industries[0]
            account.attributes = {**account.attributes, "industry": industry, "country": t.customer.phone_region}
        Account.objects.bulk_update(accounts, ["attributes"], batch_size=1000)
        dispositions = {(d.campaign_id, d.code): d for d in Disposition.objects.filter(campaign__in=t.campaigns)}
        odds = {"Partner referral": 0.3, "Website form": 0.2, "Conference list 2024": 0.12, "ZoomInfo export": 0.06}
        reached = [
            lead
            for lead in t.bulk_leads
            if lead.attempts and lead.last_attempt_at and rng.random() < odds.get(lead.source, 0.1)
        ]
        calls = []
        booked: list[tuple[Lead, Call]] = []
        for lead in reached:
            code = "meeting_booked" if rng.random() < 0.35 else "gatekeeper"
            call = Call(
                lead=lead,
                caller=rng.choice(self.callers),
                disposition=dispositions[(lead.campaign_id, code)],
                created_at=lead.last_attempt_at,
            )
            calls.append(call)
            if code == "meeting_booked":
                booked.append((lead, call))
        Call.objects.bulk_create(calls)
        meetings = Meeting.objects.bulk_create(
            Meeting(
                lead=lead,
                booked_by_call=call,
                scheduled_for=call.created_at + timedelta(days=3),
                created_at=call.created_at,
            )
            for lead, call in booked
        )
        lead_statuses_recompute(leads=Lead.objects.filter(pk__in=[lead.pk for lead in reached]), now=now, stages=True)
        for meeting in meetings:
            if meeting.scheduled_for < now:
                outcome = rng.choices(
                    (Meeting.Outcome.QUALIFIED, Meeting.Outcome.NOT_QUALIFIED, Meeting.Outcome.NO_SHOW),
                    weights=(55, 30, 15),
                )[0]
                meeting_outcome_set(meeting=meeting, outcome=outcome, actor=self.ops, now=now)
        # The fit-rule change: the first campaign stops calling one industry from 45 days ago.
        campaign, changed_at = t.campaigns[0], now - timedelta(days=45)
        unwanted = industries[-1]
        fit_rules_save(
            campaign=campaign,
            added=[FitRuleSpec(field=FitRule.Field.INDUSTRY, operator=FitRule.Operator.NOT_IN, values=unwanted)],
            actor=self.ops,
        )
        FitRuleChange.objects.filter(campaign=campaign).update(at=changed_at)
        campaign_fit_evaluate(campaign=campaign)
        # The leads that came in after the change were judged as they came in (as an import's scrub does).
        came_after = Lead.objects.filter(campaign=campaign, created_at__gte=changed_at)
        fit_blocks = Block.objects.filter(source=Block.Source.FIT_RULE, lead__in=came_after, lifted_at__isnull=True)
        fit_blocks.update(created_at=Subquery(Lead.objects.filter(pk=OuterRef("lead_id")).values("created_at")[:1]))
        # Two of the change's blocks were wrong: of the leads that came in after it when there are two, else of any.
        made = Block.objects.filter(source=Block.Source.FIT_RULE, lead__campaign=campaign, lifted_at__isnull=True)
        wrong = list(fit_blocks.order_by("pk").values_list("pk", flat=True)[:2])
        if len(wrong) < 2:
            wrong = list(made.order_by("-pk").values_list("pk", flat=True)[:2])
        if wrong:
            blocks_lift(
                blocks=Block.objects.filter(pk__in=wrong),
                actor=self.ops,
                reason=f"A {unwanted.lower()} company that is also in the profile: called after all.",
            )
        lead_facts_refresh(customer=t.customer, actor="seed_demo")

    def _suppression_upload(self, t: _Tenant, contacts: list[Contact]) -> None:
        """The customer sends its do-not-contact list through the real upload pipeline and matching."""
        links = list(ContactPhone.objects.filter(contact__in=contacts).select_related("phone"))
        owners = Counter(
            ContactPhone.objects.filter(phone__in=[link.phone_id for link in links]).values_list("phone_id", flat=True)
        )
        # Numbers only these people have: the list names people, not the reception desk they share.
        numbers = sorted({link.phone.e164 for link in links if owners[link.phone_id] == 1})
        lines = ["Phone number", *(format_phone(n) for n in numbers), "not a number"]
        upload = upload_create(
            customer=t.customer,
            file=ContentFile("\n".join(lines).encode(), name="do-not-contact.csv"),
            original_name="do-not-contact.csv",
            uploaded_by=t.portal_user,
            enqueue=False,
        )
        upload_process(upload_id=upload.pk)

    def _crm_sync(self, t: _Tenant) -> None:
        """The customer's HubSpot says Severn Logistics is a customer: the standard rule disqualifies it."""
        connection = crm_connection_create(
            customer=t.customer, name="HubSpot", kind=CrmConnection.Kind.HUBSPOT, actor=self.ops
        )
        # The customer set up its own standard rules in the portal: the sentences name its user.
        crm_rule_templates_add(customer=t.customer, actor=t.portal_user)
        existing = t.featured_accounts["existing"]
        company = {"action": "upsert", "object_type": "company"}
        crm_events_receive(
            connection=connection,
            events=[
                {
                    **company,
                    "id": "demo-1",
                    "external_id": "123",
                    "name": existing.name,
                    "domain": existing.domain,
                    "properties": {"lifecyclestage": "customer"},
                },
                {
                    **company,
                    "id": "demo-2",
                    "external_id": "124",
                    "name": "Prospect Ltd",
                    "domain": "prospect.example",
                    "properties": {"lifecyclestage": "lead"},
                },
            ],
        )
        crm_events_process(connection=connection)
