"""The change forms that used to save past the services: dispositions, fit rules, API keys; and the outbox,
which the admin only shows."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse

from campaigns.imports.models import FitRule
from campaigns.models import ApiKey, Disposition, LeadStatus
from leadops.outbox.models import Message
from tests.campaigns.admin_factories import DispositionFactory
from tests.campaigns.api_factories import api_key_for
from tests.campaigns.factories import CampaignFactory, LeadFactory, UserFactory
from tests.previewing import preview_then_save

pytestmark = pytest.mark.django_db


def disposition_form(campaign, **fields) -> dict:
    return {
        "campaign": campaign.pk,
        "code": "referral",
        "label": "Referred elsewhere",
        "effect": Disposition.Effect.CONNECT,
        "is_active": "on",
        "sort_order": 20,
        **fields,
    }


def test_a_disposition_added_in_the_admin_joins_its_campaigns_catalogue(admin_client):
    # given
    campaign = CampaignFactory()
    # when
    response = admin_client.post(reverse("admin:campaigns_disposition_add"), disposition_form(campaign))
    # then
    assert response.status_code == 302
    disposition = Disposition.objects.get()
    assert (disposition.campaign, disposition.code, disposition.effect) == (campaign, "referral", "connect")
    entry = LogEntry.objects.get(action_flag=ADDITION)
    assert (entry.object_id, entry.object_repr) == (str(disposition.pk), "Referred elsewhere")


def test_a_disposition_changed_in_the_admin_stays_in_its_campaign(admin_client):
    # given
    disposition = DispositionFactory(code="voicemail", label="Voicemail")
    elsewhere = CampaignFactory()
    # when: the form also posts another campaign, which the change page does not offer
    response = admin_client.post(
        reverse("admin:campaigns_disposition_change", args=[disposition.pk]),
        disposition_form(elsewhere, code="voicemail", label="Left a voicemail", is_active=""),
    )
    # then
    assert response.status_code == 302
    disposition.refresh_from_db()
    assert (disposition.campaign_id, disposition.label, disposition.is_active) == (
        disposition.campaign_id,
        "Left a voicemail",
        False,
    )
    assert disposition.campaign != elsewhere


def test_a_duplicate_disposition_code_is_refused_on_the_form(admin_client):
    # given
    existing = DispositionFactory(code="referral")
    # when
    response = admin_client.post(reverse("admin:campaigns_disposition_add"), disposition_form(existing.campaign))
    # then
    assert response.status_code == 200
    assert Disposition.objects.count() == 1


def test_changing_a_fit_rule_in_the_admin_re_evaluates_its_campaign(admin_client, django_capture_on_commit_callbacks):
    # given: a rule the lead fits
    lead = LeadFactory(contact__account__attributes={"country": "DE"})
    rule = FitRule.objects.create(campaign=lead.campaign, field="country", operator="in", values="DE, AT")
    # when: the rule no longer lets German leads in (previewed, then saved); the form also posts another campaign
    with django_capture_on_commit_callbacks(execute=True):
        response = preview_then_save(
            admin_client,
            reverse("admin:imports_fitrule_change", args=[rule.pk]),
            {"campaign": CampaignFactory().pk, "field": "country", "operator": "in", "values": "US", "is_active": "on"},
        )
    # then
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.campaign_id, rule.values) == (lead.campaign_id, "US")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED


def test_renaming_an_api_key_in_the_admin_keeps_its_secret_and_customer(client):
    # given
    api_key, _ = api_key_for()
    client.force_login(UserFactory(is_superuser=True))
    # when
    response = client.post(f"/admin/campaigns/apikey/{api_key.pk}/change/", {"name": "Dialer staging"})
    # then
    assert response.status_code == 302
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert (stored.name, stored.hashed_secret, stored.customer) == ("Dialer staging", api_key.hashed_secret, None)


def test_revoking_keys_in_the_admin_logs_each_key_it_revoked(client):
    # given
    keys = [api_key_for()[0] for _ in range(3)]
    ApiKey.objects.filter(pk=keys[0].pk).update(revoked_at=keys[0].created_at)
    admin = UserFactory(is_superuser=True)
    client.force_login(admin)
    # when
    response = client.post(
        "/admin/campaigns/apikey/",
        {"action": "revoke_selected", "_selected_action": [k.pk for k in keys]},
        follow=True,
    )
    # then
    assert "Revoked 2 API key(s)" in response.content.decode()
    logged = LogEntry.objects.filter(user=admin, action_flag=CHANGE, change_message="Revoked")
    assert sorted(int(pk) for pk in logged.values_list("object_id", flat=True)) == [keys[1].pk, keys[2].pk]
    assert set(ApiKey.objects.filter(pk__in=[k.pk for k in keys[1:]]).values_list("revoked_by", flat=True)) == {
        admin.pk
    }


def test_the_outbox_admin_deletes_no_message(admin_client):
    # given
    message = Message.objects.create(task="crm.evaluate_customer", args=[1])
    # when
    page = admin_client.get(reverse("admin:outbox_message_changelist"))
    response = admin_client.post(reverse("admin:outbox_message_delete", args=[message.pk]), {"post": "yes"})
    # then
    assert page.context["action_form"] is None  # no action at all, "delete selected" included
    assert response.status_code == 403
    assert Message.objects.filter(pk=message.pk).exists()
