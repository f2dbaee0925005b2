import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Block, LeadStatus
from suppressions.models import Entry, Upload
from tests.campaigns.factories import ContactPhoneFactory, LeadFactory, PhoneNumberFactory
from tests.suppressions.factories import EntryFactory, csv_bytes

pytestmark = pytest.mark.django_db


def test_import_suppressions_runs_the_pipeline_and_prints_the_report(customer, tmp_path, capsys):
    # given
    path = tmp_path / "dnc.csv"
    path.write_bytes(csv_bytes([["phone"], ["2025550143"], ["2025550143"], ["nope"]]))

    # when
    call_command("import_suppressions", str(path), "--customer", customer.slug)

    # then
    out = capsys.readouterr().out
    assert "3 values read from 3 rows: 1 accepted, 1 duplicates, 1 rejected (1 + 1 + 1 = 3)" in out
    assert "line 4 phone: 'nope'" in out
    upload = Upload.objects.get()
    assert (upload.status, upload.uploaded_by) == (Upload.Status.DONE, None)


def test_import_suppressions_refuses_an_unknown_customer(tmp_path):
    # given
    path = tmp_path / "dnc.csv"
    path.write_bytes(b"2025550143\n")

    # when / then
    with pytest.raises(CommandError, match="No customer"):
        call_command("import_suppressions", str(path), "--customer", "nobody")


def test_rematch_full_blocks_leads_matching_existing_entries(customer, capsys):
    # given
    lead = LeadFactory(campaign__customer=customer, with_phone=False)
    ContactPhoneFactory(contact=lead.contact, phone=PhoneNumberFactory(e164="+12025550143"))
    EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550143")

    # when
    call_command("rematch", "--customer", customer.slug, "--full")
    call_command("rematch", "--full")

    # then
    out = capsys.readouterr().out
    assert "1 blocks created" in out and "0 blocks created" in out
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    assert Block.objects.filter(source=Block.Source.SUPPRESSION).count() == 1
