"""Pulling from the lead pool: order, leases, release, expiry, re-checks — and concurrency on PostgreSQL."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.dialer.pool import lead_release, leads_pull
from campaigns.models import Block, Call, Campaign, ContactPhone, Lead, LeadStatus
from campaigns.services import BlockTarget, block_create, leads_wake_waiting
from campaigns.services.calls import call_record
from leadops.errors import LeadopsError
from suppressions.models import Entry
from tests.campaigns.api_factories import (
    CallerFactory,
    DialerCampaignFactory,
    DialerLeadFactory,
    disposition,
    pool_create,
)
from tests.campaigns.factories import BlockFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


def ids(leads) -> list[int]:
    return [lead.pk for lead in leads]


def test_pull_orders_by_priority_then_least_recently_attempted_then_id():
    # given
    campaign = DialerCampaignFactory()
    now = timezone.now()
    low = DialerLeadFactory(campaign=campaign, priority=0)
    recently = DialerLeadFactory(campaign=campaign, priority=5, last_attempt_at=now - timedelta(days=1))
    long_ago = DialerLeadFactory(campaign=campaign, priority=5, last_attempt_at=now - timedelta(days=9))
    never_b = DialerLeadFactory(campaign=campaign, priority=5)
    never_a = DialerLeadFactory(campaign=campaign, priority=5)
    # when
    pulled = leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=10)
    # then
    assert ids(pulled) == ids([never_b, never_a, long_ago, recently, low])


def test_pulled_leads_are_leased_to_the_caller_until_the_lease_ends(settings):
    # given
    settings.LEADOPS_LEASE_MINUTES = 7
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    now = timezone.now()
    # when
    leads_pull(campaign=lead.campaign, caller=caller, count=1, now=now)
    # then
    lead.refresh_from_db()
    assert (lead.status, lead.waiting_reason, lead.leased_to, lead.waiting_until) == (
        LeadStatus.WAITING,
        Lead.WaitingReason.LEASED,
        caller,
        now + timedelta(minutes=7),
    )


def test_a_second_pull_never_returns_leased_leads():
    # given
    campaign = DialerCampaignFactory()
    leads = [DialerLeadFactory(campaign=campaign) for _ in range(3)]
    first = leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=2)
    # when
    second = leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=2)
    # then
    assert sorted(ids(first) + ids(second)) == sorted(ids(leads))


def test_pull_returns_fewer_leads_when_the_pool_runs_dry():
    # given
    lead = DialerLeadFactory()
    # when
    pulled = leads_pull(campaign=lead.campaign, caller=CallerFactory(approved_for=[lead.campaign]), count=5)
    # then
    assert ids(pulled) == [lead.pk]
    assert leads_pull(campaign=lead.campaign, caller=CallerFactory(approved_for=[lead.campaign]), count=5) == []


def test_a_lead_blocked_behind_its_stored_status_is_skipped_and_recomputed():
    # given a block row whose status recompute has not run yet
    campaign = DialerCampaignFactory()
    blocked = DialerLeadFactory(campaign=campaign, priority=9)
    clean = DialerLeadFactory(campaign=campaign)
    BlockFactory(target=Block.Target.CONTACT, contact=blocked.contact)
    assert Lead.objects.get(pk=blocked.pk).status == LeadStatus.ELIGIBLE
    # when
    pulled = leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=1)
    # then
    assert ids(pulled) == [clean.pk]
    blocked.refresh_from_db()
    assert blocked.status == LeadStatus.DISQUALIFIED


def test_a_pull_that_fails_after_its_first_round_gives_its_leases_back(monkeypatch):
    # given: the first round leases one lead and meets one blocked behind its stored status, and the rest of
    # the pull fails
    campaign = DialerCampaignFactory()
    blocked = DialerLeadFactory(campaign=campaign, priority=9)
    first = DialerLeadFactory(campaign=campaign, priority=8)
    DialerLeadFactory(campaign=campaign)
    BlockFactory(target=Block.Target.CONTACT, contact=blocked.contact)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("campaigns.dialer.pool._lease_rounds", broken)
    # when
    with pytest.raises(RuntimeError, match="went away"):
        leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=2)
    # then: nothing is leased, and the blocked lead's status is as it was
    first.refresh_from_db()
    assert (first.status, first.leased_to, first.waiting_until) == (LeadStatus.ELIGIBLE, None, None)
    assert Lead.objects.filter(campaign=campaign, leased_to__isnull=False).count() == 0
    assert Lead.objects.get(pk=blocked.pk).status == LeadStatus.ELIGIBLE


def test_a_lead_matching_a_suppression_entry_is_skipped_before_its_rematch_ran():
    # given
    campaign = DialerCampaignFactory()
    suppressed = DialerLeadFactory(campaign=campaign, priority=9)
    clean = DialerLeadFactory(campaign=campaign)
    Entry.objects.create(
        customer=campaign.customer, kind=Entry.Kind.PHONE, value=suppressed.contact.phones.get().phone.e164
    )
    # when
    first = leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=2)
    # then
    assert ids(first) == [clean.pk]


def test_blocked_leads_are_never_handed_out():
    # given
    campaign = DialerCampaignFactory()
    leads = [DialerLeadFactory(campaign=campaign) for _ in range(4)]
    block_create(
        target=BlockTarget(contact=leads[0].contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # when
    pulled = leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=10)
    # then
    assert sorted(ids(pulled)) == sorted(ids(leads[1:]))


def test_pull_is_a_bounded_number_of_queries(django_assert_max_num_queries):
    # given
    campaign = DialerCampaignFactory()
    pool_create(campaign=campaign, size=30)
    caller = CallerFactory(approved_for=[campaign])
    # when
    with django_assert_max_num_queries(6):
        pulled = leads_pull(campaign=campaign, caller=caller, count=25)
    # then
    assert len(pulled) == 25


@pytest.mark.parametrize("count", [0, 51])
def test_pull_refuses_a_count_outside_1_to_50(count):
    # given
    lead = DialerLeadFactory()
    # when
    with pytest.raises(LeadopsError) as refused:
        leads_pull(campaign=lead.campaign, caller=CallerFactory(approved_for=[lead.campaign]), count=count)
    # then
    assert refused.value.field == "count"


def test_pull_from_a_paused_campaign_is_refused():
    # given
    lead = DialerLeadFactory(campaign=DialerCampaignFactory(status=Campaign.Status.PAUSED))
    # when
    with pytest.raises(LeadopsError) as refused:
        leads_pull(campaign=lead.campaign, caller=CallerFactory(approved_for=[lead.campaign]), count=1)
    # then
    assert refused.value.code == "conflict"


def test_release_returns_a_leased_lead_to_the_pool():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    leads_pull(campaign=lead.campaign, caller=caller, count=1)
    # when
    released = lead_release(lead=lead, caller=caller, actor=caller)
    # then
    assert (released.status, released.leased_to, released.waiting_until, released.waiting_reason) == (
        LeadStatus.ELIGIBLE,
        None,
        None,
        "",
    )
    assert ids(leads_pull(campaign=lead.campaign, caller=CallerFactory(approved_for=[lead.campaign]), count=1)) == [
        lead.pk
    ]


def test_release_of_another_callers_lease_is_refused():
    # given
    lead = DialerLeadFactory()
    leads_pull(campaign=lead.campaign, caller=CallerFactory(approved_for=[lead.campaign]), count=1)
    other = CallerFactory(approved_for=[lead.campaign])
    # when
    with pytest.raises(LeadopsError) as refused:
        lead_release(lead=lead, caller=other, actor=other)
    # then
    assert refused.value.code == "conflict"


def test_releasing_a_lead_that_is_not_leased_changes_nothing():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    call_record(
        lead=lead,
        caller=caller,
        disposition=disposition(lead.campaign, "no_answer"),
        number=lead.contact.phones.get().phone.e164,
        actor=caller,
    )
    # when
    released = lead_release(lead=lead, caller=caller, actor=caller)
    # then
    assert (released.status, released.waiting_reason) == (LeadStatus.WAITING, Lead.WaitingReason.COOLDOWN)


def test_an_expired_lease_returns_the_lead_to_the_pool_when_waiting_leads_wake():
    # given
    lead = DialerLeadFactory()
    leads_pull(
        campaign=lead.campaign,
        caller=CallerFactory(approved_for=[lead.campaign]),
        count=1,
        now=timezone.now() - timedelta(hours=1),
    )
    # when
    woken = leads_wake_waiting()
    # then
    lead.refresh_from_db()
    assert woken == 1
    assert (lead.status, lead.leased_to, lead.waiting_reason) == (LeadStatus.ELIGIBLE, None, "")
    assert ids(leads_pull(campaign=lead.campaign, caller=CallerFactory(approved_for=[lead.campaign]), count=1)) == [
        lead.pk
    ]


# --- concurrency, on PostgreSQL -----------------------------------------------------------------


def run_threads(count: int, target) -> None:
    errors: list[BaseException] = []

    def body(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_sixteen_callers_emptying_a_pool_get_every_lead_exactly_once_and_no_blocked_lead():
    # given a pool of 2,000 (200 pulls of 10 by 16 threads), with stale statuses on 40 blocked and 20 suppressed
    campaign = DialerCampaignFactory()
    leads = pool_create(campaign=campaign, size=2_000)
    blocked = {lead.pk for lead in leads[::50]}
    Block.objects.bulk_create(
        BlockFactory.build(target=Block.Target.CONTACT, contact_id=lead.contact_id) for lead in leads[::50]
    )
    suppressed = {lead.pk for lead in leads[7::100]}
    numbers = dict(ContactPhone.objects.values_list("contact_id", "phone__e164"))
    Entry.objects.bulk_create(
        Entry(customer=campaign.customer, kind=Entry.Kind.PHONE, value=numbers[lead.contact_id])
        for lead in leads[7::100]
    )
    callers = [CallerFactory(approved_for=[campaign]) for _ in range(16)]
    handed: list[list[int]] = [[] for _ in callers]
    # Every caller connected and starting together: started one after another, the first threads could empty
    # the pool while the last were still connecting (seen on a loaded machine: "some caller got nothing").
    ready = threading.Barrier(len(callers), timeout=60)

    def pull_until_empty(index: int) -> None:
        connection.ensure_connection()
        ready.wait()
        while pulled := leads_pull(campaign=campaign, caller=callers[index], count=10):
            handed[index].extend(ids(pulled))

    # when
    started = time.monotonic()
    run_threads(16, pull_until_empty)
    elapsed = time.monotonic() - started
    # then
    everything = [pk for per_caller in handed for pk in per_caller]
    assert len(everything) == len(set(everything)), "a lead was handed out twice"
    assert set(everything) == {lead.pk for lead in leads} - blocked - suppressed
    # Callers pulled side by side (a caller scheduled late may find the pool empty: no guarantee says otherwise)
    assert sum(1 for per_caller in handed if per_caller) >= 2, "the pulls did not overlap"
    assert set(Lead.objects.filter(pk__in=blocked).values_list("status", flat=True)) == {LeadStatus.DISQUALIFIED}
    leased = Lead.objects.filter(campaign=campaign, waiting_reason=Lead.WaitingReason.LEASED)
    assert {(lead.pk, lead.leased_to_id) for lead in leased} == {
        (pk, callers[index].pk) for index, per_caller in enumerate(handed) for pk in per_caller
    }
    assert elapsed < 60


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_no_pull_that_starts_after_a_suppression_commits_returns_a_lead_it_matches():
    # given
    campaign = DialerCampaignFactory()
    leads = pool_create(campaign=campaign, size=750)
    targets = leads[250::3]
    numbers = dict(ContactPhone.objects.values_list("contact_id", "phone__e164"))
    callers = [CallerFactory(approved_for=[campaign]) for _ in range(8)]
    pulls: list[tuple[float, list[int]]] = []
    committed_at: list[float] = []
    pulling = threading.Event()

    def pull_until_empty(index: int) -> None:
        if index == 0:
            pulling.wait()
            time.sleep(0.05)
            Entry.objects.bulk_create(
                Entry(customer=campaign.customer, kind=Entry.Kind.PHONE, value=numbers[lead.contact_id])
                for lead in targets
            )
            committed_at.append(time.monotonic())
            return
        while True:
            started = time.monotonic()
            pulling.set()
            pulled = leads_pull(campaign=campaign, caller=callers[index], count=5)
            if not pulled:
                return
            pulls.append((started, ids(pulled)))

    # when
    run_threads(8, pull_until_empty)
    # then
    matched = {lead.pk for lead in targets}
    after = [pk for started, pulled in pulls if started > committed_at[0] for pk in pulled]
    assert after, "no pull started after the commit"
    assert not matched & set(after)
    assert len(matched - {pk for _, pulled in pulls for pk in pulled}) > 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_call_on_an_expired_lease_is_recorded_and_the_lead_is_never_leased_twice():
    # given a lead whose lease to Ann expired, went back to the pool, and was pulled by Bob
    lead = DialerLeadFactory()
    ann, bob = CallerFactory(approved_for=[lead.campaign]), CallerFactory(approved_for=[lead.campaign])
    leads_pull(campaign=lead.campaign, caller=ann, count=1, now=timezone.now() - timedelta(hours=1))
    leads_wake_waiting()
    assert ids(leads_pull(campaign=lead.campaign, caller=bob, count=1)) == [lead.pk]
    latecomers = [CallerFactory(approved_for=[lead.campaign]) for _ in range(6)]
    handed: list[int] = []

    def race(index: int) -> None:
        if index == 0:
            call_record(
                lead=lead,
                caller=ann,
                disposition=disposition(lead.campaign, "gatekeeper"),
                number=lead.contact.phones.get().phone.e164,
                actor=ann,
            )
        else:
            handed.extend(ids(leads_pull(campaign=lead.campaign, caller=latecomers[index - 1], count=1)))

    # when Ann records her call while others pull
    run_threads(7, race)
    # then
    lead.refresh_from_db()
    assert Call.objects.filter(lead=lead, caller=ann).count() == 1
    assert handed == []
    assert (lead.status, lead.waiting_reason, lead.leased_to) == (
        LeadStatus.WAITING,
        Lead.WaitingReason.COOLDOWN,
        None,
    )


def _lead_excepted_from_a_suppression(campaign_pk: int) -> tuple[Campaign, Lead]:
    """A campaign (with the given id) whose one lead matches an entry whose block ops lifted: it may be called."""
    from campaigns.services import blocks_lift
    from suppressions.services.matching import customer_rematch
    from tests.campaigns.factories import UserFactory

    campaign = DialerCampaignFactory(pk=campaign_pk)
    lead = DialerLeadFactory(campaign=campaign)
    entry = Entry.objects.create(
        customer=campaign.customer, kind=Entry.Kind.PHONE, value=lead.contact.phones.get().phone.e164
    )
    customer_rematch(customer=campaign.customer)
    blocks_lift(
        blocks=Block.objects.filter(evidence_id=entry.pk, source=Block.Source.SUPPRESSION),
        actor=UserFactory(permissions=["campaigns.lift_block"]),
        reason="The customer confirmed this person may be called.",
    )
    return campaign, lead


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_pull_after_a_flush_renumbered_the_content_types_reads_the_new_ones():
    # given: a pull compiled its statement for a campaign; then the database was flushed and filled again, as
    # between tests, and the suppression entry's content type got a new id
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command

    campaign, lead = _lead_excepted_from_a_suppression(campaign_pk=4242)
    assert ids(leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=1)) == [lead.pk]
    entry_type = ContentType.objects.get_for_model(Entry).pk
    call_command("flush", interactive=False, reset_sequences=False, verbosity=0)
    assert ContentType.objects.get_for_model(Entry).pk != entry_type
    campaign, lead = _lead_excepted_from_a_suppression(campaign_pk=4242)
    # when the same campaign is pulled from again
    pulled = leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=1)
    # then the lifted block is seen for what it is (a statement naming the old id would hold the lead back)
    assert ids(pulled) == [lead.pk]
