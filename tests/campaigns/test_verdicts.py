"""Every verdict kept: each dial-check answer and each number a pull hands out, append-only, by month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from campaigns.models import Block, Verdict
from campaigns.services import BlockTarget, block_create
from campaigns.services.verdicts import (
    HandedOut,
    verdict_partitions_detach,
    verdict_partitions_ensure,
    verdict_partitions_past_retention,
    verdicts_record_pull,
)
from tests.campaigns.api_factories import (
    CallerFactory,
    DialerCampaignFactory,
    DialerLeadFactory,
    api_key_for,
    pool_create,
)
from tests.suppressions.factories import EntryFactory

pytestmark = pytest.mark.django_db


def _auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_an_allowed_dial_check_is_recorded_with_its_key(client):
    # given
    lead = DialerLeadFactory()
    api_key, key = api_key_for()
    e164 = lead.contact.phones.get().phone.e164
    # when
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": e164}, **_auth(key))
    # then
    assert response.json()["allowed"] is True
    (verdict,) = Verdict.objects.all()
    assert (verdict.kind, verdict.lead_id, verdict.number, verdict.api_key_id, verdict.allowed, verdict.reasons) == (
        Verdict.Kind.DIAL_CHECK,
        lead.pk,
        e164,
        api_key.pk,
        True,
        [],
    )


def test_a_refused_dial_check_keeps_each_reason_code_with_its_block_and_entry(client):
    # given: a Do Not Call on the number, and a suppression entry matching it not yet matched into a block
    lead = DialerLeadFactory()
    phone = lead.contact.phones.get().phone
    block, _ = block_create(
        target=BlockTarget(phone=phone),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
    )
    entry = EntryFactory(customer=lead.customer, value=phone.e164)
    _, key = api_key_for()
    # when
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": phone.e164}, **_auth(key))
    # then
    assert response.json()["allowed"] is False
    (verdict,) = Verdict.objects.all()
    assert verdict.allowed is False
    assert verdict.reasons == [
        {"code": "platform_dnc", "block_id": block.pk, "entry_id": None},
        {"code": "suppression_entry", "block_id": None, "entry_id": entry.pk},
    ]
    assert [r["code"] for r in response.json()["reasons"]] == [r["code"] for r in verdict.reasons]


def test_an_answer_as_of_a_past_moment_is_never_recorded(client):
    # given
    lead = DialerLeadFactory()
    _, key = api_key_for()
    e164 = lead.contact.phones.get().phone.e164
    # when
    response = client.get(
        f"/api/v1/leads/{lead.pk}/dial-check",
        {"number": e164, "at": (timezone.now() - timedelta(hours=1)).isoformat()},
        **_auth(key),
    )
    # then
    assert response.status_code == 200
    assert not Verdict.objects.exists()


def test_a_pull_records_every_number_it_hands_out_with_its_caller(client):
    # given
    campaign = DialerCampaignFactory()
    leads = pool_create(campaign=campaign, size=3)
    caller = CallerFactory(approved_for=[campaign])
    api_key, key = api_key_for()
    # when
    response = client.post(
        f"/api/v1/campaigns/{campaign.pk}/pull",
        {"caller": caller.username, "count": 2},
        content_type="application/json",
        **_auth(key),
    )
    # then
    handed = {(lead["lead_id"], n["number"]) for lead in response.json()["leads"] for n in lead["numbers"]}
    assert len(handed) == 2
    verdicts = list(Verdict.objects.filter(kind=Verdict.Kind.PULL))
    assert {(v.lead_id, v.number) for v in verdicts} == handed
    assert {(v.caller_id, v.api_key_id, v.allowed) for v in verdicts} == {(caller.pk, api_key.pk, True)}
    assert {lead.pk for lead in leads} >= {v.lead_id for v in verdicts}


def test_a_pull_that_hands_out_nothing_records_nothing():
    # given
    caller = CallerFactory()
    # when
    verdicts_record_pull(handed_out=[], api_key=None, caller=caller)
    # then
    assert not Verdict.objects.exists()


def _one_verdict() -> Verdict:
    lead = DialerLeadFactory()
    verdicts_record_pull(
        handed_out=[HandedOut(lead_id=lead.pk, number="+12025550100", reasons=[])], api_key=None, caller=CallerFactory()
    )
    return Verdict.objects.get()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param("UPDATE campaigns_verdict SET allowed = NOT allowed", id="update"),
        pytest.param("DELETE FROM campaigns_verdict", id="delete"),
    ],
)
def test_the_database_refuses_to_change_or_delete_a_verdict(change):
    # given
    verdict = _one_verdict()
    # when / then
    with pytest.raises(DatabaseError, match="never changed or deleted"), transaction.atomic(), connection.cursor() as c:
        c.execute(change)
    assert Verdict.objects.get().allowed == verdict.allowed


def test_the_orm_cannot_delete_a_verdict_either():
    # given
    _one_verdict()
    # when / then
    with pytest.raises(DatabaseError, match="never changed or deleted"), transaction.atomic():
        Verdict.objects.all().delete()
    assert Verdict.objects.count() == 1


# --- Months on PostgreSQL ------------------------------------------------------------------------------


def _partition_of(verdict_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM campaigns_verdict WHERE id = %s", [verdict_id])
        return cursor.fetchone()[0]


@pytest.mark.postgres("declarative partitioning is PostgreSQL's")
def test_a_verdict_lands_in_its_months_partition():
    # given / when
    verdict = _one_verdict()
    # then
    month = timezone.now().astimezone(UTC)
    assert _partition_of(verdict.pk) == f"campaigns_verdict_y{month.year}m{month.month:02d}"


@pytest.mark.postgres("declarative partitioning is PostgreSQL's")
def test_ensuring_the_months_ahead_makes_each_once():
    # given
    far = date(2031, 1, 15)
    # when
    made = verdict_partitions_ensure(months_ahead=2, today=far)
    again = verdict_partitions_ensure(months_ahead=2, today=far)
    # then
    assert made == ["campaigns_verdict_y2031m01", "campaigns_verdict_y2031m02", "campaigns_verdict_y2031m03"]
    assert again == []


@pytest.mark.postgres("declarative partitioning is PostgreSQL's")
def test_a_month_past_the_retention_is_detached_whole_and_kept_as_a_table(settings):
    # given: a month six years back with one verdict in it, and a five-year retention
    settings.LEADOPS_VERDICT_RETENTION_YEARS = 5
    old_month = date(timezone.now().year - 6, 3, 1)
    verdict_partitions_ensure(months_ahead=0, today=old_month)
    lead = DialerLeadFactory()
    verdicts_record_pull(
        handed_out=[HandedOut(lead_id=lead.pk, number="+12025550100", reasons=[])],
        api_key=None,
        caller=CallerFactory(),
        at=datetime(old_month.year, 3, 10, tzinfo=UTC),
    )
    name = f"campaigns_verdict_y{old_month.year}m03"
    # when
    listed = verdict_partitions_past_retention()
    detached = verdict_partitions_detach(actor="tests")
    # then
    assert [(p.name, p.rows) for p in listed] == [(name, 1)]
    assert [p.name for p in detached] == [name]
    assert not Verdict.objects.filter(lead_id=lead.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {name}")
        assert cursor.fetchone()[0] == 1
    assert verdict_partitions_detach(actor="tests") == []


def test_the_retention_command_says_what_it_did():
    # given
    out = StringIO()
    # when
    call_command("verdicts_retention", stdout=out)
    # then
    text = out.getvalue()
    if connection.vendor == "postgresql":
        assert "No month is older than the retention (5 years)." in text
    else:
        assert "keeps every verdict in one table" in text
