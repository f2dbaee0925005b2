"""explain and the dial check as of a past moment: what was in force then, worded as it read then."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Block, ContactPhone
from campaigns.selectors import can_dial, explain
from campaigns.selectors.explaining import can_dial_lead
from campaigns.services import BlockTarget, block_create, blocks_lift
from suppressions.models import Upload
from suppressions.services.entries import entries_remove
from tests.campaigns.api_factories import api_key_for
from tests.campaigns.factories import CampaignFactory, ContactPhoneFactory, LeadFactory
from tests.suppressions.factories import EntryFactory, UploadFactory

# What was in force at moments the real clock chose: the window is another test's (test_as_of_not_now.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calling_around_the_clock")]


def _dnc(phone):
    block, _ = block_create(
        target=BlockTarget(phone=phone),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
        evidence_text="Do not call",
    )
    return block


def _answer(check):
    return check.allowed, [(r.code, r.message, r.block_id) for r in check.reasons]


def test_a_lifted_dnc_stopped_the_number_as_of_before_its_lift():
    # given
    lead = LeadFactory()
    number = lead.contact.phones.get().phone
    before = timezone.now()
    block = _dnc(number)
    refused_then = _answer(can_dial(lead, number.e164))
    during = timezone.now()
    blocks_lift(blocks=Block.objects.filter(pk=block.pk), actor="tests", reason="withdrawn in writing")
    # when
    as_of_during = can_dial(lead, number.e164, at=during)
    as_of_before = can_dial(lead, number.e164, at=before)
    now = can_dial(lead, number.e164)
    # then
    assert _answer(as_of_during) == refused_then
    assert as_of_during.reasons[0].block_id == block.pk
    assert as_of_before.allowed and now.allowed


def test_a_block_made_after_the_moment_is_not_in_its_answer():
    # given
    lead = LeadFactory()
    moment = timezone.now()
    block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # when / then
    assert explain(lead, at=moment) == []
    assert [r.code for r in explain(lead)] == ["ops_disqualify"]


def test_an_entry_removed_since_stopped_the_number_as_of_then():
    # given
    lead = LeadFactory()
    e164 = lead.contact.phones.get().phone.e164
    entry = EntryFactory(customer=lead.customer, value=e164)
    during = timezone.now()
    live = _answer(can_dial(lead, e164))
    entries_remove(entries=type(entry).objects.filter(pk=entry.pk), actor="tests", reason="sent by mistake")
    # when
    then = can_dial(lead, e164, at=during)
    # then
    assert not live[0] and [code for code, _, _ in live[1]] == ["suppression_entry"]
    assert _answer(then) == live
    assert can_dial(lead, e164).allowed
    assert can_dial(lead, e164, at=entry.created_at - timedelta(microseconds=1)).allowed


def test_an_upload_being_read_then_held_the_calls_as_of_then():
    # given
    lead = LeadFactory()
    e164 = lead.contact.phones.get().phone.e164
    upload = UploadFactory(customer=lead.customer, status=Upload.Status.QUEUED)
    during = timezone.now()
    live = _answer(can_dial(lead, e164))
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.DONE, read_at=timezone.now())
    # when
    then = can_dial(lead, e164, at=during)
    # then
    assert [code for code, _, _ in live[1]] == ["suppression_upload_pending"]
    assert _answer(then) == live
    assert can_dial(lead, e164).allowed


def test_the_dialers_as_of_check_is_scoped_to_the_keys_customer():
    # given
    lead = LeadFactory()
    other = CampaignFactory()
    e164 = lead.contact.phones.get().phone.e164
    # when / then
    assert can_dial_lead(lead.pk, e164, customer_id=other.customer_id, at=timezone.now()) is None
    assert can_dial_lead(lead.pk, e164, customer_id=lead.customer_id, at=timezone.now()).allowed


# --- The property: for any history of blocks and lifts, the answer as of each moment is the answer given then.

TARGETS = ["lead", "contact", "account", "number_a", "number_b", "contact_number_a"]
REACHES = ["platform", "customer", "campaign", "other_campaign"]
operations = st.lists(
    st.one_of(
        st.tuples(st.just("block"), st.sampled_from(TARGETS), st.sampled_from(REACHES)),
        st.tuples(st.just("lift"), st.integers(min_value=0, max_value=9), st.just("")),
        st.tuples(st.just("entry"), st.sampled_from(["a", "b"]), st.just("")),
        st.tuples(st.just("unentry"), st.integers(min_value=0, max_value=3), st.just("")),
    ),
    min_size=1,
    max_size=8,
)


def _scene():
    lead = LeadFactory(with_phone=False)
    a = ContactPhoneFactory(contact=lead.contact, kind=ContactPhone.Kind.OFFICE).phone
    b = ContactPhoneFactory(contact=lead.contact, kind=ContactPhone.Kind.MOBILE).phone
    sibling = CampaignFactory(customer=lead.customer)
    return lead, a, b, sibling


def _block(lead, a, b, sibling, target: str, reach: str) -> Block:
    subject = {
        "lead": BlockTarget(lead=lead),
        "contact": BlockTarget(contact=lead.contact),
        "account": BlockTarget(account=lead.contact.account),
        "number_a": BlockTarget(phone=a),
        "number_b": BlockTarget(phone=b),
        "contact_number_a": BlockTarget(contact=lead.contact, phone=a),
    }[target]
    campaign = {"campaign": lead.campaign, "other_campaign": sibling}.get(reach)
    block, _ = block_create(
        target=subject,
        source=Block.Source.OPS_PHONE_DNC if target.startswith("number") else Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CAMPAIGN if campaign else reach,
        campaign=campaign,
        customer=lead.customer if reach == "customer" else None,
        actor="tests",
    )
    return block


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=operations)
def test_the_answer_as_of_every_moment_is_the_answer_given_at_that_moment(history):
    # given a history of blocks, lifts, entries and removals, with the live answers recorded after each step
    lead, a, b, sibling = _scene()
    blocks, entries, recorded = [], [], []
    for op, first, second in history:
        if op == "block":
            blocks.append(_block(lead, a, b, sibling, first, second))
        elif op == "lift" and blocks:
            chosen = blocks[first % len(blocks)]
            blocks_lift(blocks=Block.objects.filter(pk=chosen.pk), actor="tests", reason="changed their mind")
        elif op == "entry":
            value = (a if first == "a" else b).e164
            if not lead.customer.suppression_entries.filter(value=value, removed_at__isnull=True).exists():
                entries.append(EntryFactory(customer=lead.customer, value=value))
        elif op == "unentry" and entries:
            chosen = entries[first % len(entries)]
            entries_remove(entries=type(chosen).objects.filter(pk=chosen.pk), actor="tests", reason="a mistake")
        recorded.append(
            (
                [_answer(can_dial(lead, number.e164)) for number in (a, b)],
                [(r.code, r.message, r.block_id) for r in explain(lead)],
                timezone.now(),
            )
        )
    # when / then
    for numbers, reasons, moment in recorded:
        assert [_answer(can_dial(lead, number.e164, at=moment)) for number in (a, b)] == numbers
        assert [(r.code, r.message, r.block_id) for r in explain(lead, at=moment)] == reasons


# --- The ways in: the command, the dialer's audit endpoint, the admin page ----------------------------------


def _lifted_dnc_scene():
    lead = LeadFactory()
    number = lead.contact.phones.get().phone
    block = _dnc(number)
    during = timezone.now()
    blocks_lift(blocks=Block.objects.filter(pk=block.pk), actor="tests", reason="withdrawn in writing")
    return lead, number, block, during


def test_explain_lead_at_a_moment_prints_what_stopped_the_number_then():
    # given
    lead, number, _, during = _lifted_dnc_scene()
    out = StringIO()
    # when
    call_command("explain_lead", lead.pk, number=number.e164, at=during.isoformat(), stdout=out)
    # then
    text = out.getvalue()
    assert "As of " in text
    assert f"{number.e164} might not have been dialled." in text
    assert "is on the platform Do-Not-Call list" in text


def test_explain_lead_refuses_a_moment_to_come_in_words():
    # given
    lead = LeadFactory()
    # when / then
    with pytest.raises(CommandError, match="has not come yet"):
        call_command("explain_lead", lead.pk, at=(timezone.now() + timedelta(days=1)).isoformat(), stdout=StringIO())
    with pytest.raises(CommandError, match="is not a moment"):
        call_command("explain_lead", lead.pk, at="yesterday", stdout=StringIO())


def test_the_dial_check_endpoint_answers_as_of_a_moment(client):
    # given
    lead, number, block, during = _lifted_dnc_scene()
    _, key = api_key_for()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    url = f"/api/v1/leads/{lead.pk}/dial-check"
    # when
    then = client.get(url, {"number": number.e164, "at": during.isoformat()}, **headers)
    now = client.get(url, {"number": number.e164}, **headers)
    future = client.get(url, {"number": number.e164, "at": "2999-01-01T00:00:00+00:00"}, **headers)
    # then
    assert then.status_code == 200
    assert then.json()["allowed"] is False
    assert [r["block_id"] for r in then.json()["reasons"]] == [block.pk]
    assert now.json()["allowed"] is True
    assert future.status_code == 422
    assert future.json()["error"]["field"] == "at"


def test_the_admin_as_of_page_shows_what_stopped_the_number_then(admin_client):
    # given
    client = admin_client
    lead, number, _, during = _lifted_dnc_scene()
    url = reverse("admin:campaigns_lead_as_of", args=[lead.pk])
    at = timezone.localtime(during).strftime("%Y-%m-%dT%H:%M:%S.%f")
    # when
    page = client.get(url, {"at": at, "number": number.e164})
    change = client.get(reverse("admin:campaigns_lead_change", args=[lead.pk]))
    # then
    assert page.status_code == 200
    text = page.content.decode()
    assert "might not have been dialled" in text
    assert "is on the platform Do-Not-Call list" in text
    assert url in change.content.decode()


def test_a_block_that_ended_by_itself_stopped_the_lead_only_until_its_end_as_of_any_moment():
    # given: a 90-day Disqualify made 100 days ago, never lifted (the expiry job has not run)
    lead = LeadFactory()
    made = timezone.now() - timedelta(days=100)
    block, _ = block_create(
        target=BlockTarget(lead=lead),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.NOT_INTERESTED,
        reach=Block.Reach.CUSTOMER,
        customer=lead.customer,
        actor="tests",
        ends_at=timezone.now() + timedelta(days=1),
    )
    # (dated back: a block's end is set in the future when it is made)
    Block.objects.filter(pk=block.pk).update(created_at=made, ends_at=made + timedelta(days=90))
    # when
    during = explain(lead, at=made + timedelta(days=30))
    after = explain(lead, at=made + timedelta(days=95))
    # then: in force during its 90 days, not after its end, lifted or not
    assert [r.block_id for r in during] == [block.pk]
    assert block.pk not in [r.block_id for r in after]
    assert Block.objects.get(pk=block.pk).lifted_at is None
