"""The lead import preview: refused files, and each row's predicted outcome equal to what the import makes of it."""

import io

import pytest
from django.core.management import CommandError, call_command

from campaigns.imports.models import FitRule, LeadImport, LeadImportIssue
from campaigns.imports.services import lead_import_create, lead_import_preview, lead_import_run
from campaigns.imports.services.importing import lead_blockers
from campaigns.models import (
    Account,
    Block,
    Contact,
    ContactEmail,
    ContactPhone,
    Lead,
    LeadStatus,
    PhoneNumber,
)
from campaigns.services import BlockTarget, block_create
from leadops.errors import LeadopsError
from suppressions.models import Entry
from tests.campaigns.factories import (
    AccountFactory,
    CampaignFactory,
    ContactEmailFactory,
    ContactFactory,
    LeadFactory,
)
from tests.suppressions.factories import EntryFactory, csv_bytes

pytestmark = pytest.mark.django_db

HEADER = ["First Name", "Last Name", "Company", "Website", "Email", "Phone", "Country"]


def scene():
    """A campaign and, in its customer, one of each thing that can meet an imported row."""
    campaign = CampaignFactory()
    customer = campaign.customer
    FitRule.objects.create(campaign=campaign, field="country", operator="in", values="US, CA")
    EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550111")  # a suppression
    dnc = PhoneNumber.objects.create(e164="+12025550122")
    block_create(
        target=BlockTarget(phone=dnc),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
    )
    crm_account = AccountFactory(customer=customer, name="Open Deal Inc", domain="opendeal.com")
    block_create(
        target=BlockTarget(account=crm_account),
        source=Block.Source.CRM_RULE,
        reason=Block.Reason.OPEN_DEAL,
        reach=Block.Reach.CUSTOMER,
        customer=customer,
        actor="tests",
    )
    # A contact of the customer already in the campaign, and one that is not.
    in_campaign = LeadFactory(campaign=campaign, contact=ContactFactory(account=AccountFactory(customer=customer)))
    ContactEmailFactory(contact=in_campaign.contact, email="known@lead.com", domain="lead.com")
    elsewhere = ContactFactory(account=AccountFactory(customer=customer))
    ContactEmailFactory(contact=elsewhere, email="known@contact.com", domain="contact.com")
    rows = [
        HEADER,
        ["Ada", "Byron", "Acme", "acme.com", "ada@acme.com", "202-555-0100", "US"],  # 2: Eligible
        ["Bob", "Suppressed", "Acme", "acme.com", "bob@acme.com", "202-555-0111", "US"],  # 3: a suppression
        ["Cy", "Dnc", "Beta", "beta.com", "cy@beta.com", "202-555-0122", "US"],  # 4: platform DNC
        ["Di", "Deal", "Open Deal", "opendeal.com", "di@opendeal.com", "202-555-0133", "US"],  # 5: a CRM rule
        ["Ed", "Abroad", "Gamma", "gamma.de", "ed@gamma.de", "202-555-0144", "DE"],  # 6: a fit rule
        ["Testing!£##", "", "", "", "!!!@mail.com", "123", ""],  # 7: junk
        ["Fay", "Known", "Lead Co", "", "known@lead.com", "202-555-0155", "US"],  # 8: already in the campaign
        ["Gus", "Known", "Contact Co", "", "known@contact.com", "202-555-0166", "US"],  # 9: an existing contact
        ["Ada", "Byron", "Acme", "acme.com", "ada@acme.com", "202-555-0100", "US"],  # 10: line 2 again
    ]
    return campaign, rows, in_campaign


def counts():
    return tuple(
        model.objects.count() for model in (Account, Contact, ContactEmail, ContactPhone, PhoneNumber, Lead, Block)
    )


def test_the_preview_predicts_each_row_as_the_import_then_makes_it():
    # given
    campaign, rows, in_campaign = scene()
    lead_import = lead_import_create(
        campaign=campaign, stream=io.BytesIO(csv_bytes(rows)), filename="crm.csv", actor=None, confirm=False
    )
    before = counts()
    contacts_before = set(Contact.objects.values_list("pk", flat=True))
    leads_before = set(Lead.objects.values_list("pk", flat=True))
    # when
    preview = lead_import_preview(lead_import=lead_import)
    # then: nothing was written
    assert counts() == before
    predicted = preview.outcomes
    said = {line: (o.junk, o.status, o.blocked_by, o.contact_existed, o.lead_existed) for line, o in predicted.items()}
    assert said == {
        2: (False, LeadStatus.ELIGIBLE, (), False, False),
        3: (False, LeadStatus.DISQUALIFIED, ("Customer suppression",), False, False),
        4: (False, LeadStatus.DISQUALIFIED, ("Platform DNC",), False, False),
        5: (False, LeadStatus.DISQUALIFIED, ("CRM rule",), False, False),
        6: (False, LeadStatus.DISQUALIFIED, ("Campaign fit rule",), False, False),
        7: (True, "", (), False, False),
        8: (False, LeadStatus.ELIGIBLE, (), True, True),
        9: (False, LeadStatus.ELIGIBLE, (), True, False),
        10: (False, LeadStatus.ELIGIBLE, (), False, False),
    }
    assert predicted[4].describe() == "Would be blocked by Platform DNC"
    assert predicted[8].describe() == "Already in this campaign (an existing contact). Would be Eligible"
    # when the import runs
    LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.QUEUED)
    done = lead_import_run(lead_import_id=lead_import.pk)
    # then: row by row, what it made is what the preview said
    assert done.status == LeadImport.Status.DONE
    junk_lines = set(done.issues.filter(kind=LeadImportIssue.Kind.JUNK).values_list("line_number", flat=True))
    assert junk_lines == {line for line, o in predicted.items() if o.junk}
    for line, cells in enumerate(rows[1:], start=2):
        if line in junk_lines:
            continue
        lead = Lead.objects.get(campaign=campaign, contact__emails__email=cells[4])
        actual = (
            lead.status,
            lead_blockers([lead.pk]).get(lead.pk, ()),
            lead.contact_id in contacts_before,
            lead.pk in leads_before,
        )
        outcome = predicted[line]
        assert actual == (outcome.status, outcome.blocked_by, outcome.contact_existed, outcome.lead_existed), line
    assert Lead.objects.get(pk=in_campaign.pk).status == LeadStatus.ELIGIBLE


def test_the_preview_of_an_unreadable_mapping_says_why_and_writes_nothing():
    # given: a file whose columns the reader does not know is kept, and its preview says so
    campaign = CampaignFactory()
    lead_import = lead_import_create(
        campaign=campaign,
        stream=io.BytesIO(csv_bytes([["Vorname", "Telefon"], ["Ada", "2025550143"]])),
        filename="de.csv",
        actor=None,
        confirm=False,
    )
    # when / then
    with pytest.raises(LeadopsError, match="names no lead column"):
        lead_import_preview(lead_import=lead_import)
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "leads.csv", "is a PNG image, not a table"),
        (bytes(range(256)) * 20, "leads.csv", "binary file"),
        (b"PK\x03\x04" + b"\x00" * 200, "leads.xlsx", "not an Excel workbook"),
        (csv_bytes([HEADER]), "leads.csv", "the file has a header row and no values"),
        (csv_bytes([HEADER, ["", "", "", "", "", "", ""]]), "leads.csv", "the file has a header row and no values"),
    ],
)
def test_an_unreadable_or_header_only_file_is_refused_before_anything_is_stored(content, filename, message):
    with pytest.raises(LeadopsError, match=message) as excinfo:
        lead_import_create(
            campaign=CampaignFactory(), stream=io.BytesIO(content), filename=filename, actor=None, confirm=False
        )
    assert excinfo.value.field == "file"
    assert LeadImport.objects.count() == 0


def test_the_command_refuses_a_header_only_file(tmp_path):
    # given
    campaign = CampaignFactory()
    path = tmp_path / "empty.csv"
    path.write_bytes(csv_bytes([HEADER]))
    # when / then
    with pytest.raises(CommandError, match="the file has a header row and no values"):
        call_command("import_leads", "--campaign", str(campaign.pk), str(path))
    assert LeadImport.objects.count() == 0


def test_reading_ahead_yields_every_item_in_order_and_raises_where_the_reading_failed():
    from campaigns.imports.services.importing import read_ahead

    def items():
        yield from range(5)
        raise ValueError("line 6 cannot be read")

    seen = []
    with pytest.raises(ValueError, match="line 6 cannot be read"):
        for item in read_ahead(items(), depth=1):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]
    # a consumer that stops early stops the thread
    reader = read_ahead(iter(range(1_000_000)), depth=2)
    assert next(reader) == 0
    reader.close()


def test_the_preview_says_a_row_whose_every_number_is_listed_would_be_blocked_by_the_national_registry(tmp_path):
    from suppressions.services.registries import registry_load

    # given: a consumer campaign and a national copy listing the first row's number
    campaign = CampaignFactory(audience="consumer")
    path = tmp_path / "202.txt"
    path.write_text("2025550100\n")
    registry_load(registry="national", paths=[path], changes=False, job="test")
    rows = [
        HEADER,
        ["Ada", "Byron", "Acme", "acme.com", "ada@acme.com", "202-555-0100", "US"],
        ["Bob", "Clean", "Acme", "acme.com", "bob@acme.com", "202-555-0101", "US"],
    ]
    lead_import = lead_import_create(
        campaign=campaign, stream=io.BytesIO(csv_bytes(rows)), filename="crm.csv", actor=None, confirm=False
    )
    before = counts()
    # when
    predicted = lead_import_preview(lead_import=lead_import).outcomes
    # then: nothing written, and the words say which registry
    assert counts() == before
    assert predicted[2].describe() == "Would be blocked by the national Do-Not-Call registry"
    assert predicted[3].describe() == "Would be Eligible"
    # when the import runs, it makes what the preview said
    LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.QUEUED)
    lead_import_run(lead_import_id=lead_import.pk)
    ada = Lead.objects.get(campaign=campaign, contact__emails__email="ada@acme.com")
    assert (ada.status, lead_blockers([ada.pk])[ada.pk]) == (
        LeadStatus.DISQUALIFIED,
        ("the national Do-Not-Call registry",),
    )
