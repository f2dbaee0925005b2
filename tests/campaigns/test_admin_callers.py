"""Approved callers in the admin: ops approve and revoke them (the campaign's page, the user list), and a
caller's admin shows what the campaigns they are approved for reach, lets them work it, and nothing else."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from campaigns.admin.workflows import workflow_url
from campaigns.models import (
    Account,
    Block,
    Call,
    CallerApproval,
    Campaign,
    Contact,
    Lead,
    LeadStatus,
    PhoneNumber,
    User,
)
from campaigns.selectors.explaining import explain, moment_words
from campaigns.services.calls import lead_unqualify
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, disposition
from tests.campaigns.caller_scenes import caller_scene, leaks, member_of
from tests.campaigns.factories import UserFactory

pytestmark = pytest.mark.django_db

D, E = LeadStatus.DISQUALIFIED, LeadStatus.ELIGIBLE


@pytest.fixture
def scene():
    return caller_scene()


def change_url(obj) -> str:
    return reverse(f"admin:campaigns_{obj._meta.model_name}_change", args=[obj.pk])


def changelist(model) -> str:
    return reverse(f"admin:campaigns_{model._meta.model_name}_changelist")


def details_url(account: Account) -> str:
    return reverse("admin:campaigns_account_details", args=[account.pk])


def change_form_data(response) -> dict[str, object]:
    """Return the POST data of a change page as shown: the main form and every inline, with their management
    forms (a test then changes what it wants)."""
    data: dict[str, object] = {}

    def add(form):
        for bound in form:
            if bound.field.disabled:
                continue
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{formset.prefix}-{name}"] = management[name].value()
        for form in formset.forms:
            add(form)
    return data


def body(response) -> str:
    return response.content.decode()


# --- ops approve and revoke -----------------------------------------------------------------------------


def test_ops_approve_a_caller_on_the_campaigns_page_and_see_who_approved_them_and_when(client):
    # given
    ops = member_of("Ops", "olga")
    campaign = DialerCampaignFactory(name="Clinic outreach Q3")
    caller = CallerFactory(username="amy.lee", first_name="Amy", last_name="Lee")
    client.force_login(ops)
    data = change_form_data(client.get(change_url(campaign)))
    data["approvals-0-caller"] = caller.pk
    # when
    response = client.post(change_url(campaign), data)
    # then
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    approval = CallerApproval.objects.get()
    assert (approval.caller, approval.campaign, approval.approved_by, approval.in_force) == (
        caller,
        campaign,
        ops,
        True,
    )
    page = body(client.get(change_url(campaign)))
    assert "Amy Lee (amy.lee)" in page and "olga" in page
    assert LogEntry.objects.filter(object_id=str(campaign.pk)).exists()


def test_ops_revoke_an_approval_on_the_campaigns_page_and_it_stays_as_history_with_the_reason(client):
    # given: Amy holds a lease in the campaign
    ops = member_of("Ops", "olga")
    campaign = DialerCampaignFactory()
    caller = CallerFactory(username="amy.lee", approved_for=[campaign])
    from campaigns.dialer.pool import leads_pull
    from tests.campaigns.api_factories import pool_create

    pool_create(campaign=campaign, size=2)
    leads_pull(campaign=campaign, caller=caller, count=1)
    client.force_login(ops)
    data = change_form_data(client.get(change_url(campaign)))
    data.update({"approvals-0-revoke": "on", "approvals-0-revoke_reason": "Left the agency"})
    # when
    response = client.post(change_url(campaign), data)
    # then
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    approval = CallerApproval.objects.get()
    assert (approval.in_force, approval.revoked_by, approval.revoke_reason) == (False, ops, "Left the agency")
    assert not Lead.objects.filter(leased_to=caller).exists()
    page = body(client.get(change_url(campaign)))
    assert "Left the agency" in page and "amy.lee" in page


def test_the_campaigns_page_refuses_to_approve_a_customers_user_and_changes_nothing(client):
    # given
    ops = member_of("Ops", "olga")
    campaign = DialerCampaignFactory()
    customers_user = UserFactory(username="carla", customer=campaign.customer, is_staff=False)
    client.force_login(ops)
    data = change_form_data(client.get(change_url(campaign)))
    data["approvals-0-caller"] = customers_user.pk
    # when
    response = client.post(change_url(campaign), data)
    # then: the picker offers agency users only
    assert response.status_code == 200
    assert "approvals-0-caller" in str(response.context["errors"]) or response.context["errors"]
    assert not CallerApproval.objects.exists()


def run_action(client, model, action: str, ids, **data):
    return client.post(changelist(model), {"action": action, "_selected_action": list(ids), "index": "0", **data})


def test_ops_approve_several_users_for_campaigns_from_the_user_list(client):
    # given
    ops = member_of("Ops", "olga")
    first, second = DialerCampaignFactory(name="Clinic outreach Q3"), DialerCampaignFactory(name="Hospital IT")
    amy, ben = CallerFactory(username="amy.lee"), CallerFactory(username="ben.okafor")
    CallerApproval.objects.create(caller=ben, campaign=first, approved_by=ops)
    client.force_login(ops)
    # when: the action asks for the campaigns first
    page = run_action(client, User, "approve_for_campaigns", [amy.pk, ben.pk])
    # then
    assert page.status_code == 200
    assert "Clinic outreach Q3" in body(page) and "Hospital IT" in body(page)
    assert not CallerApproval.objects.filter(caller=amy).exists()
    # when: confirmed
    done = run_action(
        client, User, "approve_for_campaigns", [amy.pk, ben.pk], post="yes", campaigns=[first.pk, second.pk]
    )
    # then
    assert done.status_code == 302
    pairs = set(CallerApproval.objects.in_force().values_list("caller__username", "campaign__name"))
    assert pairs == {
        ("amy.lee", "Clinic outreach Q3"),
        ("amy.lee", "Hospital IT"),
        ("ben.okafor", "Clinic outreach Q3"),
        ("ben.okafor", "Hospital IT"),
    }
    messages = [str(m) for m in done.wsgi_request._messages]
    assert messages == ["Approved 2 callers for 2 campaigns: 3 new approvals (1 approval already in force)."]


def test_ops_revoke_the_approvals_they_tick_from_the_user_list(client):
    # given
    ops = member_of("Ops", "olga")
    first, second = DialerCampaignFactory(), DialerCampaignFactory()
    amy = CallerFactory(username="amy.lee", approved_for=[first, second])
    keep = CallerApproval.objects.get(campaign=second)
    client.force_login(ops)
    page = run_action(client, User, "revoke_approvals", [amy.pk])
    assert page.status_code == 200 and str(first) in body(page) and str(second) in body(page)
    # when: only the first approval is ticked
    revoke = CallerApproval.objects.get(campaign=first)
    done = run_action(
        client, User, "revoke_approvals", [amy.pk], post="yes", approvals=[revoke.pk], reason="Moved to dentists"
    )
    # then
    assert done.status_code == 302
    revoke.refresh_from_db()
    keep.refresh_from_db()
    assert (revoke.in_force, revoke.revoke_reason, revoke.revoked_by) == (False, "Moved to dentists", ops)
    assert keep.in_force


def test_approving_from_the_user_list_needs_the_permission_to_approve_callers(client):
    # given: a staff user who may see users but not approve callers
    someone = UserFactory(permissions=["campaigns.view_user", "campaigns.change_user"])
    campaign = DialerCampaignFactory()
    amy = CallerFactory()
    client.force_login(someone)
    # when
    response = run_action(client, User, "approve_for_campaigns", [amy.pk], post="yes", campaigns=[campaign.pk])
    # then: the list offers no such action, and nothing is approved
    assert response.status_code == 200
    assert "approve_for_campaigns" not in body(response)
    assert not CallerApproval.objects.exists()


def test_the_campaign_list_shows_each_campaigns_callers_in_the_same_queries_however_many(
    client, django_assert_max_num_queries
):
    # given
    ops = member_of("Ops", "olga")
    client.force_login(ops)
    few = [DialerCampaignFactory() for _ in range(2)]
    CallerFactory(approved_for=few)
    CallerFactory(approved_for=few[:1])
    client.get(changelist(Campaign))
    with django_assert_max_num_queries(20) as with_few:
        page = client.get(changelist(Campaign))
    counts = {row.pk: row.callers_in_force for row in page.context["cl"].result_list}
    for _ in range(20):
        CallerFactory(approved_for=[DialerCampaignFactory()])
    # when
    with django_assert_max_num_queries(20) as with_many:
        client.get(changelist(Campaign))
    # then
    assert counts == {few[0].pk: 2, few[1].pk: 1}
    assert len(with_many.captured_queries) == len(with_few.captured_queries)


# --- a caller's admin ------------------------------------------------------------------------------------


def test_a_callers_lead_list_holds_their_campaigns_leads_and_its_filters_name_no_other_campaign(client, scene):
    # given
    client.force_login(scene.amy)
    # when
    page = client.get(changelist(Lead))
    searched = client.get(changelist(Lead), {"q": "Quent"})  # the page repeats the term: a prefix of a secret
    filtered = client.get(changelist(Lead), {"campaign__id__exact": scene.sibling.pk})
    # then
    assert sorted(lead.pk for lead in page.context["cl"].result_list) == sorted([scene.maria.pk, scene.tom.pk])
    assert not leaks(body(page), scene.secrets)
    assert list(searched.context["cl"].result_list) == []
    # (a filter with one choice is not shown, and Django then ignores its parameter: Amy's own leads are listed)
    assert {lead.campaign_id for lead in filtered.context["cl"].result_list} <= {scene.mine.pk}
    assert not leaks(body(searched), scene.secrets) and not leaks(body(filtered), scene.secrets)
    assert "Clinic outreach Q3" in body(page)


def test_ops_still_see_every_campaigns_leads(client, scene):
    # given
    client.force_login(scene.ops)
    # when
    page = client.get(changelist(Lead))
    # then
    assert len(page.context["cl"].result_list) == Lead.objects.count() == 6
    assert "Hidden Harvest Drive" in body(page) and "Zephyr Campaign" in body(page)


def test_the_admin_index_offers_a_caller_only_what_they_may_open(client, scene):
    # given
    client.force_login(scene.amy)
    # when
    page = client.get(reverse("admin:index"))
    # then
    models = {model["object_name"] for app in page.context["app_list"] for model in app["models"]}
    assert models == {
        "Account",
        "Block",
        "Call",
        "Campaign",
        "Contact",
        "Disposition",
        "Lead",
        "Meeting",
        "PhoneNumber",
    }


def test_a_caller_records_a_call_on_their_lead_and_the_lead_names_them_in_their_role(client, scene):
    # given
    client.force_login(scene.amy)
    url = reverse("admin:campaigns_lead_record_call", args=[scene.tom.pk])
    form = client.get(url)
    # when: Tom says not to call again, on the switchboard
    response = client.post(
        url, {"disposition": disposition(scene.mine, "do_not_call").pk, "number": scene.board.e164, "notes": ""}
    )
    # then
    assert form.status_code == 200 and not leaks(body(form), scene.secrets)
    assert response.status_code == 302
    call = Call.objects.get(lead=scene.tom, caller=scene.amy)
    assert call.disposition.code == "do_not_call"
    scene.tom.refresh_from_db()
    assert scene.tom.status == D
    sentences = [r.message for r in explain(scene.tom)]
    assert any("marked by Amy Lee, approved caller for Clinic outreach Q3, on " in s for s in sentences), sentences
    page = body(client.get(change_url(scene.tom)))
    assert "marked by Amy Lee, approved caller for Clinic outreach Q3, on " in page


def test_a_callers_account_details_show_their_contacts_and_count_the_other_campaigns_leads(client, scene):
    # given
    client.force_login(scene.amy)
    # when
    page = client.get(details_url(scene.clinic))
    # then: Maria and Tom, Tom's lead in Amy's campaign only; the rest is a count
    details = page.context["details"]
    assert [row.contact.first_name for row in details.contacts] == ["Tom", "Maria"]
    assert [row.lead.pk for c in details.contacts for row in c.leads] == [scene.tom.pk, scene.maria.pk]
    assert [(c.campaign, [u.username for u in c.callers]) for c in details.leads_by_campaign] == [
        ("Clinic outreach Q3", ["amy.lee"])
    ]
    assert details.leads_not_seen == 2
    html = body(page)
    assert "… and 2 leads in campaigns you do not work." in html
    assert not leaks(html, scene.secrets)
    ops_only = ("customer_dnc_accounts", "customer_dnc_contacts", "undisqualify_accounts", "undisqualify_contacts")
    for action in ops_only:
        assert f'value="{action}"' not in html
    for theirs in ("disqualify_accounts", "disqualify_contacts", "mark_phone_dnc"):
        assert f'value="{theirs}"' in html


def test_account_details_and_the_lead_page_say_who_is_approved_and_who_holds_the_lease(client, scene):
    # given: Amy pulled Maria's lead
    from campaigns.dialer.pool import leads_pull

    Lead.objects.filter(pk=scene.tom.pk).update(priority=-1)
    [leased] = leads_pull(campaign=scene.mine, caller=scene.amy, count=1)
    client.force_login(scene.ops)
    # when
    details = body(client.get(details_url(scene.clinic)))
    lead_page = body(client.get(change_url(leased)))
    # then
    leased.refresh_from_db()
    until = leased.waiting_until.astimezone()
    assert leased.pk == scene.maria.pk
    assert f"Leased to Amy Lee until {until.day} {until:%b}, {until:%H:%M}" in details
    assert f"Leased to Amy Lee until {moment_words(leased.waiting_until)}." in lead_page
    assert "Amy Lee" in details.split('id="leads-by-campaign"')[1].split("</table>")[0]
    assert "Ben Okafor" in details  # approved for the customer's other campaign, which ops see
    assert "Approved callers" in lead_page and "Amy Lee" in lead_page


def test_a_caller_disqualifies_a_contact_and_the_preview_counts_leads_of_campaigns_they_do_not_work(client, scene):
    # given: Tom has a lead in Amy's campaign and one in the customer's other campaign
    client.force_login(scene.amy)
    url = workflow_url(Contact, "disqualify_contacts", [scene.tom.contact_id], details_url(scene.clinic))
    # when
    preview = client.get(url)
    done = run_action(
        client,
        Contact,
        "disqualify_contacts",
        [scene.tom.contact_id],
        post="yes",
        reason=Block.Reason.NOT_INTERESTED,
        reach=Block.Reach.CUSTOMER,
    )
    # then: the preview names Amy's campaign only, and counts the other
    html = body(preview)
    assert preview.status_code == 200
    assert [c.campaign for c in preview.context["impact"].campaigns] == ["Clinic outreach Q3"]
    assert preview.context["impact"].not_seen == 1
    assert "… and 1 lead in campaigns you do not work." in html
    assert not leaks(html, scene.secrets)
    assert [c.name for c in preview.context["form"].fields["campaign"].queryset] == ["Clinic outreach Q3"]
    # and the block is right whoever makes it: the customer's other campaign is reached too
    assert done.status_code == 302
    assert Lead.objects.get(pk=scene.tom.pk).status == D
    assert Lead.objects.get(pk=scene.tom_sibling.pk).status == D
    block = Block.objects.get(contact_id=scene.tom.contact_id, source=Block.Source.OPS_DISQUALIFY)
    assert (block.actor, block.caller_campaign) == (scene.amy, scene.mine)


def test_a_caller_marks_a_shared_number_dnc_seeing_only_their_contacts_and_counting_the_rest(client, scene):
    # given: the switchboard is Maria's, Tom's, Quentin's (the other campaign) and Quincy's (another customer)
    client.force_login(scene.amy)
    # when
    preview = run_action(client, PhoneNumber, "mark_phone_dnc", [scene.board.pk], next=details_url(scene.clinic))
    # then
    html = body(preview)
    assert preview.status_code == 200
    [number] = preview.context["impact"].numbers
    assert sorted(s.contact.first_name for s in number.contacts) == ["Maria", "Tom"]
    assert (number.contacts_total, number.contacts_not_seen) == (4, 2)
    assert "… and 2 contacts in campaigns you do not work." in html
    # Tom has only the switchboard; Maria's mobile is already Do Not Call
    assert [lead.pk for lead in preview.context["impact"].leads] == [scene.tom.pk, scene.maria.pk]
    assert preview.context["impact"].not_seen == 1  # Tom's lead in the other campaign
    assert not leaks(html, scene.secrets)
    assert list(preview.context["form"].fields["customer"].queryset) == [scene.customer]
    # when: confirmed, platform-wide
    done = run_action(
        client,
        PhoneNumber,
        "mark_phone_dnc",
        [scene.board.pk],
        post="yes",
        reach="platform",
        previewed="platform",
        next=details_url(scene.clinic),
    )
    # then
    assert done.status_code == 302
    after = body(client.get(details_url(scene.clinic)))
    assert (
        "is on the platform Do-Not-Call list: marked by Amy Lee, approved caller for Clinic outreach Q3, on " in after
    )
    assert Lead.objects.get(pk=scene.tom_sibling.pk).status == D
    assert not leaks(after, scene.secrets)


def test_a_caller_unqualifies_then_reopens_their_lead(client, scene):
    # given
    client.force_login(scene.amy)
    # when
    unqualified = run_action(
        client, Lead, "unqualify_leads", [scene.maria.pk], post="yes", reason=Block.Reason.NO_LONGER_INTERESTED
    )
    status_after_unqualify = Lead.objects.get(pk=scene.maria.pk).status
    reopened = run_action(client, Lead, "reopen_leads", [scene.maria.pk], post="yes", reason="Called back")
    # then
    assert (unqualified.status_code, reopened.status_code) == (302, 302)
    assert status_after_unqualify == D
    assert Lead.objects.get(pk=scene.maria.pk).status == E
    block = Block.objects.get(lead=scene.maria)
    assert (block.caller_campaign, block.lifted_by, block.lift_reason) == (scene.mine, scene.amy, "Called back")


@pytest.mark.parametrize(
    "make_url",
    [
        lambda s: workflow_url(Lead, "undisqualify_leads", [s.maria.pk]),
        lambda s: workflow_url(Contact, "undisqualify_contacts", [s.maria.contact_id]),
        lambda s: workflow_url(Account, "undisqualify_accounts", [s.clinic.pk]),
        lambda s: workflow_url(Contact, "customer_dnc_contacts", [s.maria.contact_id]),
        lambda s: workflow_url(Account, "customer_dnc_accounts", [s.clinic.pk]),
        lambda s: reverse("admin:campaigns_lead_meeting_outcome", args=[s.maria.pk]),
        lambda s: reverse("admin:campaigns_lead_export"),
        lambda s: reverse("admin:campaigns_customer_changelist"),
        lambda s: reverse("admin:suppressions_entry_changelist"),
        lambda s: reverse("admin:suppressions_upload_changelist"),
        lambda s: reverse("admin:crm_crmconnection_changelist"),
        lambda s: reverse("admin:campaigns_apikey_changelist"),
        lambda s: reverse("admin:imports_leadimport_changelist"),
        lambda s: reverse("admin:campaigns_user_changelist"),
    ],
    ids=[
        "undisqualify lead",
        "undisqualify contact",
        "undisqualify account",
        "customer dnc contact",
        "customer dnc account",
        "meeting outcome",
        "lead export",
        "customers",
        "suppression entries",
        "uploads",
        "crm connections",
        "api keys",
        "lead imports",
        "users",
    ],
)
def test_a_caller_is_refused_what_only_ops_do_even_on_their_own_leads(client, scene, make_url):
    # given
    client.force_login(scene.amy)
    # when
    response = client.get(make_url(scene))
    # then
    assert response.status_code == 403


def test_a_callers_change_pages_are_read_only(client, scene):
    # given
    client.force_login(scene.amy)
    # when
    page = client.get(change_url(scene.maria.contact))
    posted = client.post(change_url(scene.maria.contact), {"first_name": "Renamed", "last_name": "X"})
    # then
    assert page.status_code == 200 and "new_phone" not in body(page)
    assert posted.status_code == 403
    assert Contact.objects.get(pk=scene.maria.contact_id).first_name == "Maria"


def test_a_revoked_caller_is_refused_on_their_next_request(client, scene):
    # given: Amy reads her lead
    client.force_login(scene.amy)
    assert client.get(change_url(scene.maria)).status_code == 200
    from campaigns.services.callers import approvals_revoke

    approvals_revoke(approvals=CallerApproval.objects.filter(caller=scene.amy), actor=scene.ops)
    # when
    lead = client.get(change_url(scene.maria))
    details = client.get(details_url(scene.clinic))
    call = client.post(
        reverse("admin:campaigns_lead_record_call", args=[scene.maria.pk]),
        {"disposition": disposition(scene.mine, "no_answer").pk, "number": scene.board.e164},
    )
    listed = client.get(changelist(Lead))
    # then
    assert (lead.status_code, details.status_code, call.status_code) == (404, 404, 404)
    assert list(listed.context["cl"].result_list) == []
    assert not Call.objects.filter(caller=scene.amy).exists()


def test_a_caller_approved_for_nothing_sees_nothing(client, scene):
    # given
    nobody = member_of("Callers", "nina.new")
    client.force_login(nobody)
    # when
    lists = {model: client.get(changelist(model)) for model in (Lead, Contact, Account, PhoneNumber, Block, Campaign)}
    details = client.get(details_url(scene.clinic))
    # then
    assert {model.__name__: list(page.context["cl"].result_list) for model, page in lists.items()} == {
        model.__name__: [] for model in lists
    }
    assert details.status_code == 404


def test_a_caller_posting_another_campaigns_ids_to_a_workflow_is_not_found_and_nothing_changes(client, scene):
    # given
    client.force_login(scene.amy)
    before = sorted(Block.objects.values_list("pk", "lifted_at"))
    # when
    response = run_action(
        client, Lead, "unqualify_leads", [scene.tom_sibling.pk], post="yes", reason=Block.Reason.UNREACHABLE
    )
    # then
    assert response.status_code == 404
    assert sorted(Block.objects.values_list("pk", "lifted_at")) == before


def test_a_caller_reads_a_lead_block_made_in_their_campaign_with_its_note(client, scene):
    # given: ops unqualified Maria's lead with a note
    lead_unqualify(lead=scene.maria, reason=Block.Reason.WRONG_NUMBER, actor=scene.ops, note="wrong desk, ask Tom")
    client.force_login(scene.amy)
    # when
    page = body(client.get(change_url(scene.maria)))
    # then
    assert "wrong desk, ask Tom" in page and "marked by olga on " in page
