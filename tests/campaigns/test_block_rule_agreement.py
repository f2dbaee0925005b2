"""Every reader of "an active block reaches this lead" gives one answer (``campaigns.rules``).

For each block (target x reach and tenant x lifted or not x number shared or not; the source cycles through
every source, since it changes a block's words and never whether it stops), two leads are asked: ours (Acme,
campaign Spring) and a sharer's (Globex), whose contact shares our number or not and has a spare clean
number of its own. The block is made and lifted through the services, which recompute only the leads
``leads_reached_by`` names; then the stored status, the status check (the rule evaluated afresh),
``explain``, ``can_dial`` on each number, the pull's numbers (``lead_numbers``), the customer's portal
sentences (``explain_many`` with ``audience=CUSTOMER``) and the pull's re-check of its candidates must agree
with each other and with the expected answer, written out below in the words of the design.

How the matrix was chosen: reach and tenant go together (a platform-wide block belongs to no tenant; a
customer-wide one to ours or the other customer; a campaign-wide one to our campaign, another campaign of
ours, or the other customer's), giving 6 pairs; x 5 targets x lifted or not x shared or not = 120 cases. The
other customer's block is on the sharer's objects (a block never reaches across customers); the source
would multiply the cases by 9 for nothing, so each case takes the next source.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import pytest
from django.db import transaction

from campaigns.models import Block, Lead, LeadStatus
from campaigns.selectors.dialable import lead_numbers
from campaigns.selectors.explaining import CUSTOMER, can_dial, explain, explain_many
from campaigns.services import BlockTarget, block_create, blocks_lift, lead_statuses_recompute
from campaigns.services.pool import PULL_MAX, _candidates_query
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
    lifted: bool
    shared: bool
    source: str

    def __str__(self) -> str:
        lifted = "lifted" if self.lifted else "active"
        shared = "shared number" if self.shared else "own number"
        return f"{self.target}-{self.reach}-{self.tenant}-{lifted}-{shared}-{self.source}"


_sources = itertools.cycle(Block.Source.values)
CASES = [
    Case(target, reach, tenant, lifted, shared, next(_sources))
    for target in Block.Target.values
    for reach, tenant in SCOPES
    for lifted in (False, True)
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
    )
    assert created
    if case.lifted:
        blocks_lift(blocks=Block.objects.filter(pk=block.pk), actor="tests", reason="The case says so.")
    return block


def _expected(block: Block, lead: Lead) -> tuple[bool, bool, dict[str, bool]]:
    """Return whether ``block`` stops ``lead`` itself, whether it disqualifies it, and per number of its contact
    whether it stays dialable: the design's words, not the code's."""
    lead = Lead.objects.select_related("contact").get(pk=lead.pk)
    numbers = {link.phone_id: link.phone.e164 for link in lead.contact.phones.select_related("phone")}
    reaches = block.lifted_at is None and (
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
        candidates = _candidates_query(campaign_id=lead.campaign_id, wanted=PULL_MAX, skipped=[])
        pulled = {pk for pk, blocked, *_ in candidates if not blocked}
    return {
        "stored status": lead.status == LeadStatus.DISQUALIFIED,
        "explain": bool(explain(lead)),
        "customer's sentences": bool(explain_many([lead], audience=CUSTOMER)[lead.pk]),
        "pull": lead.pk not in pulled,
        "can_dial": {number: can_dial(lead, number).allowed for number in numbers},
        "pull's numbers": flags,
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
    for lead in (scene.ours, scene.theirs):
        itself, stopped, dialable = _expected(block, lead)
        answers = _answers(lead)
        allowed = {number: ok and not itself for number, ok in dialable.items()}
        assert answers == {
            "stored status": stopped,
            "explain": stopped,
            "customer's sentences": stopped,
            "pull": stopped,
            "can_dial": allowed,
            "pull's numbers": dialable,
        }, f"lead of {lead.customer}"
