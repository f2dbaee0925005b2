"""The management commands: seed_demo builds a demo once; explain_lead says why a lead may not be called."""

import re
from datetime import UTC, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from campaigns.demo import ADMIN_URL
from campaigns.management.commands.explain_lead import NOTHING_STOPS_THIS_LEAD
from campaigns.models import (
    Block,
    Call,
    CallerApproval,
    Contact,
    Customer,
    FitRuleChange,
    Lead,
    LeadFact,
    LeadStage,
    LeadStatus,
    Opportunity,
    PhoneNumber,
    User,
)
from campaigns.selectors import block_sentence
from campaigns.selectors.callers import approved_campaigns
from campaigns.selectors.reports import ReportQuery, lead_report
from campaigns.services import BlockTarget, block_create, lead_statuses_check
from tests.built_once import built_once
from tests.campaigns.factories import LeadFactory, staff_groups_create

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def table_sizes() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Customer, Contact, PhoneNumber, Lead, Block, Call)}


def _jurisdictions_seed() -> None:
    """The jurisdiction table as migrate leaves it (the demo's Florida cap reads it)."""
    import importlib

    from django.apps import apps

    from campaigns.services.calling import calling_rules_changed

    importlib.import_module("campaigns.migrations.0018_calling_windows").seed_jurisdictions(apps)
    calling_rules_changed()


def _seed_small_demo() -> str:
    staff_groups_create()  # as migrate leaves them (a transactional test's flush empties them)
    _jurisdictions_seed()
    return run("seed_demo", "--leads", "300")


@pytest.fixture(scope="module")
def _small_demo(django_db_setup, django_db_blocker, tmp_path_factory) -> str:
    """The demo, seeded once for the module's tests (each in a savepoint of its own: see tests.built_once)."""
    with built_once(django_db_blocker, tmp_path_factory.mktemp("media"), lambda _: _seed_small_demo()) as output:
        yield output


@pytest.fixture
def small_demo(_small_demo, db) -> str:
    return _small_demo


def approved_callers(output: str) -> dict[str, tuple[str, str]]:
    """Return the approved callers' logins the demo printed: username -> (password, what they are approved for)."""
    part = output.split("Approved callers sign in", 1)[1].split("\nLog in at", 1)[0]
    found = {}
    for heading, username, password in re.findall(r"\n  (.+)\n    username: (\S+)\n    password: (\S+)", part):
        found[username] = (password, heading)
    return found


def test_seed_demo_makes_leads_in_every_status(small_demo):
    # given / when
    statuses = set(Lead.objects.values_list("status", flat=True))
    # then
    assert statuses == {LeadStatus.ELIGIBLE, LeadStatus.WAITING, LeadStatus.DISQUALIFIED}
    assert 250 <= Lead.objects.count() <= 350


def test_seed_demo_makes_a_block_of_every_source_and_a_lifted_one(small_demo):
    # given / when
    sources = set(Block.objects.active().values_list("source", flat=True))
    # then
    assert sources == set(Block.Source.values)
    assert Block.objects.filter(lifted_at__isnull=False).exclude(lift_reason="").exists()


def test_every_stored_status_of_the_demo_agrees_with_its_blocks(small_demo):
    # given / when: the demo, built through the real pipelines (uploads, CRM sync, fit rules, workflows)
    drift = lead_statuses_check(repair=False)
    # then: on either backend, no lead shows Eligible while a block stops it (or the other way round)
    assert drift.drifted == 0, drift.summary()
    assert drift.checked == Lead.objects.count()


def test_seed_demo_makes_open_and_lost_opportunities_and_an_existing_customer_one(small_demo):
    # given / when
    opportunities = Opportunity.objects.select_related("contact", "account", "project", "lost_reason", "lead")
    rows = {o.contact.full_name: o for o in opportunities}
    # then: each made by the qualify service, so each ended outreach with a Qualified stage and its meeting
    assert set(rows) == {"Henry Clark", "Emma Wilson", "Ruth Price"}
    assert (rows["Henry Clark"].state, rows["Henry Clark"].project.name) == (Opportunity.State.OPEN, "Patient portal")
    assert (rows["Emma Wilson"].state, rows["Emma Wilson"].lost_reason.label) == (Opportunity.State.LOST, "Timing")
    ruth = rows["Ruth Price"]
    assert ruth.existing_customer and ruth.account.name == "Severn Logistics"
    assert {o.lead.stage for o in rows.values()} == {LeadStage.QUALIFIED}
    assert all(o.meeting_id and o.events.filter(kind="qualified").exists() for o in rows.values())


def test_seed_demo_shares_switchboards_between_contacts(small_demo):
    # given / when
    shared = PhoneNumber.objects.annotate(contacts=Count("contact_links")).filter(contacts__gt=1)
    # then
    assert shared.exists()


def test_seed_demo_prints_the_summary_and_the_ops_login(small_demo):
    # given / when
    ops = User.objects.get(username="ops")
    # then
    # the demo's ops is an Ops lead, not a superuser: the demo shows what ops see
    assert ops.is_staff and not ops.is_superuser
    assert list(ops.groups.values_list("name", flat=True)) == ["Ops lead"]
    assert "Ops lead (the Ops lead group, not a superuser)" in small_demo
    assert ADMIN_URL in small_demo
    assert "Northwind Health" in small_demo and "Bluebird Energy" in small_demo
    password = small_demo.rsplit("password:", 1)[1].strip()
    assert ops.check_password(password)


def test_seed_demo_prints_one_login_per_role(small_demo):
    # the Ops group's login, beside the Ops lead's, the callers' and the portal's
    member = User.objects.get(username="ops.olga")
    assert list(member.groups.values_list("name", flat=True)) == ["Ops"] and not member.is_superuser
    password = re.search(r"username: ops\.olga\n  password: (\S+)", small_demo).group(1)
    assert member.check_password(password)
    assert "Callers group" in small_demo and "portal" in small_demo


def test_seed_demo_prints_a_customer_portal_login_that_works(small_demo, client):
    # given
    portal = small_demo.split("A customer's portal", 1)[1]
    username = portal.split("username:", 1)[1].split()[0]
    password = portal.split("password:", 1)[1].split()[0]
    # when: signing in through the portal's own login page
    signed_in = client.post("/portal/login/", {"username": username, "password": password})
    response = client.get("/portal/")
    # then: a customer's user, who sees its own portal
    assert signed_in.status_code == 302
    assert User.objects.get(username=username).customer.name == "Northwind Health"
    assert response.status_code == 200 and "Northwind Health" in response.content.decode()


def test_seed_demo_prints_two_approved_callers_who_sign_in_to_the_admin(small_demo, client):
    # given
    logins = approved_callers(small_demo)
    # then: two callers of the Callers group, one approved for two campaigns, each login working
    assert {username: heading for username, (_, heading) in logins.items()} == {
        "caller.amy": "Amy Lee, approved for Clinic outreach Q3 and Hospital IT refresh",
        "caller.ben": "Ben Okafor, approved for Commercial solar",
    }
    for username, (password, _) in logins.items():
        caller = User.objects.get(username=username)
        assert caller.is_staff and not caller.is_superuser and caller.customer_id is None
        assert list(caller.groups.values_list("name", flat=True)) == ["Callers"]
        client.logout()
        signed_in = client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})
        assert signed_in.status_code == 302
        assert client.get("/admin/").status_code == 200
    approved = {
        username: sorted(approved_campaigns(User.objects.get(username=username)).values_list("name", flat=True))
        for username in logins
    }
    assert approved == {
        "caller.amy": ["Clinic outreach Q3", "Hospital IT refresh"],
        "caller.ben": ["Commercial solar"],
    }


def test_the_demos_callers_work_their_campaigns_in_the_admin_and_are_named_in_their_role(small_demo, client):
    # given: James asked Amy, calling Clinic outreach Q3, not to be called again
    amy, ben = User.objects.get(username="caller.amy"), User.objects.get(username="caller.ben")
    james = Lead.objects.get(contact__first_name="James", contact__last_name="Carter")
    change = reverse("admin:campaigns_lead_change", args=[james.pk])
    # when
    client.force_login(amy)
    leads = client.get(reverse("admin:campaigns_lead_changelist")).context["cl"].result_list
    page = client.get(change).content.decode()
    client.force_login(ben)
    refused = client.get(change)
    # then
    assert {lead.campaign.name for lead in leads} == {"Clinic outreach Q3", "Hospital IT refresh"}
    assert "marked by Amy Lee, approved caller for Clinic outreach Q3, on " in page
    assert refused.status_code == 404


def test_seed_demo_twice_adds_nothing_and_resets_the_password(small_demo):
    # given
    before = table_sizes()
    # when
    output = run("seed_demo", "--leads", "300")
    # then
    assert table_sizes() == before
    assert "already there" in output
    assert User.objects.get(username="ops").check_password(output.rsplit("password:", 1)[1].strip())
    assert CallerApproval.objects.count() == 3
    for username, (password, _) in approved_callers(output).items():
        assert User.objects.get(username=username).check_password(password)


def test_explain_lead_prints_each_reason():
    # given
    lead = LeadFactory()
    block, _ = block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.COMPETITOR,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # when
    output = run("explain_lead", str(lead.pk))
    # then
    assert f"Lead #{lead.pk}" in output
    assert "Status: Disqualified" in output
    assert block_sentence(block, lead=lead) in output


def test_explain_lead_says_when_nothing_stops_the_lead():
    # given
    lead = LeadFactory()
    # when
    output = run("explain_lead", str(lead.pk))
    # then
    assert "Status: Eligible" in output
    assert NOTHING_STOPS_THIS_LEAD in output


def test_explain_lead_says_why_a_waiting_lead_waits_and_not_that_nothing_stops_it():
    # given: a lead waiting for its meeting's outcome (stored with a far-off placeholder moment)
    lead = LeadFactory()
    Lead.objects.filter(pk=lead.pk).update(
        status=LeadStatus.WAITING,
        waiting_reason=Lead.WaitingReason.MEETING,
        waiting_until=timezone.now() + timedelta(days=3650),
    )
    # when
    output = run("explain_lead", str(lead.pk))
    # then
    assert "Status: Waiting: Waiting for the meeting's outcome" in output
    assert str((timezone.now() + timedelta(days=3650)).year) not in output
    assert NOTHING_STOPS_THIS_LEAD not in output


def test_explain_lead_refuses_an_unknown_id():
    # given / when / then
    with pytest.raises(CommandError, match="no lead #987654"):
        run("explain_lead", "987654")


def test_seed_demo_shows_self_service_a_customers_own_rules_and_a_request_waiting_for_ops(small_demo):
    # given
    from campaigns.models import UndoRequest
    from suppressions.crm.models import CrmRuleChange

    # then: the CRM rules were set up by the customer's own user (its sentences name them), and a request waits
    changes = CrmRuleChange.objects.select_related("changed_by")
    assert changes.exists() and all(change.by_customer for change in changes)
    crm_blocks = Block.objects.filter(source=Block.Source.CRM_RULE)
    assert crm_blocks.exists()
    assert all(", added by " in block.evidence_text and "the agency" not in block.evidence_text for block in crm_blocks)
    assert UndoRequest.objects.filter(state=UndoRequest.State.OPEN).count() == 1


def test_seed_demo_prints_a_dossier_worth_opening_with_the_dialers_record(small_demo, admin_client):
    # given
    path = re.search(r"A dossier worth opening .*\n  http://127\.0\.0\.1:8000(/admin/\S+)", small_demo).group(1)
    # when
    dossier = admin_client.get(path, {"format": "json"}).json()
    # then: a pull and an allowed check before the call, a refusal after it, and the caller's Do Not Call
    assert [(v["kind"], v["allowed"]) for v in dossier["verdicts"]] == [
        ("Pull", True),
        ("Dial check", True),
        ("Dial check", False),
    ]
    assert any(b["evidence"] and b["evidence"]["kind"] == "call" for b in dossier["blocks"])
    assert [c["disposition"] for c in dossier["calls"]] == ["Do not call"]


def test_seed_demo_makes_the_lead_report_worth_reading(small_demo):
    # given: the demo's first customer
    customer = Customer.objects.get(slug="northwind-health")

    # when
    report = lead_report(ReportQuery(customer_id=customer.pk, by=("source",)))

    # then: every lead has its figures, from several sources over many weeks, with every outcome
    assert LeadFact.objects.filter(customer=customer).count() == Lead.objects.filter(customer=customer).count()
    assert len(report.rows) >= 4 and len(report.weeks) >= 8
    total = report.total.counts
    assert total["connected"] and total["meeting"] and total["qualified"] and total["unqualified"] and total["later"]
    assert total["entry_fit_rule"] and total["has_industry"] == total["leads"]
    assert report.false_blocks.lifted >= 2
    (comparison,) = report.comparisons
    assert FitRuleChange.objects.filter(campaign__customer=customer).count() == 1
    assert comparison.before.rate("acceptance") > comparison.after.rate("acceptance")


def test_seed_demo_prints_a_not_now_answer_of_the_dial_check(small_demo):
    # given / when: the demo's Miami front desk, called three times in the last hours (Florida's cap)
    line = next(line for line in small_demo.splitlines() if line.startswith("  Lucia Alvarez on +13055550187:"))
    # then: "not now" whatever the hour the demo is seeded at, with the rule and when it may be called again
    assert "[frequency_cap] 3 calls in the last 24 hours by every customer to +1 305-555-0187" in line
    assert "Florida allows 3 calls to one number in 24 hours; it may be called again in" in line
    # and Noah's "Not now - try again in 30 days" says until when
    noah = next(line for line in small_demo.splitlines() if line.startswith("  Noah Bennett on "))
    assert "Not now \u2014 try again in 30 days" in noah and " until " in noah
    # as what he asked for, marked on the day of his call, thirty days before its end
    from campaigns.models import Block

    block = Block.objects.get(
        lead__contact__first_name="Noah", lead__contact__last_name="Bennett", source=Block.Source.DISPOSITION
    )
    assert block.created_at == block.evidence.created_at
    assert block.ends_at == block.created_at + timedelta(days=30)
    marked, end = timezone.localtime(block.created_at), timezone.localtime(block.ends_at)
    assert f"(Asked to be called later) until {end.day} {end:%b %Y}: marked by " in noah
    assert f" on {marked.day} {marked:%b} after a 'Not now" in noah and "Not interested" not in noah


def test_the_demos_featured_stories_are_told_by_their_own_blocks_never_by_the_reports_fit_rule(small_demo):
    # The report's story gives accounts random industries and stops calling one of them: no featured person's
    # account is in it (Keala's Honolulu "not now", James's and Priya's stories each read a fit rule besides).
    from campaigns.models import Block, Lead

    featured = Lead.objects.filter(source="Featured")
    assert featured.count() > 10
    assert not Block.objects.filter(source=Block.Source.FIT_RULE, lead__in=featured).exists()
    keala = next(line for line in small_demo.splitlines() if line.startswith("  Keala Kahale on "))
    assert "[fit_rule]" not in keala


def test_the_demos_call_blocks_are_made_at_their_calls_and_its_opt_outs_in_force_at_once(small_demo):
    # A call's block is made with the call (as call_record makes it): the demo showed a Do Not Call in force three
    # days after it was asked for, and a verdict citing a block made after it.
    from datetime import datetime

    from campaigns.models import Block, Call, Customer, Verdict
    from suppressions.crm.optouts import receipt_to_force

    calls = Call.objects.in_bulk([b.evidence_id for b in Block.objects.filter(source=Block.Source.DISPOSITION)])
    made = list(Block.objects.filter(source=Block.Source.DISPOSITION))
    assert len(made) >= 4
    assert all(block.created_at == calls[block.evidence_id].created_at for block in made)
    figures = receipt_to_force(customers=Customer.objects.all(), since=datetime.min.replace(tzinfo=UTC))
    dnc = [f for f in figures if f.channel == "Do not call disposition"]
    assert dnc and all(f.longest == timedelta(0) for f in dnc)
    cited = {b["block_id"] for v in Verdict.objects.all() for b in v.reasons if b.get("block_id")}
    blocks = Block.objects.in_bulk(cited)
    assert cited and all(
        blocks[r["block_id"]].created_at <= v.at for v in Verdict.objects.all() for r in v.reasons if r.get("block_id")
    )


def test_seed_demo_loads_a_fresh_national_registry_copy_that_refuses_priyas_mobile(small_demo):
    from campaigns.models import Lead
    from campaigns.selectors.explaining import can_dial
    from suppressions.registries import national_freshness

    assert "Registry copies in force: the national Do-Not-Call registry, change list of" in small_demo
    assert "the TX state Do-Not-Call list, full copy of" in small_demo
    assert national_freshness().state == "fresh"
    lead = Lead.objects.get(contact__first_name="Priya", contact__last_name="Patel")
    assert "national_dnc" in [r.code for r in can_dial(lead, "+16465550132").reasons]
