"""explain() and can_dial(): the sentences the dialer and the admin show, read from the blocks directly."""

import pytest

from campaigns.models import Block, ContactPhone, Lead, LeadStatus
from campaigns.selectors import block_sentence, can_dial, explain
from campaigns.selectors.explaining import date_words
from campaigns.services import BlockTarget, block_create, blocks_lift
from leadops.errors import LeadopsError
from tests.campaigns.factories import ContactPhoneFactory, LeadFactory, PhoneNumberFactory, UserFactory

pytestmark = pytest.mark.django_db


def dnc(phone, actor="tests"):
    block, _ = block_create(
        target=BlockTarget(phone=phone),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor=actor,
        evidence_text="Do not call",
    )
    return block


def test_nothing_stops_a_clean_lead():
    # given
    lead = LeadFactory()
    # when
    reasons = explain(lead)
    # then
    assert reasons == []


def test_platform_dnc_sentence_names_the_number_who_when_and_how():
    # given
    caller = UserFactory(username="marco")
    lead = LeadFactory(with_phone=False)
    link = ContactPhoneFactory(contact=lead.contact)
    block = dnc(link.phone, actor=caller)
    # when
    reasons = explain(lead)
    # then
    assert [r.code for r in reasons] == ["platform_dnc"]
    sentence = reasons[0].message
    assert sentence.startswith(f"{link.phone} is on the platform Do-Not-Call list: marked by marco on ")
    assert date_words(block.created_at) in sentence
    assert "-" not in date_words(block.created_at)  # a date in words, not ISO
    assert "after a 'Do not call' call disposition" in sentence
    assert "Ops lead" in sentence


def test_a_dnc_number_beside_a_clean_one_does_not_stop_the_lead():
    # given
    lead = LeadFactory(with_phone=False)
    office = ContactPhoneFactory(contact=lead.contact, kind=ContactPhone.Kind.OFFICE)
    ContactPhoneFactory(contact=lead.contact, kind=ContactPhone.Kind.MOBILE)
    dnc(office.phone)
    # when
    reasons = explain(lead)
    # then
    assert reasons == []


def test_explain_with_the_dnc_number_names_it_even_when_another_number_is_clean():
    # given
    lead = LeadFactory(with_phone=False)
    office = ContactPhoneFactory(contact=lead.contact, kind=ContactPhone.Kind.OFFICE)
    ContactPhoneFactory(contact=lead.contact, kind=ContactPhone.Kind.MOBILE)
    dnc(office.phone)
    # when
    reasons = explain(lead, office.phone.e164)
    # then
    assert [r.code for r in reasons] == ["platform_dnc"]


def test_reasons_are_ordered_most_serious_first():
    # given
    lead = LeadFactory()
    block_create(
        target=BlockTarget(lead=lead),
        source=Block.Source.FIT_RULE,
        reason=Block.Reason.NOT_A_FIT,
        reach=Block.Reach.CAMPAIGN,
        campaign=lead.campaign,
        actor="fit_rules",
        evidence_text="country in US",
    )
    block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    block_create(
        target=BlockTarget(account=lead.contact.account),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.COMPETITOR,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # when
    codes = [r.code for r in explain(lead)]
    # then
    assert codes == ["customer_dnc", "ops_disqualify", "fit_rule"]


def test_each_source_has_its_own_words():
    # given
    lead = LeadFactory()
    for source, _ in Block.Source.choices:
        block_create(
            target=BlockTarget(contact=lead.contact),
            source=source,
            reason=Block.Reason.OTHER,
            reach=Block.Reach.CUSTOMER,
            actor="tests",
            evidence_text=f"evidence for {source}",
        )
    # when
    sentences = [r.message for r in explain(lead)]
    # then
    assert len(sentences) == len(Block.Source.choices)
    assert len({s.split(" on ", 1)[1].split(".")[0] for s in sentences}) == len(sentences)
    # a job is never named by its internal name
    assert not any("tests" in s or " job" in s for s in sentences), sentences


def test_account_sentence_names_the_account_and_the_customer():
    # given
    lead = LeadFactory(contact__account__name="Acme Corp")
    block_create(
        target=BlockTarget(account=lead.contact.account),
        source=Block.Source.CRM_RULE,
        reason=Block.Reason.EXISTING_CUSTOMER,
        reach=Block.Reach.CUSTOMER,
        actor="crm.rules",
        evidence_text="HubSpot company 7: lifecycle stage = customer",
    )
    # when
    (reason,) = explain(lead)
    # then
    assert reason.message.startswith(f"The account Acme Corp is disqualified for {lead.customer} (Existing customer)")
    assert "HubSpot company 7: lifecycle stage = customer" in reason.message


def test_lifted_blocks_are_not_reasons():
    # given
    lead = LeadFactory()
    block, _ = block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    blocks_lift(blocks=Block.objects.filter(pk=block.pk), actor="tests", reason="mistake")
    # when
    reasons = explain(lead)
    # then
    assert reasons == []


def test_lead_with_no_number_is_explained():
    # given
    lead = LeadFactory(with_phone=False)
    # when
    (reason,) = explain(lead)
    # then
    assert reason.code == "no_number"
    assert reason.block is None


def test_a_lead_with_no_number_is_explained_to_its_customer_without_asking_them_to_add_one():
    from campaigns.selectors.explaining import CUSTOMER

    lead = LeadFactory(with_phone=False)
    (ops,) = explain(lead)
    (customer,) = explain(lead, audience=CUSTOMER)
    assert ops.message == f"{lead.contact} has no phone number on file: add one to call them."
    assert customer.message == f"{lead.contact} has no phone number on file: the agency cannot call them."


def test_can_dial_a_clean_number_written_nationally():
    # given
    lead = LeadFactory(with_phone=False)
    link = ContactPhoneFactory(contact=lead.contact, phone__e164="+12025550143")
    # when
    check = can_dial(lead, "(202) 555-0143")
    # then
    assert check.allowed
    assert check.number == link.phone.e164
    assert check.reasons == []


def test_can_dial_refuses_a_dnc_number_with_its_block():
    # given
    lead = LeadFactory(with_phone=False)
    link = ContactPhoneFactory(contact=lead.contact)
    block = dnc(link.phone)
    # when
    check = can_dial(lead, link.phone.e164)
    # then
    assert not check.allowed
    assert [r.block_id for r in check.reasons] == [block.pk]


def test_can_dial_reads_blocks_not_the_stored_status():
    # given: a stale stored status that says Eligible
    lead = LeadFactory(with_phone=False)
    link = ContactPhoneFactory(contact=lead.contact)
    dnc(link.phone)
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.ELIGIBLE)
    # when
    check = can_dial(lead, link.phone.e164)
    # then
    assert not check.allowed


def test_can_dial_refuses_a_number_the_contact_does_not_have():
    # given
    lead = LeadFactory()
    stranger = PhoneNumberFactory()
    # when
    check = can_dial(lead, stranger.e164)
    # then
    assert not check.allowed
    assert [r.code for r in check.reasons] == ["not_contacts_number"]


def test_can_dial_refuses_an_unreadable_number_naming_the_field():
    # given
    lead = LeadFactory()
    # when / then
    with pytest.raises(LeadopsError) as excinfo:
        can_dial(lead, "12345")
    assert excinfo.value.field == "number"


def test_can_dial_ignores_another_customers_customer_wide_block():
    # given
    switchboard = PhoneNumberFactory()
    ours = LeadFactory(with_phone=False)
    theirs = LeadFactory(with_phone=False)
    ContactPhoneFactory(contact=ours.contact, phone=switchboard)
    ContactPhoneFactory(contact=theirs.contact, phone=switchboard)
    block_create(
        target=BlockTarget(phone=switchboard),
        source=Block.Source.SUPPRESSION,
        reason=Block.Reason.SUPPRESSED,
        reach=Block.Reach.CUSTOMER,
        customer=theirs.customer,
        actor="tests",
    )
    # when
    check = can_dial(ours, switchboard.e164)
    # then
    assert check.allowed


def test_wrong_number_for_one_contact_is_dialable_for_another():
    # given
    shared = PhoneNumberFactory()
    wrong = LeadFactory(with_phone=False)
    right = LeadFactory(with_phone=False, campaign=wrong.campaign)
    ContactPhoneFactory(contact=wrong.contact, phone=shared)
    ContactPhoneFactory(contact=right.contact, phone=shared)
    block_create(
        target=BlockTarget(contact=wrong.contact, phone=shared),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.WRONG_NUMBER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # when / then
    assert not can_dial(wrong, shared.e164).allowed
    assert can_dial(right, shared.e164).allowed


def test_can_dial_is_a_few_queries(django_assert_max_num_queries):
    # given
    lead = Lead.objects.select_related("contact__account", "campaign", "customer").get(pk=LeadFactory().pk)
    number = lead.contact.phones.get().phone.e164
    # when / then: the number with its link to the contact, the blocks, the live suppression entries
    with django_assert_max_num_queries(3):
        can_dial(lead, number)


def test_explain_many_says_what_explain_says_in_a_bounded_number_of_queries(django_assert_max_num_queries):
    # given: leads stopped in different ways, and one clean
    from campaigns.selectors.explaining import explain_many

    dnc_lead = LeadFactory(with_phone=False)
    dnc(ContactPhoneFactory(contact=dnc_lead.contact).phone)
    account_lead = LeadFactory()
    block_create(
        target=BlockTarget(account=account_lead.contact.account),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.COMPETITOR,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    bare = LeadFactory(with_phone=False)
    clean = LeadFactory()
    leads = list(
        Lead.objects.filter(pk__in=[dnc_lead.pk, account_lead.pk, bare.pk, clean.pk]).select_related(
            "contact__account", "campaign", "customer"
        )
    )
    # when
    with django_assert_max_num_queries(2):
        many = explain_many(leads)
    # then
    for lead in leads:
        assert [r.message for r in many[lead.pk]] == [r.message for r in explain(lead)]
    assert many[clean.pk] == []


@pytest.mark.parametrize(
    ("source", "who"),
    [
        (Block.Source.SUPPRESSION, "marked on {day} by your suppression list"),
        (Block.Source.CRM_RULE, "marked on {day} by your CRM rule"),
        (Block.Source.OPS_DISQUALIFY, "marked by the agency on {day}"),
    ],
)
def test_customers_read_who_made_a_job_block_by_its_source(source, who):
    # given
    from campaigns.selectors import CUSTOMER

    lead = LeadFactory()
    block_create(
        target=BlockTarget(contact=lead.contact),
        source=source,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor="some.job",
    )
    # when
    (reason,) = explain(lead, audience=CUSTOMER)
    # then
    assert who.format(day=date_words(reason.block.created_at)) in reason.message
    assert "some.job" not in reason.message


def test_customers_see_a_platform_dnc_only_as_the_agencys_list():
    # given
    from campaigns.selectors import CUSTOMER

    caller = UserFactory(username="agent-smith")
    lead = LeadFactory(with_phone=False)
    link = ContactPhoneFactory(contact=lead.contact)
    dnc(link.phone, actor=caller)
    # when
    (reason,) = explain(lead, audience=CUSTOMER)
    # then
    assert reason.message.startswith(f"{link.phone} is on the agency's Do-Not-Call list (since ")
    assert "agent-smith" not in reason.message and "disposition" not in reason.message


# --- approved callers in the sentences ------------------------------------------------------------------


def _dnc_by_an_approved_caller():
    """Amy Lee, approved for Clinic outreach Q3, records a Do not call on Tom's number."""
    from campaigns.services.calls import call_record
    from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, DialerLeadFactory, disposition

    campaign = DialerCampaignFactory(name="Clinic outreach Q3")
    lead = DialerLeadFactory(campaign=campaign, contact__first_name="Tom", contact__last_name="Becker")
    amy = CallerFactory(username="amy.lee", first_name="Amy", last_name="Lee", approved_for=[campaign])
    number = lead.contact.phones.get().phone
    call_record(lead=lead, caller=amy, disposition=disposition(campaign, "do_not_call"), number=number.e164, actor=amy)
    return lead, number


def test_ops_read_a_block_an_approved_caller_made_with_their_name_in_their_role():
    # given
    lead, number = _dnc_by_an_approved_caller()
    # when
    sentences = [r.message for r in explain(lead)]
    # then
    day = date_words(Block.objects.get(target=Block.Target.PHONE).created_at)
    assert sentences[0] == (
        f"{number} is on the platform Do-Not-Call list: marked by Amy Lee, approved caller for Clinic outreach Q3, "
        f"on {day} after a 'Do not call' call disposition. Only an Ops lead may lift it (Undisqualify), and only if "
        "the person withdrew the request."
    )
    assert sentences[1].startswith(
        f"Tom Becker is disqualified for {lead.customer} (Asked not to be called): marked by Amy Lee, approved caller "
        f"for Clinic outreach Q3, on {day}"
    )


def test_customers_read_a_block_an_approved_caller_made_as_the_agencys_caller():
    # given
    from campaigns.selectors import CUSTOMER

    lead, _ = _dnc_by_an_approved_caller()
    # when
    words = " ".join(r.message for r in explain(lead, audience=CUSTOMER))
    # then
    assert "Tom Becker is disqualified for " in words and "marked by the agency's caller on " in words
    assert "is on the agency's Do-Not-Call list" in words
    assert "Amy" not in words and "amy.lee" not in words and "Clinic outreach Q3" not in words


def test_an_approved_caller_reads_a_block_of_another_campaign_without_its_campaign_note_or_words():
    # given: Ben, calling another customer's campaign, marked a number Amy's contact shares, with a note
    from campaigns.selectors.explaining import CallerAudience
    from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory

    theirs = DialerCampaignFactory(name="Zephyr Campaign")
    ben = CallerFactory(username="ben.okafor", first_name="Ben", last_name="Okafor", approved_for=[theirs])
    lead = LeadFactory(with_phone=False)
    link = ContactPhoneFactory(contact=lead.contact)
    block, _ = block_create(
        target=BlockTarget(phone=link.phone),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor=ben,
        caller_campaign=theirs,
        evidence_text="Do not call, Zephyr Campaign, Quincy",
        note="Quincy said so on the Zephyr call",
    )
    mine = CallerAudience(campaign_ids=frozenset({lead.campaign_id}), customer_ids=frozenset({lead.customer_id}))
    theirs_too = CallerAudience(campaign_ids=frozenset({theirs.pk}), customer_ids=frozenset({theirs.customer_id}))
    # when
    for_amy = block_sentence(block, audience=mine)
    for_ben = block_sentence(block, audience=theirs_too)
    # then
    assert for_amy.startswith(
        f"{link.phone} is on the platform Do-Not-Call list: marked by Ben Okafor, an approved caller of a campaign "
        "you do not work, on "
    )
    assert for_amy.endswith(" after a call disposition. " + _how_platform_dnc_lifts())
    assert "Zephyr" not in for_amy and "Quincy" not in for_amy
    assert "approved caller for Zephyr Campaign" in for_ben and 'Note: "Quincy said so on the Zephyr call"' in for_ben


def _how_platform_dnc_lifts() -> str:
    return "Only an Ops lead may lift it (Undisqualify), and only if the person withdrew the request."
