"""Every portal page and form, through the Django test client, as a customer's user."""

import copy

import pytest
from django.urls import reverse

from campaigns.models import Block, LeadStatus
from suppressions.models import Entry

pytestmark = pytest.mark.django_db


# Customer A's scene is built once for the module; each test gets its own copy (see tests.built_once).
@pytest.fixture
def tenant_a(tenant_a_built_once, db):
    return copy.deepcopy(tenant_a_built_once)


def test_home_shows_pool_counts_by_status_and_the_chart_of_reasons(portal_client, tenant_a):
    # when
    page = portal_client.get(reverse("portal:home")).content.decode()

    # then
    assert "Spring Outreach" in page
    assert "Your Do Not Call marks" in page
    assert "Your suppression lists" in page
    assert 'class="fill"' in page


def test_home_counts_each_status_of_the_campaigns_pool(portal_client, tenant_a):
    # when
    response = portal_client.get(reverse("portal:home"))

    # then
    pool = response.context["pools"][0]
    assert (pool.eligible, pool.waiting, pool.disqualified) == (1, 0, 2)


def test_signed_out_visitor_is_sent_to_the_portal_login(client):
    # when
    response = client.get(reverse("portal:disqualified"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_disqualified_leads_show_the_customer_worded_sentences(portal_client, tenant_a):
    # when
    page = portal_client.get(reverse("portal:disqualified")).content.decode()

    # then
    assert "Alan Lovelace is disqualified for Acme Corp" in page
    assert "Amy Lovelace is disqualified for Acme Corp" in page
    assert "suppression list" in page
    assert "Ada Lovelace" not in page  # eligible


def test_entries_page_lists_active_entries_and_filters_by_kind(portal_client, tenant_a):
    # when
    page = portal_client.get(reverse("portal:entries"), {"kind": "phone", "q": "2001002"}).content.decode()
    empty = portal_client.get(reverse("portal:entries"), {"kind": "email"}).content.decode()

    # then
    assert "+1 202-200-1002" in page
    assert "+1 202-200-1003" not in page
    assert "+1 202-200-1002" not in empty


def test_uploads_page_lists_uploads_with_counts_and_leads_matched(portal_client, tenant_a):
    # when
    response = portal_client.get(reverse("portal:suppressions"))

    # then
    upload = response.context["uploads"][0]
    assert upload.original_name == "acme-dnc.csv"
    assert (upload.accepted, upload.rejected, upload.leads_matched) == (2, 1, 1)


def test_upload_detail_shows_the_report_and_rejected_rows(portal_client, tenant_a):
    # when
    page = portal_client.get(reverse("portal:upload", args=[tenant_a.upload.pk])).content.decode()

    # then
    assert "2 accepted" in page
    assert "not-a-number-acme" in page


def test_rejected_rows_download_escapes_formulas(portal_client, tenant_a, django_capture_on_commit_callbacks):
    # given
    from tests.portal.conftest import run_upload
    from tests.suppressions.factories import csv_bytes

    upload = run_upload(
        django_capture_on_commit_callbacks,
        customer=tenant_a.customer,
        user=tenant_a.user,
        content=csv_bytes([["phone"], ['=HYPERLINK("http://evil")']]),
    )

    # when
    response = portal_client.get(reverse("portal:upload_rejected_csv", args=[upload.pk]))

    # then
    body = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK" in body
    assert "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body


def test_upload_status_endpoint_reports_progress_as_json(portal_client, tenant_a):
    # when
    status = portal_client.get(reverse("portal:upload_status", args=[tenant_a.upload.pk])).json()

    # then
    assert status["finished"] is True
    assert status["percent"] == 100


def test_removing_an_entry_lifts_its_block_and_returns_the_lead(portal_client, tenant_a):
    # when
    response = portal_client.post(
        reverse("portal:entry_remove", args=[tenant_a.entry.pk]), {"reason": "added by mistake"}
    )

    # then
    assert response.status_code == 302
    tenant_a.entry.refresh_from_db()
    tenant_a.suppressed_lead.refresh_from_db()
    assert tenant_a.entry.removed_by == tenant_a.user
    assert tenant_a.suppressed_lead.status == LeadStatus.ELIGIBLE


def test_removing_chosen_entries_from_the_list_page_needs_a_reason(portal_client, tenant_a):
    # when
    refused = portal_client.post(reverse("portal:entries"), {"entries": [tenant_a.entry.pk], "reason": ""})
    removed = portal_client.post(reverse("portal:entries"), {"entries": [tenant_a.entry.pk], "reason": "wrong list"})

    # then
    assert refused.status_code == 400
    assert removed.status_code == 302
    assert Entry.objects.active().filter(customer=tenant_a.customer).count() == 1


def test_removing_a_whole_upload_removes_its_entries(portal_client, tenant_a):
    # when
    portal_client.post(reverse("portal:upload_remove", args=[tenant_a.upload.pk]), {"reason": "old list"})

    # then
    assert not Entry.objects.active().filter(upload=tenant_a.upload).exists()
    tenant_a.suppressed_lead.refresh_from_db()
    assert tenant_a.suppressed_lead.status == LeadStatus.ELIGIBLE


def test_marking_a_contact_do_not_call_disqualifies_its_lead_with_the_note(portal_client, tenant_a):
    # when
    portal_client.post(reverse("portal:contact_dnc", args=[tenant_a.contact.pk]), {"note": "asked on the phone"})

    # then
    tenant_a.lead.refresh_from_db()
    assert tenant_a.lead.status == LeadStatus.DISQUALIFIED
    block = Block.objects.active().get(contact=tenant_a.contact, source=Block.Source.CUSTOMER_DNC)
    assert (block.actor, block.note, block.reach) == (tenant_a.user, "asked on the phone", Block.Reach.CUSTOMER)
    page = portal_client.get(reverse("portal:contact", args=[tenant_a.contact.pk])).content.decode()
    assert "asked on the phone" in page


def test_marking_a_contact_do_not_call_again_says_it_is_already_marked(portal_client, tenant_a):
    # given the contact's own mark
    url = reverse("portal:contact_dnc", args=[tenant_a.marked_contact.pk])
    # when the customer marks it again
    response = portal_client.post(url, {"note": "again"}, follow=True)
    # then the page says so and no second mark is recorded
    assert "Already marked." in response.content.decode()
    marks = Block.objects.active().filter(contact=tenant_a.marked_contact, source=Block.Source.CUSTOMER_DNC)
    assert list(marks) == [tenant_a.dnc_mark]


def test_marking_an_account_do_not_call_disqualifies_the_leads_of_its_contacts(portal_client, tenant_a):
    # when
    portal_client.post(reverse("portal:account_dnc", args=[tenant_a.account.pk]), {"note": ""})

    # then
    tenant_a.lead.refresh_from_db()
    assert tenant_a.lead.status == LeadStatus.DISQUALIFIED


def test_removing_the_own_mark_returns_the_contacts_lead(portal_client, tenant_a):
    # when
    portal_client.post(
        reverse("portal:contact_dnc_lift", args=[tenant_a.marked_contact.pk]), {"reason": "they want to hear from us"}
    )

    # then
    tenant_a.dnc_mark.refresh_from_db()
    assert tenant_a.dnc_mark.lifted_by == tenant_a.user
    lead = tenant_a.marked_contact.leads.get()
    assert lead.status == LeadStatus.ELIGIBLE


def test_removing_the_mark_never_lifts_the_agencys_blocks(portal_client, tenant_a):
    # given
    from campaigns.services import BlockTarget, block_create

    agency, _ = block_create(
        target=BlockTarget(contact=tenant_a.marked_contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.NOT_A_FIT,
        reach=Block.Reach.CUSTOMER,
        actor="ops-import",
    )

    # when
    portal_client.post(reverse("portal:contact_dnc_lift", args=[tenant_a.marked_contact.pk]), {"reason": "ok again"})

    # then
    agency.refresh_from_db()
    assert agency.is_active
    assert tenant_a.marked_contact.leads.get().status == LeadStatus.DISQUALIFIED


def test_accounts_and_contacts_search_and_filter(portal_client, tenant_a):
    # when
    accounts = portal_client.get(reverse("portal:accounts"), {"q": "anvil"}).content.decode()
    marked = portal_client.get(reverse("portal:contacts"), {"dnc": "yes"}).content.decode()

    # then
    assert "Anvil Works" in accounts and "Arrow Freight" not in accounts
    assert "Alan Lovelace" in marked and "Ada Lovelace" not in marked


@pytest.mark.parametrize(
    "name",
    ["portal:entries_csv", "portal:accounts_csv", "portal:contacts_csv", "portal:disqualified_csv"],
)
def test_every_export_is_a_csv_of_the_customers_own_rows(portal_client, tenant_a, tenant_b, name):
    # when
    response = portal_client.get(reverse(name))

    # then
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert any(s in body for s in ("Anvil", "Lovelace", "+12022001002"))
    assert not [s for s in tenant_b.strings if s in body]


def test_contact_export_escapes_a_formula_in_a_name(portal_client, tenant_a):
    # given
    tenant_a.contact.first_name = "=cmd|' /C calc'!A0"
    tenant_a.contact.save()

    # when
    body = b"".join(portal_client.get(reverse("portal:contacts_csv")).streaming_content).decode()

    # then
    assert "'=cmd|" in body


def test_disqualified_filters_by_reason_source_and_campaign(portal_client, tenant_a):
    # when
    by_dnc = portal_client.get(reverse("portal:disqualified"), {"source": Block.Source.CUSTOMER_DNC})
    by_list = portal_client.get(reverse("portal:disqualified"), {"source": Block.Source.SUPPRESSION})

    # then
    assert [lead.contact.first_name for lead, _ in by_dnc.context["rows"]] == ["Alan"]
    assert [lead.contact.first_name for lead, _ in by_list.context["rows"]] == ["Amy"]


def test_disqualified_page_is_bounded_in_queries(portal_client, tenant_a, django_assert_max_num_queries):
    # given: 30 more disqualified leads, each with its own block
    from campaigns.services import BlockTarget, block_create
    from tests.campaigns.factories import LeadFactory

    for _ in range(30):
        lead = LeadFactory(campaign=tenant_a.campaign)
        block_create(
            target=BlockTarget(contact=lead.contact),
            source=Block.Source.CUSTOMER_DNC,
            reason=Block.Reason.DO_NOT_CALL,
            reach=Block.Reach.CUSTOMER,
            actor=tenant_a.user,
        )

    # when / then
    with django_assert_max_num_queries(12):
        response = portal_client.get(reverse("portal:disqualified"))
    assert len(response.context["rows"]) == 32


def test_a_running_upload_shows_its_progress_and_refreshes_without_javascript(portal_client, tenant_a):
    # given
    from suppressions.models import Upload
    from tests.suppressions.factories import UploadFactory

    upload = UploadFactory(customer=tenant_a.customer, status=Upload.Status.READING, rows_total=200, rows_done=50)

    # when
    page = portal_client.get(reverse("portal:upload", args=[upload.pk])).content.decode()

    # then
    assert 'aria-valuenow="25"' in page
    assert 'data-finished="false"' in page
    assert '<noscript><meta http-equiv="refresh"' in page


def test_set_based_reasons_read_exactly_like_explain(portal_client, tenant_a):
    # given
    from campaigns.selectors import CUSTOMER, explain

    # when
    rows = portal_client.get(reverse("portal:disqualified")).context["rows"]

    # then
    assert rows
    for lead, reasons in rows:
        assert reasons == [reason.message for reason in explain(lead, audience=CUSTOMER)]


@pytest.mark.parametrize(
    ("name", "attribute", "method", "allowed"),
    [
        ("portal:upload", "upload", "post", "GET, HEAD"),
        ("portal:account", "account", "post", "GET, HEAD"),
        ("portal:contact", "contact", "delete", "GET, HEAD"),
        ("portal:upload_remove", "upload", "put", "GET, POST"),
        ("portal:entry_remove", "entry", "delete", "GET, POST"),
        ("portal:contact_dnc", "contact", "get", "POST"),
        ("portal:account_dnc_lift", "account", "get", "POST"),
    ],
)
def test_a_method_a_page_does_not_take_is_refused_with_the_methods_it_does(
    portal_client, tenant_a, name, attribute, method, allowed
):
    # given one of the customer's own objects
    url = reverse(name, args=[getattr(tenant_a, attribute).pk])
    # when the page is asked with a method it does not take
    response = getattr(portal_client, method)(url)
    # then 405, naming the methods it does take (another customer's id is a 404 first: test_isolation)
    assert response.status_code == 405
    assert response["Allow"] == allowed


def test_the_suppression_list_refuses_a_method_it_does_not_take(portal_client):
    # when
    response = portal_client.put(reverse("portal:entries"))
    # then
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"


def test_a_do_not_call_mark_for_a_number_of_days_ends_by_itself_and_the_page_says_until(portal_client, tenant_a):
    from datetime import timedelta

    from django.utils import timezone

    # when
    response = portal_client.post(
        reverse("portal:contact_dnc", args=[tenant_a.contact.pk]), {"note": "budget cycle", "days": "60"}, follow=True
    )
    # then
    block = Block.objects.active().get(contact=tenant_a.contact, source=Block.Source.CUSTOMER_DNC)
    end = timezone.localtime(block.ends_at)
    assert timezone.now() + timedelta(days=59) < block.ends_at <= timezone.now() + timedelta(days=60)
    assert f"Marked Do Not Call until {end.day} {end:%b %Y}" in response.content.decode()
    page = portal_client.get(reverse("portal:contact", args=[tenant_a.contact.pk])).content.decode()
    assert f"until {end.day} {end:%b %Y}" in page


def test_a_do_not_call_mark_with_days_that_are_not_a_number_marks_nothing_and_says_why(portal_client, tenant_a):
    response = portal_client.post(
        reverse("portal:contact_dnc", args=[tenant_a.contact.pk]), {"note": "", "days": "soon"}, follow=True
    )
    assert "Nothing was marked. For how many days: Enter a whole number." in response.content.decode()
    assert not Block.objects.filter(contact=tenant_a.contact, source=Block.Source.CUSTOMER_DNC).exists()
