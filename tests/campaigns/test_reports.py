"""The lead report's figures, on a scene whose every number is known by construction (``report_scenes``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from campaigns.models import Block, Lead, LeadFact
from campaigns.selectors.reports import (
    COLUMNS,
    CUSTOMER,
    OPS,
    ReportQuery,
    cell_from_param,
    cell_leads,
    cell_of,
    lead_report,
    query_from_params,
)
from campaigns.services.reporting import lead_facts_compute, lead_facts_refresh, size_band
from leadops.errors import LeadopsError
from tests.campaigns.report_scenes import MONDAY, report_scene

pytestmark = pytest.mark.django_db

PERIOD = {"since": date(2026, 2, 23), "until": date(2026, 3, 31)}


@pytest.fixture
def scene():
    return report_scene()


def _rows(report):
    return {row.labels: row for row in report.rows}


def test_every_column_by_source_is_what_the_scene_made(scene):
    # when
    report = lead_report(ReportQuery(customer_id=scene.customer.pk, by=("source",), **PERIOD))

    # then
    rows = _rows(report)
    assert set(rows) == {("Vendor A",), ("Webinar",)}
    vendor, webinar = rows[("Vendor A",)].counts, rows[("Webinar",)].counts
    assert {k: v for k, v in vendor.items() if v} == {
        "leads": 5,
        "junk": 2,
        "entry": 3,
        "entry_existing": 1,
        "entry_suppression": 1,
        "entry_fit_rule": 1,
        "entered": 2,
        "attempted": 2,
        "connected": 1,
        "meeting": 1,
        "qualified": 1,
        "has_phone": 5,
        "has_email": 2,
        "has_title": 1,
        "has_industry": 5,
        "has_size": 2,
        "has_country": 1,
    }
    assert {k: v for k, v in webinar.items() if v} == {
        "leads": 4,
        "no_number": 1,
        "entered": 3,
        "attempted": 2,
        "connected": 2,
        "meeting": 1,
        "unqualified": 1,
        "unqualified_not_qualified": 1,
        "later": 3,
        "later_meeting_outcome": 1,
        "later_ops_disqualify": 1,
        "later_disposition": 1,
        "has_phone": 3,
        "has_industry": 3,
    }
    assert report.total.counts["leads"] == 9 and report.total.counts["junk"] == 2


def test_rates_divide_the_columns_they_name(scene):
    report = lead_report(ReportQuery(customer_id=scene.customer.pk, by=("source",), **PERIOD))
    vendor, webinar = _rows(report)[("Vendor A",)], _rows(report)[("Webinar",)]

    assert vendor.rate("acceptance") == pytest.approx(2 / 7)  # entered ÷ (leads in + junk)
    assert vendor.rate("contact") == pytest.approx(1 / 2)
    assert vendor.rate("meeting_conversion") == pytest.approx(1 / 2)
    assert vendor.rate("qualified_rate") == 1
    assert vendor.rate("coverage_has_email") == pytest.approx(2 / 5)
    assert webinar.rate("acceptance") == pytest.approx(3 / 4)
    assert webinar.rate("qualified_rate") == 0
    assert webinar.rate("coverage_has_title") == 0
    assert report.total.rate("acceptance") == pytest.approx(5 / 11)


def test_two_dimensions_split_rows_and_junk_has_no_industry(scene):
    report = lead_report(ReportQuery(customer_id=scene.customer.pk, by=("campaign", "industry"), **PERIOD))

    rows = {labels: row.counts for labels, row in _rows(report).items()}
    assert rows[("Clinics", "Health")]["leads"] == 4  # a1 a2 a3 w3
    assert rows[("Clinics", "Retail")]["leads"] == 3  # a4 a5 w1
    assert rows[("Clinics", "(not known)")] == {**rows[("Clinics", "(not known)")], "leads": 1, "junk": 2}  # w2
    assert rows[("Labs", "Health")]["leads"] == 1


def test_size_bands_and_segments(scene):
    report = lead_report(ReportQuery(customer_id=scene.customer.pk, by=("size",), **PERIOD))

    assert {labels: row.counts["leads"] for labels, row in _rows(report).items()} == {
        ("51-200",): 1,
        ("1001-5000",): 1,
        ("(not known)",): 7,
    }
    assert [size_band(v) for v in ("7", "11", "51-200", "1,200", "5001", "", "n/a", "0")] == [
        "1-10",
        "11-50",
        "51-200",
        "1001-5000",
        "5001+",
        "",
        "",
        "",
    ]


def test_period_leaves_out_leads_that_came_in_before_it(scene):
    inside = lead_report(ReportQuery(customer_id=scene.customer.pk, by=("source",), **PERIOD))
    open_ended = lead_report(ReportQuery(customer_id=scene.customer.pk, by=("source",)))

    assert inside.total.counts["leads"] == 9
    assert open_ended.total.counts["leads"] == 10


def test_weekly_trend_counts_each_week_that_came_in(scene):
    report = lead_report(ReportQuery(customer_id=scene.customer.pk, by=("source",)))

    weeks = {row.key[0]: row.counts for row in report.weeks}
    assert sorted(weeks) == [date(2026, 2, 9), date(2026, 3, 2)]
    assert weeks[date(2026, 3, 2)]["leads"] == 9 and weeks[date(2026, 3, 2)]["junk"] == 2
    assert weeks[date(2026, 3, 2)]["entered"] == 5 and weeks[date(2026, 3, 2)]["meeting"] == 2
    assert weeks[date(2026, 2, 9)]["leads"] == 1


def test_false_blocks_are_the_blocks_of_the_period_later_lifted_by_source_and_lifter(scene):
    query = ReportQuery(customer_id=scene.customer.pk, by=("source",), **PERIOD)

    ops = lead_report(query, audience=OPS).false_blocks
    customer = lead_report(query, audience=CUSTOMER).false_blocks

    # the account block of 20 February is outside; the platform-wide DNC is nobody's customer's
    assert {(s, made, lifted) for s, _, made, lifted in ops.by_source} == {
        (Block.Source.MEETING_OUTCOME, 2, 0),
        (Block.Source.SUPPRESSION, 1, 1),
        (Block.Source.FIT_RULE, 1, 1),
        (Block.Source.OPS_DISQUALIFY, 1, 0),
    }
    assert (ops.made, ops.lifted) == (5, 2)
    assert dict(ops.by_lifter) == {"ops.olga": 1, "automatically (a rule or job)": 1}
    assert dict(customer.by_lifter) == {"the agency": 1, "automatically (a rule or job)": 1}


def test_fit_rule_change_compares_the_leads_before_with_those_after(scene):
    report = lead_report(ReportQuery(customer_id=scene.customer.pk, by=("source",), **PERIOD))

    (comparison,) = report.comparisons
    assert comparison.who == "ops.olga"
    assert comparison.change.rules_after == ["industry is one of Health"]
    before, after = comparison.before, comparison.after
    assert (before.counts["leads"], before.counts["entered"], before.counts["junk"]) == (1, 1, 0)
    assert before.rate("acceptance") == 1
    # after: the 8 Clinics leads of Monday and its 2 junk rows; entered a1 a2 w2 w3; meetings a2 w2
    assert (after.counts["leads"], after.counts["junk"], after.counts["entered"], after.counts["meeting"]) == (
        8,
        2,
        4,
        2,
    )
    assert after.rate("acceptance") == pytest.approx(4 / 10)
    assert after.rate("meeting_conversion") == pytest.approx(2 / 4)
    assert lead_report(ReportQuery(customer_id=scene.customer.pk), audience=CUSTOMER).comparisons[0].who == "the agency"


def test_each_number_lists_exactly_the_leads_it_counts(scene):
    query = ReportQuery(customer_id=scene.customer.pk, by=("source", "campaign"), **PERIOD)
    report = lead_report(query)

    checked = 0
    for row in [*report.rows, None]:
        for column in COLUMNS:
            cell = cell_of(query, column.key, row)
            if cell is None:
                continue
            counted = (row or report.total).counts[column.key]
            # the link's text is read back the way the pages read it
            again = cell_from_param(cell.to_param(), customer_id=scene.customer.pk)
            assert cell_leads(again).count() == counted, (row and row.labels, column.key)
            checked += 1
    assert checked > 100
    vendor = next(r for r in report.rows if r.labels == ("Vendor A", "Clinics"))
    fit = cell_from_param(cell_of(query, "entry_fit_rule", vendor).to_param(), customer_id=scene.customer.pk)
    assert list(cell_leads(fit)) == [scene.leads["a5"]]


def test_a_customer_cell_is_scoped_to_the_customer_whatever_it_names(scene):
    # given: a cell naming the other customer
    query = ReportQuery(customer_id=scene.other_customer.pk, by=("source",))
    text = cell_of(query, "leads").to_param()

    # when: read for Northwind
    cell = cell_from_param(text, customer_id=scene.customer.pk)

    # then
    assert cell.query.customer_id == scene.customer.pk
    assert not cell_leads(cell).filter(customer=scene.other_customer).exists()


def test_the_rollup_equals_the_live_computation_after_every_change(scene):
    # given: a change after the refresh (a new lead, a lift)
    new = Lead.objects.create(
        customer=scene.customer,
        campaign=scene.clinics,
        contact=scene.leads["w1"].contact.account.contacts.create(customer=scene.customer, first_name="Neu"),
        source="Webinar",
    )
    Block.objects.filter(lead=scene.leads["w3"]).update(
        lifted_at=MONDAY + timedelta(days=4), lifted_by=scene.ops, lift_reason="x"
    )
    stale = {f.lead_id: f for f in LeadFact.objects.filter(customer=scene.customer)}
    assert new.pk not in stale

    # when
    lead_facts_refresh(customer=scene.customer, actor="tests")

    # then: every stored row is the live computation of its lead, field for field
    ids = list(Lead.objects.filter(customer=scene.customer).values_list("pk", flat=True))
    live = {f.lead_id: f for f in lead_facts_compute(Lead.objects.filter(pk__in=ids), now=MONDAY)}
    stored = {f.lead_id: f for f in LeadFact.objects.filter(customer=scene.customer)}
    names = [f.attname for f in LeadFact._meta.fields if f.name != "refreshed_at"]
    assert {pk: [getattr(f, n) for n in names] for pk, f in stored.items()} == {
        pk: [getattr(f, n) for n in names] for pk, f in live.items()
    }
    # and the report's GROUP BY equals counting the live facts by hand
    report = lead_report(ReportQuery(customer_id=scene.customer.pk, by=("source",)))
    for row in report.rows:
        facts = [f for f in live.values() if f.source == row.key[0]]
        assert row.counts["leads"] == len(facts)
        assert row.counts["entered"] == sum(f.has_phone and not f.entry_disqualified for f in facts)
        assert row.counts["later"] == sum(f.later_any for f in facts)
        assert row.counts["entry"] == sum(
            any((f.entry_existing, f.entry_suppression, f.entry_crm_rule, f.entry_fit_rule, f.entry_other))
            for f in facts
        )
        assert row.counts["connected"] == sum(f.connected for f in facts)


def test_bad_parameters_say_what_is_wrong():
    with pytest.raises(LeadopsError, match="cannot be grouped by colour"):
        query_from_params({"by": "colour"}, customer_id=1)
    with pytest.raises(LeadopsError, match="one or two"):
        query_from_params({"by": "source,industry,title"}, customer_id=1)
    with pytest.raises(LeadopsError, match="since: '31/03/2026' is not a date"):
        query_from_params({"since": "31/03/2026"}, customer_id=1)
    with pytest.raises(LeadopsError, match="ends before it starts"):
        query_from_params({"since": "2026-03-02", "until": "2026-03-01"}, customer_id=1)
    with pytest.raises(LeadopsError, match="one customer"):
        query_from_params({"by": "customer"}, customer_id=1)


def test_a_fit_rule_change_is_recorded_with_who_and_the_rules_before_and_after(django_capture_on_commit_callbacks):
    from campaigns.imports.models import FitRule
    from campaigns.imports.services import FitRuleSpec, fit_rules_save
    from campaigns.models import FitRuleChange
    from tests.campaigns.factories import CampaignFactory, UserFactory

    # given
    campaign = CampaignFactory()
    olga = UserFactory(username="olga")
    spec = FitRuleSpec(field=FitRule.Field.COUNTRY, operator=FitRule.Operator.IN, values="US, CA")

    # when: a rule added, then switched off, then saved again unchanged
    with django_capture_on_commit_callbacks(execute=True):
        (rule,) = fit_rules_save(campaign=campaign, added=[spec], actor=olga)
    with django_capture_on_commit_callbacks(execute=True):
        fit_rules_save(
            campaign=campaign, changed={rule.pk: FitRuleSpec(**{**spec.__dict__, "is_active": False})}, actor=olga
        )
    with django_capture_on_commit_callbacks(execute=True):
        fit_rules_save(
            campaign=campaign, changed={rule.pk: FitRuleSpec(**{**spec.__dict__, "is_active": False})}, actor=olga
        )

    # then
    changes = list(FitRuleChange.objects.filter(campaign=campaign).order_by("at", "pk"))
    assert [(c.actor, c.rules_before, c.rules_after) for c in changes] == [
        (olga, [], ["country is one of US, CA"]),
        (olga, ["country is one of US, CA"], []),
    ]
    assert changes[0].summary == "added: country is one of US, CA"
    assert changes[1].summary == "changed: country is one of US, CA (switched off)"


def test_every_block_source_has_its_later_flag_in_the_lead_facts():
    # A block source added later needs its flag (and a migration): the report counts flags, not strings.
    names = {f.name for f in LeadFact._meta.fields}
    assert {f"later_{source}" for source in Block.Source.values} <= names


def test_the_later_columns_name_each_source_in_its_own_casing():
    # The workflows' names and DNC, CRM kept: the headings read "later: mark phone dnc workflow" before.
    headings = {column.key: column.label for column in COLUMNS}
    assert {f"later_{s}" for s in Block.Source.values} <= set(headings)
    assert headings["later_ops_phone_dnc"] == "later: Mark Phone DNC workflow"
    assert headings["later_crm_rule"] == "later: CRM rule"
    assert headings["later_registry"] == "later: Do-Not-Call registry"
    assert headings["later_customer_dnc"] == "later: customer Do Not Call"
    assert headings["later_disposition"] == "later: call disposition"
