"""The CRM admin writes through the services: connections, rules (each change re-evaluates the customer's
records) and the standard rules added for a selection of any size in the same few statements."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.urls import reverse

from campaigns.models import DISQUALIFY_REASONS, Block, Customer, LeadStatus
from suppressions.crm.models import CrmConnection, CrmRule
from suppressions.crm.services import crm_events_process, crm_events_receive, crm_rules_templates_add
from tests.campaigns.factories import CustomerFactory, LeadFactory
from tests.crm.factories import CrmConnectionFactory, CrmRuleFactory
from tests.previewing import preview_then_save
from tests.statements import database_refuses, statements_of

pytestmark = pytest.mark.django_db

STANDARD = {"Existing customers", "Open deals"}


def customers(n: int) -> list[Customer]:
    return [CustomerFactory() for _ in range(n)]


def of(rows: list[Customer]):
    return Customer.objects.filter(pk__in=[c.pk for c in rows])


def rule_names(customer: Customer) -> set[str]:
    return set(CrmRule.objects.filter(customer=customer).values_list("name", flat=True))


# --- the standard rules, set-based ----------------------------------------------------------------------


def test_the_standard_rules_are_added_to_each_customer_that_lacks_them():
    # given: one customer has an "Open deals" rule of its own already
    first, second = customers(2)
    own = CrmRuleFactory(customer=second, name="Open deals", value="mine")
    # when
    added = crm_rules_templates_add(customers=of([first, second]), actor="tests")
    # then
    assert sorted((r.customer_id, r.name) for r in added) == sorted(
        [(first.pk, "Existing customers"), (first.pk, "Open deals"), (second.pk, "Existing customers")]
    )
    assert rule_names(first) == rule_names(second) == STANDARD
    own.refresh_from_db()
    assert own.value == "mine"


def test_adding_the_standard_rules_again_adds_nothing():
    # given
    rows = customers(2)
    crm_rules_templates_add(customers=of(rows), actor="tests")
    # when
    again = crm_rules_templates_add(customers=of(rows), actor="tests")
    # then
    assert again == []
    assert CrmRule.objects.count() == 4


def test_adding_the_standard_rules_to_1_or_50_customers_takes_the_same_statements():
    # given
    one, fifty = customers(1), customers(50)
    # when
    counts = [statements_of(lambda s=s: crm_rules_templates_add(customers=of(s), actor="tests")) for s in (one, fifty)]
    # then
    assert counts[0] == counts[1]
    assert CrmRule.objects.count() == 102


def test_adding_the_standard_rules_changes_nothing_when_the_database_fails_half_way():
    # given
    rows = customers(3)
    # when: the first standard rule is inserted for every customer, then the second's insert fails
    with pytest.raises(Exception, match="refused"), database_refuses('INSERT INTO "crm_crmrule"', occurrence=2):
        crm_rules_templates_add(customers=of(rows), actor="tests")
    # then
    assert not CrmRule.objects.exists()


def test_the_standard_rules_evaluate_the_customers_records_once_they_commit(django_capture_on_commit_callbacks):
    # given: a CRM record that says the account is an existing customer
    connection = CrmConnectionFactory()
    lead = LeadFactory(campaign__customer=connection.customer, contact__account__domain="acme.com")
    crm_events_receive(
        connection=connection,
        events=[
            {
                "id": "ev-1",
                "action": "upsert",
                "object_type": "company",
                "external_id": "7",
                "domain": "acme.com",
                "properties": {"lifecyclestage": "customer"},
            }
        ],
    )
    crm_events_process(connection=connection)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        crm_rules_templates_add(customers=of([connection.customer]), actor="tests")
    # then
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    assert Block.objects.get().source == Block.Source.CRM_RULE


def test_the_rule_list_adds_the_standard_rules_to_the_selected_rules_customers(admin_client):
    # given
    first, second, untouched = customers(3)
    selected = [CrmRuleFactory(customer=first), CrmRuleFactory(customer=first), CrmRuleFactory(customer=second)]
    CrmRuleFactory(customer=untouched)
    # when
    response = admin_client.post(
        reverse("admin:crm_crmrule_changelist"),
        {"action": "add_templates", "_selected_action": [r.pk for r in selected]},
        follow=True,
    )
    # then
    assert "Added 4 rule(s)." in response.content.decode()
    assert rule_names(first) >= STANDARD and rule_names(second) >= STANDARD
    assert not STANDARD & rule_names(untouched)
    assert LogEntry.objects.filter(action_flag=ADDITION, content_type__model="crmrule").count() == 4


# --- rules and connections through their services ------------------------------------------------------


def rule_form(customer: Customer, **fields) -> dict:
    return {
        "customer": customer.pk,
        "name": "Partners",
        "object_type": "company",
        "property": "type",
        "operator": CrmRule.Operator.EQUALS,
        "value": "partner",
        "effect": CrmRule.Effect.ACCOUNT,
        "reason": Block.Reason.EXISTING_CUSTOMER,
        "is_active": "on",
        **fields,
    }


def test_a_rule_added_in_the_admin_is_evaluated_once_it_commits(admin_client, django_capture_on_commit_callbacks):
    # given: a record the new rule matches
    connection = CrmConnectionFactory()
    lead = LeadFactory(campaign__customer=connection.customer, contact__account__domain="acme.com")
    crm_events_receive(
        connection=connection,
        events=[
            {
                "id": "ev-1",
                "action": "upsert",
                "object_type": "company",
                "external_id": "7",
                "domain": "acme.com",
                "properties": {"type": "partner"},
            }
        ],
    )
    crm_events_process(connection=connection)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = preview_then_save(admin_client, reverse("admin:crm_crmrule_add"), rule_form(connection.customer))
    # then
    assert response.status_code == 302
    assert CrmRule.objects.get().name == "Partners"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED


def test_a_rule_offers_the_reasons_ops_disqualify_for_and_refuses_a_registrys(admin_client):
    # given: the rule form
    connection = CrmConnectionFactory()
    url = reverse("admin:crm_crmrule_add")
    # when
    offered = admin_client.get(url).context["adminform"].form.fields["reason"].choices
    # then: a CRM rule disqualifies, as ops do; a registry's, a suppression's or a meeting's reason is never
    # chosen (only what makes those blocks gives it)
    assert [value for value, _ in offered if value] == [str(r) for r in DISQUALIFY_REASONS]
    # and a registry's reason, sent all the same, is refused in words and nothing is saved
    response = admin_client.post(url, rule_form(connection.customer, reason=Block.Reason.NATIONAL_DNC))
    assert response.status_code == 200
    assert "Select a valid choice. national_dnc is not one of the available choices." in str(
        response.context["adminform"].form.errors["reason"]
    )
    assert not CrmRule.objects.exists()


def test_switching_a_rule_off_in_the_admin_lifts_its_blocks_and_keeps_its_customer(
    admin_client, django_capture_on_commit_callbacks
):
    # given
    connection = CrmConnectionFactory()
    lead = LeadFactory(campaign__customer=connection.customer, contact__account__domain="acme.com")
    rule = CrmRuleFactory(customer=connection.customer)
    crm_events_receive(
        connection=connection,
        events=[
            {
                "id": "ev-1",
                "action": "upsert",
                "object_type": "company",
                "external_id": "7",
                "domain": "acme.com",
                "properties": {"lifecyclestage": "customer"},
            }
        ],
    )
    crm_events_process(connection=connection)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    # when: the form also posts another customer, which the change page does not offer
    with django_capture_on_commit_callbacks(execute=True):
        response = preview_then_save(
            admin_client,
            reverse("admin:crm_crmrule_change", args=[rule.pk]),
            rule_form(
                CustomerFactory(),
                name=rule.name,
                property=rule.property,
                value=rule.value,
                is_active="",
            ),
        )
    # then
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.is_active, rule.customer_id) == (False, connection.customer_id)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ELIGIBLE


def test_a_connection_is_added_and_changed_in_the_admin_and_never_deleted(admin_client):
    # given
    customer = CustomerFactory()
    # when
    added = admin_client.post(
        reverse("admin:crm_crmconnection_add"),
        {"customer": customer.pk, "name": "HubSpot", "kind": "hubspot", "secret": "s" * 40, "is_active": "on"},
    )
    connection = CrmConnection.objects.get()
    changed = admin_client.post(
        reverse("admin:crm_crmconnection_change", args=[connection.pk]),
        {"name": "HubSpot EU", "kind": "hubspot", "secret": "t" * 40, "is_active": ""},
    )
    deleted = admin_client.post(reverse("admin:crm_crmconnection_delete", args=[connection.pk]), {"post": "yes"})
    # then
    assert (added.status_code, changed.status_code, deleted.status_code) == (302, 302, 403)
    connection.refresh_from_db()
    assert (connection.customer, connection.name, connection.secret, connection.is_active) == (
        customer,
        "HubSpot EU",
        "t" * 40,
        False,
    )
