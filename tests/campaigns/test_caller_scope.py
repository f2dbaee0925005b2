"""What an approved caller may see (``campaigns.selectors.scope``) and do (the services refuse the rest), over
the caller scene: Amy works one campaign of Acme Clinics; its other campaign and Globex Zeta's are not hers."""

from __future__ import annotations

import pytest

from campaigns.models import (
    Account,
    Block,
    Call,
    Campaign,
    Contact,
    ContactPhone,
    Customer,
    Disposition,
    Lead,
    LeadStatus,
    Meeting,
    PhoneNumber,
    User,
)
from campaigns.selectors.explaining import OPS, CallerAudience
from campaigns.selectors.scope import RULES, audience_for, sees_everything, visible
from campaigns.services.callers import approvals_revoke
from campaigns.services.calls import leads_reopen, leads_unqualify, meeting_outcome_set
from campaigns.services.workflows import (
    accounts_disqualify,
    contacts_disqualify,
    customer_dnc_mark,
    phone_numbers_mark_dnc,
)
from leadops.errors import LeadopsError
from tests.campaigns.admin_factories import MeetingFactory
from tests.campaigns.caller_scenes import caller_scene, member_of
from tests.campaigns.factories import UserFactory

pytestmark = pytest.mark.django_db

D, E = LeadStatus.DISQUALIFIED, LeadStatus.ELIGIBLE


@pytest.fixture
def scene():
    return caller_scene()


def seen(model, user) -> set[int]:
    return set(visible(model.objects.all(), user).values_list("pk", flat=True))


def blocks_state() -> list[tuple]:
    return sorted(Block.objects.values_list("pk", "lifted_at"))


# --- what a caller sees -------------------------------------------------------------------------------


def test_a_caller_sees_what_their_campaign_reaches_and_nothing_else(scene):
    # given
    amy = scene.amy
    mine = [scene.maria, scene.tom]
    # when / then
    assert seen(Campaign, amy) == {scene.mine.pk}
    assert seen(Customer, amy) == {scene.customer.pk}
    assert seen(Disposition, amy) == set(scene.mine.dispositions.values_list("pk", flat=True))
    assert seen(Lead, amy) == {lead.pk for lead in mine}
    assert seen(Contact, amy) == {lead.contact_id for lead in mine}
    assert seen(Account, amy) == {scene.clinic.pk}
    assert seen(PhoneNumber, amy) == {scene.board.pk, scene.mobile.pk}
    assert seen(ContactPhone, amy) == set(
        ContactPhone.objects.filter(contact__in=[lead.contact_id for lead in mine]).values_list("pk", flat=True)
    )
    assert seen(Call, amy) == set() and seen(Meeting, amy) == set()
    assert seen(User, amy) == {amy.pk}  # the one approved for her campaign; no one called its leads yet


def test_of_the_blocks_a_caller_sees_those_whose_reach_covers_their_leads(scene):
    # given: the shared numbers' blocks are platform ones from another customer's campaign and ops' lifted one
    # (seen), and one for Globex Zeta only (not seen); Quentin's is for the other campaign, Xena's on a lead of it,
    # Quincy's for Globex
    # when
    shown = visible(Block.objects.all(), scene.amy)
    # then
    assert sorted((b.phone_id, b.source, b.lifted_at is None) for b in shown) == sorted(
        [
            (scene.mobile.pk, Block.Source.DISPOSITION, True),
            (scene.mobile.pk, Block.Source.OPS_PHONE_DNC, True),
            (scene.board.pk, Block.Source.OPS_PHONE_DNC, False),
        ]
    )
    hidden = Block.objects.exclude(pk__in=shown.values("pk"))
    assert hidden.filter(reach=Block.Reach.CUSTOMER, customer=scene.other_customer).count() == 2
    assert hidden.filter(campaign=scene.sibling).count() == 2


def test_ops_and_superusers_see_every_row_with_no_condition_added(scene):
    # given
    root = UserFactory(is_superuser=True)
    for user in (scene.ops, root):
        # when
        leads = visible(Lead.objects.all(), user)
        # then: the very queryset, so that a list page still counts from the planner's estimate
        assert not leads.query.where
        assert sees_everything(user)
        assert audience_for(user) == OPS
    assert seen(Lead, scene.ops) == set(Lead.objects.values_list("pk", flat=True))


def test_a_customers_user_an_inactive_or_revoked_caller_and_a_model_without_a_rule_show_nothing(scene):
    # given
    customers_user = UserFactory(customer=scene.customer, is_staff=False)
    gone = member_of("Callers", "gone", is_active=False)
    ben = scene.ben
    approvals_revoke(approvals=ben.approvals.all(), actor=scene.ops)
    # then
    for user in (customers_user, gone, ben):
        assert {model.__name__: seen(model, user) for model in RULES} == {model.__name__: set() for model in RULES}
    # and a model no rule names (the customer's own suppression list) shows a caller nothing
    from suppressions.models import Entry
    from tests.suppressions.factories import EntryFactory

    EntryFactory(customer=scene.customer)
    assert Entry.objects.exists() and not visible(Entry.objects.all(), scene.amy).exists()


def test_a_callers_audience_names_their_campaigns_and_customers(scene):
    # when
    audience = audience_for(scene.amy)
    # then
    assert audience == CallerAudience(
        campaign_ids=frozenset({scene.mine.pk}), customer_ids=frozenset({scene.customer.pk})
    )


# --- what a caller may do: the services refuse the rest -------------------------------------------------


def contacts(*leads):
    return Contact.objects.filter(pk__in=[lead.contact_id for lead in leads])


@pytest.mark.parametrize(
    "act",
    [
        lambda s: contacts_disqualify(contacts=contacts(s.maria, s.quentin), reason=Block.Reason.OTHER, actor=s.amy),
        lambda s: accounts_disqualify(
            accounts=Account.objects.filter(pk=s.obscura.pk), reason=Block.Reason.OTHER, actor=s.amy
        ),
        lambda s: contacts_disqualify(
            contacts=contacts(s.tom),
            reason=Block.Reason.OTHER,
            reach=Block.Reach.CAMPAIGN,
            campaign=s.sibling,
            actor=s.amy,
        ),
        lambda s: phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=s.quentins_line.pk), actor=s.amy),
        lambda s: phone_numbers_mark_dnc(
            phones=PhoneNumber.objects.filter(pk=s.board.pk),
            reach=Block.Reach.CUSTOMER,
            customer=s.other_customer,
            actor=s.amy,
        ),
        lambda s: customer_dnc_mark(contacts=contacts(s.xena), actor=s.amy),
        lambda s: leads_unqualify(
            leads=Lead.objects.filter(pk=s.tom_sibling.pk), reason=Block.Reason.UNREACHABLE, actor=s.amy
        ),
    ],
    ids=[
        "a contact of another campaign among hers",
        "an account with no lead of hers",
        "for a campaign not hers",
        "a number none of her contacts has",
        "a number for another customer",
        "another campaign's contact, customer Do Not Call",
        "another campaign's lead, unqualify",
    ],
)
def test_a_caller_acting_outside_their_campaigns_is_refused_and_nothing_changes(scene, act):
    # given
    before = (blocks_state(), sorted(Lead.objects.values_list("pk", "status")))
    # when
    with pytest.raises(LeadopsError) as refused:
        act(scene)
    # then
    assert refused.value.code == "caller_not_approved"
    assert "amy.lee" in refused.value.message and "nothing was changed" in refused.value.message
    assert (blocks_state(), sorted(Lead.objects.values_list("pk", "status"))) == before


def test_a_caller_reopening_another_campaigns_lead_is_refused(scene):
    # given: Xena's lead was unqualified in the other campaign; Amy holds the reopen permission
    assert scene.amy.has_perm("campaigns.reopen_lead")
    # when
    with pytest.raises(LeadopsError) as refused:
        leads_reopen(leads=Lead.objects.filter(pk=scene.xena.pk), actor=scene.amy, reason="try again")
    # then
    assert refused.value.code == "caller_not_approved"
    assert Lead.objects.get(pk=scene.xena.pk).status == D


def test_a_caller_setting_the_outcome_of_another_campaigns_meeting_is_refused(scene):
    # given
    meeting = MeetingFactory(lead=scene.quentin)
    # when
    with pytest.raises(LeadopsError) as refused:
        meeting_outcome_set(meeting=meeting, outcome="qualified", actor=scene.amy)
    # then
    assert refused.value.code == "caller_not_approved"
    meeting.refresh_from_db()
    assert meeting.outcome == "pending"


def test_a_callers_disqualify_for_the_customer_reaches_its_other_campaigns_and_records_their_role(scene):
    # given: Tom has a lead in Amy's campaign and one in the customer's other campaign
    # when
    made = contacts_disqualify(contacts=contacts(scene.tom), reason=Block.Reason.NOT_INTERESTED, actor=scene.amy)
    # then: the block is correct whoever makes it
    [block] = made.blocks
    assert (block.actor, block.caller_campaign, block.reach, block.customer) == (
        scene.amy,
        scene.mine,
        Block.Reach.CUSTOMER,
        scene.customer,
    )
    assert Lead.objects.get(pk=scene.tom.pk).status == D
    assert Lead.objects.get(pk=scene.tom_sibling.pk).status == D


def test_a_callers_dnc_on_a_shared_number_stops_every_contact_sharing_it(scene):
    # when: Amy marks the switchboard, shared with Quentin (the other campaign) and Quincy (another customer)
    made = phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=scene.amy)
    # then
    assert [(b.reach, b.caller_campaign) for b in made.blocks] == [(Block.Reach.PLATFORM, scene.mine)]
    statuses = dict(Lead.objects.values_list("pk", "status"))
    assert statuses[scene.tom.pk] == statuses[scene.tom_sibling.pk] == statuses[scene.maria.pk] == D
    assert statuses[scene.quentin.pk] == D  # already disqualified in its campaign; the mark is on its number too


def test_a_caller_unqualifies_their_own_leads_each_as_its_campaigns_caller(scene):
    # when
    blocks = leads_unqualify(
        leads=Lead.objects.filter(pk__in=[scene.maria.pk, scene.tom.pk]),
        reason=Block.Reason.NO_LONGER_INTERESTED,
        actor=scene.amy,
    )
    # then
    assert [(b.lead_id, b.caller_campaign_id, b.actor_id) for b in blocks] == [
        (scene.maria.pk, scene.mine.pk, scene.amy.pk),
        (scene.tom.pk, scene.mine.pk, scene.amy.pk),
    ]


def test_ops_and_jobs_record_no_caller_role(scene):
    # when
    by_ops = contacts_disqualify(contacts=contacts(scene.maria), reason=Block.Reason.OTHER, actor=scene.ops)
    by_job = phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor="tests.job")
    # then
    assert [b.caller_campaign for b in by_ops.blocks + by_job.blocks] == [None, None]
