"""Removing uploads' entries: one transaction of the same few statements for any number of uploads, all or
nothing, from the service and from the upload list's action."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns.models import Block, Lead, LeadStatus
from suppressions.models import Entry, Upload
from suppressions.services import customer_rematch, uploads_remove
from tests.campaigns.factories import ContactPhoneFactory, LeadFactory, UserFactory, next_us_number
from tests.statements import database_refuses, statements_of
from tests.suppressions.factories import EntryFactory, UploadFactory

pytestmark = pytest.mark.django_db


def suppressed_uploads(customer, n: int) -> list[Upload]:
    """Return ``n`` uploads of ``customer``, each with one entry that has disqualified one lead."""
    uploads = []
    for _ in range(n):
        number = next_us_number()
        lead = LeadFactory(campaign__customer=customer, with_phone=False)
        ContactPhoneFactory(contact=lead.contact, phone__e164=number)
        uploads.append(EntryFactory(customer=customer, value=number).upload)
    customer_rematch(customer=customer)
    return uploads


def of(uploads: list[Upload]):
    return Upload.objects.filter(pk__in=[u.pk for u in uploads])


def leads_of(customer) -> set[str]:
    return set(Lead.objects.filter(customer=customer).values_list("status", flat=True))


def test_removing_uploads_removes_their_entries_lifts_their_blocks_and_stamps_them(customer, ops_user):
    # given
    uploads = suppressed_uploads(customer, 3)
    assert leads_of(customer) == {LeadStatus.DISQUALIFIED}
    # when
    removed = uploads_remove(uploads=of(uploads), actor=ops_user, reason="Wrong customer's files")
    # then
    assert removed == 3
    assert leads_of(customer) == {LeadStatus.ELIGIBLE}
    assert not Entry.objects.active().exists()
    assert set(of(uploads).values_list("removed_by", flat=True)) == {ops_user.pk}


def test_removing_1_or_50_uploads_takes_the_same_statements(customer, ops_user):
    # given
    one, fifty = suppressed_uploads(customer, 1), suppressed_uploads(customer, 50)
    # when
    counts = [
        statements_of(lambda s=s: uploads_remove(uploads=of(s), actor=ops_user, reason="Old")) for s in (one, fifty)
    ]
    # then
    assert counts[0] == counts[1]
    assert Block.objects.active().count() == 0


def test_removing_uploads_changes_nothing_when_the_database_fails_half_way(customer, ops_user):
    # given
    uploads = suppressed_uploads(customer, 3)
    # when: the entries are removed and their blocks lifted, then stamping the uploads fails
    with pytest.raises(Exception, match="refused"), database_refuses('UPDATE "suppressions_upload"'):
        uploads_remove(uploads=of(uploads), actor=ops_user, reason="Old")
    # then
    assert Entry.objects.active().count() == 3
    assert Block.objects.active().count() == 3
    assert leads_of(customer) == {LeadStatus.DISQUALIFIED}
    assert not of(uploads).filter(removed_at__isnull=False).exists()


def test_the_upload_list_removes_the_selected_uploads_entries_after_asking_why(client, customer):
    # given
    uploads = suppressed_uploads(customer, 2)
    kept = UploadFactory(customer=customer)
    user = UserFactory(username="oscar")
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="suppressions", codename__in=["view_upload", "change_entry"])
    )
    client.force_login(user)
    url = reverse("admin:suppressions_upload_changelist")
    selected = {"action": "remove_uploads", "_selected_action": [u.pk for u in uploads]}
    # when
    confirmation = client.post(url, selected)
    removed_by_asking = of(uploads).filter(removed_at__isnull=False).exists()
    done = client.post(url, {**selected, "confirm": "yes", "reason": "Sent by mistake"}, follow=True)
    # then
    assert confirmation.status_code == 200 and not removed_by_asking
    assert "2 entries removed; the blocks they caused were lifted." in done.content.decode()
    assert set(of(uploads).values_list("removed_by", flat=True)) == {user.pk}
    assert Upload.objects.get(pk=kept.pk).removed_at is None
    assert leads_of(customer) == {LeadStatus.ELIGIBLE}
