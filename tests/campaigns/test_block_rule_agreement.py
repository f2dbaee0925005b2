"""Every reader of "a block in force reaches this lead" gives one answer (``campaigns.rules``).

For each block (target x reach and tenant x its state x number shared or not; the source cycles through
every source, since it changes a block's words and never whether it stops), two leads are asked: ours (Acme,
campaign Spring) and a sharer's (Globex), whose contact shares our number or not and has a spare clean
number of its own. The block is made and lifted through the services, which recompute only the leads
``leads_reached_by`` names; then the stored status, the status check (the rule evaluated afresh),
``explain``, ``can_dial`` on each number, the pull's numbers (``lead_numbers``), the customer's portal
sentences (``explain_many`` with ``audience=CUSTOMER``), the pull's re-check of its candidates and the
matcher's recompute after added blocks (``lead_statuses_blocks_added``, from Eligible) must agree
with each other and with the expected answer, written out below in the words of the design; and the readers
of "which blocks are on this lead's people" (Undisqualify's ``blocks_behind``, the Account Details page) must
list the block exactly when it is on them.

A second matrix makes several blocks on one lead, some on one of its two numbers, and holds the answers to
"which sources stop it" to one: ``explain``, the portal's counts by source and a lead import's report.

How the matrix was chosen: reach and tenant go together (a platform-wide block belongs to no tenant; a
customer-wide one to ours or the other customer; a campaign-wide one to our campaign, another campaign of
ours, or the other customer's), giving 6 pairs; x 5 targets x 4 states x shared or not = 240 cases. The
states: active; lifted; with an end still to come (in force); and with an end that has passed but not yet
lifted by the expiry job (in force for no reader, at read time: the stored status is recomputed as the job
would, since it is a copy, and the status check must find no drift). The
other customer's block is on the sharer's objects (a block never reaches across customers); the source
would multiply the cases by 9 for nothing, so each case takes the next source.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from campaigns.dialer.dialable import lead_numbers
from campaigns.dialer.pool import PULL_MAX, _candidates_query
from campaigns.models import Block, Contact, Lead, LeadStatus
from campaigns.selectors.account_details import account_details
from campaigns.selectors.explaining import CUSTOMER, can_dial, explain, explain_many
from campaigns.selectors.impact import blocks_behind
from campaigns.services import (
    BlockTarget,
    block_create,
    blocks_lift,
    lead_statuses_blocks_added,
    lead_statuses_recompute,
)
from campaigns.services.statuses import lead_statuses_check
from tests.built_once import built_once
from tests.campaigns.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    PhoneNumberFactory,
)

pytestmark = pytest.mark.django_db

# (reach, whose block): platform; ours; the other customer's; our campaign; another campaign of ours; theirs.
SCOPES = [
    (Block.Reach.PLATFORM, "platform"),
    (Block.Reach.CUSTOMER, "own customer"),
    (Block.Reach.CUSTOMER, "other customer"),
    (Block.Reach.CAMPAIGN, "own campaign"),
    (Block.Reach.CAMPAIGN, "own customer, other campaign"),
    (Block.Reach.CAMPAIGN, "other customer"),
]


@dataclass(frozen=True)
class Case:
    target: str
    reach: str
    tenant: str
    state: str  # active, lifted, ending (an end to come) or ended (its end passed, not yet lifted)
    shared: bool
    source: str

    @property
    def lifted(self) -> bool:
        return self.state == "lifted"

    def __str__(self) -> str:
        shared = "shared number" if self.shared else "own number"
        return f"{self.target}-{self.reach}-{self.tenant}-{self.state}-{shared}-{self.source}"


_sources = itertools.cycle(Block.Source.values)
CASES = [
    Case(target, reach, tenant, state, shared, next(_sources))
    for target in Block.Target.values
    for reach, tenant in SCOPES
    for state in ("active", "lifted", "ending", "ended")
    for shared in (False, True)
]


@dataclass
class Scene:
    ours: Lead
    theirs: Lead
    number: object  # our only number, which the sharer also has when shared
    spare: object  # the sharer's clean number


def _scene(shared: bool) -> Scene:
    acme, globex = CustomerFactory(name="Acme"), CustomerFactory(name="Globex")
    spring = CampaignFactory(customer=acme, name="Spring")
    CampaignFactory(customer=acme, name="Autumn")
    number = PhoneNumberFactory()
    ours = LeadFactory(campaign=spring, contact=ContactFactory(account=AccountFactory(customer=acme)), with_phone=False)
    ContactPhoneFactory(contact=ours.contact, phone=number)
    theirs = LeadFactory(
        campaign=CampaignFactory(customer=globex, name="Launch"),
        contact=ContactFactory(account=AccountFactory(customer=globex)),
        with_phone=False,
    )
    ContactPhoneFactory(contact=theirs.contact, phone=number if shared else PhoneNumberFactory())
    spare = PhoneNumberFactory()
    ContactPhoneFactory(contact=theirs.contact, phone=spare)
    lead_statuses_recompute(leads=Lead.objects.all())
    return Scene(ours=ours, theirs=theirs, number=number, spare=spare)


def _make_block(case: Case, scene: Scene) -> Block:
    subject = scene.theirs if case.tenant == "other customer" else scene.ours
    their_number = subject.contact.phones.exclude(phone=scene.spare).get().phone
    target = {
        Block.Target.LEAD: BlockTarget(lead=subject),
        Block.Target.CONTACT: BlockTarget(contact=subject.contact),
        Block.Target.ACCOUNT: BlockTarget(account=subject.contact.account),
        Block.Target.PHONE: BlockTarget(phone=their_number),
        Block.Target.CONTACT_PHONE: BlockTarget(contact=subject.contact, phone=their_number),
    }[case.target]
    campaign = None
    if case.reach == Block.Reach.CAMPAIGN:
        campaign = (
            subject.campaign
            if case.tenant != "own customer, other campaign"
            else subject.customer.campaigns.exclude(pk=subject.campaign_id).get()
        )
    block, created = block_create(
        target=target,
        source=case.source,
        reason=Block.Reason.OTHER,
        reach=case.reach,
        actor="tests",
        campaign=campaign,
        customer=subject.customer if case.reach != Block.Reach.PLATFORM else None,
        ends_at=timezone.now() + timedelta(days=90) if case.state in ("ending", "ended") else None,
    )
    assert created
    if case.lifted:
        blocks_lift(blocks=Block.objects.filter(pk=block.pk), actor="tests", reason="The case says so.")
    if case.state == "ended":
        # Ninety days pass: the end is behind us, and no job has lifted the block. The stored status is a copy of
        # the rule, recomputed as the expiry job would (without lifting); every reader reads the block itself.
        Block.objects.filter(pk=block.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
        lead_statuses_recompute(leads=Lead.objects.all())
    return block


def _expected(block: Block, lead: Lead) -> tuple[bool, bool, dict[str, bool]]:
    """Return whether ``block`` stops ``lead`` itself, whether it disqualifies it, and per number of its contact
    whether it stays dialable: the design's words, not the code's."""
    lead = Lead.objects.select_related("contact").get(pk=lead.pk)
    numbers = {link.phone_id: link.phone.e164 for link in lead.contact.phones.select_related("phone")}
    in_force = block.lifted_at is None and (block.ends_at is None or block.ends_at > timezone.now())
    reaches = in_force and (
        block.reach == Block.Reach.PLATFORM
        or (block.reach == Block.Reach.CUSTOMER and block.customer_id == lead.customer_id)
        or (block.reach == Block.Reach.CAMPAIGN and block.campaign_id == lead.campaign_id)
    )
    on_lead = {
        Block.Target.LEAD: block.lead_id == lead.pk,
        Block.Target.CONTACT: block.contact_id == lead.contact_id,
        Block.Target.ACCOUNT: block.account_id == lead.contact.account_id,
    }.get(block.target, False)
    dialable = {
        e164: not (
            reaches
            and block.phone_id == phone_id
            and (block.target == Block.Target.PHONE or block.contact_id == lead.contact_id)
        )
        for phone_id, e164 in numbers.items()
    }
    return reaches and on_lead, (reaches and on_lead) or not any(dialable.values()), dialable


def _answers(lead: Lead) -> dict[str, object]:
    """Return what each reader says of ``lead``: whether it is stopped, and per number whether it may be dialled."""
    lead = Lead.objects.select_related("contact__account", "campaign", "customer").get(pk=lead.pk)
    numbers = sorted(link.phone.e164 for link in lead.contact.phones.select_related("phone"))
    flags = {check.e164: check.dialable for check in lead_numbers([lead])[lead.pk]}
    with transaction.atomic():  # the pull's own re-check, without leasing (``leads_pull`` runs it under its locks)
        candidates = _candidates_query(campaign_id=lead.campaign_id, wanted=PULL_MAX, skipped=[], now=timezone.now())
        pulled = {pk for pk, blocked, *_ in candidates if not blocked}
    return {
        "stored status": lead.status == LeadStatus.DISQUALIFIED,
        "explain": bool(explain(lead)),
        "customer's sentences": bool(explain_many([lead], audience=CUSTOMER)[lead.pk]),
        "pull": lead.pk not in pulled,
        "can_dial": {number: can_dial(lead, number).allowed for number in numbers},
        "pull's numbers": flags,
    }


def _added_answers(block: Block, scene: Scene) -> dict[int, bool]:
    """Return, per lead of the scene, whether the recompute after added blocks (``lead_statuses_blocks_added``,
    the matcher's) stores it Disqualified, from the statuses the leads had before the block (all Eligible)."""
    leads = [scene.ours.pk, scene.theirs.pk]
    with transaction.atomic():
        Lead.objects.filter(pk__in=leads).update(status=LeadStatus.ELIGIBLE)
        lead_statuses_blocks_added(blocks="(SELECT * FROM campaigns_block WHERE id = %s)", params=[block.pk])
        stored = dict(Lead.objects.filter(pk__in=leads).values_list("pk", "status"))
        transaction.set_rollback(True)
    return {pk: status == LeadStatus.DISQUALIFIED for pk, status in stored.items()}


def _on_subjects(block: Block, lead: Lead) -> bool:
    """Return whether ``block`` is on ``lead``, its contact, its account, one of its numbers or the contact's use
    of one, whatever its reach and lifting: the design's words."""
    numbers = set(lead.contact.phones.values_list("phone_id", flat=True))
    return {
        Block.Target.LEAD: block.lead_id == lead.pk,
        Block.Target.CONTACT: block.contact_id == lead.contact_id,
        Block.Target.ACCOUNT: block.account_id == lead.contact.account_id,
        Block.Target.PHONE: block.phone_id in numbers,
        Block.Target.CONTACT_PHONE: block.contact_id == lead.contact_id and block.phone_id in numbers,
    }[block.target]


def _behind_answers(block: Block, lead: Lead) -> dict[str, bool]:
    """Return whether Undisqualify's blocks behind the lead's contact, and its account's details page, list
    ``block``."""
    details = account_details(lead.contact.account)
    shown = [row.block for row in details.account_blocks] + [
        row.block for contact in details.contacts for row in contact.blocks
    ]
    return {
        "blocks behind": block in blocks_behind(contacts=Contact.objects.filter(pk=lead.contact_id)),
        "account details": block in shown,
    }


@pytest.fixture(scope="module")
def built_scene(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """The scene with the number shared or not (``request.param``), built once for every case that uses it."""
    with built_once(django_db_blocker, tmp_path_factory.mktemp("media"), lambda _: _scene(request.param)) as scene:
        yield scene


@pytest.fixture
def scene(built_scene, db) -> Scene:
    return copy.deepcopy(built_scene)


# The cases that share a scene run one after the other (pytest groups them by the module-scoped scene).
@pytest.mark.parametrize(
    ("built_scene", "case"),
    [(case.shared, case) for case in CASES],
    ids=[str(case) for case in CASES],
    indirect=["built_scene"],
    scope="module",
)
def test_every_reader_of_the_block_rule_agrees(case, scene):
    # given: the scene of ``case.shared``

    # when
    block = _make_block(case, scene)
    block.refresh_from_db()
    drift = lead_statuses_check(repair=False)

    # then
    assert drift.drifted == 0, drift.summary()  # the leads ``leads_reached_by`` named were every lead it changed
    assert _added_answers(block, scene) == {lead.pk: _expected(block, lead)[1] for lead in (scene.ours, scene.theirs)}
    for lead in (scene.ours, scene.theirs):
        itself, stopped, dialable = _expected(block, lead)
        answers = _answers(lead)
        allowed = {number: ok and not itself for number, ok in dialable.items()}
        on = _on_subjects(block, lead)
        # The account's page shows every block on its people, lifted too, but another customer's number blocks
        # only when they are platform-wide.
        ours = block.target != Block.Target.PHONE or block.customer_id in (None, lead.customer_id)
        assert _behind_answers(block, lead) == {
            "blocks behind": on and block.lifted_at is None,
            "account details": on and ours,
        }, f"lead of {lead.customer}"
        assert answers == {
            "stored status": stopped,
            "explain": stopped,
            "customer's sentences": stopped,
            "pull": stopped,
            "can_dial": allowed,
            "pull's numbers": dialable,
        }, f"lead of {lead.customer}"


# --- Which sources stop a lead: the counts by source agree with ``explain`` -----------------------------
# One lead of Acme's campaign Spring, whose contact has two numbers (A and B). Each case makes a few blocks,
# one of which may be lifted, and names the sources that stop the lead, in the design's words: a block on the
# lead, its contact or its account stops it; number blocks stop it only when together they leave no number.


@dataclass(frozen=True)
class Made:
    target: str  # "lead", "contact", "account", "A", "B", "contact on A", "contact on B"
    source: str
    reach: str = Block.Reach.CUSTOMER
    other_campaign: bool = False
    lifted: bool = False
    ended: bool = False  # made with an end that has since passed, not yet lifted by the expiry job


SOURCE_CASES = {
    "contact disqualified, one of two numbers on the DNC list": (
        [Made("contact", Block.Source.OPS_DISQUALIFY), Made("A", Block.Source.OPS_PHONE_DNC, Block.Reach.PLATFORM)],
        {Block.Source.OPS_DISQUALIFY},
    ),
    "one number on the DNC list, the other a wrong number": (
        [
            Made("A", Block.Source.OPS_PHONE_DNC, Block.Reach.PLATFORM),
            Made("contact on B", Block.Source.DISPOSITION),
        ],
        {Block.Source.OPS_PHONE_DNC, Block.Source.DISPOSITION},
    ),
    "one number suppressed, the other clean": ([Made("B", Block.Source.SUPPRESSION)], set()),
    "lead and account": (
        [
            Made("lead", Block.Source.MEETING_OUTCOME, Block.Reach.CAMPAIGN),
            Made("account", Block.Source.CRM_RULE),
        ],
        {Block.Source.MEETING_OUTCOME, Block.Source.CRM_RULE},
    ),
    "another campaign's fit rule, both numbers on the DNC list": (
        [
            Made("contact", Block.Source.FIT_RULE, Block.Reach.CAMPAIGN, other_campaign=True),
            Made("A", Block.Source.OPS_PHONE_DNC, Block.Reach.PLATFORM),
            Made("B", Block.Source.OPS_PHONE_DNC, Block.Reach.PLATFORM),
        ],
        {Block.Source.OPS_PHONE_DNC},
    ),
    "a lifted Do Not Call mark, a suppressed account": (
        [Made("contact", Block.Source.CUSTOMER_DNC, lifted=True), Made("account", Block.Source.SUPPRESSION)],
        {Block.Source.SUPPRESSION},
    ),
    "an ended Do Not Call mark, a suppressed account, an ended DNC on one number of two": (
        [
            Made("contact", Block.Source.CUSTOMER_DNC, ended=True),
            Made("account", Block.Source.SUPPRESSION),
            Made("A", Block.Source.OPS_PHONE_DNC, Block.Reach.PLATFORM, ended=True),
            Made("B", Block.Source.OPS_PHONE_DNC, Block.Reach.PLATFORM),
        ],
        {Block.Source.SUPPRESSION},
    ),
    "an ended disqualification, both numbers on the DNC list": (
        [
            Made("contact", Block.Source.OPS_DISQUALIFY, ended=True),
            Made("A", Block.Source.OPS_PHONE_DNC, Block.Reach.PLATFORM),
            Made("B", Block.Source.OPS_PHONE_DNC, Block.Reach.PLATFORM),
        ],
        {Block.Source.OPS_PHONE_DNC},
    ),
    "an ended lead block alone": ([Made("lead", Block.Source.DISPOSITION, Block.Reach.CAMPAIGN, ended=True)], set()),
    "a lifted wrong number leaves the other number's DNC alone": (
        [
            Made("contact on A", Block.Source.DISPOSITION, lifted=True),
            Made("B", Block.Source.OPS_PHONE_DNC, Block.Reach.PLATFORM),
            Made("contact", Block.Source.UNREACHABLE, Block.Reach.CAMPAIGN),
        ],
        {Block.Source.UNREACHABLE},
    ),
}


def _sources_answers(lead: Lead) -> dict[str, set[str]]:
    from campaigns.imports.models import ImportedLead, LeadImport
    from campaigns.imports.services import import_outcome
    from campaigns.portal.selectors import disqualifications_by_source

    lead_import = LeadImport.objects.create(campaign=lead.campaign, original_name="leads.csv", file="leads.csv")
    ImportedLead.objects.create(lead_import=lead_import, lead=lead, created=True)
    return {
        "explain": {reason.block.source for reason in explain(lead) if reason.block is not None},
        "portal's counts": {count.code for count in disqualifications_by_source(lead.customer)},
        "lead import's counts": set(import_outcome(lead_import=lead_import)["disqualified_by_source"]),
    }


@pytest.mark.parametrize("made, expected", SOURCE_CASES.values(), ids=SOURCE_CASES.keys())
def test_every_count_by_source_names_the_sources_that_stop_the_lead(made, expected):
    # given
    acme = CustomerFactory(name="Acme")
    spring = CampaignFactory(customer=acme, name="Spring")
    autumn = CampaignFactory(customer=acme, name="Autumn")
    lead = LeadFactory(campaign=spring, contact=ContactFactory(account=AccountFactory(customer=acme)), with_phone=False)
    numbers = {"A": PhoneNumberFactory(), "B": PhoneNumberFactory()}
    for number in numbers.values():
        ContactPhoneFactory(contact=lead.contact, phone=number)
    targets = {
        "lead": BlockTarget(lead=lead),
        "contact": BlockTarget(contact=lead.contact),
        "account": BlockTarget(account=lead.contact.account),
        "A": BlockTarget(phone=numbers["A"]),
        "B": BlockTarget(phone=numbers["B"]),
        "contact on A": BlockTarget(contact=lead.contact, phone=numbers["A"]),
        "contact on B": BlockTarget(contact=lead.contact, phone=numbers["B"]),
    }

    # when
    for block in made:
        made_block, _ = block_create(
            target=targets[block.target],
            source=block.source,
            reason=Block.Reason.OTHER,
            reach=block.reach,
            actor="tests",
            customer=acme if block.reach != Block.Reach.PLATFORM else None,
            campaign=(autumn if block.other_campaign else spring) if block.reach == Block.Reach.CAMPAIGN else None,
            ends_at=timezone.now() + timedelta(days=30) if block.ended else None,
        )
        if block.lifted:
            blocks_lift(blocks=Block.objects.filter(pk=made_block.pk), actor="tests", reason="The case says so.")
        if block.ended:  # thirty days pass; no job has lifted it (the stored status is recomputed as a copy)
            Block.objects.filter(pk=made_block.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk))
    lead.refresh_from_db()

    # then
    assert (lead.status == LeadStatus.DISQUALIFIED) == bool(expected)
    assert _sources_answers(lead) == {
        "explain": expected,
        "portal's counts": expected,
        "lead import's counts": expected,
    }
