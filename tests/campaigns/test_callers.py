"""Approved callers: approving and revoking (history kept, leases given back), and what an approval allows in
the pool, on calls and releases — with a revocation racing a pull on PostgreSQL."""

import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction

from campaigns.dialer.pool import lead_release, leads_pull
from campaigns.models import CallerApproval, Lead, LeadStatus
from campaigns.selectors.callers import approved_campaigns, caller_is_approved, campaign_callers, may_work_campaign
from campaigns.services.callers import approvals_revoke, caller_approval_revoke, callers_approve
from campaigns.services.calls import call_record
from leadops.errors import LeadopsError
from tests.campaigns.api_factories import (
    CallerFactory,
    DialerCampaignFactory,
    DialerLeadFactory,
    disposition,
    pool_create,
)
from tests.campaigns.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver(db):
    return UserFactory(username="oscar-ops", permissions=["campaigns.approve_callers"])


def ids(leads) -> list[int]:
    return sorted(lead.pk for lead in leads)


def leased_to(caller) -> list[int]:
    return sorted(Lead.objects.filter(leased_to=caller).values_list("pk", flat=True))


def no_answer(lead: Lead, caller, **kwargs):
    return call_record(
        lead=lead,
        caller=caller,
        disposition=disposition(lead.campaign, "no_answer"),
        number=lead.contact.phones.get().phone.e164,
        actor=caller,
        **kwargs,
    )


# --- approving ----------------------------------------------------------------------------------


def test_approving_callers_for_campaigns_makes_one_approval_a_pair_saying_who_and_when(approver):
    # given
    amy, ben = CallerFactory(username="amy"), CallerFactory(username="ben")
    clinics, dentists = DialerCampaignFactory(), DialerCampaignFactory()
    # when
    approved = callers_approve(callers=[amy, ben], campaigns=[clinics, dentists], actor=approver)
    # then
    assert approved.already == 0
    rows = CallerApproval.objects.in_force().values_list("caller__username", "campaign_id", "approved_by", "revoked_at")
    assert sorted(rows) == [
        ("amy", clinics.pk, approver.pk, None),
        ("amy", dentists.pk, approver.pk, None),
        ("ben", clinics.pk, approver.pk, None),
        ("ben", dentists.pk, approver.pk, None),
    ]
    assert {a.pk for a in approved.created} == set(CallerApproval.objects.values_list("pk", flat=True))
    assert set(approved_campaigns(amy)) == {clinics, dentists}
    assert [a.caller for a in campaign_callers(clinics.pk)] == [amy, ben]


def test_approving_a_customers_user_or_an_inactive_one_refuses_the_whole_call_naming_them(approver):
    # given
    campaign = DialerCampaignFactory()
    good = CallerFactory(username="good")
    customers = UserFactory(username="carla-customer", customer=campaign.customer, is_staff=False)
    gone = CallerFactory(username="gone", is_active=False)
    # when
    with pytest.raises(LeadopsError) as refused:
        callers_approve(callers=[good, customers, gone], campaigns=[campaign], actor=approver)
    # then
    assert refused.value.field == "callers"
    assert refused.value.message == ("carla-customer is a customer's user; callers are the agency's. gone is inactive.")
    assert not CallerApproval.objects.exists()


def test_a_caller_deactivated_since_they_were_read_is_refused(approver):
    # given: the caller as a page read them, then deactivated
    campaign = DialerCampaignFactory()
    caller = CallerFactory(username="stale")
    type(caller).objects.filter(pk=caller.pk).update(is_active=False)
    # when
    with pytest.raises(LeadopsError) as refused:
        callers_approve(callers=[caller], campaigns=[campaign], actor=approver)
    # then
    assert refused.value.message == "stale is inactive."
    assert not CallerApproval.objects.exists()


def test_a_second_approval_of_a_pair_leaves_the_first_as_it_is(approver):
    # given
    campaign, other = DialerCampaignFactory(), DialerCampaignFactory()
    caller = CallerFactory()
    [first] = callers_approve(callers=[caller], campaigns=[campaign], actor="tests").created
    # when
    again = callers_approve(callers=[caller, caller], campaigns=[campaign, other, campaign], actor=approver)
    # then
    assert again.already == 1
    assert [(a.caller, a.campaign) for a in again.created] == [(caller, other)]
    kept = CallerApproval.objects.get(pk=first.pk)
    assert (kept.approved_at, kept.approved_by, kept.approved_by_job) == (first.approved_at, None, "tests")
    assert CallerApproval.objects.count() == 2


def test_approving_needs_the_permission_to_approve_callers():
    # given
    campaign = DialerCampaignFactory()
    someone = UserFactory(permissions=["campaigns.lift_block"])
    # when
    with pytest.raises(LeadopsError) as refused:
        callers_approve(callers=[CallerFactory()], campaigns=[campaign], actor=someone)
    # then
    assert refused.value.code == "permission_denied"
    assert not CallerApproval.objects.exists()


# --- revoking -----------------------------------------------------------------------------------


def test_revoking_ends_the_approval_and_keeps_it_with_who_and_when(approver):
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    approval = CallerApproval.objects.get()
    # when
    revoked = caller_approval_revoke(approval=approval, actor=approver, reason="  Left the agency ")
    # then
    assert (revoked.revoked, revoked.released) == (1, 0)
    approval.refresh_from_db()
    assert approval.revoked_at is not None
    assert (approval.revoked_by, approval.revoked_by_job, approval.revoke_reason) == (approver, "", "Left the agency")
    assert (approval.approved_by_job, approval.in_force) == ("tests", False)
    assert not caller_is_approved(caller=caller, campaign_id=lead.campaign_id)
    assert list(campaign_callers(lead.campaign_id)) == []


def test_an_approval_after_a_revocation_is_a_new_one_and_the_old_one_stays(approver):
    # given
    campaign = DialerCampaignFactory()
    caller = CallerFactory(approved_for=[campaign])
    approvals_revoke(approvals=CallerApproval.objects.all(), actor=approver)
    # when
    callers_approve(callers=[caller], campaigns=[campaign], actor=approver)
    # then
    assert CallerApproval.objects.count() == 2
    assert CallerApproval.objects.in_force().get().approved_by == approver
    assert caller_is_approved(caller=caller, campaign_id=campaign.pk)


@pytest.mark.parametrize(
    "delete",
    [
        pytest.param(lambda approval: approval.delete(), id="the ORM"),
        pytest.param(
            lambda approval: connection.cursor().execute("DELETE FROM campaigns_callerapproval"), id="plain SQL"
        ),
    ],
)
def test_the_database_refuses_to_delete_an_approval(delete):
    # given
    CallerFactory(approved_for=[DialerCampaignFactory()])
    approval = CallerApproval.objects.get()
    # when
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        delete(approval)
    # then
    assert "caller approvals are never deleted" in str(refused.value)
    assert CallerApproval.objects.filter(pk=approval.pk).exists()


def test_revoking_gives_back_that_callers_leases_in_that_campaign_at_once_and_no_others(approver):
    # given: Amy holds leases in two campaigns, Ben one in the first
    clinics, dentists = DialerCampaignFactory(), DialerCampaignFactory()
    pool_create(campaign=clinics, size=4)
    pool_create(campaign=dentists, size=2, first_number=3_100_000)
    amy, ben = CallerFactory(approved_for=[clinics, dentists]), CallerFactory(approved_for=[clinics])
    amys_clinics = leads_pull(campaign=clinics, caller=amy, count=2)
    amys_dentists = leads_pull(campaign=dentists, caller=amy, count=1)
    bens = leads_pull(campaign=clinics, caller=ben, count=1)
    # when
    revoked = approvals_revoke(approvals=CallerApproval.objects.filter(caller=amy, campaign=clinics), actor=approver)
    # then: her clinic leads are back in the pool, Eligible, with nothing of the lease left
    assert (revoked.revoked, revoked.released) == (1, 2)
    back = Lead.objects.filter(pk__in=ids(amys_clinics))
    assert {(lead.status, lead.leased_to, lead.waiting_until, lead.waiting_reason) for lead in back} == {
        (LeadStatus.ELIGIBLE, None, None, "")
    }
    assert leased_to(amy) == ids(amys_dentists)
    assert leased_to(ben) == ids(bens)
    assert set(Lead.objects.filter(pk__in=ids(amys_dentists + bens)).values_list("status", flat=True)) == {
        LeadStatus.WAITING
    }


def test_revoking_again_changes_nothing(approver):
    # given
    campaign = DialerCampaignFactory()
    CallerFactory(approved_for=[campaign])
    approvals_revoke(approvals=CallerApproval.objects.all(), actor="tests", reason="first")
    first = CallerApproval.objects.get()
    # when
    again = approvals_revoke(approvals=CallerApproval.objects.all(), actor=approver, reason="second")
    # then
    assert (again.revoked, again.released) == (0, 0)
    now = CallerApproval.objects.get()
    assert (now.revoked_at, now.revoked_by, now.revoked_by_job, now.revoke_reason) == (
        first.revoked_at,
        None,
        "tests",
        "first",
    )


def test_revoking_needs_the_permission_and_a_reason_that_fits():
    # given
    campaign = DialerCampaignFactory()
    CallerFactory(approved_for=[campaign])
    approvals = CallerApproval.objects.all()
    # when
    with pytest.raises(LeadopsError) as not_allowed:
        approvals_revoke(approvals=approvals, actor=UserFactory())
    with pytest.raises(LeadopsError) as too_long:
        approvals_revoke(approvals=approvals, actor="tests", reason="x" * 501)
    # then
    assert not_allowed.value.code == "permission_denied"
    assert (too_long.value.field, too_long.value.message) == ("reason", "The reason is longer than 500 characters.")
    assert CallerApproval.objects.in_force().count() == 1


# --- what an approval allows ------------------------------------------------------------------


def test_a_caller_not_approved_for_the_campaign_pulls_nothing_and_is_told_why():
    # given: approved for another campaign only
    lead = DialerLeadFactory()
    caller = CallerFactory(username="amy", approved_for=[DialerCampaignFactory()])
    # when
    with pytest.raises(LeadopsError) as refused:
        leads_pull(campaign=lead.campaign, caller=caller, count=5)
    # then
    assert (refused.value.code, refused.value.field) == ("caller_not_approved", "caller")
    assert refused.value.message == f"amy is not approved to call the campaign {lead.campaign} (#{lead.campaign_id})."
    lead.refresh_from_db()
    assert (lead.status, lead.leased_to) == (LeadStatus.ELIGIBLE, None)


def test_a_revoked_caller_pulls_nothing():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    approvals_revoke(approvals=CallerApproval.objects.all(), actor="tests")
    # when
    with pytest.raises(LeadopsError) as refused:
        leads_pull(campaign=lead.campaign, caller=caller, count=5)
    # then
    assert refused.value.code == "caller_not_approved"
    assert leased_to(caller) == []


def test_an_inactive_caller_pulls_nothing_even_while_approved():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(username="gone", approved_for=[lead.campaign], is_active=False)
    # when
    with pytest.raises(LeadopsError) as refused:
        leads_pull(campaign=lead.campaign, caller=caller, count=5)
    # then
    assert refused.value.code == "caller_not_approved"
    assert refused.value.message == (
        f"gone is inactive and not approved to call the campaign {lead.campaign} (#{lead.campaign_id})."
    )
    assert leased_to(caller) == []


def test_a_paused_campaign_tells_an_unapproved_caller_first_that_they_are_not_approved():
    # given
    lead = DialerLeadFactory(campaign=DialerCampaignFactory(status="paused"))
    # when
    with pytest.raises(LeadopsError) as unapproved:
        leads_pull(campaign=lead.campaign, caller=CallerFactory(), count=1)
    with pytest.raises(LeadopsError) as approved:
        leads_pull(campaign=lead.campaign, caller=CallerFactory(approved_for=[lead.campaign]), count=1)
    # then
    assert (unapproved.value.code, approved.value.code) == ("caller_not_approved", "conflict")


def test_an_approved_caller_on_a_dry_pool_gets_no_lead_and_no_refusal():
    # given
    campaign = DialerCampaignFactory()
    # when
    pulled = leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=5)
    # then
    assert pulled == []


def test_a_call_by_a_caller_neither_holding_the_lease_nor_approved_is_refused_and_records_nothing():
    # given: Ben holds the lead's lease; Amy is approved elsewhere only
    lead = DialerLeadFactory()
    ben = CallerFactory(approved_for=[lead.campaign])
    leads_pull(campaign=lead.campaign, caller=ben, count=1)
    amy = CallerFactory(username="amy", approved_for=[DialerCampaignFactory()])
    # when
    with pytest.raises(LeadopsError) as refused:
        no_answer(lead, amy)
    # then
    assert refused.value.code == "caller_not_approved"
    assert refused.value.message == (
        f"amy is not approved to call the campaign {lead.campaign} (#{lead.campaign_id}) "
        "and does not hold this lead's lease."
    )
    lead.refresh_from_db()
    assert (lead.calls.count(), lead.attempts, lead.leased_to) == (0, 0, ben)


@pytest.mark.parametrize(
    "who",
    [
        pytest.param(lambda lead: CallerFactory(approved_for=[lead.campaign]), id="a caller approved, without lease"),
        pytest.param(lambda lead: UserFactory(permissions=["campaigns.work_every_campaign"]), id="ops"),
    ],
)
def test_a_caller_approved_for_the_campaign_or_ops_records_a_call_without_holding_the_lease(who):
    # given
    lead = DialerLeadFactory()
    leads_pull(campaign=lead.campaign, caller=CallerFactory(approved_for=[lead.campaign]), count=1)
    # when
    call, created = no_answer(lead, caller := who(lead))
    # then
    lead.refresh_from_db()
    assert (created, call.caller) == (True, caller)
    assert (lead.attempts, lead.leased_to) == (1, None)


def test_a_revoked_caller_can_no_longer_record_a_call_on_the_lead_they_held():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    leads_pull(campaign=lead.campaign, caller=caller, count=1)
    approvals_revoke(approvals=CallerApproval.objects.all(), actor="tests")
    # when
    with pytest.raises(LeadopsError) as refused:
        no_answer(lead, caller)
    # then
    assert refused.value.code == "caller_not_approved"
    assert not lead.calls.exists()


def test_a_revoked_caller_is_refused_a_release_and_releasing_changes_nothing():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    leads_pull(campaign=lead.campaign, caller=caller, count=1)
    approvals_revoke(approvals=CallerApproval.objects.all(), actor="tests")
    # when
    with pytest.raises(LeadopsError) as refused:
        lead_release(lead=lead, caller=caller, actor=caller)
    # then
    assert refused.value.code == "caller_not_approved"
    lead.refresh_from_db()
    assert (lead.status, lead.leased_to) == (LeadStatus.ELIGIBLE, None)


def test_who_may_work_a_campaign():
    # given
    campaign = DialerCampaignFactory()
    ops = UserFactory(permissions=["campaigns.work_every_campaign"])
    customers = UserFactory(customer=campaign.customer, is_staff=False)
    customers.user_permissions.add(*ops.user_permissions.all())
    # then
    assert may_work_campaign(ops, campaign.pk)
    assert may_work_campaign(CallerFactory(approved_for=[campaign]), campaign.pk)
    assert not may_work_campaign(CallerFactory(approved_for=[DialerCampaignFactory()]), campaign.pk)
    assert not may_work_campaign(CallerFactory(approved_for=[campaign], is_active=False), campaign.pk)
    assert not may_work_campaign(customers, campaign.pk)


# --- a revocation racing a pull, on PostgreSQL ----------------------------------------------------


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_until_waiting_for_a_lock(pid: int, *, seconds: float = 20) -> None:
    """Return once the backend ``pid`` waits for a row lock (asked from this thread's own connection)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock")


def in_thread(target) -> tuple[threading.Thread, dict]:
    """Start ``target`` in a thread of its own (its own connection); the dict gets its result or error."""
    outcome: dict = {}

    def body() -> None:
        try:
            outcome["result"] = target()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, outcome


@pytest.mark.postgres("row locks between two connections")
@pytest.mark.django_db(transaction=True)
def test_a_revocation_committed_while_a_pull_waits_on_the_approval_leaves_nothing_leased_to_the_caller():
    # given: a revocation has ended the approval and holds its row, not yet committed
    campaign = DialerCampaignFactory()
    pool_create(campaign=campaign, size=20)
    caller = CallerFactory(approved_for=[campaign])
    revoking, pull_pid = threading.Event(), []
    commit = threading.Event()

    def revoke() -> int:
        with transaction.atomic():
            result = approvals_revoke(approvals=CallerApproval.objects.all(), actor="tests")
            revoking.set()
            assert commit.wait(20)
        return result.revoked

    def pull():
        pull_pid.append(backend_pid())
        assert revoking.wait(20)
        return leads_pull(campaign=campaign, caller=caller, count=10)

    revoker, revoked = in_thread(revoke)
    puller, pulled = in_thread(pull)
    # when: the pull's statement has started and waits for the approval's row; then the revocation commits
    assert revoking.wait(20)
    while not pull_pid:
        time.sleep(0.01)
    wait_until_waiting_for_a_lock(pull_pid[0])
    commit.set()
    revoker.join(30)
    puller.join(30)
    # then: the pull saw the revocation and leased nothing
    assert revoked == {"result": 1}
    assert isinstance(pulled.get("error"), LeadopsError), pulled
    assert pulled["error"].code == "caller_not_approved"
    assert leased_to(caller) == []
    assert Lead.objects.filter(campaign=campaign, status=LeadStatus.ELIGIBLE).count() == 20


@pytest.mark.postgres("row locks between two connections")
@pytest.mark.django_db(transaction=True)
def test_a_revocation_while_a_pull_holds_the_approval_waits_for_it_and_gives_back_what_it_leased():
    # given: a pull in a transaction still open, holding the approval FOR SHARE with the leads it leased
    campaign = DialerCampaignFactory()
    pool_create(campaign=campaign, size=20)
    caller = CallerFactory(approved_for=[campaign])
    pulled_them, finish = threading.Event(), threading.Event()
    revoke_pid = []

    def pull() -> list[int]:
        with transaction.atomic():
            leads = leads_pull(campaign=campaign, caller=caller, count=10)
            pulled_them.set()
            assert finish.wait(20)
        return ids(leads)

    def revoke():
        revoke_pid.append(backend_pid())
        assert pulled_them.wait(20)
        return approvals_revoke(approvals=CallerApproval.objects.all(), actor="tests")

    puller, pulled = in_thread(pull)
    revoker, revoked = in_thread(revoke)
    # when: the revocation waits for the pull's lock on the approval; then the pull commits
    assert pulled_them.wait(20)
    while not revoke_pid:
        time.sleep(0.01)
    wait_until_waiting_for_a_lock(revoke_pid[0])
    finish.set()
    puller.join(30)
    revoker.join(30)
    # then: the revocation gave back every lead the pull leased
    assert len(pulled["result"]) == 10, pulled
    assert (revoked["result"].revoked, revoked["result"].released) == (1, 10), revoked
    assert leased_to(caller) == []
    assert Lead.objects.filter(campaign=campaign, status=LeadStatus.ELIGIBLE).count() == 20
