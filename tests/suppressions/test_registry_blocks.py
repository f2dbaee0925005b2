"""The registries' scrub as blocks: a number a registry lists is blocked in each scrubbed campaign of its leads
(source ``registry``), made by a load, an import or the pull, and lifted by the load that no longer lists it
or by an exemption; a lead whose every number is listed is Disqualified and said so by ``explain``."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns.dialer.dialable import lead_numbers
from campaigns.dialer.pool import leads_pull_dialable
from campaigns.models import Block, Campaign, LeadStatus
from campaigns.selectors.explaining import can_dial, explain
from campaigns.services import blocks_lift
from leadops.normalizing import format_phone
from suppressions.services.registries import (
    RegistryScope,
    registry_blocks_sync,
    registry_exemption_grant,
    registry_exemption_revoke,
    registry_load,
)
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory
from tests.campaigns.factories import (
    ContactFactory,
    ContactPhoneFactory,
    LeadFactory,
    PhoneNumberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _lead(*numbers: str, campaign: Campaign | None = None, **kwargs):
    campaign = campaign or DialerCampaignFactory()
    contact = ContactFactory(account__customer=campaign.customer, customer=campaign.customer)
    for number in numbers:
        ContactPhoneFactory(contact=contact, phone=PhoneNumberFactory(e164=number))
    return LeadFactory(campaign=campaign, contact=contact, with_phone=False, **kwargs)


def _load(tmp_path, *lines: str, changes=False, registry="national", name="212.txt"):
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines))
    return registry_load(registry=registry, paths=[path], changes=changes, job="test")


def _registry_blocks(**filters):
    return Block.objects.filter(source=Block.Source.REGISTRY, **filters)


def _status(lead) -> str:
    lead.refresh_from_db()
    return lead.status


def test_a_load_blocks_a_consumer_leads_listed_number_and_explain_names_the_registry_and_its_copy(tmp_path):
    # given: a consumer lead and an exempted business lead, each with one number
    lead = _lead("+12025550143")
    business = _lead("+12025550144", campaign=DialerCampaignFactory(audience=Campaign.Audience.BUSINESS))
    registry_exemption_grant(campaign=business.campaign, reason="Office lines.", actor=UserFactory(is_staff=True))

    # when
    load = _load(tmp_path, "2025550143", "2025550144")

    # then: the consumer lead's number is blocked in its campaign, and the lead left the pool
    (block,) = _registry_blocks()
    assert (block.target, block.reach, block.campaign_id, block.phone.e164) == (
        Block.Target.PHONE,
        Block.Reach.CAMPAIGN,
        lead.campaign_id,
        "+12025550143",
    )
    assert (block.evidence.e164, block.evidence.added_load_id) == ("+12025550143", load.pk)
    assert _status(lead) == LeadStatus.DISQUALIFIED
    assert _status(business) == LeadStatus.ELIGIBLE
    day = timezone.localtime(load.loaded_at).strftime("%Y-%m-%d")
    (reason,) = explain(lead)
    assert reason.code == "national_dnc"
    assert reason.message.startswith(
        f"{format_phone('+12025550143')} is on the national Do-Not-Call registry (copy of {day}): it may not be "
        "called in the campaign"
    )
    assert "It lifts itself when a registry load no longer lists the number" in reason.message
    assert [r.code for r in can_dial(lead, "+12025550143").reasons] == ["national_dnc"]


@pytest.mark.parametrize("changes", [True, False], ids=["change list", "full copy"])
def test_a_load_that_no_longer_lists_the_number_lifts_its_block_and_the_lead_is_eligible_again(tmp_path, changes):
    # given
    lead = _lead("+12025550143")
    _load(tmp_path, "2025550143", "2025550100")
    assert _status(lead) == LeadStatus.DISQUALIFIED

    # when: a change list deletes it, or a full copy leaves it out
    _load(tmp_path, "2025550143,D" if changes else "2025550100", changes=changes, name="next.txt")

    # then
    (block,) = _registry_blocks()
    assert block.lifted_at is not None and block.lifted_by_job == "registry scrub"
    assert block.lift_reason.startswith("the national Do-Not-Call registry no longer lists the number")
    assert _status(lead) == LeadStatus.ELIGIBLE
    assert explain(lead) == []
    assert can_dial(lead, "+12025550143").allowed


def test_a_lead_with_a_clean_number_stays_eligible_and_only_its_listed_number_is_refused(tmp_path):
    lead = _lead("+12025550143", "+12025550199")

    # when
    _load(tmp_path, "2025550143")

    # then
    assert _status(lead) == LeadStatus.ELIGIBLE
    numbers = {check.e164: check for check in lead_numbers([lead])[lead.pk]}
    assert numbers["+12025550143"].reason.code == "national_dnc"
    assert numbers["+12025550143"].reason.block is not None
    assert numbers["+12025550199"].dialable


def test_a_number_on_two_registries_stays_blocked_when_one_of_them_removes_it(tmp_path):
    lead = _lead("+12025550143")
    _load(tmp_path, "2025550143")
    _load(tmp_path, "2025550143", registry="TX", name="tx.txt")
    assert _registry_blocks(lifted_at__isnull=True).count() == 2

    # when
    _load(tmp_path, "2025550143,D", changes=True, name="changes.txt")

    # then: the Texas list still stops it, and says so
    assert _status(lead) == LeadStatus.DISQUALIFIED
    (reason,) = explain(lead)
    assert reason.code == "state_dnc" and " is on the TX state Do-Not-Call list (copy of " in reason.message


def test_exempting_a_business_campaign_lifts_its_registry_blocks_and_revoking_the_exemption_blocks_again(tmp_path):
    lead = _lead("+12025550143", campaign=DialerCampaignFactory(audience=Campaign.Audience.BUSINESS))
    _load(tmp_path, "2025550143")
    assert _status(lead) == LeadStatus.DISQUALIFIED  # a business campaign without an exemption is scrubbed
    ops = UserFactory(is_staff=True)

    # when
    exemption = registry_exemption_grant(campaign=lead.campaign, reason="Office lines.", actor=ops)

    # then
    assert _status(lead) == LeadStatus.ELIGIBLE
    assert not _registry_blocks(lifted_at__isnull=True).exists()

    # when
    registry_exemption_revoke(exemption=exemption, actor=ops)

    # then
    assert _status(lead) == LeadStatus.DISQUALIFIED
    assert _registry_blocks(lifted_at__isnull=True).count() == 1


def test_a_repeat_scrub_makes_nothing_more_and_a_block_a_person_lifted_is_not_made_again(tmp_path):
    lead = _lead("+12025550143")
    _load(tmp_path, "2025550143")
    scope = RegistryScope(lead_ids=(lead.pk,))

    # when / then: nothing new
    assert registry_blocks_sync(scope=scope) == set()
    assert _registry_blocks().count() == 1

    # given: ops lift it
    blocks_lift(blocks=_registry_blocks(), actor=UserFactory(is_staff=True), reason="Checked with the registry.")

    # when
    registry_blocks_sync(scope=scope)

    # then: still one, lifted; the dial check still refuses the listed number (the live check)
    assert _registry_blocks().count() == 1 and _registry_blocks(lifted_at__isnull=True).count() == 0
    assert [r.code for r in can_dial(lead, "+12025550143").reasons] == ["national_dnc"]


def test_the_pull_passes_over_a_lead_whose_every_number_is_listed_and_leaves_it_disqualified(tmp_path, calling_clock):
    # given: an exempted business campaign's pool, loaded against, then turned consumer (no scrub ran since):
    # the listed lead is first in the pool, Eligible, with no block
    campaign = DialerCampaignFactory(audience=Campaign.Audience.BUSINESS)
    registry_exemption_grant(campaign=campaign, reason="Office lines.", actor=UserFactory(is_staff=True))
    listed = _lead("+12025550143", campaign=campaign, priority=9)
    clean = [_lead(f"+120255510{i:02d}", campaign=campaign, priority=5 - i) for i in range(2)]
    _load(tmp_path, "2025550143")
    Campaign.objects.filter(pk=campaign.pk).update(audience=Campaign.Audience.CONSUMER)
    campaign.refresh_from_db()
    assert _status(listed) == LeadStatus.ELIGIBLE and not _registry_blocks().exists()
    caller = CallerFactory(approved_for=[campaign])
    calling_clock.at(datetime(2026, 3, 4, 12, 0, tzinfo=ZoneInfo("America/New_York")))

    # when
    pulled = leads_pull_dialable(campaign=campaign, caller=caller, count=2)

    # then: the two clean leads, in pool order; the listed one is not leased and has left the pool
    assert [lead.pk for lead, _ in pulled] == [clean[0].pk, clean[1].pk]
    listed.refresh_from_db()
    assert (listed.status, listed.leased_to_id) == (LeadStatus.DISQUALIFIED, None)
    assert _registry_blocks(lifted_at__isnull=True, campaign=campaign).count() == 1

    # and the next pull does not meet it again
    assert leads_pull_dialable(campaign=campaign, caller=caller, count=2) == []
