"""Undisqualify: partial lifts, permissions, and what could not be lifted."""

import pytest

from campaigns.models import Block, LeadStatus
from campaigns.services import BlockTarget, block_create, lead_undisqualify
from leadops.errors import LeadopsError
from tests.campaigns.factories import ContactPhoneFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def disqualify_contact(lead, **kwargs):
    defaults = dict(source=Block.Source.OPS_DISQUALIFY, reason=Block.Reason.OTHER, reach=Block.Reach.CUSTOMER)
    defaults.update(kwargs)
    block, _ = block_create(target=BlockTarget(contact=lead.contact), actor="tests", **defaults)
    return block


def platform_dnc_only_number(lead):
    link = ContactPhoneFactory(contact=lead.contact)
    block, _ = block_create(
        target=BlockTarget(phone=link.phone),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
    )
    return block


def test_undisqualify_lifts_every_block_and_returns_the_lead_to_the_pool(ops_user):
    # given
    lead = LeadFactory()
    first = disqualify_contact(lead)
    second = disqualify_contact(lead, source=Block.Source.SUPPRESSION, reason=Block.Reason.SUPPRESSED)
    # when
    result = lead_undisqualify(lead=lead, actor=ops_user, reason="Customer confirmed it was a mistake")
    # then
    assert {b.pk for b in result.lifted} == {first.pk, second.pk}
    assert result.kept == []
    assert result.status == LeadStatus.ELIGIBLE
    first.refresh_from_db()
    assert first.lifted_by == ops_user
    assert first.lift_reason == "Customer confirmed it was a mistake"


def test_platform_dnc_is_kept_without_the_dedicated_permission(ops_user):
    # given
    lead = LeadFactory(with_phone=False)
    dnc = platform_dnc_only_number(lead)
    other = disqualify_contact(lead)
    # when
    result = lead_undisqualify(lead=lead, actor=ops_user, reason="mistake")
    # then
    assert [b.pk for b in result.lifted] == [other.pk]
    assert [k.block.pk for k in result.kept] == [dnc.pk]
    assert "lift platform DNC" in result.kept[0].why
    assert result.status == LeadStatus.DISQUALIFIED
    dnc.refresh_from_db()
    assert dnc.is_active


def test_ops_lead_may_lift_a_platform_dnc(ops_lead):
    # given
    lead = LeadFactory(with_phone=False)
    dnc = platform_dnc_only_number(lead)
    # when
    result = lead_undisqualify(lead=lead, actor=ops_lead, reason="Person withdrew the request in writing")
    # then
    assert [b.pk for b in result.lifted] == [dnc.pk]
    assert result.status == LeadStatus.ELIGIBLE


def test_a_user_without_the_lift_permission_lifts_nothing():
    # given
    lead = LeadFactory()
    block = disqualify_contact(lead)
    nobody = UserFactory()
    # when
    result = lead_undisqualify(lead=lead, actor=nobody, reason="mistake")
    # then
    assert result.lifted == []
    assert [k.block.pk for k in result.kept] == [block.pk]
    assert result.status == LeadStatus.DISQUALIFIED


def test_undisqualify_can_lift_only_the_chosen_blocks(ops_user):
    # given
    lead = LeadFactory()
    chosen = disqualify_contact(lead)
    left = disqualify_contact(lead, source=Block.Source.CUSTOMER_DNC, reason=Block.Reason.DO_NOT_CALL)
    # when
    result = lead_undisqualify(lead=lead, actor=ops_user, reason="partial", block_ids=[chosen.pk])
    # then
    assert [b.pk for b in result.lifted] == [chosen.pk]
    left.refresh_from_db()
    assert left.is_active
    assert result.status == LeadStatus.DISQUALIFIED


def test_undisqualify_needs_a_reason(ops_user):
    # given
    lead = LeadFactory()
    disqualify_contact(lead)
    # when / then
    with pytest.raises(LeadopsError) as excinfo:
        lead_undisqualify(lead=lead, actor=ops_user, reason="  ")
    assert excinfo.value.field == "reason"


def test_a_repeat_undisqualify_changes_nothing(ops_user):
    # given
    lead = LeadFactory()
    disqualify_contact(lead)
    lead_undisqualify(lead=lead, actor=ops_user, reason="mistake")
    # when
    again = lead_undisqualify(lead=lead, actor=ops_user, reason="mistake")
    # then
    assert again.lifted == []
    assert again.kept == []
    assert again.status == LeadStatus.ELIGIBLE


def test_undisqualify_reports_what_no_lift_can_fix(ops_user):
    # given: no number at all
    lead = LeadFactory(with_phone=False)
    # when
    result = lead_undisqualify(lead=lead, actor=ops_user, reason="try")
    # then
    assert result.status == LeadStatus.DISQUALIFIED
    assert [k.block for k in result.kept] == [None]
    assert "no phone number" in result.kept[0].why
