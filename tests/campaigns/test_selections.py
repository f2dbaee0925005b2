"""The selection-wide services of the back office: Undisqualify, Unqualify, Reopen and Revoke for a selection
of any size are one transaction of the same few statements, and all or nothing."""

import pytest

from campaigns.models import ApiKey, Block, Campaign, Contact, Lead, LeadStatus, User
from campaigns.services.api_keys import api_keys_revoke
from campaigns.services.calls import leads_reopen, leads_unqualify
from campaigns.services.undisqualify import leads_undisqualify
from campaigns.services.workflows import contacts_disqualify
from leadops.errors import LeadopsError
from tests.campaigns.api_factories import DialerCampaignFactory, api_key_for
from tests.campaigns.factories import LeadFactory, UserFactory
from tests.statements import database_refuses, statements_of

pytestmark = pytest.mark.django_db

D, E = LeadStatus.DISQUALIFIED, LeadStatus.ELIGIBLE


def leads_of(campaign: Campaign, n: int) -> list[Lead]:
    """Return ``n`` eligible leads of ``campaign``, each contact with a clean number of its own."""
    return [LeadFactory(campaign=campaign) for _ in range(n)]


def selection(leads: list[Lead]):
    return Lead.objects.filter(pk__in=[lead.pk for lead in leads])


def statuses(leads: list[Lead]) -> set[str]:
    return set(selection(leads).values_list("status", flat=True))


def disqualified(leads: list[Lead]) -> list[Lead]:
    contacts_disqualify(
        contacts=Contact.objects.filter(pk__in=[lead.contact_id for lead in leads]),
        reason=Block.Reason.NOT_A_FIT,
        actor="tests",
    )
    return leads


def fresh(user: User) -> User:
    """The same user without its permission cache: each measured call reads the permissions once."""
    return User.objects.get(pk=user.pk)


# --- Undisqualify -------------------------------------------------------------------------------------


def test_undisqualifying_leads_lifts_the_blocks_of_each_and_returns_them_to_the_pool(ops_user):
    # given
    leads = disqualified(leads_of(DialerCampaignFactory(), 3))
    # when
    results = leads_undisqualify(leads=selection(leads), actor=ops_user, reason="Reviewed the list")
    # then
    assert statuses(leads) == {E}
    assert {pk: (r.status, len(r.lifted), r.kept) for pk, r in results.items()} == {
        lead.pk: (E, 1, []) for lead in leads
    }
    assert set(Block.objects.values_list("lift_reason", flat=True)) == {"Reviewed the list"}


def test_undisqualifying_1_or_50_leads_takes_the_same_statements(ops_user):
    # given
    campaign = DialerCampaignFactory()
    one, fifty = disqualified(leads_of(campaign, 1)), disqualified(leads_of(campaign, 50))
    # when
    counts = [
        statements_of(lambda s=s: leads_undisqualify(leads=selection(s), actor=fresh(ops_user), reason="Reviewed"))
        for s in (one, fifty)
    ]
    # then
    assert counts[0] == counts[1]
    assert statuses(one + fifty) == {E}


def test_undisqualify_reports_per_lead_what_it_kept_and_what_no_lift_can_fix(ops_user):
    # given: one lead the ops user may not fully free (a platform DNC on its only number), one with no number
    campaign = DialerCampaignFactory()
    dnc, bare = LeadFactory(campaign=campaign), LeadFactory(campaign=campaign, with_phone=False)
    from campaigns.models import PhoneNumber
    from campaigns.services.workflows import phone_numbers_mark_dnc

    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(contact_links__contact=dnc.contact), actor="tests")
    # when
    results = leads_undisqualify(leads=selection([dnc, bare]), actor=ops_user, reason="Reviewed")
    # then
    assert results[dnc.pk].status == D
    assert [k.block.source for k in results[dnc.pk].kept] == [Block.Source.OPS_PHONE_DNC]
    assert results[bare.pk].status == D
    assert [k.block for k in results[bare.pk].kept] == [None]
    assert "no phone number" in results[bare.pk].kept[0].why


def test_undisqualify_fails_whole_and_changes_nothing_when_the_database_fails_half_way(ops_user):
    # given
    leads = disqualified(leads_of(DialerCampaignFactory(), 3))
    # when: the blocks are lifted, then the statuses' recompute fails
    with pytest.raises(Exception, match="refused"), database_refuses('UPDATE "campaigns_lead"'):
        leads_undisqualify(leads=selection(leads), actor=ops_user, reason="Reviewed")
    # then
    assert Block.objects.active().count() == 3
    assert statuses(leads) == {D}


# --- Unqualify ----------------------------------------------------------------------------------------


def test_unqualifying_leads_blocks_each_in_its_own_campaign():
    # given
    leads = leads_of(DialerCampaignFactory(), 2) + leads_of(DialerCampaignFactory(), 1)
    # when
    blocks = leads_unqualify(leads=selection(leads), reason=Block.Reason.WRONG_NUMBER, actor="tests", note="checked")
    # then
    assert statuses(leads) == {D}
    assert [(b.lead_id, b.campaign_id, b.customer_id, b.reach, b.note) for b in blocks] == [
        (lead.pk, lead.campaign_id, lead.customer_id, Block.Reach.CAMPAIGN, "checked") for lead in leads
    ]


def test_unqualifying_1_or_50_leads_takes_the_same_statements(ops_user):
    # given
    campaign = DialerCampaignFactory()
    one, fifty = leads_of(campaign, 1), leads_of(campaign, 50)
    # when
    counts = [
        statements_of(
            lambda s=s: leads_unqualify(leads=selection(s), reason=Block.Reason.UNREACHABLE, actor=fresh(ops_user))
        )
        for s in (one, fifty)
    ]
    # then
    assert counts[0] == counts[1]
    assert Block.objects.count() == 51 and statuses(one + fifty) == {D}


def test_unqualify_refuses_the_whole_selection_when_one_lead_is_unqualified_for_another_reason():
    # given
    campaign = DialerCampaignFactory()
    leads = leads_of(campaign, 3)
    leads_unqualify(leads=selection(leads[1:2]), reason=Block.Reason.WRONG_NUMBER, actor="tests")
    # when
    with pytest.raises(LeadopsError) as refused:
        leads_unqualify(leads=selection(leads), reason=Block.Reason.INVALID_NUMBER, actor="tests")
    # then
    assert refused.value.code == "conflict"
    assert f"Lead #{leads[1].pk}" in refused.value.message and "Wrong number" in refused.value.message
    assert "Nothing was changed." in refused.value.message
    assert Block.objects.count() == 1
    assert [lead.status for lead in selection(leads).order_by("pk")] == [E, D, E]


def test_unqualify_again_with_the_same_reason_keeps_the_blocks_and_adds_the_new_leads():
    # given
    leads = leads_of(DialerCampaignFactory(), 3)
    first = leads_unqualify(leads=selection(leads[:2]), reason=Block.Reason.UNREACHABLE, actor="tests")
    # when
    again = leads_unqualify(leads=selection(leads), reason=Block.Reason.UNREACHABLE, actor="tests")
    # then
    assert [b.pk for b in again[:2]] == [b.pk for b in first]
    assert Block.objects.count() == 3


def test_unqualify_fails_whole_when_the_database_fails_half_way():
    # given
    leads = leads_of(DialerCampaignFactory(), 3)
    # when: the blocks are inserted, then the statuses' recompute fails
    with pytest.raises(Exception, match="refused"), database_refuses('UPDATE "campaigns_lead"'):
        leads_unqualify(leads=selection(leads), reason=Block.Reason.UNREACHABLE, actor="tests")
    # then
    assert not Block.objects.exists()
    assert statuses(leads) == {E}


# --- Reopen -------------------------------------------------------------------------------------------


def test_reopening_leads_lifts_their_unqualifications_and_restarts_the_attempt_count(ops_user):
    # given: two unqualified leads, one of them at the attempt cap, and one lead with nothing to reopen
    leads = leads_of(DialerCampaignFactory(), 3)
    leads_unqualify(leads=selection(leads[:2]), reason=Block.Reason.UNREACHABLE, actor="tests")
    Lead.objects.filter(pk=leads[0].pk).update(attempts=3)
    # when
    reopened = leads_reopen(leads=selection(leads), actor=ops_user, reason="New numbers found")
    # then
    assert (reopened.lead_ids, reopened.lifted) == ([leads[0].pk, leads[1].pk], 2)
    assert statuses(leads) == {E}
    assert Lead.objects.get(pk=leads[0].pk).attempts == 0


def test_reopening_1_or_50_leads_takes_the_same_statements(ops_user):
    # given
    campaign = DialerCampaignFactory()
    one, fifty = leads_of(campaign, 1), leads_of(campaign, 50)
    leads_unqualify(leads=selection(one + fifty), reason=Block.Reason.UNREACHABLE, actor="tests")
    # when
    counts = [
        statements_of(lambda s=s: leads_reopen(leads=selection(s), actor=fresh(ops_user), reason="Try again"))
        for s in (one, fifty)
    ]
    # then
    assert counts[0] == counts[1]
    assert statuses(one + fifty) == {E}


def test_reopen_fails_whole_when_the_database_fails_half_way(ops_user):
    # given
    leads = leads_of(DialerCampaignFactory(), 3)
    leads_unqualify(leads=selection(leads), reason=Block.Reason.UNREACHABLE, actor="tests")
    # when: the blocks are lifted, then the statuses' recompute fails
    with pytest.raises(Exception, match="refused"), database_refuses('UPDATE "campaigns_lead"'):
        leads_reopen(leads=selection(leads), actor=ops_user, reason="Try again")
    # then
    assert Block.objects.active().count() == 3
    assert statuses(leads) == {D}


def test_reopen_needs_a_reason(ops_user):
    # given
    leads = leads_of(DialerCampaignFactory(), 1)
    leads_unqualify(leads=selection(leads), reason=Block.Reason.UNREACHABLE, actor="tests")
    # when
    with pytest.raises(LeadopsError) as refused:
        leads_reopen(leads=selection(leads), actor=ops_user, reason=" ")
    # then
    assert refused.value.field == "reason"
    assert Block.objects.active().count() == 1


# --- Revoke API keys ----------------------------------------------------------------------------------


def test_revoking_keys_revokes_the_active_ones_and_returns_them():
    # given
    keys = [api_key_for()[0] for _ in range(3)]
    api_keys_revoke(api_keys=ApiKey.objects.filter(pk=keys[0].pk), actor=None)
    admin = UserFactory()
    # when
    revoked = api_keys_revoke(api_keys=ApiKey.objects.filter(pk__in=[k.pk for k in keys]), actor=admin)
    # then
    assert revoked == [keys[1].pk, keys[2].pk]
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 0
    assert ApiKey.objects.get(pk=keys[0].pk).revoked_by is None


def test_revoking_1_or_50_keys_takes_the_same_statements():
    # given
    one = [api_key_for()[0]]
    fifty = [api_key_for()[0] for _ in range(50)]
    # when
    counts = [
        statements_of(lambda s=s: api_keys_revoke(api_keys=ApiKey.objects.filter(pk__in=[k.pk for k in s]), actor=None))
        for s in (one, fifty)
    ]
    # then
    assert counts[0] == counts[1]
    assert not ApiKey.objects.filter(revoked_at__isnull=True).exists()
