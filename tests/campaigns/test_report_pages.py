"""The lead report's three faces agree: the admin's page and CSV, the portal's page and CSV, ``manage.py lead_report``;
each number links to its leads; a caller sees no report; the customer reads no staff name and no agency note."""

from __future__ import annotations

import csv
import io
import re
import urllib.parse

import pytest
from django.core.management import call_command
from django.urls import reverse

from campaigns.models import Lead
from campaigns.selectors.reports import ReportQuery, cell_of
from campaigns.services.reporting import lead_facts_refresh
from tests.campaigns.api_factories import CallerFactory
from tests.campaigns.report_scenes import report_scene
from tests.portal.walking import content

pytestmark = pytest.mark.django_db

QUERY = {"by": "source", "since": "2026-02-23", "until": "2026-03-31"}


@pytest.fixture
def scene():
    return report_scene()


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _cells(html: str, table: str) -> list[str]:
    """Return the texts of the figures (``<td>``) of one of the report's tables, links or not."""
    body = re.search(rf'<table class="report" data-table="{table}">(.*?)</table>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", body, re.S)]


def test_admin_portal_and_command_print_the_same_figures(client, scene):
    # when
    client.force_login(scene.ops)
    admin_page = content(
        client.get(reverse("admin:campaigns_leadfact_changelist"), {**QUERY, "customer": scene.customer.pk})
    )
    admin_csv = content(
        client.get(reverse("admin:campaigns_leadfact_export"), {**QUERY, "customer": scene.customer.pk})
    )
    client.force_login(scene.customer_user)
    portal_page = content(client.get(reverse("portal:report"), QUERY))
    portal_csv = content(client.get(reverse("portal:report_csv"), QUERY))
    out = io.StringIO()
    call_command(
        "lead_report",
        customer=scene.customer.slug,
        by="source",
        since="2026-02-23",
        until="2026-03-31",
        format="csv",
        stdout=out,
    )

    # then
    assert _csv(admin_csv) == _csv(portal_csv) == _csv(out.getvalue())
    rows = {row[0]: row for row in _csv(admin_csv)[1:]}
    assert rows["Vendor A"][1:3] == ["5", "2"] and rows["Total"][1] == "9"
    for table in ("1", "2", "3"):
        assert _cells(admin_page, table) == _cells(portal_page, table)
    assert "5" in _cells(admin_page, "1")
    table_out = io.StringIO()
    call_command(
        "lead_report",
        customer=scene.customer.slug,
        by="source",
        since="2026-02-23",
        until="2026-03-31",
        stdout=table_out,
    )
    assert "Vendor A" in table_out.getvalue() and "Acceptance rate" in table_out.getvalue()


def test_a_number_links_to_the_admin_list_of_exactly_its_leads(client, scene):
    # given
    client.force_login(scene.ops)
    page = content(client.get(reverse("admin:campaigns_leadfact_changelist"), {**QUERY, "customer": scene.customer.pk}))
    links = re.findall(r'href="(/admin/campaigns/lead/\?cell=[^"]+)"', page)
    assert links

    # when: the link of "at entry: fit rules" in the total
    query = ReportQuery(
        customer_id=scene.customer.pk, by=("source",), since=scene.leads["a1"].created_at.date().replace(day=1)
    )
    cell = cell_of(query, "entry_fit_rule")
    response = client.get(reverse("admin:campaigns_lead_changelist"), {"cell": cell.to_param()})

    # then
    assert response.status_code == 200
    assert [lead.pk for lead in response.context["cl"].result_list] == [scene.leads["a5"].pk]
    # and every link of the page lists as many leads as its number says
    for href in links[:40]:
        listed = client.get(href.replace("&amp;", "&"))
        assert listed.status_code == 200, href


def test_the_lead_list_filters_by_source_stage_and_disqualification_source(client, scene):
    client.force_login(scene.ops)
    url = reverse("admin:campaigns_lead_changelist")

    def ids(**params):
        response = client.get(url, {"customer__id__exact": scene.customer.pk, **params})
        assert response.status_code == 200
        return {lead.pk for lead in response.context["cl"].result_list}

    leads = scene.leads
    assert ids(source="Webinar") == {leads[n].pk for n in ("w1", "w2", "w3", "w4")}
    assert ids(stage="qualified") == {leads["a2"].pk}
    assert ids(dq_source="customer_dnc") == {leads["a3"].pk}
    assert ids(dq_source="ops_disqualify") == {leads["w3"].pk}
    assert client.get(url, {"dq_source": "nonsense"}).status_code in (200, 302)  # Django's "?e=1" page


def test_the_portal_report_names_no_staff_and_no_note_and_lists_only_its_leads(client, scene):
    # given
    client.force_login(scene.customer_user)

    # when
    page = content(client.get(reverse("portal:report"), QUERY))

    # then
    assert "ops.olga" not in page and "zeta internal note" not in page and "caller.cara" not in page
    assert "the agency" in page and "Globex" not in page
    links = re.findall(r'href="(/portal/report/leads/\?cell=[^"]+)"', page)
    assert links
    for href in links[:30]:
        listed = client.get(href.replace("&amp;", "&"))
        assert listed.status_code == 200
        assert "Globex" not in content(listed)

    # a cell naming the other customer lists Northwind's leads only
    other = cell_of(ReportQuery(customer_id=scene.other_customer.pk, by=("source",)), "leads")
    listed = client.get(reverse("portal:report_leads"), {"cell": other.to_param()})
    assert {lead.customer_id for lead in listed.context["leads"]} == {scene.customer.pk}


def test_a_caller_sees_no_report_even_of_their_own_campaigns(client, scene):
    caller = CallerFactory(username="caller.rep", is_staff=True, approved_for=[scene.clinics])
    client.force_login(caller)

    assert client.get(reverse("admin:campaigns_leadfact_changelist"), QUERY).status_code == 403
    assert client.get(reverse("admin:campaigns_leadfact_export"), QUERY).status_code == 403
    assert client.post(reverse("admin:campaigns_leadfact_refresh"), {"customer": scene.customer.pk}).status_code == 403
    index = content(client.get(reverse("admin:index")))
    assert "Lead report" not in index


def test_bad_input_is_a_clear_message_not_a_crash(client, scene):
    client.force_login(scene.ops)
    response = client.get(reverse("admin:campaigns_leadfact_changelist"), {"by": "colour"})
    assert response.status_code == 400 and "cannot be grouped by colour" in content(response)
    client.force_login(scene.customer_user)
    response = client.get(reverse("portal:report"), {"since": "yesterday"})
    assert response.status_code == 400 and "is not a date" in content(response)
    response = client.get(reverse("portal:report_leads"), {"cell": urllib.parse.urlencode({"column": "junk"})})
    assert response.status_code == 400


def test_ops_ask_for_a_rebuild_and_the_figures_follow_the_data(client, scene, django_capture_on_commit_callbacks):
    # given: a new lead after the figures were built
    Lead.objects.create(
        customer=scene.customer,
        campaign=scene.labs,
        contact=scene.leads["w4"].contact.account.contacts.create(customer=scene.customer, first_name="Late"),
        source="Webinar",
    )
    client.force_login(scene.ops)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:campaigns_leadfact_refresh"), {"customer": scene.customer.pk})

    # then
    assert response.status_code == 302
    out = io.StringIO()
    call_command("lead_report", customer=scene.customer.slug, by="campaign", format="csv", stdout=out)
    rows = {row[0]: row for row in _csv(out.getvalue())[1:]}
    assert rows["Labs"][1] == "2"


def test_the_csv_escapes_a_source_a_spreadsheet_would_run(client, scene):
    # given: leads from a source named like a formula
    Lead.objects.filter(pk=scene.leads["w1"].pk).update(source='=HYPERLINK("http://x.example")')
    lead_facts_refresh(customer=scene.customer, actor="tests")
    client.force_login(scene.customer_user)

    # when
    rows = _csv(content(client.get(reverse("portal:report_csv"), QUERY)))
    out = io.StringIO()
    call_command("lead_report", customer=scene.customer.slug, format="csv", stdout=out)

    # then
    assert '\'=HYPERLINK("http://x.example")' in [row[0] for row in rows]
    assert '\'=HYPERLINK("http://x.example")' in [row[0] for row in _csv(out.getvalue())]
