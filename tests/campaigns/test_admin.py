"""The ops back office: every page loads, list pages do not grow with the table, blocks are read-only."""

import pytest
from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse
from django.utils.html import escape

from campaigns.admin import NOTHING_STOPS_THIS_LEAD
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
from campaigns.selectors import block_sentence
from campaigns.services import BlockTarget, block_create
from tests.campaigns.admin_factories import CallFactory, DispositionFactory, MeetingFactory
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

DOMAIN_MODELS = [Customer, User, Campaign, Account, Contact, PhoneNumber, Lead, Block, Disposition, Call, Meeting]
HISTORY_MODELS = [Customer, Campaign, Account, Contact, PhoneNumber, Lead, Block, Disposition, Call, Meeting]
LEAD_LIST_MAX_QUERIES = 12
BLOCK_LIST_MAX_QUERIES = 12


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def contact_block(lead: Lead) -> Block:
    block, _ = block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
        note="Asked on the phone",
    )
    return block


@pytest.fixture
def one_of_everything():
    lead = LeadFactory()
    contact_block(lead)
    CallFactory(lead=lead)
    MeetingFactory(lead=lead)
    DispositionFactory(campaign=lead.campaign)
    return lead


def test_every_domain_model_is_registered():
    # given / when
    registered = {model for model in DOMAIN_MODELS if admin.site.is_registered(model)}
    # then
    assert registered == set(DOMAIN_MODELS)


@pytest.mark.parametrize("model", DOMAIN_MODELS, ids=lambda m: m.__name__)
def test_changelist_loads(admin_client, one_of_everything, model):
    # given / when
    response = admin_client.get(url(model, "changelist"))
    # then
    assert response.status_code == 200


@pytest.mark.parametrize("model", DOMAIN_MODELS, ids=lambda m: m.__name__)
def test_change_page_of_a_row_loads(admin_client, one_of_everything, model):
    # given
    row = model.objects.order_by("pk").first()
    # when
    response = admin_client.get(url(model, "change", row.pk))
    # then
    assert response.status_code == 200


@pytest.mark.parametrize("model", [Customer, User, Campaign, Account, Contact, Lead, Disposition])
def test_add_page_loads(admin_client, model):
    # given / when
    response = admin_client.get(url(model, "add"))
    # then
    assert response.status_code == 200


def test_lead_list_query_count_does_not_grow_with_the_number_of_leads(admin_client, django_assert_max_num_queries):
    # given
    campaign = CampaignFactory()
    LeadFactory.create_batch(5, campaign=campaign)
    with django_assert_max_num_queries(LEAD_LIST_MAX_QUERIES) as with_5:
        assert admin_client.get(url(Lead, "changelist")).status_code == 200
    # when
    LeadFactory.create_batch(45, campaign=campaign)
    with django_assert_max_num_queries(LEAD_LIST_MAX_QUERIES) as with_50:
        response = admin_client.get(url(Lead, "changelist"))
    # then
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50
    assert len(with_50.captured_queries) == len(with_5.captured_queries)


def test_block_list_query_count_does_not_grow_with_the_number_of_blocks(admin_client, django_assert_max_num_queries):
    # given
    campaign = CampaignFactory()
    for lead in LeadFactory.create_batch(3, campaign=campaign):
        contact_block(lead)
    with django_assert_max_num_queries(BLOCK_LIST_MAX_QUERIES) as with_3:
        assert admin_client.get(url(Block, "changelist")).status_code == 200
    # when
    for lead in LeadFactory.create_batch(20, campaign=campaign):
        contact_block(lead)
    with django_assert_max_num_queries(BLOCK_LIST_MAX_QUERIES) as with_23:
        response = admin_client.get(url(Block, "changelist"))
    # then
    assert len(response.context["cl"].result_list) == 23
    assert len(with_23.captured_queries) == len(with_3.captured_queries)


def test_lead_list_counts_without_counting_the_whole_table(admin_client, settings):
    # given
    settings.LEADOPS_ADMIN_COUNT_LIMIT = 10
    LeadFactory.create_batch(12, campaign=CampaignFactory())
    # when
    response = admin_client.get(url(Lead, "changelist"), {"status__exact": LeadStatus.ELIGIBLE})
    # then
    assert response.status_code == 200
    assert b"more than 10 leads" in response.content


def test_lead_change_page_shows_why_the_lead_may_not_be_called(admin_client):
    # given
    lead = LeadFactory()
    block = contact_block(lead)
    # when
    response = admin_client.get(url(Lead, "change", lead.pk))
    # then
    assert response.status_code == 200
    assert escape(block_sentence(block, lead=lead)) in response.content.decode()


def test_lead_change_page_says_when_nothing_stops_the_lead(admin_client):
    # given
    lead = LeadFactory()
    # when
    response = admin_client.get(url(Lead, "change", lead.pk))
    # then
    assert NOTHING_STOPS_THIS_LEAD in response.content.decode()


def test_contact_change_page_says_which_of_its_numbers_are_blocked_and_by_what(admin_client):
    # given: a switchboard on the DNC list, and a wrong number for this contact and another one for a colleague
    switchboard, direct = PhoneNumberFactory(), PhoneNumberFactory()
    contact, colleague = ContactFactory(), ContactFactory()
    for person in (contact, colleague):
        ContactPhoneFactory(contact=person, phone=switchboard)
        ContactPhoneFactory(contact=person, phone=direct)
    dnc = platform_dnc(switchboard)
    mine = wrong_number(contact, direct)
    theirs = wrong_number(colleague, direct)
    # when
    page = admin_client.get(url(Contact, "change", contact.pk)).content.decode()
    # then
    assert escape(block_sentence(dnc)) in page
    assert escape(block_sentence(mine)) in page
    assert escape(block_sentence(theirs)) not in page


def platform_dnc(phone: PhoneNumber) -> Block:
    block, _ = block_create(
        target=BlockTarget(phone=phone),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
    )
    return block


def wrong_number(contact: Contact, phone: PhoneNumber) -> Block:
    block, _ = block_create(
        target=BlockTarget(contact=contact, phone=phone),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.WRONG_NUMBER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
        customer=contact.customer,
    )
    return block


def test_blocks_cannot_be_added_changed_or_deleted(admin_client):
    # given
    block = contact_block(LeadFactory())
    # when
    add = admin_client.post(url(Block, "add"), {})
    change = admin_client.post(url(Block, "change", block.pk), {"note": "edited"})
    delete = admin_client.post(url(Block, "delete", block.pk), {"post": "yes"})
    # then
    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    block.refresh_from_db()
    assert block.note == "Asked on the phone"


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda m: m.__name__)
def test_no_delete_action_where_history_hangs_on_the_rows(admin_client, one_of_everything, model):
    # given / when
    response = admin_client.get(url(model, "changelist"))
    # then
    action_form = response.context["action_form"]
    actions = [name for name, _ in action_form.fields["action"].choices] if action_form else []
    assert "delete_selected" not in actions


def test_delete_selected_on_leads_is_refused_and_deletes_nothing(admin_client):
    # given
    lead = LeadFactory()
    # when
    response = admin_client.post(
        url(Lead, "changelist"), {"action": "delete_selected", "_selected_action": [lead.pk], "post": "yes"}
    )
    # then
    assert response.status_code in (200, 302)
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_adding_a_lead_in_the_admin_computes_its_status(admin_client):
    # given
    campaign = CampaignFactory()
    contact = ContactFactory(account=AccountFactory(customer=campaign.customer))
    # when
    response = admin_client.post(
        url(Lead, "add"), {"campaign": campaign.pk, "contact": contact.pk, "priority": 0, "source": "admin"}
    )
    # then
    assert response.status_code == 302
    lead = Lead.objects.get(campaign=campaign, contact=contact)
    assert lead.customer == campaign.customer
    assert lead.status == LeadStatus.DISQUALIFIED  # no number on file


def test_adding_a_lead_of_another_customers_contact_is_refused(admin_client):
    # given
    campaign = CampaignFactory()
    stranger = ContactFactory(account=AccountFactory(customer=CustomerFactory()))
    # when
    response = admin_client.post(url(Lead, "add"), {"campaign": campaign.pk, "contact": stranger.pk, "priority": 0})
    # then
    assert response.status_code == 200
    assert not Lead.objects.exists()


def test_adding_a_number_to_a_contact_normalises_and_shares_it(admin_client):
    # given
    account = AccountFactory()
    # when
    response = admin_client.post(
        url(Contact, "add"),
        {
            "account": account.pk,
            "first_name": "Ada",
            "last_name": "Byron",
            "title": "",
            "new_phone": "(202) 555-0143",
            "new_phone_kind": ContactPhone.Kind.OFFICE,
            "new_email": "Ada@Example.COM",
            **inline_management("phones"),
            **inline_management("emails"),
            **inline_management("leads"),
        },
    )
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    contact = Contact.objects.get(last_name="Byron")
    assert contact.customer == account.customer
    assert list(contact.phones.values_list("phone__e164", flat=True)) == ["+12025550143"]
    assert list(contact.emails.values_list("email", flat=True)) == ["ada@example.com"]


def test_creating_a_campaign_in_the_admin_seeds_its_dispositions(admin_client):
    # given
    customer = CustomerFactory()
    # when
    response = admin_client.post(
        url(Campaign, "add"),
        {"customer": customer.pk, "name": "Spring", "status": "active", "cooldown_hours": 24, "attempt_cap": 6},
    )
    # then
    assert response.status_code == 302
    assert Disposition.objects.filter(campaign__name="Spring").count() >= 5


def inline_management(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


# --- change forms save through the services --------------------------------------------------------


def test_changing_a_customer_in_the_admin_saves_its_name_and_region_and_logs_it(admin_client):
    # given
    customer = CustomerFactory(phone_region="US")
    # when
    response = admin_client.post(url(Customer, "change", customer.pk), {"name": "Renamed", "phone_region": "GB"})
    # then
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.phone_region) == ("Renamed", "GB")
    assert LogEntry.objects.filter(object_id=str(customer.pk), action_flag=CHANGE).exists()


def test_renaming_an_account_in_the_admin_stores_the_name_as_account_create_does(admin_client):
    # given
    account = AccountFactory(name="Acme")
    # when it is renamed with stray spaces inside the name
    response = admin_client.post(url(Account, "change", account.pk), {"name": "Acme   Robotics  Inc"})
    # then account_update squeezed them, as account_create would have
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "Acme Robotics Inc"


def test_changing_a_campaign_in_the_admin_saves_its_calling_rules(admin_client):
    # given
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, cooldown_hours=24, attempt_cap=6)
    # when
    response = admin_client.post(
        url(Campaign, "change", campaign.pk),
        {
            "name": "Autumn",
            "status": Campaign.Status.PAUSED,
            "cooldown_hours": 48,
            "attempt_cap": 3,
            **inline_management("dispositions"),
            **inline_management("fit_rules"),
            **inline_management("approvals"),
            **inline_management("calling_policy"),
        },
    )
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status, campaign.cooldown_hours, campaign.attempt_cap) == (
        "Autumn",
        Campaign.Status.PAUSED,
        48,
        3,
    )


def test_changing_a_leads_priority_in_the_admin_keeps_its_status_the_recomputes(admin_client):
    # given a lead the recompute disqualified (no number)
    lead = LeadFactory(with_phone=False)
    status = Lead.objects.get(pk=lead.pk).status
    # when its priority and source are changed
    response = admin_client.post(
        url(Lead, "change", lead.pk),
        {"priority": 7, "source": "fair", **inline_management("calls"), **inline_management("meetings")},
    )
    # then they are saved and the status is untouched
    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert (lead.priority, lead.source, lead.status) == (7, "fair", status)


def test_an_admin_service_refusal_on_a_change_form_changes_nothing(admin_client):
    # given
    customer = CustomerFactory(name="Kept", phone_region="US")
    # when a region the model refuses is posted
    admin_client.post(url(Customer, "change", customer.pk), {"name": "Lost", "phone_region": "usa"})
    # then nothing was stored
    customer.refresh_from_db()
    assert (customer.name, customer.phone_region) == ("Kept", "US")


def test_adding_a_customer_in_the_admin_logs_and_redirects_to_the_row_the_service_made(admin_client):
    # when
    response = admin_client.post(url(Customer, "add"), {"name": "Northwind", "slug": "northwind", "phone_region": "DE"})
    # then the redirect and the log entry name the row customer_create made
    customer = Customer.objects.get(slug="northwind")
    assert response.status_code == 302
    assert response["Location"] in (url(Customer, "changelist"), url(Customer, "change", customer.pk))
    entry = LogEntry.objects.get(action_flag=ADDITION)
    assert (entry.object_id, entry.object_repr) == (str(customer.pk), str(customer))


def test_a_campaigns_calling_policy_is_set_on_its_page_and_a_business_waiver_records_who_and_when(admin_client):
    # given: a business campaign
    from campaigns.models import CallingPolicy

    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, audience=Campaign.Audience.BUSINESS)
    hours = '{"mon": ["09:00", "17:00"], "tue": ["09:00", "17:00"]}'
    data = {
        "name": campaign.name,
        "status": campaign.status,
        "cooldown_hours": 24,
        "attempt_cap": 6,
        **inline_management("dispositions"),
        **inline_management("fit_rules"),
        **inline_management("approvals"),
        **inline_management("calling_policy"),
        "calling_policy-TOTAL_FORMS": "1",
        "calling_policy-0-hours": hours,
        "calling_policy-0-number_cap": "2",
        "calling_policy-0-contact_cap": "",
        "calling_policy-0-account_cap": "",
        "calling_policy-0-consumer_rules_waived": "on",
        "calling_policy-0-waiver_note": "Calls clinics' front desks",
    }
    # when
    response = admin_client.post(url(Campaign, "change", campaign.pk), data)
    # then
    assert response.status_code == 302
    policy = CallingPolicy.objects.get(campaign=campaign)
    assert policy.hours == {"mon": ["09:00", "17:00"], "tue": ["09:00", "17:00"]}
    assert (policy.number_cap, policy.consumer_rules_waived) == (2, True)
    assert policy.waived_by.username == "admin" and policy.waived_at is not None
    # and bad hours are refused on the page, naming the day
    data["calling_policy-0-hours"] = '{"wed": ["17:00", "09:00"]}'
    data["calling_policy-INITIAL_FORMS"] = "1"
    data["calling_policy-0-campaign"] = str(campaign.pk)
    response = admin_client.post(url(Campaign, "change", campaign.pk), data)
    assert "wed: the calls must start before they stop" in response.content.decode()


def test_editing_the_jurisdiction_table_in_the_admin_gives_it_a_new_version(admin_client, jurisdictions):
    from campaigns.models import Jurisdiction
    from campaigns.selectors.calling import rules_version

    florida = Jurisdiction.objects.get(code="us-fl")
    before = rules_version()
    response = admin_client.post(
        url(Jurisdiction, "change", florida.pk),
        {
            "code": "us-fl",
            "name": "Florida",
            "country": "us",
            "prefixes": florida.prefixes,
            "consumer_only": "on",
            "opens_at": "08:00",
            "closes_at": "20:00",
            "closed_weekdays": "",
            "calls_per_24h": "2",
            "is_active": "on",
            "source": florida.source,
            "holidays-TOTAL_FORMS": "1",
            "holidays-INITIAL_FORMS": "0",
            "holidays-MIN_NUM_FORMS": "0",
            "holidays-MAX_NUM_FORMS": "1000",
            "holidays-0-date": "2027-05-31",
            "holidays-0-name": "Memorial Day",
        },
    )
    assert response.status_code == 302
    florida.refresh_from_db()
    assert (florida.calls_per_24h, florida.country) == (2, "US")
    assert list(florida.holidays.values_list("name", flat=True)) == ["Memorial Day"]
    assert rules_version() != before
