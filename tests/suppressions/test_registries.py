"""The platform-level registries: loading copies and change lists, the dial check's and the pull's scrub of
consumer campaigns, business exemptions, and the national copy's freshness."""

from datetime import datetime, timedelta
from datetime import timezone as fixed
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaigns.dialer.dialable import lead_numbers
from campaigns.models import Block, Campaign, LeadStatus
from campaigns.selectors.explaining import can_dial, can_dial_lead, explain
from leadops.errors import LeadopsError
from suppressions.models import RegistryLoad, RegistryNumber
from suppressions.registries import national_freshness
from suppressions.services.registries import registry_exemption_grant, registry_exemption_revoke, registry_load
from tests.campaigns.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def _file(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def _listed(registry: str = "national") -> set[str]:
    return set(
        RegistryNumber.objects.filter(registry=registry, removed_load__isnull=True).values_list("e164", flat=True)
    )


def _load(tmp_path, text: str, *, changes=False, registry="national", name="212.txt", **kwargs) -> RegistryLoad:
    return registry_load(registry=registry, paths=[_file(tmp_path, name, text)], changes=changes, job="test", **kwargs)


def test_a_full_copy_lists_its_numbers_in_e164_tolerating_crlf_blanks_and_duplicates(tmp_path):
    # given: two area-code files, one with CRLF, blank lines and a duplicate
    a = _file(tmp_path, "212.txt", "2125550100\r\n\r\n2125550101\r\n 2125550100 \r\n")
    b = _file(tmp_path, "646.txt", "6465550100\n")

    # when
    load = registry_load(registry="national", paths=[a, b], changes=False, job="test")

    # then
    assert _listed() == {"+12125550100", "+12125550101", "+16465550100"}
    assert (load.kind, load.added, load.removed, load.total) == ("full", 3, 0, 3)
    assert [f["name"] for f in load.files] == ["212.txt", "646.txt"]
    assert all(len(f["sha256"]) == 64 for f in load.files)


def test_a_second_full_copy_removes_what_it_no_longer_lists_and_keeps_the_history(tmp_path):
    first = _load(tmp_path, "2125550100\n2125550101\n")

    # when
    second = _load(tmp_path, "2125550101\n2125550102\n", name="212b.txt")

    # then
    assert _listed() == {"+12125550101", "+12125550102"}
    assert (second.added, second.removed, second.total) == (1, 1, 2)
    gone = RegistryNumber.objects.get(e164="+12125550100")
    assert (gone.added_load_id, gone.removed_load_id) == (first.pk, second.pk)
    # the number listed by both keeps the load that first listed it
    assert RegistryNumber.objects.get(e164="+12125550101").added_load_id == first.pk


def test_a_change_list_adds_and_deletes_and_the_last_change_of_a_number_wins(tmp_path):
    _load(tmp_path, "2125550100\n2125550101\n")

    # when
    load = _load(
        tmp_path, "2125550100,D\r\n2125550102,a\n2125550103,A\n2125550103,D\n2125550109,D\n", changes=True, name="c.txt"
    )

    # then: deleting a number not listed changes nothing
    assert _listed() == {"+12125550101", "+12125550102"}
    assert (load.kind, load.added, load.removed, load.total) == ("changes", 1, 1, 2)
    assert load.total == len(_listed())


def test_a_bad_line_anywhere_loads_nothing_and_every_bad_line_is_named_by_file_and_line(tmp_path):
    _load(tmp_path, "2125550100\n")
    good = _file(tmp_path, "646.txt", "6465550100\n")
    bad = _file(tmp_path, "718.txt", "7185550100\n718555\n\n1185550100\n")

    # when / then
    with pytest.raises(LeadopsError) as refused:
        registry_load(registry="national", paths=[good, bad], changes=False, job="test")
    assert "2 bad lines" in refused.value.message
    assert "718.txt, line 2" in refused.value.message and "718.txt, line 4" in refused.value.message
    assert RegistryLoad.objects.count() == 1
    assert _listed() == {"+12125550100"}


def test_a_change_line_without_its_change_is_refused(tmp_path):
    with pytest.raises(LeadopsError, match=r"c.txt, line 1: a change list's line is the number, a comma, then A or D"):
        _load(tmp_path, "2125550100\n", changes=True, name="c.txt")
    assert not RegistryLoad.objects.exists()


def test_state_lists_are_their_own_registry(tmp_path):
    _load(tmp_path, "2125550100\n")

    # when
    load = _load(tmp_path, "5125550100\n", registry="tx")

    # then
    assert load.registry == "TX" and load.total == 1
    assert _listed("national") == {"+12125550100"} and _listed("TX") == {"+15125550100"}
    with pytest.raises(LeadopsError, match="'Texas' is not a registry"):
        _load(tmp_path, "5125550100\n", registry="Texas")


def test_the_command_loads_and_says_what_it_did_or_refuses_in_words(tmp_path):
    path = _file(tmp_path, "212.txt", "2125550100\n2125550101\n")
    out = StringIO()

    # when
    call_command("load_registry", "--registry", "national", "--full", str(path), stdout=out)

    # then
    assert "2 lines read, 2 added, 0 removed, 2 listed" in out.getvalue()
    assert RegistryLoad.objects.get().loaded_by_job == "load_registry command"
    with pytest.raises(CommandError, match=r"212\.txt, line 1"):
        call_command("load_registry", "--registry", "national", "--changes", str(path), stdout=out)


# --- The scrub --------------------------------------------------------------------------------------------


def _lead(audience=Campaign.Audience.CONSUMER):
    lead = LeadFactory(campaign__audience=audience)
    return lead, lead.contact.phones.get().phone.e164


def _local_number(e164: str) -> str:
    return e164.removeprefix("+1")


def test_a_consumer_campaign_may_not_dial_a_listed_number_and_the_refusal_says_which_registry(tmp_path):
    lead, number = _lead()
    _load(tmp_path, f"{_local_number(number)}\n")

    # when
    check = can_dial(lead, number)
    dialer = can_dial_lead(lead.pk, number)

    # then
    assert not check.allowed
    assert [r.code for r in check.reasons] == ["national_dnc"]
    assert "is on the national Do-Not-Call registry" in check.reasons[0].message
    assert [r.code for r in dialer.reasons] == ["national_dnc"]
    # the lead's only number is listed: the lead itself is stopped
    assert [r.code for r in explain(lead)] == ["national_dnc"]


def test_a_state_list_stops_a_consumer_campaign_too(tmp_path):
    lead, number = _lead()
    _load(tmp_path, "2125550100\n")
    _load(tmp_path, f"{_local_number(number)}\n", registry="DC")

    assert [r.code for r in can_dial(lead, number).reasons] == ["state_dnc"]


def test_a_number_removed_from_the_registry_may_be_dialled_again(tmp_path):
    lead, number = _lead()
    _load(tmp_path, f"{_local_number(number)}\n")

    # when
    _load(tmp_path, f"{_local_number(number)},D\n", changes=True)

    # then
    assert can_dial(lead, number).allowed


def test_a_business_campaign_is_scrubbed_until_exempted_and_again_once_the_exemption_is_revoked(tmp_path):
    lead, number = _lead(Campaign.Audience.BUSINESS)
    ops = UserFactory(is_staff=True)
    _load(tmp_path, f"{_local_number(number)}\n")
    assert not can_dial(lead, number).allowed

    # when
    exemption = registry_exemption_grant(campaign=lead.campaign, reason="Calls office lines of clinics.", actor=ops)

    # then
    assert can_dial(lead, number).allowed
    assert (exemption.granted_by, exemption.revoked_at) == (ops, None)
    registry_exemption_revoke(exemption=exemption, actor=ops)
    assert [r.code for r in can_dial(lead, number).reasons] == ["national_dnc"]


def test_only_a_business_campaign_may_be_exempted_and_an_exemption_needs_a_reason():
    consumer, _ = _lead()
    business, _ = _lead(Campaign.Audience.BUSINESS)
    ops = UserFactory(is_staff=True)

    with pytest.raises(LeadopsError, match="only a business campaign may be exempted"):
        registry_exemption_grant(campaign=consumer.campaign, reason="B2B", actor=ops)
    with pytest.raises(LeadopsError, match="Say why"):
        registry_exemption_grant(campaign=business.campaign, reason=" ", actor=ops)


def test_an_exemption_of_a_campaign_turned_consumer_exempts_nothing(tmp_path):
    lead, number = _lead(Campaign.Audience.BUSINESS)
    registry_exemption_grant(campaign=lead.campaign, reason="B2B", actor=UserFactory(is_staff=True))
    _load(tmp_path, f"{_local_number(number)}\n")

    # when
    Campaign.objects.filter(pk=lead.campaign_id).update(audience=Campaign.Audience.CONSUMER)

    # then
    assert not can_dial_lead(lead.pk, number).allowed


def test_the_pull_marks_a_listed_number_not_dialable_with_its_reason(tmp_path):
    lead, number = _lead()
    other, _ = _lead()
    _load(tmp_path, f"{_local_number(number)}\n")

    # when
    numbers = lead_numbers([lead, other])

    # then
    (listed,) = numbers[lead.pk]
    assert not listed.dialable and listed.reason.code == "national_dnc"
    assert numbers[other.pk][0].dialable


# --- Freshness --------------------------------------------------------------------------------------------


def test_a_national_copy_older_than_31_days_refuses_every_consumer_dial_check_in_words(tmp_path):
    lead, number = _lead()
    business, business_number = _lead(Campaign.Audience.BUSINESS)
    registry_exemption_grant(campaign=business.campaign, reason="B2B", actor=UserFactory(is_staff=True))
    _load(tmp_path, "2125550100\n", now=timezone.now() - timedelta(days=33))

    # when
    check = can_dial_lead(lead.pk, number)

    # then
    assert not check.allowed
    (reason,) = check.reasons
    assert reason.code == "registry_stale"
    assert reason.message.startswith("The national registry copy is 33 days old; load a new one")
    assert can_dial_lead(business.pk, business_number).allowed
    (pulled,) = lead_numbers([lead])[lead.pk]
    assert pulled.reason.code == "registry_stale"
    assert [r.code for r in explain(lead)] == ["registry_stale"]
    assert national_freshness().state == "stale"


def test_a_copy_31_days_old_is_still_fresh_and_from_25_days_the_home_warns(tmp_path):
    lead, number = _lead()
    _load(tmp_path, "2125550100\n", now=timezone.now() - timedelta(days=31))

    assert can_dial_lead(lead.pk, number).allowed
    freshness = national_freshness()
    assert (freshness.state, freshness.days) == ("warn", 31)
    assert "consumer dial checks refuse in 1 days" in freshness.message


def test_a_fresh_copy_does_not_warn(tmp_path):
    _load(tmp_path, "2125550100\n", now=timezone.now() - timedelta(days=24))
    assert national_freshness().state == "fresh"


def test_a_new_load_makes_a_stale_copy_fresh_again(tmp_path):
    lead, number = _lead()
    _load(tmp_path, "2125550100\n", now=timezone.now() - timedelta(days=40))
    assert not can_dial_lead(lead.pk, number).allowed

    # when
    _load(tmp_path, "2125550101,A\n", changes=True)

    # then
    assert can_dial_lead(lead.pk, number).allowed


def test_never_loaded_and_not_required_consumer_calls_go_on_and_the_home_says_they_are_not_scrubbed(settings):
    settings.LEADOPS_REGISTRY_REQUIRED = False
    lead, number = _lead()

    assert can_dial_lead(lead.pk, number).allowed
    freshness = national_freshness()
    assert freshness.state == "never" and "not scrubbed against any registry" in freshness.message


def test_never_loaded_and_required_every_consumer_dial_check_refuses(settings):
    settings.LEADOPS_REGISTRY_REQUIRED = True
    lead, number = _lead()

    # when
    check = can_dial_lead(lead.pk, number)

    # then
    assert [r.code for r in check.reasons] == ["registry_never_loaded"]
    assert "No national registry copy has been loaded" in check.reasons[0].message
    assert lead_numbers([lead])[lead.pk][0].reason.code == "registry_never_loaded"
    assert national_freshness().message.startswith("No national registry copy has been loaded: consumer dial checks")


# --- As of a past moment ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("calling_around_the_clock")  # moments the real clock chose; not the window
def test_as_of_a_past_moment_a_number_was_listed_from_its_load_until_the_load_that_removed_it(tmp_path):
    lead, number = _lead()
    now = timezone.now()
    _load(tmp_path, f"{_local_number(number)}\n", now=now - timedelta(days=10))
    _load(tmp_path, f"{_local_number(number)},D\n", changes=True, now=now - timedelta(days=5))

    assert can_dial(lead, number, at=now - timedelta(days=11)).allowed
    assert [r.code for r in can_dial(lead, number, at=now - timedelta(days=7)).reasons] == ["national_dnc"]
    assert can_dial(lead, number, at=now - timedelta(days=1)).allowed
    assert [r.code for r in explain(lead, at=now - timedelta(days=7))] == ["national_dnc"]


@pytest.mark.usefixtures("calling_around_the_clock")  # moments the real clock chose; not the window
def test_as_of_a_past_moment_the_copy_in_force_then_was_stale_or_fresh(tmp_path):
    lead, number = _lead()
    now = timezone.now()
    _load(tmp_path, "2125550100\n", now=now - timedelta(days=50))
    _load(tmp_path, "2125550101,A\n", changes=True, now=now - timedelta(days=2))

    reasons = can_dial(lead, number, at=now - timedelta(days=5)).reasons
    assert [r.code for r in reasons] == ["registry_stale"]
    assert "is 45 days old" in reasons[0].message
    assert can_dial(lead, number, at=now - timedelta(days=1)).allowed


# --- The dossier ------------------------------------------------------------------------------------------


def test_the_dossier_shows_the_numbers_listings_and_the_registry_versions_in_force_at_each_verdict(tmp_path):
    from campaigns.services.verdicts import verdict_record_dial_check
    from suppressions.dossiers import dossier_rows, number_dossier, viewer_for_customer, viewer_for_user

    lead, number = _lead()
    ops = UserFactory(is_staff=True, is_superuser=True)
    now = timezone.now()
    first = _load(tmp_path, "2125550100\n", now=now - timedelta(days=3))
    verdict_record_dial_check(lead_id=lead.pk, check=can_dial(lead, number), api_key=None, at=now - timedelta(days=2))
    listed = _load(tmp_path, f"{_local_number(number)},A\n", changes=True, now=now - timedelta(days=1))
    state = _load(tmp_path, "5125550100\n", registry="TX", now=now - timedelta(hours=1))
    verdict_record_dial_check(lead_id=lead.pk, check=can_dial(lead, number), api_key=None, at=now)

    # when
    dossier = number_dossier(number, viewer=viewer_for_user(ops))

    # then
    (listing,) = dossier["registry_listings"]
    assert (listing["registry"], listing["listed_by_load"], listing["removed_at"]) == ("national", listed.pk, None)
    assert [v["registry_load_ids"] for v in dossier["verdicts"]] == [[first.pk], sorted([listed.pk, state.pk])]
    assert [v["load_id"] for v in dossier["registry_versions"]] == [first.pk, listed.pk, state.pk]
    assert dossier["registry_versions"][0]["loaded_by"] == "test"
    assert [r["code"] for r in dossier["verdicts"][1]["reasons"]] == ["national_dnc"]
    rows = list(dossier_rows(dossier))
    assert any(row[0] == "registry version" and row[2] == first.pk for row in rows)
    assert any(row[0] == "registry listing" for row in rows)
    # the customer's part names no staff member who loaded a copy
    customers = number_dossier(number, viewer=viewer_for_customer(lead.customer))
    assert all("loaded_by" not in v for v in customers["registry_versions"])


# --- The admin and the ops home ---------------------------------------------------------------------------


def test_the_ops_home_warns_from_25_days_says_when_nothing_is_loaded_and_is_quiet_when_fresh(tmp_path, admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "consumer campaigns are not scrubbed against any registry" in page

    _load(tmp_path, "2125550100\n", now=timezone.now() - timedelta(days=26))
    page = admin_client.get("/admin/").content.decode()
    assert "The national registry copy is 26 days old: consumer dial checks refuse in 6 days" in page

    _load(tmp_path, "2125550101,A\n", changes=True)
    assert 'id="registry-freshness"' not in admin_client.get("/admin/").content.decode()


def test_the_admin_lists_the_loads_with_their_counts_and_cannot_change_them(tmp_path, admin_client):
    load = _load(tmp_path, "2125550100\n2125550101\n")

    page = admin_client.get("/admin/suppressions/registryload/").content.decode()
    assert "the national Do-Not-Call registry, full copy of" in page
    assert admin_client.get(f"/admin/suppressions/registryload/{load.pk}/change/").status_code == 200
    assert admin_client.get("/admin/suppressions/registryload/add/").status_code == 403
    assert admin_client.post(f"/admin/suppressions/registryload/{load.pk}/delete/").status_code == 403


def test_ops_exempt_a_business_campaign_in_the_admin_and_revoke_it(admin_client, admin_user):
    business, _ = _lead(Campaign.Audience.BUSINESS)
    consumer, _ = _lead()

    refused = admin_client.post(
        "/admin/suppressions/registryexemption/add/", {"campaign": consumer.campaign_id, "reason": "B2B"}
    )
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    granted = admin_client.post(
        "/admin/suppressions/registryexemption/add/", {"campaign": business.campaign_id, "reason": "Office lines."}
    )
    assert granted.status_code == 302
    exemption = business.campaign.registry_exemptions.get()
    assert (exemption.granted_by, exemption.reason) == (admin_user, "Office lines.")

    admin_client.post(
        "/admin/suppressions/registryexemption/", {"action": "revoke", "_selected_action": [exemption.pk]}
    )
    exemption.refresh_from_db()
    assert exemption.revoked_by == admin_user and exemption.revoked_at is not None


# --- The pull ---------------------------------------------------------------------------------------------


def test_the_pull_passes_over_a_consumer_lead_whose_every_number_is_listed_and_hands_out_an_exempted_one(
    tmp_path,
):
    from campaigns.dialer.pool import leads_pull
    from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, DialerLeadFactory

    consumer = DialerLeadFactory(campaign=DialerCampaignFactory())
    business = DialerLeadFactory(campaign=DialerCampaignFactory(audience=Campaign.Audience.BUSINESS))
    registry_exemption_grant(campaign=business.campaign, reason="Office lines.", actor=UserFactory(is_staff=True))
    _load(
        tmp_path, "".join(f"{_local_number(lead.contact.phones.get().phone.e164)}\n" for lead in (consumer, business))
    )

    # when
    pulled = [
        leads_pull(campaign=lead.campaign, caller=CallerFactory(approved_for=[lead.campaign]), count=10)
        for lead in (consumer, business)
    ]

    # then: the load blocked the consumer lead's only number in its campaign, so it left the pool
    consumers, (businesses,) = pulled
    assert consumers == []
    consumer.refresh_from_db()
    assert consumer.status == LeadStatus.DISQUALIFIED
    assert lead_numbers([businesses])[business.pk][0].dialable


# --- What the dialer is told, and what is kept ------------------------------------------------------------


def test_the_dialers_dial_check_refuses_a_listed_number_and_the_verdict_keeps_the_registry_code(client, tmp_path):
    from campaigns.models import Verdict
    from tests.campaigns.api_factories import DialerLeadFactory, api_key_for

    lead = DialerLeadFactory()
    number = lead.contact.phones.get().phone.e164
    _load(tmp_path, f"{_local_number(number)}\n")
    _, key = api_key_for()

    # when
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": number}, HTTP_AUTHORIZATION=f"Bearer {key}")

    # then
    body = response.json()
    assert body["allowed"] is False
    assert [r["code"] for r in body["reasons"]] == ["national_dnc"]
    assert "national Do-Not-Call registry" in body["reasons"][0]["message"]
    # the load blocked the number in the lead's campaign: the verdict keeps that block
    (block,) = Block.objects.filter(source=Block.Source.REGISTRY)
    (verdict,) = Verdict.objects.all()
    assert verdict.reasons == [{"code": "national_dnc", "block_id": block.pk, "entry_id": None}]


def test_the_dialers_dial_check_of_a_stale_copy_says_how_old_it_is(client, tmp_path):
    from tests.campaigns.api_factories import DialerLeadFactory, api_key_for

    lead = DialerLeadFactory()
    _load(tmp_path, "2125550100\n", now=timezone.now() - timedelta(days=33))
    _, key = api_key_for()

    # when
    response = client.get(
        f"/api/v1/leads/{lead.pk}/dial-check",
        {"number": lead.contact.phones.get().phone.e164},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    # then
    (reason,) = response.json()["reasons"]
    assert reason["code"] == "registry_stale"
    assert reason["message"].startswith("The national registry copy is 33 days old; load a new one")


def test_a_full_copy_of_nothing_is_refused_rather_than_removing_every_number(tmp_path):
    _load(tmp_path, "2125550100\n")

    with pytest.raises(LeadopsError, match="the files hold no number"):
        _load(tmp_path, "\r\n\r\n", name="empty.txt")
    assert _listed() == {"+12125550100"}


def test_a_byte_order_mark_before_the_first_number_is_read_as_nothing(tmp_path):
    load = registry_load(
        registry="national", paths=[_file(tmp_path, "bom.txt", "\ufeff2125550100\r\n")], changes=False, job="t"
    )
    assert load.total == 1 and _listed() == {"+12125550100"}


def test_the_freshness_panel_is_for_who_may_see_the_loads(client):
    caller = UserFactory(is_staff=True)  # staff without the registry's view permission
    client.force_login(caller)

    page = client.get("/admin/").content.decode()

    assert 'id="registry-freshness"' not in page


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "fixed +05:00"])
def test_the_freshness_limit_is_the_start_of_the_local_day_31_days_ago_in_any_time_zone(zone):
    from suppressions.registries import FRESH_DAYS, fresh_after

    tz = fixed(timedelta(hours=5)) if zone.startswith("fixed") else zone
    with timezone.override(tz):
        # twice: the second answer comes from the day's cache
        limits = [fresh_after(), fresh_after()]
        today = timezone.localdate()
    expected = timezone.make_aware(
        datetime.combine(today - timedelta(days=FRESH_DAYS), datetime.min.time()),
        timezone.get_fixed_timezone(300) if zone.startswith("fixed") else ZoneInfo(zone),
    )
    assert limits == [expected, expected]
    assert limits[0].utcoffset() == expected.utcoffset()
