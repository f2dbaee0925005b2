"""The ops workflows in the admin: Account Details, each action's confirmation and result pages, the lead's
Record a call and Meeting outcome pages, the disposition catalogue, groups and permissions."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from campaigns.admin.workflows import workflow_url
from campaigns.models import (
    Account,
    Block,
    Call,
    Campaign,
    Contact,
    ContactPhone,
    Disposition,
    Lead,
    LeadStatus,
    Meeting,
    PhoneNumber,
)
from campaigns.services import BlockTarget, block_create, campaign_create
from campaigns.services.workflows import phone_numbers_mark_dnc
from tests.campaigns.admin_factories import MeetingFactory
from tests.campaigns.api_factories import DialerLeadFactory, disposition
from tests.campaigns.factories import (
    AccountFactory,
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    UserFactory,
    staff_groups_create,
)
from tests.campaigns.workflow_scenes import statuses, switchboard_scene

pytestmark = pytest.mark.django_db

D, E = LeadStatus.DISQUALIFIED, LeadStatus.ELIGIBLE
# 16, and one more since approved callers (issue 13): who is approved for each campaign of the account's leads.
ACCOUNT_DETAILS_MAX_QUERIES = 17


def create_ops_groups():
    staff_groups_create()


def member_of(group: str, username: str):
    create_ops_groups()
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def ops(client):
    user = member_of("Ops", "olga")
    client.force_login(user)
    return user


@pytest.fixture
def ops_lead_client(client):
    user = member_of("Ops lead", "leo")
    client.force_login(user)
    return user


@pytest.fixture
def scene():
    return switchboard_scene()


def changelist(model) -> str:
    return reverse(f"admin:campaigns_{model._meta.model_name}_changelist")


def details_url(account: Account) -> str:
    return reverse("admin:campaigns_account_details", args=[account.pk])


def run_action(client, model, action: str, ids, **data):
    """POST the action like the list (or the Account Details page) does; ``post="yes"`` confirms."""
    return client.post(changelist(model), {"action": action, "_selected_action": list(ids), "index": "0", **data})


# --- groups and permissions -------------------------------------------------------------------------


def test_only_ops_lead_may_lift_a_platform_dnc():
    # given
    create_ops_groups()
    ops, lead = Group.objects.get(name="Ops"), Group.objects.get(name="Ops lead")
    # when
    ops_perms = set(ops.permissions.values_list("codename", flat=True))
    lead_perms = set(lead.permissions.values_list("codename", flat=True))
    # then
    assert {"lift_block", "change_contact", "change_phonenumber", "add_call", "change_meeting"} <= ops_perms
    assert "lift_platform_dnc" not in ops_perms
    # (and allowing broad domains in a suppression upload, since migration 0022)
    assert lead_perms == ops_perms | {"lift_platform_dnc", "allow_broad_domains"}


def test_creating_the_groups_again_changes_nothing():
    # given
    create_ops_groups()
    before = Group.objects.get(name="Ops").permissions.count()
    # when
    create_ops_groups()
    # then
    assert Group.objects.filter(name__in=["Ops", "Ops lead"]).count() == 2
    assert Group.objects.get(name="Ops").permissions.count() == before


STAFF_WITHOUT_PERMISSIONS_URLS = [
    lambda s: details_url(s.account),
    lambda s: workflow_url(Contact, "disqualify_contacts", [s.tom.contact_id]),
    lambda s: workflow_url(Account, "customer_dnc_accounts", [s.account.pk]),
    lambda s: workflow_url(PhoneNumber, "mark_phone_dnc", [s.board.pk]),
    lambda s: workflow_url(Lead, "undisqualify_leads", [s.tom.pk]),
    lambda s: workflow_url(Lead, "unqualify_leads", [s.tom.pk]),
    lambda s: reverse("admin:campaigns_lead_record_call", args=[s.tom.pk]),
    lambda s: reverse("admin:campaigns_lead_meeting_outcome", args=[s.tom.pk]),
]


@pytest.mark.parametrize("make_url", STAFF_WITHOUT_PERMISSIONS_URLS)
def test_staff_without_the_permission_gets_403(client, scene, make_url):
    # given
    client.force_login(UserFactory(username="nobody"))
    # when
    response = client.get(make_url(scene))
    # then
    assert response.status_code == 403


def test_viewer_without_the_lift_permission_gets_403_on_undisqualify(client, scene):
    # given
    client.force_login(UserFactory(username="viewer", permissions=["campaigns.view_lead", "campaigns.change_lead"]))
    # when
    response = client.get(workflow_url(Lead, "undisqualify_leads", [scene.tom.pk]))
    # then
    assert response.status_code == 403


def test_a_forbidden_action_posted_to_the_list_changes_nothing(client, scene):
    # given
    client.force_login(UserFactory(username="viewer", permissions=["campaigns.view_phonenumber"]))
    # when
    response = run_action(client, PhoneNumber, "mark_phone_dnc", [scene.board.pk], post="yes", reach="platform")
    # then: the list offers the user no action, so the POST only shows the list again
    assert response.status_code == 200
    assert response.templates[0].name in ("admin/change_list.html", "admin/campaigns/phonenumber/change_list.html")
    assert not Block.objects.exists()


# --- Account Details ---------------------------------------------------------------------------------


def test_account_details_shows_contacts_numbers_leads_and_every_block_with_its_sentence(client, ops, scene):
    # given
    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=ops)
    lifted, _ = block_create(
        target=BlockTarget(contact=scene.maria.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor=ops,
    )
    Block.objects.filter(pk=lifted.pk).update(lifted_at=lifted.created_at, lifted_by=ops, lift_reason="Mistake")
    # when
    response = client.get(details_url(scene.account))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        "Maria Clinic",
        "Tom Clinic",
        "Grace Clinic",
        "+1 202-555-0143",
        "Clinic outreach",
        "Pharmacy partners",
    ]:
        assert text in html
    assert "+1 202-555-0143 is on the platform Do-Not-Call list: marked by olga" in html
    assert "Lifted" in html and "Mistake" in html
    assert "Disqualify…" in html and "Mark Phone DNC…" in html


def make_contacts(account: Account, campaign: Campaign, n: int) -> None:
    """Add ``n`` contacts with a number, an email and a lead each, in a few bulk statements."""
    contacts = Contact.objects.bulk_create(
        Contact(customer=account.customer, account=account, first_name=f"P{i:04}", last_name="Many") for i in range(n)
    )
    phones = PhoneNumber.objects.bulk_create(PhoneNumber(e164=f"+1312555{i:04}") for i in range(n))
    ContactPhone.objects.bulk_create(ContactPhone(contact=c, phone=p) for c, p in zip(contacts, phones, strict=True))
    Lead.objects.bulk_create(
        Lead(customer=account.customer, campaign=campaign, contact=c, status=LeadStatus.ELIGIBLE) for c in contacts
    )
    for phone in phones[:5]:
        block_create(
            target=BlockTarget(phone=phone),
            source=Block.Source.OPS_PHONE_DNC,
            reason=Block.Reason.DO_NOT_CALL,
            reach=Block.Reach.PLATFORM,
            actor="tests",
        )


@pytest.mark.parametrize("contacts", [3, 60, 2000])
def test_account_details_queries_do_not_grow_with_contacts(client, ops, scene, contacts, django_assert_max_num_queries):
    # given
    make_contacts(scene.account, scene.campaign, contacts)
    # when
    with django_assert_max_num_queries(ACCOUNT_DETAILS_MAX_QUERIES):
        response = client.get(details_url(scene.account))
    # then
    assert response.status_code == 200
    assert response.context["details"].page.paginator.count == contacts + 3


def test_account_details_second_page(client, ops, scene):
    # given
    make_contacts(scene.account, scene.campaign, 60)
    # when
    response = client.get(details_url(scene.account), {"page": 3})
    # then
    assert response.status_code == 200
    assert "Page 3 of 3" in response.content.decode()


# --- Disqualify --------------------------------------------------------------------------------------


def test_disqualify_contacts_confirmation_says_how_many_leads_leave_which_campaigns(client, ops, scene):
    # given
    ids = [scene.tom.contact_id, scene.grace.contact_id]
    # when
    response = run_action(client, Contact, "disqualify_contacts", ids)
    # then
    assert response.status_code == 200
    assert response.templates[0].name == "admin/campaigns/workflow/disqualify_confirmation.html"
    impact = response.context["impact"]
    assert {(c.campaign, c.leaving) for c in impact.campaigns} == {("Clinic outreach", 2), ("Pharmacy partners", 1)}
    assert "3 leads will leave the pool" in response.content.decode()
    assert not Block.objects.exists()


def test_disqualify_contacts_on_confirm_blocks_them_logs_and_goes_back(client, ops, scene):
    # given
    ids = [scene.tom.contact_id, scene.grace.contact_id]
    back = details_url(scene.account)
    # when
    response = run_action(
        client,
        Contact,
        "disqualify_contacts",
        ids,
        post="yes",
        reason=Block.Reason.COMPETITOR,
        reach="customer",
        note="Works for a rival",
        next=back,
    )
    # then
    assert response.status_code == 302 and response.url == back
    assert statuses(scene.tom, scene.grace, scene.tom_other, scene.maria) == [D, D, D, E]
    assert Block.objects.filter(source=Block.Source.OPS_DISQUALIFY, actor=ops, note="Works for a rival").count() == 2
    entries = LogEntry.objects.filter(user=ops, object_id__in=[str(i) for i in ids])
    assert entries.count() == 2 and "Disqualify workflow" in entries.first().get_change_message()


def test_disqualify_for_one_campaign_needs_the_campaign(client, ops, scene):
    # when
    response = run_action(
        client, Contact, "disqualify_contacts", [scene.tom.contact_id], post="yes", reason="other", reach="campaign"
    )
    # then
    assert response.status_code == 200
    assert "Choose the campaign." in response.content.decode()
    assert not Block.objects.exists()


def test_disqualify_refuses_a_selection_of_two_customers(client, ops, scene):
    # when
    response = run_action(client, Contact, "disqualify_contacts", [scene.tom.contact_id, scene.zoe.contact_id])
    # then
    assert "choose contacts of one customer at a time" in response.content.decode()
    assert 'name="post"' not in response.content.decode()


def test_disqualify_account_from_its_page(client, ops, scene):
    # given
    back = details_url(scene.account)
    # when
    confirmation = client.get(workflow_url(Account, "disqualify_accounts", [scene.account.pk], back))
    response = run_action(
        client,
        Account,
        "disqualify_accounts",
        [scene.account.pk],
        post="yes",
        reason=Block.Reason.EXISTING_CUSTOMER,
        reach="campaign",
        campaign=scene.campaign.pk,
        next=back,
    )
    # then
    assert confirmation.status_code == 200 and confirmation.context["impact"].leaving == 4
    assert response.status_code == 302
    assert statuses(scene.maria, scene.tom, scene.tom_other) == [D, D, E]


# --- Customer Do Not Call ----------------------------------------------------------------------------


def test_customer_dnc_needs_the_customers_instruction_then_records_it(client, ops, scene):
    # given
    ids = [scene.maria.contact_id]
    # when
    without_note = run_action(client, Contact, "customer_dnc_contacts", ids, post="yes")
    response = run_action(client, Contact, "customer_dnc_contacts", ids, post="yes", note="Email from J. Doe")
    # then
    assert without_note.status_code == 200 and "This field is required" in without_note.content.decode()
    assert response.status_code == 302
    block = Block.objects.get()
    assert (block.source, block.note) == (Block.Source.CUSTOMER_DNC, "Email from J. Doe")
    assert statuses(scene.maria) == [D]


# --- Mark Phone DNC ----------------------------------------------------------------------------------


def test_mark_phone_dnc_confirmation_lists_every_contact_sharing_the_number_and_the_leads_that_leave(
    client, ops, scene
):
    # when
    response = run_action(client, PhoneNumber, "mark_phone_dnc", [scene.board.pk], next=details_url(scene.account))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    for name in ["Maria Clinic", "Tom Clinic", "Grace Clinic", "Zoe Clinic"]:
        assert name in html
    assert "Shared by <strong>4</strong> contacts at 2 accounts of 2 customers" in html
    assert "Stays reachable" in html
    assert {lead.pk for lead in response.context["impact"].leads} == {
        scene.tom.pk,
        scene.grace.pk,
        scene.tom_other.pk,
        scene.zoe.pk,
    }
    assert not Block.objects.exists()


def test_mark_phone_dnc_on_confirm_disqualifies_the_leads_with_no_other_number(client, ops, scene):
    # given
    back = details_url(scene.account)
    # when
    response = run_action(
        client,
        PhoneNumber,
        "mark_phone_dnc",
        [scene.board.pk],
        post="yes",
        reach="platform",
        previewed="platform",
        next=back,
    )
    page = client.get(back)
    # then
    assert response.status_code == 302 and response.url == back
    assert statuses(scene.maria, scene.tom, scene.grace, scene.zoe) == [E, D, D, D]
    assert LogEntry.objects.filter(user=ops, object_id=str(scene.board.pk)).exists()
    assert "4 leads left the pool" in page.content.decode()
    assert "is on the platform Do-Not-Call list: marked by olga" in page.content.decode()


def test_mark_phone_dnc_with_new_choices_shows_their_impact_before_writing(client, ops, scene):
    # when
    response = run_action(
        client,
        PhoneNumber,
        "mark_phone_dnc",
        [scene.board.pk],
        post="yes",
        reach="customer",
        customer=scene.campaign.customer.pk,
        previewed="platform",
    )
    # then
    assert response.status_code == 200
    assert not Block.objects.exists()
    assert {lead.pk for lead in response.context["impact"].leads} == {scene.tom.pk, scene.grace.pk, scene.tom_other.pk}
    assert response.context["form"]["previewed"].value() == f"customer:{scene.campaign.customer.pk}"


def test_mark_phone_dnc_from_the_contact_page_link(client, ops, scene):
    # when
    contact_page = client.get(reverse("admin:campaigns_contact_change", args=[scene.tom.contact_id]))
    response = client.get(workflow_url(PhoneNumber, "mark_phone_dnc", [scene.board.pk]))
    # then
    assert workflow_url(PhoneNumber, "mark_phone_dnc", [scene.board.pk]).split("?")[0] in contact_page.content.decode()
    assert response.status_code == 200 and response.context["impact"].leaving == 4


# --- Undisqualify ------------------------------------------------------------------------------------


def dnc_then_disqualify(scene, actor) -> None:
    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=actor)
    block_create(
        target=BlockTarget(contact=scene.tom.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor=actor,
    )


def test_undisqualify_lead_confirmation_lists_every_block_and_what_you_may_not_lift(client, ops, scene):
    # given
    dnc_then_disqualify(scene, ops)
    # when
    response = client.get(workflow_url(Lead, "undisqualify_leads", [scene.tom.pk]))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "is on the platform Do-Not-Call list" in html
    assert "Tom Clinic is disqualified for" in html
    assert "needs the &#x27;lift platform DNC&#x27; permission" in html
    assert "shared by 4 contacts: lifting it lifts it for all of them" in html


def test_an_unliftable_blocks_checkbox_is_not_preticked(client, ops, scene):
    # given: a platform DNC (an Ops lead's to lift) and a Disqualify (Olga's to lift) behind Tom
    dnc_then_disqualify(scene, ops)
    dnc = Block.objects.get(source=Block.Source.OPS_PHONE_DNC)
    disqualify = Block.objects.get(source=Block.Source.OPS_DISQUALIFY)
    # when
    html = client.get(workflow_url(Lead, "undisqualify_leads", [scene.tom.pk])).content.decode()
    # then
    assert f'value="{dnc.pk}" id="block-{scene.tom.pk}-{dnc.pk}">' in html
    assert f'value="{disqualify.pk}" id="block-{scene.tom.pk}-{disqualify.pk}" checked>' in html


def test_undisqualify_lists_every_lead_that_came_back(client, ops_lead_client, scene):
    # given: the shared switchboard marked DNC: Tom, Grace, Zoe and Tom's other lead left the pool
    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=ops_lead_client)
    blocks = list(Block.objects.values_list("pk", flat=True))
    # when: the Ops lead undisqualifies Tom's lead, lifting the number
    response = run_action(
        client, Lead, "undisqualify_leads", [scene.tom.pk], post="yes", blocks=blocks, reason="Withdrew the request"
    )
    # then: every lead it freed is listed, not only Tom's
    html = response.content.decode()
    assert "Back in the pool (4)" in html
    for lead in (scene.tom, scene.grace, scene.zoe, scene.tom_other):
        assert reverse("admin:campaigns_lead_change", args=[lead.pk]) in html.split('id="came-back"')[1]
    assert reverse("admin:campaigns_lead_change", args=[scene.maria.pk]) not in html.split('id="came-back"')[1]


def test_undisqualify_from_a_contact_lists_every_lead_that_came_back(client, ops_lead_client, scene):
    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=ops_lead_client)
    blocks = list(Block.objects.values_list("pk", flat=True))
    response = run_action(
        client,
        Contact,
        "undisqualify_contacts",
        [scene.grace.contact_id],
        post="yes",
        blocks=blocks,
        reason="Withdrew the request",
    )
    assert "Back in the pool (4)" in response.content.decode()


def test_an_ops_user_cannot_lift_a_platform_dnc_and_is_told_why(client, ops, scene):
    # given
    dnc_then_disqualify(scene, ops)
    blocks = list(Block.objects.values_list("pk", flat=True))
    # when
    response = run_action(client, Lead, "undisqualify_leads", [scene.tom.pk], post="yes", blocks=blocks, reason="ok")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not lifted (1)" in html and "Ops lead" in html
    assert statuses(scene.tom) == [D]
    assert Block.objects.active().get().source == Block.Source.OPS_PHONE_DNC


def test_an_ops_lead_lifts_the_platform_dnc_and_the_lead_is_back(client, ops_lead_client, scene):
    # given
    dnc_then_disqualify(scene, ops_lead_client)
    blocks = list(Block.objects.values_list("pk", flat=True))
    # when
    response = run_action(
        client, Lead, "undisqualify_leads", [scene.tom.pk], post="yes", blocks=blocks, reason="Withdrew the request"
    )
    # then
    assert response.status_code == 200
    assert 'now <span class="lead-status">Eligible</span>' in response.content.decode()
    assert statuses(scene.tom, scene.grace) == [E, E]
    assert LogEntry.objects.filter(user=ops_lead_client, object_id=str(scene.tom.pk)).exists()


def test_undisqualify_lifts_only_the_checked_blocks_and_needs_a_reason(client, ops_lead_client, scene):
    # given
    dnc_then_disqualify(scene, ops_lead_client)
    disqualify = Block.objects.get(source=Block.Source.OPS_DISQUALIFY)
    # when
    no_reason = run_action(client, Lead, "undisqualify_leads", [scene.tom.pk], post="yes", blocks=[disqualify.pk])
    response = run_action(
        client, Lead, "undisqualify_leads", [scene.tom.pk], post="yes", blocks=[disqualify.pk], reason="Wrong person"
    )
    # then
    assert "This field is required" in no_reason.content.decode()
    assert response.status_code == 200
    assert list(Block.objects.active().values_list("source", flat=True)) == [Block.Source.OPS_PHONE_DNC]
    assert statuses(scene.tom) == [D]


def test_undisqualify_account_lists_the_blocks_behind_it_and_reports_the_result(client, ops, scene):
    # given
    dnc_then_disqualify(scene, ops)
    # when
    confirmation = run_action(client, Account, "undisqualify_accounts", [scene.account.pk])
    blocks = [item["block"].pk for item in confirmation.context["items"]]
    response = run_action(
        client, Account, "undisqualify_accounts", [scene.account.pk], post="yes", blocks=blocks, reason="Reviewed"
    )
    # then
    assert "shared by 4 contacts: lifting it lifts it for all of them" in confirmation.content.decode()
    assert len(blocks) == 2
    html = response.content.decode()
    assert "Lifted (1)" in html and "Not lifted (1)" in html


# --- Unqualify, Reopen, Record a call, Meeting outcome -------------------------------------------------


def test_unqualify_then_reopen_a_lead(client, ops, scene):
    # when
    confirmation = run_action(client, Lead, "unqualify_leads", [scene.maria.pk])
    unqualified = run_action(
        client, Lead, "unqualify_leads", [scene.maria.pk], post="yes", reason=Block.Reason.NO_LONGER_INTERESTED
    )
    after_unqualify = statuses(scene.maria)
    reopened = run_action(client, Lead, "reopen_leads", [scene.maria.pk], post="yes", reason="Called us back")
    # then
    assert confirmation.status_code == 200 and confirmation.context["impact"].leaving == 1
    assert unqualified.status_code == 302 and after_unqualify == [D]
    assert reopened.status_code == 302 and statuses(scene.maria) == [E]
    assert Block.objects.get().lift_reason == "Called us back"


def test_record_a_call_applies_the_dispositions_effect_and_is_shown_on_the_lead(client, ops):
    # given
    lead = DialerLeadFactory()
    number = lead.contact.phones.get().phone.e164
    url = reverse("admin:campaigns_lead_record_call", args=[lead.pk])
    # when
    form_page = client.get(url)
    response = client.post(
        url, {"disposition": disposition(lead.campaign, "not_interested").pk, "number": number, "notes": "Has a vendor"}
    )
    lead_page = client.get(reverse("admin:campaigns_lead_change", args=[lead.pk]))
    # then
    assert "Not interested — Not interested: lead disqualified" in form_page.content.decode()
    assert response.status_code == 302
    assert statuses(lead) == [D]
    call = Call.objects.get()
    assert (call.caller, call.notes) == (ops, "Has a vendor")
    html = lead_page.content.decode()
    assert "Has a vendor" in html and "after a &#x27;Not interested&#x27; call disposition" in html


def test_record_a_callback_without_a_time_is_refused_on_the_form(client, ops):
    # given
    lead = DialerLeadFactory()
    # when
    response = client.post(
        reverse("admin:campaigns_lead_record_call", args=[lead.pk]),
        {"disposition": disposition(lead.campaign, "call_back_later").pk},
    )
    # then
    assert response.status_code == 200
    assert "A callback needs a time in the future." in response.content.decode()
    assert not Call.objects.exists()


def test_meeting_outcome_qualified_ends_outreach(client, ops):
    # given
    lead = DialerLeadFactory()
    number = lead.contact.phones.get().phone.e164
    client.post(
        reverse("admin:campaigns_lead_record_call", args=[lead.pk]),
        {
            "disposition": disposition(lead.campaign, "meeting_booked").pk,
            "number": number,
            "callback_at": "2030-01-02T10:00",
        },
    )
    meeting = Meeting.objects.get()
    # when
    response = client.post(
        reverse("admin:campaigns_lead_meeting_outcome", args=[lead.pk]),
        {"meeting": meeting.pk, "outcome": Meeting.Outcome.QUALIFIED},
    )
    # then
    assert response.status_code == 302
    assert statuses(lead) == [D]
    assert Block.objects.active().get().source == Block.Source.MEETING_OUTCOME
    assert LogEntry.objects.filter(object_id=str(lead.pk), change_message__contains="Qualified").exists()


def test_lead_page_offers_every_lead_workflow_that_applies(client, ops, scene):
    # when: a lead with no meeting and no unqualify
    html = client.get(reverse("admin:campaigns_lead_change", args=[scene.tom.pk])).content.decode()
    # then: Meeting outcome and Reopen are not offered (they cannot apply)
    for label in ["Record a call", "Undisqualify", "Unqualify", "Account details"]:
        assert f'class="workflow-link">{label}</a>' in html
    for label in ["Meeting outcome", "Reopen"]:
        assert f'class="workflow-link">{label}</a>' not in html
    # when: the lead has a meeting and is unqualified
    MeetingFactory(lead=scene.tom)
    block_create(
        target=BlockTarget(lead=scene.tom),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.WRONG_NUMBER,
        reach=Block.Reach.CAMPAIGN,
        campaign=scene.campaign,
        actor=ops,
    )
    html = client.get(reverse("admin:campaigns_lead_change", args=[scene.tom.pk])).content.decode()
    # then: both are offered
    for label in ["Meeting outcome", "Reopen"]:
        assert f'class="workflow-link">{label}</a>' in html


def test_meeting_outcome_without_a_meeting_goes_back_to_the_lead_and_says_why(client, ops, scene):
    response = client.get(reverse("admin:campaigns_lead_meeting_outcome", args=[scene.tom.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:campaigns_lead_change", args=[scene.tom.pk])
    assert "no meeting to set an outcome for" in response.content.decode()


def test_a_not_qualified_meeting_says_outreach_is_finished_not_disqualified(client, ops, scene):
    meeting = MeetingFactory(lead=scene.maria)
    response = client.post(
        reverse("admin:campaigns_lead_meeting_outcome", args=[scene.maria.pk]),
        {"meeting": meeting.pk, "outcome": Meeting.Outcome.NOT_QUALIFIED},
        follow=True,
    )
    text = response.content.decode()
    assert "outreach to Maria Clinic in Clinic outreach is finished" in text
    assert "now Disqualified" not in text


def test_lead_list_shows_each_blocked_leads_sentence_in_bounded_queries(
    client, ops, scene, django_assert_max_num_queries
):
    # given
    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=ops)
    for _ in range(30):
        LeadFactory(campaign=scene.campaign)
    # when
    with django_assert_max_num_queries(12):
        response = client.get(changelist(Lead))
    # then
    html = response.content.decode()
    assert html.count("is on the platform Do-Not-Call list") == 4


def test_phone_number_list_shows_the_dnc_sentence(client, ops, scene):
    # given
    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=ops)
    # when
    response = client.get(changelist(PhoneNumber))
    # then
    assert "+1 202-555-0143 is on the platform Do-Not-Call list: marked by olga" in response.content.decode()


# --- dispositions --------------------------------------------------------------------------------------


def test_a_campaign_created_in_the_admin_gets_the_default_catalogue(client, ops):
    # given
    customer = CustomerFactory()
    # when
    response = client.post(
        reverse("admin:campaigns_campaign_add"),
        {"customer": customer.pk, "name": "Spring", "status": "active", "cooldown_hours": 24, "attempt_cap": 6},
    )
    # then
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Spring")
    assert campaign.dispositions.count() == 11
    not_now = campaign.dispositions.get(effect=Disposition.Effect.NOT_NOW)
    assert (not_now.label, not_now.block_days) == ("Not now \u2014 try again in 30 days", 30)


def test_the_disposition_catalogue_is_edited_inline_and_shows_each_effect(client, ops):
    # given
    campaign = campaign_create(customer=CustomerFactory(), name="Autumn")
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = client.get(url)
    dispositions = list(campaign.dispositions.order_by("sort_order"))
    data = {
        "name": campaign.name,
        "status": campaign.status,
        "cooldown_hours": 12,
        "attempt_cap": 4,
        "dispositions-TOTAL_FORMS": len(dispositions) + 1,
        "dispositions-INITIAL_FORMS": len(dispositions),
        "dispositions-MIN_NUM_FORMS": 0,
        "dispositions-MAX_NUM_FORMS": 1000,
        # The approved callers' and the calling policy's inlines, left as they are.
        "approvals-TOTAL_FORMS": 0,
        "approvals-INITIAL_FORMS": 0,
        # The fit rules' inline (ops keep fit rules since migration 0022), left as it is.
        "fit_rules-TOTAL_FORMS": 0,
        "fit_rules-INITIAL_FORMS": 0,
        "calling_policy-TOTAL_FORMS": 0,
        "calling_policy-INITIAL_FORMS": 0,
    }
    for i, d in enumerate(dispositions):
        data.update(
            {
                f"dispositions-{i}-id": d.pk,
                f"dispositions-{i}-campaign": campaign.pk,
                f"dispositions-{i}-sort_order": d.sort_order,
                f"dispositions-{i}-code": d.code,
                f"dispositions-{i}-label": "Voicemail" if d.code == "left_voicemail" else d.label,
                f"dispositions-{i}-effect": d.effect,
                f"dispositions-{i}-block_days": d.block_days or "",
                f"dispositions-{i}-is_active": "on",
            }
        )
    n = len(dispositions)
    data.update(
        {
            f"dispositions-{n}-campaign": campaign.pk,
            f"dispositions-{n}-sort_order": 20,
            f"dispositions-{n}-code": "referral",
            f"dispositions-{n}-label": "Referred elsewhere",
            f"dispositions-{n}-effect": Disposition.Effect.CONNECT,
            f"dispositions-{n}-is_active": "on",
        }
    )
    # when
    response = client.post(url, data)
    # then
    assert "Do not call: number DNC platform-wide, contact disqualified" in page.content.decode()
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert campaign.dispositions.get(code="left_voicemail").label == "Voicemail"
    assert campaign.dispositions.get(code="referral").effect == Disposition.Effect.CONNECT


def test_account_details_lists_only_the_accounts_own_contacts(client, ops, scene):
    # given: a contact of another account of the same customer
    elsewhere = ContactFactory(account=AccountFactory(customer=scene.campaign.customer), first_name="Elsewhere")
    ContactPhoneFactory(contact=elsewhere)
    # when
    html = client.get(details_url(scene.account)).content.decode()
    # then
    assert "Elsewhere" not in html


# --- selection-wide actions: one service call, all or nothing ------------------------------------------


def test_unqualify_several_leads_in_one_confirmed_step(client, ops, scene):
    # given
    ids = [scene.maria.pk, scene.tom.pk, scene.grace.pk]
    # when
    response = run_action(client, Lead, "unqualify_leads", ids, post="yes", reason=Block.Reason.WRONG_NUMBER)
    # then
    assert response.status_code == 302
    assert statuses(scene.maria, scene.tom, scene.grace, scene.tom_other) == [D, D, D, E]
    assert Block.objects.filter(source=Block.Source.OPS_DISQUALIFY, reason=Block.Reason.WRONG_NUMBER).count() == 3
    assert LogEntry.objects.filter(user=ops, object_id__in=[str(i) for i in ids]).count() == 3


def test_unqualify_refuses_the_whole_selection_and_says_which_lead_is_in_the_way(client, ops, scene):
    # given: Tom is already unqualified for another reason
    run_action(client, Lead, "unqualify_leads", [scene.tom.pk], post="yes", reason=Block.Reason.WRONG_NUMBER)
    ids = [scene.maria.pk, scene.tom.pk, scene.grace.pk]
    # when
    response = run_action(client, Lead, "unqualify_leads", ids, post="yes", reason=Block.Reason.INVALID_NUMBER)
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Lead #{scene.tom.pk}" in html and "Nothing was changed." in html
    assert statuses(scene.maria, scene.tom, scene.grace) == [E, D, E]
    assert Block.objects.count() == 1


def test_reopen_several_leads_and_say_how_many_had_nothing_to_reopen(client, ops, scene):
    # given
    run_action(
        client, Lead, "unqualify_leads", [scene.maria.pk, scene.tom.pk], post="yes", reason=Block.Reason.UNREACHABLE
    )
    ids = [scene.maria.pk, scene.tom.pk, scene.grace.pk]
    # when
    response = client.post(
        changelist(Lead),
        {"action": "reopen_leads", "_selected_action": ids, "index": "0", "post": "yes", "reason": "New numbers"},
        follow=True,
    )
    # then
    html = response.content.decode()
    assert "Reopened 2 leads. 1 lead had nothing to reopen" in html
    assert statuses(scene.maria, scene.tom, scene.grace) == [E, E, E]
    assert LogEntry.objects.filter(user=ops, change_message="Reopened: New numbers").count() == 2


def test_undisqualify_several_leads_reports_each_one(client, ops, scene):
    # given: the switchboard is DNC for the customer (ops may lift that), and Tom is disqualified too
    phone_numbers_mark_dnc(
        phones=PhoneNumber.objects.filter(pk=scene.board.pk),
        reach=Block.Reach.CUSTOMER,
        customer=scene.campaign.customer,
        actor=ops,
    )
    block_create(
        target=BlockTarget(contact=scene.tom.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor=ops,
    )
    ids = [scene.tom.pk, scene.grace.pk]
    blocks = list(Block.objects.values_list("pk", flat=True))
    # when
    response = run_action(client, Lead, "undisqualify_leads", ids, post="yes", blocks=blocks, reason="Reviewed")
    # then
    assert response.status_code == 200
    results = {row["lead"].pk: row for row in response.context["results"]}
    assert set(results) == set(ids)
    assert (len(results[scene.tom.pk]["lifted"]), len(results[scene.grace.pk]["lifted"])) == (2, 1)
    assert statuses(scene.tom, scene.grace) == [E, E]
    assert not Block.objects.active().exists()


def test_disqualify_for_a_number_of_days_sets_the_blocks_end_and_says_it(client, ops, scene):
    # given
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.selectors import explain

    before = timezone.now()
    # when
    response = run_action(
        client,
        Contact,
        "disqualify_contacts",
        [scene.tom.contact_id],
        post="yes",
        reason=Block.Reason.NOT_INTERESTED,
        reach="customer",
        days="90",
    )
    # then
    assert response.status_code == 302
    block = Block.objects.get(source=Block.Source.OPS_DISQUALIFY, contact_id=scene.tom.contact_id)
    assert before + timedelta(days=90) <= block.ends_at <= timezone.now() + timedelta(days=90)
    end = timezone.localtime(block.ends_at)
    assert f"until {end.day} {end:%b %Y}" in explain(scene.tom)[0].message


def test_disqualify_refuses_days_that_are_not_a_positive_number(client, ops, scene):
    response = run_action(
        client,
        Contact,
        "disqualify_contacts",
        [scene.tom.contact_id],
        post="yes",
        reason="other",
        reach="customer",
        days="0",
    )
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    assert not Block.objects.filter(source=Block.Source.OPS_DISQUALIFY, contact_id=scene.tom.contact_id).exists()
