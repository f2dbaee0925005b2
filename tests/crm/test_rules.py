"""CRM rules: each operator, matching by domain / email / phone, automatic lift, re-evaluation."""

import pytest
from django.utils import timezone

from campaigns.models import Block, LeadStatus
from campaigns.selectors import explain
from campaigns.services import lead_undisqualify
from suppressions.crm.models import CrmMatch, CrmRecord, CrmRule
from suppressions.crm.services import (
    crm_events_process,
    crm_events_receive,
    crm_rule_evaluate,
    crm_rule_templates_add,
    crm_rules_evaluate,
    matching_records,
)
from tests.campaigns.factories import ContactEmailFactory, ContactPhoneFactory, LeadFactory
from tests.crm.factories import CrmConnectionFactory, CrmRuleFactory

pytestmark = pytest.mark.django_db


def sync(connection, *events):
    """Receive and process events as the webhook and the worker would."""
    crm_events_receive(connection=connection, events=list(events))
    return crm_events_process(connection=connection)


_ids = iter(range(1, 10**9))


def upsert(object_type, external_id, **fields):
    return {
        "id": f"ev-{next(_ids)}",
        "action": "upsert",
        "object_type": object_type,
        "external_id": str(external_id),
        **fields,
    }


def status(lead):
    lead.refresh_from_db(fields=["status"])
    return lead.status


@pytest.mark.parametrize(
    ("operator", "value", "properties", "matches"),
    [
        ("equals", "customer", {"p": "Customer"}, True),
        ("equals", "customer", {"p": "lead"}, False),
        ("in", "customer, evangelist", {"p": "evangelist"}, True),
        ("in", "customer, evangelist", {"p": "lead"}, False),
        ("not_in", "closedwon, closedlost", {"p": "appointmentscheduled"}, True),
        ("not_in", "closedwon, closedlost", {"p": "closedwon"}, False),
        ("not_in", "closedwon, closedlost", {}, False),
        ("contains", "enterprise", {"p": "Big Enterprise Co"}, True),
        ("contains", "enterprise", {"p": "smb"}, False),
        ("is_set", "", {"p": "anything"}, True),
        ("is_set", "", {"p": ""}, False),
        ("is_set", "", {}, False),
        ("gt", "1000", {"p": "5000"}, True),
        ("gt", "1000", {"p": 500}, False),
        ("gt", "1000", {"p": "n/a"}, False),
        ("lt", "1000", {"p": 10}, True),
        ("gt", "2026-01-01", {"p": "2026-06-30"}, True),
        ("lt", "2026-01-01", {"p": "2026-06-30"}, False),
        # The same on both backends: a JSON null is not set, a boolean reads as its word, a float as a number.
        ("is_set", "", {"p": None}, False),
        ("equals", "true", {"p": True}, True),
        ("not_in", "false", {"p": True}, True),
        ("gt", "1000", {"p": 1500.5}, True),
        ("lt", "1000", {"p": "999.5"}, True),
        ("lt", "2026-01-01", {"p": "2025-12-31"}, True),
    ],
)
def test_each_operator(operator, value, properties, matches):
    # given
    connection = CrmConnectionFactory()
    rule = CrmRuleFactory(customer=connection.customer, property="p", operator=operator, value=value)
    sync(connection, upsert("company", 1, properties=properties))
    # when
    found = matching_records(rule).exists()
    # then
    assert found is matches


def test_company_rule_disqualifies_accounts_on_the_domain_and_its_subdomains_only():
    # given
    connection = CrmConnectionFactory()
    customer = connection.customer
    main = LeadFactory(campaign__customer=customer, contact__account__domain="acme.com")
    sub = LeadFactory(campaign=main.campaign, contact__account__domain="eu.acme.com")
    other = LeadFactory(campaign=main.campaign, contact__account__domain="notacme.com")
    CrmRuleFactory(customer=customer, name="Existing customers")
    # when
    sync(
        connection, upsert("company", 7, name="Acme Corp", domain="acme.com", properties={"lifecyclestage": "customer"})
    )
    # then
    assert status(main) == LeadStatus.DISQUALIFIED
    assert status(sub) == LeadStatus.DISQUALIFIED
    assert status(other) == LeadStatus.ELIGIBLE


def test_rules_never_reach_another_customers_accounts():
    # given
    connection = CrmConnectionFactory()
    stranger = LeadFactory(contact__account__domain="acme.com")
    CrmRuleFactory(customer=connection.customer)
    # when
    sync(connection, upsert("company", 7, domain="acme.com", properties={"lifecyclestage": "customer"}))
    # then
    assert status(stranger) == LeadStatus.ELIGIBLE


def test_open_deal_disqualifies_the_account_of_its_company_domain():
    # given
    connection = CrmConnectionFactory()
    lead = LeadFactory(campaign__customer=connection.customer, contact__account__domain="initech.com")
    crm_rule_templates_add(customer=connection.customer, actor="tests")
    # when
    sync(
        connection,
        upsert(
            "deal", 9, name="Initech renewal", domain="initech.com", properties={"dealstage": "presentationscheduled"}
        ),
    )
    # then
    assert status(lead) == LeadStatus.DISQUALIFIED
    (reason,) = explain(lead)
    assert reason.code == "crm_rule"
    assert "rule 'Open deals'" in reason.message
    assert "dealstage = presentationscheduled" in reason.message


def test_contact_rule_matches_by_email_and_by_phone():
    # given
    connection = CrmConnectionFactory()
    customer = connection.customer
    by_email = LeadFactory(campaign__customer=customer)
    ContactEmailFactory(contact=by_email.contact, email="ada@acme.com", domain="acme.com")
    by_phone = LeadFactory(campaign=by_email.campaign, with_phone=False)
    ContactPhoneFactory(contact=by_phone.contact, phone__e164="+12025550143")
    bystander = LeadFactory(campaign=by_email.campaign)
    CrmRuleFactory(
        customer=customer,
        object_type="contact",
        effect=CrmRule.Effect.CONTACT,
        property="lifecyclestage",
        value="customer",
    )
    # when
    sync(
        connection,
        upsert("contact", 1, emails=["ADA@acme.com"], properties={"lifecyclestage": "customer"}),
        upsert("contact", 2, phones=["(202) 555-0143"], properties={"lifecyclestage": "customer"}),
    )
    # then
    assert status(by_email) == LeadStatus.DISQUALIFIED
    assert status(by_phone) == LeadStatus.DISQUALIFIED
    assert status(bystander) == LeadStatus.ELIGIBLE


def test_a_record_that_stops_matching_lifts_its_blocks():
    # given
    connection = CrmConnectionFactory()
    lead = LeadFactory(campaign__customer=connection.customer, contact__account__domain="acme.com")
    CrmRuleFactory(customer=connection.customer)
    sync(connection, upsert("company", 7, domain="acme.com", properties={"lifecyclestage": "customer"}))
    assert status(lead) == LeadStatus.DISQUALIFIED
    # when
    sync(connection, upsert("company", 7, properties={"lifecyclestage": "former_customer"}))
    # then
    assert status(lead) == LeadStatus.ELIGIBLE
    block = Block.objects.get(source=Block.Source.CRM_RULE)
    assert block.lifted_by_job == "crm.rules"
    assert "no longer matches" in block.lift_reason


def test_a_deleted_record_lifts_its_blocks():
    # given
    connection = CrmConnectionFactory()
    lead = LeadFactory(campaign__customer=connection.customer, contact__account__domain="acme.com")
    CrmRuleFactory(customer=connection.customer)
    sync(connection, upsert("company", 7, domain="acme.com", properties={"lifecyclestage": "customer"}))
    # when
    sync(connection, {"id": "del-7", "action": "delete", "object_type": "company", "external_id": "7"})
    # then
    assert status(lead) == LeadStatus.ELIGIBLE


def test_changing_a_rule_re_evaluates_every_record(django_capture_on_commit_callbacks):
    # given
    connection = CrmConnectionFactory()
    lead = LeadFactory(campaign__customer=connection.customer, contact__account__domain="acme.com")
    rule = CrmRuleFactory(customer=connection.customer, value="evangelist")
    sync(connection, upsert("company", 7, domain="acme.com", properties={"lifecyclestage": "customer"}))
    assert status(lead) == LeadStatus.ELIGIBLE
    # when
    from suppressions.crm.services.rules import crm_rule_changed

    rule.value = "customer"
    rule.save()
    with django_capture_on_commit_callbacks(execute=True):
        crm_rule_changed(rule=rule)
    # then
    assert status(lead) == LeadStatus.DISQUALIFIED


def test_switching_a_rule_off_lifts_its_blocks():
    # given
    connection = CrmConnectionFactory()
    lead = LeadFactory(campaign__customer=connection.customer, contact__account__domain="acme.com")
    rule = CrmRuleFactory(customer=connection.customer)
    sync(connection, upsert("company", 7, domain="acme.com", properties={"lifecyclestage": "customer"}))
    # when
    rule.is_active = False
    rule.save()
    crm_rule_evaluate(rule=rule)
    # then
    assert status(lead) == LeadStatus.ELIGIBLE


def test_evaluating_twice_changes_nothing():
    # given
    connection = CrmConnectionFactory()
    LeadFactory(campaign__customer=connection.customer, contact__account__domain="acme.com")
    CrmRuleFactory(customer=connection.customer)
    sync(connection, upsert("company", 7, domain="acme.com", properties={"lifecyclestage": "customer"}))
    blocks_before = list(Block.objects.values_list("pk", "lifted_at"))
    # when
    again = crm_rules_evaluate(customer=connection.customer)
    # then
    assert again == {"opened": 0, "ended": 0, "blocked": 0, "lifted": 0}
    assert list(Block.objects.values_list("pk", "lifted_at")) == blocks_before


def test_a_block_ops_lifted_is_not_recreated_while_the_record_still_matches(ops_user):
    # given
    connection = CrmConnectionFactory()
    lead = LeadFactory(campaign__customer=connection.customer, contact__account__domain="acme.com")
    CrmRuleFactory(customer=connection.customer)
    sync(connection, upsert("company", 7, domain="acme.com", properties={"lifecyclestage": "customer"}))
    lead_undisqualify(lead=lead, actor=ops_user, reason="Customer says this subsidiary is fair game")
    # when
    crm_rules_evaluate(customer=connection.customer)
    sync(connection, upsert("company", 7, name="Acme Corp renamed"))
    # then
    assert status(lead) == LeadStatus.ELIGIBLE
    assert Block.objects.filter(source=Block.Source.CRM_RULE).count() == 1


def test_a_record_that_matches_again_later_is_blocked_again():
    # given
    connection = CrmConnectionFactory()
    lead = LeadFactory(campaign__customer=connection.customer, contact__account__domain="acme.com")
    CrmRuleFactory(customer=connection.customer)
    sync(connection, upsert("company", 7, domain="acme.com", properties={"lifecyclestage": "customer"}))
    sync(connection, upsert("company", 7, properties={"lifecyclestage": "churned"}))
    # when
    sync(connection, upsert("company", 7, properties={"lifecyclestage": "customer"}))
    # then
    assert status(lead) == LeadStatus.DISQUALIFIED
    assert CrmMatch.objects.count() == 2


@pytest.mark.postgres("the planner's statistics are PostgreSQL's")
def test_a_first_sync_tells_the_planner_how_many_records_and_episodes_it_made():
    # given: a connection's tables analysed while empty (a new customer's first sync); planned as empty, the
    # rules' matching of each chunk read every record per episode (a 20,000-record sync: a minute, not seconds)
    from django.db import connection as db

    connection = CrmConnectionFactory()
    CrmRuleFactory(customer=connection.customer)
    with db.cursor() as cursor:
        for table in ("crm_crmrecord", "crm_crmmatch"):
            cursor.execute(f"ANALYZE {table}")
    events = [
        upsert(
            "company", n, name=f"Company {n}", domain=f"company-{n}.example", properties={"lifecyclestage": "customer"}
        )
        for n in range(3_000)
    ]
    crm_events_receive(connection=connection, events=events)
    # when: synced in chunks, all in this test's one transaction (autovacuum sees none of it)
    crm_events_process(connection=connection, chunk=1_000)
    # then: the statements after the first chunk were planned knowing its rows
    with db.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname IN ('crm_crmrecord', 'crm_crmmatch')")
        believed = dict(cursor.fetchall())
    assert believed["crm_crmrecord"] >= 1_000, believed
    assert believed["crm_crmmatch"] >= 1_000, believed


def test_a_20000_record_sync_in_five_chunks_is_set_based(django_assert_max_num_queries):
    # Five chunks of 4,000: the statements a sync costs depend on its chunks, never on its records.
    # given
    connection = CrmConnectionFactory()
    LeadFactory(campaign__customer=connection.customer, contact__account__domain="company-42.example")
    CrmRuleFactory(customer=connection.customer)
    events = [
        upsert(
            "company",
            n,
            name=f"Company {n}",
            domain=f"company-{n}.example",
            properties={"lifecyclestage": "customer" if n % 2 == 0 else "lead"},
        )
        for n in range(20_000)
    ]
    crm_events_receive(connection=connection, events=events)
    # when
    started = timezone.now()
    with django_assert_max_num_queries(160):
        totals = crm_events_process(connection=connection, chunk=4_000)
    # then
    assert totals == {"processed": 20_000, "failed": 0, "records": 20_000}
    assert CrmRecord.objects.filter(connection=connection).count() == 20_000
    assert CrmMatch.objects.filter(ended_at__isnull=True).count() == 10_000
    assert Block.objects.filter(source=Block.Source.CRM_RULE, created_at__gte=started).count() == 1
