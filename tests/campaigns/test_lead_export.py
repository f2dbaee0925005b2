"""Lead export: status, first reason, formula-injection escaping, and no N+1."""

import pytest

from campaigns.models import Block, Lead
from campaigns.resources import LeadExportResource
from campaigns.services import BlockTarget, block_create, lead_statuses_recompute
from tests.campaigns.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_export_has_status_and_the_first_reason():
    # given
    lead = LeadFactory(contact__first_name="Ada")
    block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # when
    dataset = LeadExportResource().export(Lead.objects.all())
    # then
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["status"] == "disqualified"
    assert row["first reason"].startswith("Ada Jones is disqualified for")


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://evil")', "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_every_dangerous_leading_character_is_escaped(dangerous):
    # given
    LeadFactory(contact__first_name=dangerous)
    # when
    dataset = LeadExportResource().export(Lead.objects.all())
    # then
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["first name"] == "'" + dangerous


def test_export_queries_do_not_grow_with_leads(django_assert_max_num_queries):
    # given
    for _ in range(30):
        LeadFactory(with_phone=False)
    lead_statuses_recompute(leads=Lead.objects.all())
    # when / then: one page of leads, and the reasons of its disqualified leads in two more
    with django_assert_max_num_queries(4):
        dataset = LeadExportResource().export(Lead.objects.all())
    assert len(dataset) == 30
    assert all(row[-1].endswith("add one to call them.") for row in dataset)
