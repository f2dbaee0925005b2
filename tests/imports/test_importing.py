"""Lead import: header aliases, merging, idempotent re-import, junk, scrub before the pool, fit rules."""

import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command

from campaigns.imports.columns import LEAD_ALIASES
from campaigns.imports.models import FitRule, LeadImport, LeadImportIssue
from campaigns.imports.services import campaign_fit_evaluate, lead_import_create
from campaigns.models import Account, Block, Contact, ContactPhone, Lead, LeadStatus, PhoneNumber
from campaigns.services import BlockTarget, account_create, block_create
from leadops.errors import LeadopsError
from tests.campaigns.factories import CampaignFactory, ContactEmailFactory, ContactPhoneFactory, LeadFactory
from tests.suppressions.factories import EntryFactory, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADER = [
    "First Name",
    "Last Name",
    "Title",
    "Company",
    "Website",
    "Email",
    "Phone",
    "Mobile Phone",
    "Country",
    "Industry",
    "Employees",
    "Lead Source",
]


def row(
    first="Ada",
    last="Byron",
    title="CTO",
    company="Acme Corp",
    website="acme.com",
    email="ada@acme.com",
    phone="(202) 555-0143",
    mobile="",
    country="US",
    industry="Software",
    employees="120",
    source="Apollo",
):
    return [first, last, title, company, website, email, phone, mobile, country, industry, employees, source]


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    def run(campaign, content: bytes, *, filename="leads.csv", mapping=None):
        with django_capture_on_commit_callbacks(execute=True):
            lead_import = lead_import_create(
                campaign=campaign,
                stream=io.BytesIO(content),
                filename=filename,
                actor=None,
                column_mapping=mapping,
            )
        lead_import.refresh_from_db()
        return lead_import

    return run


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("First Name", "first_name"),
        ("firstname", "first_name"),
        ("Last_Name", "last_name"),
        ("Surname", "last_name"),
        ("Full Name", "full_name"),
        ("Name", "full_name"),
        ("Job Title", "title"),
        ("Company Name", "company"),
        ("Account Name", "company"),
        ("Website", "website"),
        ("Company Domain", "website"),
        ("E-mail Address", "email"),
        ("Phone", "phone"),
        ("Work Phone", "phone"),
        ("Mobile Phone", "mobile"),
        ("Cell", "mobile"),
        ("Direct Dial", "direct"),
        ("Other Phone", "other_phone"),
        ("Country", "country"),
        ("Industry", "industry"),
        ("# Employees", "employees"),
        ("Number of Employees", "employees"),
        ("Lead Source", "lead_source"),
    ],
)
def test_every_header_alias_family_is_recognised(header, field):
    assert LEAD_ALIASES.field_for(header) == field


def test_an_import_keeps_quotes_commas_backslashes_and_empty_cells_as_they_were(run_import):
    # given cells with what a COPY's text must escape (quotes, commas, backslashes, a semicolon) and empty ones
    campaign = CampaignFactory()
    content = csv_bytes(
        [
            HEADER,
            row(
                first='Ada "The Countess"',
                last="D'Arcy\\Byron, Jr.",
                title="",
                company='Acme, "Inc" \\N',
                website="",
                industry="Soft;ware \\t",
                source="",
            ),
        ]
    )
    # when
    lead_import = run_import(campaign, content)
    # then every value is stored as it was read, and an empty one as empty text
    assert (lead_import.status, lead_import.leads_created) == (LeadImport.Status.DONE, 1)
    contact = Contact.objects.select_related("account").get()
    assert (contact.first_name, contact.last_name, contact.title) == ('Ada "The Countess"', "D'Arcy\\Byron, Jr.", "")
    assert (contact.account.name, contact.account.domain) == ('Acme, "Inc" \\N', "")
    assert contact.account.attributes["industry"] == "Soft;ware \\t"
    assert Lead.objects.get().source == lead_import.source


def test_an_import_creates_accounts_contacts_numbers_and_eligible_leads(run_import):
    # given
    campaign = CampaignFactory()
    content = csv_bytes(
        [
            HEADER,
            row(),
            row(first="Bob", last="Stone", email="bob@acme.com", phone="202-555-0144", mobile="+1 202 555 0145"),
        ]
    )
    # when
    lead_import = run_import(campaign, content)
    # then
    assert lead_import.status == LeadImport.Status.DONE, lead_import.error
    assert (lead_import.rows_read, lead_import.leads_created, lead_import.junk) == (2, 2, 0)
    assert lead_import.eligible == 2
    assert Account.objects.get(customer=campaign.customer).domain == "acme.com"
    bob = Contact.objects.get(first_name="Bob")
    assert sorted(bob.phones.values_list("phone__e164", "kind")) == [
        ("+12025550144", ContactPhone.Kind.OFFICE),
        ("+12025550145", ContactPhone.Kind.MOBILE),
    ]
    assert bob.account.attributes == {"country": "US", "industry": "Software", "employees": "120"}
    assert set(Lead.objects.values_list("source", flat=True)) == {"Apollo"}


def test_reimporting_the_same_file_creates_nothing_and_says_so(run_import):
    # given
    campaign = CampaignFactory()
    content = csv_bytes([HEADER, row(), row(first="Bob", email="bob@acme.com", phone="202-555-0144")])
    run_import(campaign, content)
    counts = (Account.objects.count(), Contact.objects.count(), PhoneNumber.objects.count(), Lead.objects.count())
    # when
    again = run_import(campaign, content)
    # then
    assert (again.leads_created, again.leads_existing, again.accounts_created, again.contacts_created) == (0, 2, 0, 0)
    assert (
        Account.objects.count(),
        Contact.objects.count(),
        PhoneNumber.objects.count(),
        Lead.objects.count(),
    ) == counts
    out = io.StringIO()
    call_command("import_leads", "--campaign", str(campaign.pk), _tmp_file(content), stdout=out)
    assert "Nothing new" in out.getvalue()


def _tmp_file(content: bytes) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as handle:
        handle.write(content)
    return handle.name


def test_a_contact_is_matched_by_email_across_accounts(run_import):
    # given
    campaign = CampaignFactory()
    existing = ContactEmailFactory(contact__account__customer=campaign.customer, email="ada@acme.com").contact
    # when
    run_import(campaign, csv_bytes([HEADER, row(company="Acme Holdings", website="")]))
    # then
    assert Contact.objects.count() == 1
    assert Lead.objects.get().contact == existing


def test_a_contact_is_matched_by_name_and_a_shared_number_within_the_account(run_import):
    # given
    campaign = CampaignFactory()
    contact = ContactPhoneFactory(
        contact__account__customer=campaign.customer,
        contact__account__domain="acme.com",
        contact__first_name="Ada",
        contact__last_name="Byron",
        phone__e164="+12025550143",
    ).contact
    # when
    run_import(campaign, csv_bytes([HEADER, row(email="")]))
    # then
    assert Lead.objects.get().contact == contact


def test_an_account_is_matched_by_name_when_there_is_no_domain(run_import):
    # given
    campaign = CampaignFactory()
    account = account_create(customer=campaign.customer, name="Acme  Corp ")
    # when
    run_import(campaign, csv_bytes([HEADER, row(company="acme corp", website="")]))
    # then
    assert Contact.objects.get().account == account


def test_a_shared_switchboard_is_stored_once(run_import):
    # given
    campaign = CampaignFactory()
    content = csv_bytes([HEADER, row(), row(first="Bob", email="bob@acme.com"), row(first="Cy", email="cy@acme.com")])
    # when
    run_import(campaign, content)
    # then
    assert PhoneNumber.objects.filter(e164="+12025550143").count() == 1
    assert ContactPhone.objects.filter(phone__e164="+12025550143").count() == 3


def test_junk_rows_stay_out_with_their_rule_and_odd_but_valid_rows_pass(run_import):
    # given
    campaign = CampaignFactory()
    content = csv_bytes(
        [
            HEADER,
            row(first="Testing!£##", last="", email="!!!@mail.com", phone="123456789"),
            row(first="Seán", last="O'Brien", email="sean@acme.com", phone="202-555-0150"),
            row(first="José", last="Núñez", email="jose@acme.co.uk", phone="+44 20 7946 0958"),
            row(first="test", last="test", email="", phone="202-555-0151"),
        ]
    )
    # when
    lead_import = run_import(campaign, content)
    # then
    assert (lead_import.rows_read, lead_import.junk, lead_import.leads_created) == (4, 1, 3)
    issue = LeadImportIssue.objects.get(kind=LeadImportIssue.Kind.JUNK)
    assert issue.line_number == 2
    assert "name_test_value" in issue.rules and "no_possible_number" in issue.rules
    assert issue.cells[0] == "Testing!£##"
    assert Contact.objects.filter(last_name="Núñez").get().phones.get().phone.e164 == "+442079460958"


def test_imported_leads_are_scrubbed_against_active_suppressions(run_import):
    # given
    campaign = CampaignFactory()
    EntryFactory(customer=campaign.customer, kind="email", value="ada@acme.com")
    # when
    lead_import = run_import(
        campaign, csv_bytes([HEADER, row(), row(first="Bob", email="bob@acme.com", phone="202-555-0144")])
    )
    # then
    assert (lead_import.eligible, lead_import.disqualified) == (1, 1)
    assert lead_import.disqualified_by_source == {"suppression": 1}
    assert Lead.objects.get(contact__first_name="Ada").status == LeadStatus.DISQUALIFIED


def test_imported_leads_meet_existing_blocks_before_the_pool(run_import):
    # given: the number is already on the platform DNC list
    campaign = CampaignFactory()
    dnc_number = PhoneNumber.objects.create(e164="+12025550143")
    block_create(
        target=BlockTarget(phone=dnc_number),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
    )
    # when
    lead_import = run_import(campaign, csv_bytes([HEADER, row()]))
    # then
    assert lead_import.disqualified == 1
    assert lead_import.disqualified_by_source == {"ops_phone_dnc": 1}


def test_fit_rules_disqualify_on_import_and_lift_when_changed(run_import):
    # given
    campaign = CampaignFactory()
    rule = FitRule.objects.create(campaign=campaign, field="country", operator="in", values="US, CA")
    content = csv_bytes(
        [
            HEADER,
            row(),
            row(
                first="Bob",
                email="bob@acme.de",
                country="DE",
                phone="202-555-0144",
                company="Acme GmbH",
                website="acme.de",
            ),
        ]
    )
    # when
    lead_import = run_import(campaign, content)
    # then
    assert lead_import.disqualified_by_source == {"fit_rule": 1}
    bob = Lead.objects.get(contact__first_name="Bob")
    block = Block.objects.get(source=Block.Source.FIT_RULE)
    assert block.lead == bob and block.evidence_text == "country is one of US, CA; the lead's is DE"
    # when the rule widens
    rule.values = "US, CA, DE"
    rule.save()
    campaign_fit_evaluate(campaign=campaign)
    # then
    bob.refresh_from_db()
    assert bob.status == LeadStatus.ELIGIBLE


def test_a_lead_without_the_field_is_not_judged_by_the_rule():
    # given
    lead = LeadFactory()
    FitRule.objects.create(campaign=lead.campaign, field="employees", operator="between", minimum=50, maximum=500)
    # when
    totals = campaign_fit_evaluate(campaign=lead.campaign)
    # then
    assert totals == {"blocked": 0, "lifted": 0}


@pytest.mark.parametrize(
    ("field", "operator", "values", "bounds", "attrs", "title", "fails"),
    [
        ("employees", "between", "", (50, 500), {"employees": "1,200"}, "", True),
        ("employees", "between", "", (50, 500), {"employees": "51-200"}, "", False),
        ("industry", "not_in", "Gambling, Tobacco", (None, None), {"industry": "tobacco"}, "", True),
        ("title", "contains_any", "VP, Director, Chief", (None, None), {}, "Chief Technology Officer", False),
        ("title", "contains_none", "Intern, Student", (None, None), {}, "Marketing Intern", True),
    ],
)
def test_each_fit_operator(field, operator, values, bounds, attrs, title, fails):
    # given
    lead = LeadFactory(contact__title=title, contact__account__attributes=attrs)
    FitRule.objects.create(
        campaign=lead.campaign, field=field, operator=operator, values=values, minimum=bounds[0], maximum=bounds[1]
    )
    # when
    totals = campaign_fit_evaluate(campaign=lead.campaign)
    # then
    assert totals["blocked"] == (1 if fails else 0)


def test_unknown_columns_are_reported_and_a_mapping_places_them(run_import):
    # given
    campaign = CampaignFactory()
    content = csv_bytes(
        [["Vorname", "Nachname", "Tel. (Büro)", "Lieblingsfarbe"], ["Ada", "Byron", "2025550143", "blau"]]
    )
    # when
    lead_import = run_import(
        campaign, content, mapping={"Vorname": "first_name", "Nachname": "last_name", "Tel. (Büro)": "phone"}
    )
    # then
    assert lead_import.status == LeadImport.Status.DONE, lead_import.error
    assert lead_import.unknown_columns == ["Lieblingsfarbe"]
    assert lead_import.leads_created == 1


def test_a_file_with_no_known_columns_fails_with_the_reason_and_creates_nothing(run_import):
    # given
    campaign = CampaignFactory()
    # when
    lead_import = run_import(campaign, csv_bytes([["Vorname", "Telefon"], ["Ada", "2025550143"]]))
    # then
    assert lead_import.status == LeadImport.Status.FAILED
    assert "names no lead column" in lead_import.error
    assert Lead.objects.count() == 0


def test_a_mapping_to_an_unknown_field_is_refused_before_anything_is_stored():
    with pytest.raises(LeadopsError) as excinfo:
        lead_import_create(
            campaign=CampaignFactory(),
            stream=io.BytesIO(b"a\n1\n"),
            filename="x.csv",
            actor=None,
            column_mapping={"a": "shoe_size"},
        )
    assert excinfo.value.field == "column_mapping"
    assert LeadImport.objects.count() == 0


def test_xlsx_imports_the_same(run_import):
    campaign = CampaignFactory()
    lead_import = run_import(campaign, xlsx_bytes([HEADER, row()]), filename="leads.xlsx")
    assert lead_import.leads_created == 1


def test_the_import_is_set_based(run_import, django_assert_max_num_queries):
    # given: the same import shape at 10 and 300 rows costs the same number of queries
    def content(n):
        return csv_bytes(
            [HEADER] + [row(first=f"P{i}", email=f"p{i}@acme.com", phone=f"202-555-{1000 + i}") for i in range(n)]
        )

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        run_import(CampaignFactory(), content(10))
    with CaptureQueriesContext(connection) as large:
        run_import(CampaignFactory(), content(300))
    # then
    assert len(large.captured_queries) <= len(small.captured_queries) + 5


def test_the_import_is_set_based_at_thousands_of_rows(run_import):
    # given: on every backend, 2,000 rows (one batch) cost what 10 rows cost, give or take a few statements
    def content(n):
        return csv_bytes(
            [HEADER] + [row(first=f"P{i}", email=f"p{i}@acme.com", phone=f"202-555-{1000 + i:04d}") for i in range(n)]
        )

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        run_import(CampaignFactory(), content(10))
    with CaptureQueriesContext(connection) as large:
        run_import(CampaignFactory(), content(2_000))
    # then
    assert large.captured_queries and len(large.captured_queries) <= len(small.captured_queries) + 5
    assert Lead.objects.count() == 2_010


def test_a_mapping_names_a_column_by_position_as_a_suppression_upload_does(run_import):
    # given a file without a header row, its columns mapped by position ("#3" is the third column)
    campaign = CampaignFactory()
    content = csv_bytes([["Ada", "Byron", "2025550143"], ["Grace", "Hopper", "2025550144"]])
    # when it is imported
    lead_import = run_import(campaign, content, mapping={"#1": "first_name", "#2": "last_name", "#3": "phone"})
    # then every row is a lead, read from the columns the mapping names
    assert lead_import.status == LeadImport.Status.DONE, lead_import.error
    assert lead_import.leads_created == 2
    assert sorted(Lead.objects.values_list("contact__first_name", "contact__last_name")) == [
        ("Ada", "Byron"),
        ("Grace", "Hopper"),
    ]


def test_a_header_that_is_a_number_is_a_header_name_in_a_mapping(run_import):
    # given a file whose phone column is headed "2024" and a mapping that names that header
    campaign = CampaignFactory()
    content = csv_bytes([["First Name", "2024"], ["Ada", "2025550143"]])
    # when it is imported
    lead_import = run_import(campaign, content, mapping={"First Name": "first_name", "2024": "phone"})
    # then "2024" is the header, not the 2024th column
    assert lead_import.status == LeadImport.Status.DONE, lead_import.error
    assert Lead.objects.get().contact.phones.get().phone.e164 == "+12025550143"


def test_stored_mappings_by_bare_position_are_rewritten_with_the_number_sign():
    # given imports stored before the one syntax: "2" named the second column
    campaign = CampaignFactory()
    stored = {"campaign": campaign, "original_name": "leads.csv", "file": "imports/leads.csv"}
    old = LeadImport.objects.create(**stored, column_mapping={"2": "phone", "Vorname": "first_name", "2024": "ignore"})
    untouched = LeadImport.objects.create(**stored, column_mapping={"#3": "email"})
    migration = importlib.import_module("campaigns.imports.migrations.0002_column_mapping_number_sign")
    # when the data migration runs (on the current models, which have the same column)
    migration.numbers_get_a_sign(django_apps, None)
    # then a bare number gains its "#", headers and new mappings stay as they were
    old.refresh_from_db()
    untouched.refresh_from_db()
    assert old.column_mapping == {"#2": "phone", "Vorname": "first_name", "#2024": "ignore"}
    assert untouched.column_mapping == {"#3": "email"}


# --- the registries ---------------------------------------------------------------------------------------


def _registry_load(tmp_path, *numbers: str):
    from suppressions.services.registries import registry_load

    path = tmp_path / "202.txt"
    path.write_text("".join(f"{number}\n" for number in numbers))
    return registry_load(registry="national", paths=[path], changes=False, job="test")


def test_a_consumer_import_blocks_a_row_whose_every_number_is_on_a_registry_and_counts_it(run_import, tmp_path):
    # given: a consumer campaign and a national copy listing 202-555-0143 and 202-555-0150
    campaign = CampaignFactory(audience="consumer")
    _registry_load(tmp_path, "2025550143", "2025550150")
    rows = [
        HEADER,
        row(),  # its only number listed
        row(first="Bob", email="bob@acme.com", phone="202-555-0150", mobile="202-555-0151"),  # one clean number
        row(first="Cy", email="cy@acme.com", phone="202-555-0152"),
    ]
    # when
    lead_import = run_import(campaign, csv_bytes(rows))
    # then
    assert (lead_import.eligible, lead_import.disqualified) == (2, 1)
    assert lead_import.disqualified_by_source == {"registry": 1}
    ada = Lead.objects.get(contact__first_name="Ada")
    assert ada.status == LeadStatus.DISQUALIFIED
    blocked = Block.objects.filter(source=Block.Source.REGISTRY, campaign=campaign, lifted_at__isnull=True)
    assert set(blocked.values_list("phone__e164", flat=True)) == {"+12025550143", "+12025550150"}


def test_an_exempted_business_campaigns_import_is_not_scrubbed_against_the_registries(run_import, tmp_path):
    from suppressions.services.registries import registry_exemption_grant
    from tests.campaigns.factories import UserFactory

    campaign = CampaignFactory(audience="business")
    registry_exemption_grant(campaign=campaign, reason="Office lines.", actor=UserFactory(is_staff=True))
    _registry_load(tmp_path, "2025550143")
    # when
    lead_import = run_import(campaign, csv_bytes([HEADER, row()]))
    # then
    assert (lead_import.eligible, lead_import.disqualified) == (1, 0)
    assert not Block.objects.filter(source=Block.Source.REGISTRY).exists()
