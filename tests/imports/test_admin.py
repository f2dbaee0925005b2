"""Lead import in the admin: upload, preview, re-map, confirm, progress and report, junk download."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.imports.models import FitRule, LeadImport
from campaigns.imports.services import FitRuleSpec, fit_rules_save
from campaigns.models import Lead
from tests.campaigns.factories import CampaignFactory, LeadFactory, UserFactory
from tests.previewing import admin_preview, preview_then_save
from tests.suppressions.factories import csv_bytes

pytestmark = pytest.mark.django_db

CONTENT = csv_bytes(
    [
        ["First Name", "Last Name", "Company", "Phone", "Email", "Shoe size"],
        ["Ada", "Byron", "Acme", "202-555-0143", "ada@acme.com", "38"],
        ["Testing!£##", "", "", "123456789", "!!!@mail.com", ""],
    ]
)


def upload(client, campaign, content=CONTENT, mapping=""):
    return client.post(
        reverse("admin:imports_leadimport_add"),
        {
            "campaign": campaign.pk,
            "file": SimpleUploadedFile("crm.csv", content),
            "source": "Trade show",
            "mapping": mapping,
        },
    )


def test_upload_shows_a_preview_and_imports_nothing_yet(admin_client):
    # given
    campaign = CampaignFactory()
    # when
    response = upload(admin_client, campaign)
    # then
    lead_import = LeadImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:imports_leadimport_preview", args=[lead_import.pk])
    page = admin_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Shoe size" in html  # reported as not imported
    assert "Junk" in html and "the name is a test value" in html
    assert "1 junk" in html
    assert Lead.objects.count() == 0


def test_confirm_runs_the_import_and_the_change_page_shows_the_report(admin_client, django_capture_on_commit_callbacks):
    # given
    campaign = CampaignFactory()
    upload(admin_client, campaign)
    lead_import = LeadImport.objects.get()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:imports_leadimport_preview", args=[lead_import.pk]), {"confirm": "1"}
        )
    # then
    lead_import.refresh_from_db()
    assert lead_import.status == LeadImport.Status.DONE
    assert (lead_import.leads_created, lead_import.junk) == (1, 1)
    page = admin_client.get(response["Location"]).content.decode()
    assert "Download every junk row as CSV" in page
    assert "line 3" in page


def test_junk_rows_download_as_csv_with_formulas_escaped(admin_client, django_capture_on_commit_callbacks):
    # given
    campaign = CampaignFactory()
    content = csv_bytes([["Name", "Phone"], ['=HYPERLINK("http://x")', "123"]])
    upload(admin_client, campaign, content)
    lead_import = LeadImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:imports_leadimport_preview", args=[lead_import.pk]), {"confirm": "1"})
    # when
    response = admin_client.get(reverse("admin:imports_leadimport_junk_csv", args=[lead_import.pk]))
    # then
    body = b"".join(response.streaming_content).decode()
    assert "line,rules,reason,row" in body.splitlines()[0]
    assert "'=HYPERLINK" in body


def test_remapping_in_the_preview_changes_the_columns(admin_client):
    # given
    campaign = CampaignFactory()
    upload(admin_client, campaign, csv_bytes([["Vorname", "Telefon"], ["Ada", "2025550143"]]))
    lead_import = LeadImport.objects.get()
    # when
    page = admin_client.post(
        reverse("admin:imports_leadimport_preview", args=[lead_import.pk]),
        {"remap": "1", "map:Vorname": "first_name", "map:Telefon": "phone"},
    )
    # then
    lead_import.refresh_from_db()
    assert lead_import.column_mapping == {"Vorname": "first_name", "Telefon": "phone"}
    assert "+12025550143" in page.content.decode()


def test_a_bad_mapping_line_is_named(admin_client):
    response = upload(admin_client, CampaignFactory(), mapping="Phone")
    assert response.status_code == 200
    assert "Line 1 (&#x27;Phone&#x27;) is not Header=field." in response.content.decode()
    assert LeadImport.objects.count() == 0


def test_a_user_without_the_add_permission_cannot_upload(client):
    # given
    client.force_login(UserFactory())
    # when
    response = upload(client, CampaignFactory())
    # then
    assert response.status_code == 403
    assert LeadImport.objects.count() == 0


def test_saving_a_fit_rule_shows_what_it_does_first_then_re_evaluates_the_campaign(
    admin_client, django_capture_on_commit_callbacks
):
    # given: a lead the rule fails, one it does not judge (no country), one it passes
    lead = LeadFactory(contact__account__attributes={"country": "DE"})
    LeadFactory(campaign=lead.campaign, contact__account__attributes={})
    LeadFactory(campaign=lead.campaign, contact__account__attributes={"country": "US"})
    data = {"campaign": lead.campaign.pk, "field": "country", "operator": "in", "values": "US", "is_active": "on"}
    url = reverse("admin:imports_fitrule_add")
    # when: the first post
    page, preview = admin_preview(admin_client, url, data)
    # then: what it would do, and nothing saved
    assert FitRule.objects.count() == 0
    assert (preview.leaving, preview.coming_back) == (1, 0)
    assert [lead.pk for lead in preview.leaving_sample] == [lead.pk]
    assert "rule-preview" in page.content.decode()
    # when: saved as previewed
    with django_capture_on_commit_callbacks(execute=True):
        response = preview_then_save(admin_client, url, data)
    # then: the prediction holds
    assert response.status_code == 302
    assert FitRule.objects.count() == 1
    assert list(Lead.objects.filter(status="disqualified").values_list("pk", flat=True)) == [lead.pk]


def test_switching_a_fit_rule_off_previews_the_leads_that_come_back(admin_client, django_capture_on_commit_callbacks):
    # given: a rule that disqualified a lead
    lead = LeadFactory(contact__account__attributes={"country": "DE"})
    data = {"campaign": lead.campaign.pk, "field": "country", "operator": "in", "values": "US", "is_active": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        preview_then_save(admin_client, reverse("admin:imports_fitrule_add"), data)
    rule = FitRule.objects.get()
    lead.refresh_from_db()
    assert lead.status == "disqualified"
    url = reverse("admin:imports_fitrule_change", args=[rule.pk])
    # when
    _, preview = admin_preview(admin_client, url, {**data, "is_active": ""})
    with django_capture_on_commit_callbacks(execute=True):
        preview_then_save(admin_client, url, {**data, "is_active": ""})
    # then
    assert (preview.leaving, preview.coming_back, [b.pk for b in preview.back_sample]) == (0, 1, [lead.pk])
    lead.refresh_from_db()
    assert lead.status != "disqualified"


def test_the_lead_list_offers_import_and_an_escaped_export(admin_client):
    # given
    LeadFactory(contact__first_name="=1+1")
    # when
    page = admin_client.get(reverse("admin:campaigns_lead_changelist")).content.decode()
    export = admin_client.post(
        reverse("admin:campaigns_lead_export"),
        {"format": "0", "resource": "0", "leadexportresource_first_name": "on", "leadexportresource_status": "on"},
    )
    # then
    assert reverse("admin:imports_leadimport_add") in page
    assert reverse("admin:campaigns_lead_export") in page
    assert export.status_code == 200, export.content[:500]
    assert "'=1+1" in export.content.decode()


def test_fit_rules_on_the_campaign_page_are_read_only_and_each_links_to_its_previewed_page(
    admin_client, django_capture_on_commit_callbacks
):
    # given: a campaign with one rule, and a post that tries to add another through the campaign's inline
    lead = LeadFactory(contact__account__attributes={"country": "DE"})
    campaign = lead.campaign
    (rule,) = fit_rules_save(
        campaign=campaign, added=[FitRuleSpec(field="country", operator="in", values="DE")], actor="tests"
    )
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = admin_client.get(url).content.decode()
    data = {
        "name": campaign.name,
        "status": campaign.status,
        "audience": campaign.audience,
        "cooldown_hours": campaign.cooldown_hours,
        "attempt_cap": campaign.attempt_cap,
        "fit_rules-TOTAL_FORMS": "2",
        "fit_rules-INITIAL_FORMS": "1",
        "fit_rules-0-id": rule.pk,
        "fit_rules-0-campaign": campaign.pk,
        "fit_rules-0-field": "country",
        "fit_rules-0-operator": "in",
        "fit_rules-0-values": "US",
        "fit_rules-1-field": "country",
        "fit_rules-1-operator": "in",
        "fit_rules-1-values": "US",
        "fit_rules-1-is_active": "on",
        "approvals-TOTAL_FORMS": "0",
        "approvals-INITIAL_FORMS": "0",
        "calling_policy-TOTAL_FORMS": "0",
        "calling_policy-INITIAL_FORMS": "0",
        "dispositions-TOTAL_FORMS": "0",
        "dispositions-INITIAL_FORMS": "0",
    }
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)
    # then: the rule's own page (with its preview) is linked; the inline saved nothing, so no lead left unseen
    assert reverse("admin:imports_fitrule_change", args=[rule.pk]) in page
    assert 'name="fit_rules-0-values"' not in page
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    rule.refresh_from_db()
    assert (rule.field, rule.values) == ("country", "DE")
    assert FitRule.objects.filter(campaign=campaign).count() == 1
    lead.refresh_from_db()
    assert lead.status == "eligible"


def test_confirm_imports_with_debug_on_as_the_embedded_default_runs(
    admin_client, settings, django_capture_on_commit_callbacks
):
    # given: DEBUG on, so every statement goes through the debug cursor, which quotes each parameter to log it
    settings.DEBUG = True
    campaign = CampaignFactory()
    upload(admin_client, campaign)
    lead_import = LeadImport.objects.get()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:imports_leadimport_preview", args=[lead_import.pk]), {"confirm": "1"}
        )
    # then
    assert response.status_code == 302
    lead_import.refresh_from_db()
    assert (lead_import.status, lead_import.error) == (LeadImport.Status.DONE, "")
    assert (lead_import.leads_created, lead_import.junk) == (1, 1)
