"""The dossier of a number and of a contact: what a compliance officer hands to a lawyer, in its viewer's scope."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from campaigns.models import Block, CallerApproval
from campaigns.services import BlockTarget, block_create, blocks_lift
from campaigns.services.calls import call_record
from suppressions.dossiers import contact_dossier, dossier_rows, number_dossier, viewer_for_customer, viewer_for_user
from suppressions.models import Upload
from suppressions.services import upload_create
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, DialerLeadFactory, api_key_for
from tests.campaigns.caller_scenes import member_of
from tests.campaigns.factories import ContactPhoneFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

FILE = b"phone\n2025550199\n"


@pytest.fixture
def scene(client, django_capture_on_commit_callbacks, ops_user):
    """A lead whose number a caller marked Do Not Call on a call (then ops lifted it), whose customer uploaded it
    on a suppression list, and that the dialer checked once."""
    campaign = DialerCampaignFactory()
    lead = DialerLeadFactory(campaign=campaign, with_phone=False)
    link = ContactPhoneFactory(contact=lead.contact, phone__e164="+12025550199")
    caller = CallerFactory(username="caller-zoltan", approved_for=[campaign])
    call, _ = call_record(
        lead=lead,
        caller=caller,
        disposition="do_not_call",
        number=link.phone.e164,
        notes="zoltan internal notes",
        callback_at=None,
        actor=caller,
    )
    block = Block.objects.get(phone=link.phone, source=Block.Source.DISPOSITION)
    blocks_lift(blocks=Block.objects.filter(pk=block.pk), actor=ops_user, reason="ops lift reason words")
    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_create(
            customer=lead.customer, file=ContentFile(FILE, name="dnc.csv"), original_name="dnc.csv", uploaded_by=None
        )
    upload.refresh_from_db()
    assert upload.status == Upload.Status.DONE
    _, key = api_key_for()
    client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": link.phone.e164}, HTTP_AUTHORIZATION=f"Bearer {key}")
    return {"lead": lead, "phone": link.phone, "call": call, "block": block, "upload": upload, "caller": caller}


def test_a_numbers_dossier_holds_its_blocks_lifts_entries_verdicts_and_calls(scene, ops_user):
    # when
    dossier = number_dossier(scene["phone"].e164, viewer=viewer_for_user(ops_user))
    # then
    (dnc,) = [b for b in dossier["blocks"] if b["block_id"] == scene["block"].pk]
    assert dnc["evidence"]["kind"] == "call" and dnc["evidence"]["call_id"] == scene["call"].pk
    assert (dnc["made_by"], dnc["lifted_by"], dnc["lift_reason"]) == (
        "caller-zoltan",
        "olivia",
        "ops lift reason words",
    )
    (entry,) = dossier["suppression_entries"]
    assert entry["upload"]["file_name"] == "dnc.csv" and entry["upload"]["line"] == 2
    assert entry["upload"]["sha256"] == hashlib.sha256(FILE).hexdigest()
    (verdict,) = dossier["verdicts"]
    assert verdict["allowed"] is False
    assert "suppression" in [r["code"] for r in verdict["reasons"]]
    assert scene["block"].pk not in [r["block_id"] for r in verdict["reasons"]]  # lifted before the check
    (call,) = dossier["calls"]
    assert (call["call_id"], call["disposition"], call["caller"]) == (scene["call"].pk, "Do not call", "caller-zoltan")


def test_the_customers_part_names_no_staff_and_quotes_no_note_or_lift_reason(scene):
    # when
    dossier = contact_dossier(scene["lead"].contact, viewer=viewer_for_customer(scene["lead"].customer))
    # then
    text = str(dossier) + "".join(str(row) for row in dossier_rows(dossier))
    for secret in ("caller-zoltan", "olivia", "ops lift reason words", "zoltan internal notes"):
        assert secret not in text
    assert dossier["suppression_entries"] and dossier["verdicts"] and dossier["calls"]
    (dnc,) = [b for b in dossier["blocks"] if b["block_id"] == scene["block"].pk]
    assert dnc["evidence"] is None and "agency's Do-Not-Call list" in dnc["sentence"]


def test_another_customers_entries_verdicts_and_calls_stay_out_of_a_customers_part(scene):
    # given: another customer's contact on the same number
    other = LeadFactory(with_phone=False)
    ContactPhoneFactory(contact=other.contact, phone=scene["phone"])
    # when
    dossier = contact_dossier(other.contact, viewer=viewer_for_customer(other.customer))
    # then
    assert dossier["suppression_entries"] == []
    assert dossier["verdicts"] == []
    assert dossier["calls"] == []


def test_the_admin_dossier_is_a_page_json_and_csv(scene, admin_client):
    # given
    url = reverse("admin:campaigns_phonenumber_dossier", args=[scene["phone"].pk])
    # when
    page = admin_client.get(url)
    as_json = admin_client.get(url, {"format": "json"})
    as_csv = admin_client.get(url, {"format": "csv"})
    wrong = admin_client.get(url, {"format": "pdf"})
    # then
    assert page.status_code == 200
    assert hashlib.sha256(FILE).hexdigest() in page.content.decode()
    assert as_json.json()["subject"]["number"] == scene["phone"].e164
    rows = list(csv.reader(io.StringIO(b"".join(as_csv.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["section", "at", "id", "what", "details"]
    assert {row[0] for row in rows[1:]} >= {"block", "lift", "suppression entry", "verdict", "call"}
    assert wrong.status_code == 400 and "format is one of html, json, csv" in wrong.content.decode()


def test_the_dossier_page_writes_its_moments_for_a_person_and_its_json_keeps_them_exact(scene, admin_client):
    from django.utils import timezone

    url = reverse("admin:campaigns_phonenumber_dossier", args=[scene["phone"].pk])
    page = admin_client.get(url).content.decode()
    dossier = admin_client.get(url, {"format": "json"}).json()
    # then: each block's moment as "2 Dec 2026, 03:12:54 UTC" on the page, to the microsecond in the JSON
    for block in dossier["blocks"]:
        made = timezone.localtime(datetime.fromisoformat(block["made_at"]))
        assert f"{made.day} {made:%b %Y}, {made:%H:%M:%S} UTC" in page
        assert block["made_at"] not in page
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page)


def test_a_caller_not_approved_for_the_campaign_cannot_open_the_contacts_dossier(scene, client):
    # given
    stranger = UserFactory(username="stranger", is_staff=True, permissions=["campaigns.view_contact"])
    client.force_login(stranger)
    # when
    response = client.get(reverse("admin:campaigns_contact_dossier", args=[scene["lead"].contact_id]))
    # then
    assert response.status_code == 404


def test_the_portal_dossier_shows_the_customers_own_contact(scene, client):
    # given
    user = UserFactory(username="portal-user", customer=scene["lead"].customer, is_staff=False)
    client.force_login(user)
    contact = scene["lead"].contact
    # when
    page = client.get(reverse("portal:contact_dossier", args=[contact.pk]))
    as_json = client.get(reverse("portal:contact_dossier_json", args=[contact.pk]))
    # then
    assert page.status_code == 200 and "dnc.csv" in page.content.decode()
    assert "caller-zoltan" not in page.content.decode()
    assert as_json.json()["subject"]["contact_id"] == contact.pk


def test_an_approved_caller_reads_no_note_or_evidence_of_a_block_made_outside_their_campaigns(client):
    # given: a number of a lead in Amy's campaign, marked Do Not Call platform-wide by ops with a note
    campaign = DialerCampaignFactory()
    lead = DialerLeadFactory(campaign=campaign)
    phone = lead.contact.phones.get().phone
    block_create(
        target=BlockTarget(phone=phone),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor=UserFactory(username="ops-olga"),
        note="olga's internal note",
        evidence_text="a letter from the person",
    )
    amy = member_of("Callers", "amy.lee")
    CallerApproval.objects.create(caller=amy, campaign=campaign, approved_by_job="tests")
    client.force_login(amy)
    # when
    dossier = client.get(reverse("admin:campaigns_phonenumber_dossier", args=[phone.pk]), {"format": "json"}).json()
    # then
    (block,) = dossier["blocks"]
    assert "note" not in block and "made_by" not in block and block["evidence"] is None
    assert "olga's internal note" not in str(dossier)
