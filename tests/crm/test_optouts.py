"""Opt-out deadlines: 10 US business days from receipt, measured from each channel's records."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Customer
from campaigns.services.calls import call_record
from leadops.business_days import business_days_after, business_days_between, is_business_day
from suppressions.crm.models import CrmEvent
from suppressions.crm.optouts import optouts_not_in_force, receipt_to_force
from suppressions.models import Upload
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, DialerLeadFactory
from tests.crm.factories import CrmConnectionFactory
from tests.suppressions.factories import UploadFactory

pytestmark = pytest.mark.django_db


def test_business_days_skip_weekends_and_us_federal_holidays():
    # Thanksgiving (26 Nov 2026) and Christmas and New Year's Day
    assert not is_business_day(date(2026, 11, 26)) and not is_business_day(date(2026, 11, 28))
    assert business_days_after(date(2026, 11, 25), 2) == date(2026, 11, 30)
    assert business_days_after(date(2026, 12, 21), 10) == date(2027, 1, 6)
    assert business_days_between(date(2026, 12, 1), date(2026, 12, 15)) == 10
    assert business_days_between(date(2026, 12, 15), date(2026, 12, 1)) == -10


def _received(upload: Upload, moment: datetime) -> None:
    Upload.objects.filter(pk=upload.pk).update(created_at=moment)


def test_an_upload_not_read_is_due_ten_business_days_after_its_receipt():
    # given: received on Monday 30 Nov 2026, still queued
    upload = UploadFactory(status=Upload.Status.QUEUED)
    _received(upload, timezone.make_aware(datetime(2026, 11, 30, 10, 0)))
    # when
    (item,) = optouts_not_in_force(customers=Customer.objects.all(), today=date(2026, 12, 10))
    # then
    assert item.deadline == date(2026, 12, 14)
    assert (item.business_days_left, item.is_late, item.needs_attention) == (2, False, True)
    assert "is not in force: due by 2026-12-14, 2 business days left." in item.words


def test_an_upload_past_its_deadline_is_late_and_one_in_force_is_not_listed():
    # given
    late = UploadFactory(status=Upload.Status.FAILED)
    _received(late, timezone.make_aware(datetime(2026, 11, 2, 10, 0)))
    UploadFactory(status=Upload.Status.DONE, customer=late.customer)
    # when
    items = optouts_not_in_force(customers=Customer.objects.all(), today=date(2026, 12, 1))
    # then
    assert [i.is_late for i in items] == [True]
    assert "failed (nothing was added)" in items[0].words and "business days late" in items[0].words


def test_a_pending_crm_event_has_its_deadline_too():
    # given
    connection = CrmConnectionFactory()
    CrmEvent.objects.create(connection=connection, event_id="e-1", payload={}, received_at=timezone.now())
    # when
    (item,) = optouts_not_in_force(customers=Customer.objects.all())
    # then
    assert item.channel == "CRM event" and not item.needs_attention


def test_receipt_to_force_is_measured_per_channel_and_customer():
    # given: a Do Not Call disposition, and an upload read 4 seconds after its receipt
    campaign = DialerCampaignFactory()
    lead = DialerLeadFactory(campaign=campaign)
    caller = CallerFactory(approved_for=[campaign])
    number = lead.contact.phones.get().phone.e164
    call_record(
        lead=lead, caller=caller, disposition="do_not_call", number=number, notes="", callback_at=None, actor=caller
    )
    upload = UploadFactory(customer=lead.customer, status=Upload.Status.DONE)
    Upload.objects.filter(pk=upload.pk).update(read_at=upload.created_at + timedelta(seconds=4))
    # when
    rows = receipt_to_force(customers=Customer.objects.all(), since=timezone.now() - timedelta(days=1))
    # then
    by = {(r.channel, r.customer): r for r in rows}
    disposition = by["Do not call disposition", lead.customer.name]
    assert disposition.count == 1 and disposition.longest < timedelta(seconds=5)
    assert by["suppression upload", None].longest == timedelta(seconds=4)
    assert by["suppression upload", lead.customer.name].words == "1 received: on average 4.0 s, at most 4.0 s"


def test_the_ops_home_warns_of_a_late_opt_out_and_links_the_deadlines(admin_client):
    # given
    upload = UploadFactory(status=Upload.Status.QUEUED, original_name="late-list.csv")
    _received(upload, timezone.now() - timedelta(days=30))
    # when
    home = admin_client.get(reverse("admin:index")).content.decode()
    page = admin_client.get(reverse("admin:crm_crmevent_optouts"))
    # then
    assert "Opt-outs late" in home and "late-list.csv" in home
    assert page.status_code == 200 and "late-list.csv" in page.content.decode()


def test_the_ops_home_says_nothing_when_every_opt_out_is_in_force(admin_client):
    # given
    UploadFactory(status=Upload.Status.DONE)
    # when
    home = admin_client.get(reverse("admin:index")).content.decode()
    # then
    assert "optout-deadlines" not in home
