"""The qualification catalogues: their write services (projects, lost reasons, consideration stages) and the
admin pages ops keep them on, which save through those services and refuse callers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.urls import reverse

from campaigns.models import ConsiderationStage, Customer, LostReason, Project
from campaigns.services import campaign_create, customer_create
from campaigns.services.catalogues import (
    consideration_stage_create,
    consideration_stage_update,
    lost_reason_create,
    lost_reason_update,
    project_create,
    project_update,
)
from leadops.errors import LeadopsError
from tests.campaigns.api_factories import CallerFactory
from tests.campaigns.factories import UserFactory, staff_groups_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer() -> Customer:
    return customer_create(name="Acme Homes", slug="acme-homes")


@pytest.fixture
def campaign(customer):
    return campaign_create(customer=customer, name="Spring")


@pytest.fixture
def other_campaign():
    return campaign_create(customer=customer_create(name="Other Co", slug="other-co"), name="Elsewhere")


@pytest.fixture
def ops(client):
    staff_groups_create()
    user = UserFactory(username="olga")
    user.groups.add(Group.objects.get(name="Ops"))
    client.force_login(user)
    return user


# --- services -------------------------------------------------------------------------------------


def test_updating_a_project_renames_it_restricts_it_to_campaigns_and_switches_it_off(customer, campaign):
    # given
    project = project_create(customer=customer, name="Tower A", actor="tests")
    # when
    project_update(project=project, name="  Tower   B ", campaigns=[campaign], is_active=False, actor="tests")
    # then
    project.refresh_from_db()
    assert (project.name, project.is_active, list(project.campaigns.all())) == ("Tower B", False, [campaign])


def test_updating_a_project_with_no_campaigns_offers_it_in_every_campaign_again(customer, campaign):
    # given
    project = project_create(customer=customer, name="Tower A", campaigns=[campaign], actor="tests")
    # when
    project_update(project=project, name="Tower A", campaigns=[], is_active=True, actor="tests")
    # then
    assert list(project.campaigns.all()) == []


def test_a_project_update_naming_another_customers_campaign_is_refused_and_changes_nothing(
    customer, campaign, other_campaign
):
    # given
    project = project_create(customer=customer, name="Tower A", campaigns=[campaign], actor="tests")
    # when
    with pytest.raises(LeadopsError) as refused:
        project_update(
            project=project, name="Renamed", campaigns=[campaign, other_campaign], is_active=False, actor="tests"
        )
    # then
    assert refused.value.field == "campaigns"
    assert "Elsewhere" in refused.value.message and "Acme Homes" in refused.value.message
    project.refresh_from_db()
    assert (project.name, project.is_active, list(project.campaigns.all())) == ("Tower A", True, [campaign])


def test_a_project_name_the_customer_already_has_is_refused_whatever_its_case(customer):
    # given
    project_create(customer=customer, name="Tower A", actor="tests")
    tower_b = project_create(customer=customer, name="Tower B", actor="tests")
    # when / then
    with pytest.raises(LeadopsError) as refused:
        project_create(customer=customer, name="tower a", actor="tests")
    assert (refused.value.field, refused.value.message) == ("name", "Acme Homes already has a project named 'tower a'.")
    with pytest.raises(LeadopsError) as refused:
        project_update(project=tower_b, name="TOWER A", campaigns=[], is_active=True, actor="tests")
    assert refused.value.field == "name"
    tower_b.refresh_from_db()
    assert tower_b.name == "Tower B"


def test_another_customer_may_use_the_same_project_name_and_a_project_keeps_its_own(customer, other_campaign):
    # given
    project = project_create(customer=customer, name="Tower A", actor="tests")
    # when
    project_create(customer=other_campaign.customer, name="Tower A", actor="tests")
    project_update(project=project, name="Tower A", campaigns=[], is_active=True, actor="tests")
    # then
    assert Project.objects.filter(name="Tower A").count() == 2


def test_an_empty_name_is_refused_naming_the_field(customer, campaign):
    # when / then
    with pytest.raises(LeadopsError) as refused:
        project_create(customer=customer, name="  ", actor="tests")
    assert refused.value.field == "name"
    with pytest.raises(LeadopsError) as refused:
        lost_reason_create(customer=customer, label="", actor="tests")
    assert refused.value.field == "label"
    with pytest.raises(LeadopsError) as refused:
        consideration_stage_create(campaign=campaign, label=" ", actor="tests")
    assert refused.value.field == "label"


def test_a_lost_reason_is_added_and_changed_and_switched_off(customer):
    # given
    reason = lost_reason_create(customer=customer, label="Went quiet", needs_note=True, sort_order=9, actor="tests")
    # when
    lost_reason_update(
        lost_reason=reason, label="Stopped answering", needs_note=False, is_active=False, sort_order=3, actor="tests"
    )
    # then
    reason.refresh_from_db()
    assert (reason.customer, reason.label, reason.needs_note, reason.is_active, reason.sort_order) == (
        customer,
        "Stopped answering",
        False,
        False,
        3,
    )


def test_a_lost_reason_label_the_customer_already_has_is_refused_and_changes_nothing(customer):
    # given: the defaults (Price, … Other) came with the customer
    timing = LostReason.objects.get(customer=customer, label="Timing")
    # when / then
    with pytest.raises(LeadopsError) as refused:
        lost_reason_create(customer=customer, label="price", actor="tests")
    assert (refused.value.field, refused.value.message) == ("label", "Acme Homes already has the lost reason 'price'.")
    with pytest.raises(LeadopsError):
        lost_reason_update(
            lost_reason=timing, label="Price", needs_note=True, is_active=False, sort_order=0, actor="tests"
        )
    timing.refresh_from_db()
    assert (timing.label, timing.needs_note, timing.is_active) == ("Timing", False, True)
    assert LostReason.objects.filter(customer=customer).count() == 6


def test_a_consideration_stage_is_added_and_changed_and_a_taken_label_refused(campaign, other_campaign):
    # given
    stage = consideration_stage_create(campaign=campaign, label="Shortlist", sort_order=5, actor="tests")
    # when
    consideration_stage_update(
        consideration_stage=stage, label="Short list", is_active=False, sort_order=2, actor="tests"
    )
    # then
    stage.refresh_from_db()
    assert (stage.label, stage.is_active, stage.sort_order) == ("Short list", False, 2)
    with pytest.raises(LeadopsError) as refused:
        consideration_stage_create(campaign=campaign, label="decision", actor="tests")
    assert (refused.value.field, refused.value.message) == (
        "label",
        "The campaign Spring already has the consideration stage 'decision'.",
    )
    # and another campaign has a Decision of its own
    assert consideration_stage_create(campaign=other_campaign, label="Short list", actor="tests").pk


def test_a_project_whose_campaigns_cannot_be_saved_is_not_added(customer, campaign, monkeypatch):
    # given: setting the campaigns fails after the project's row was written
    def fail(self, *args, **kwargs):
        raise RuntimeError("the campaigns could not be saved")

    monkeypatch.setattr(QuerySet, "bulk_create", fail)
    # when
    with pytest.raises(RuntimeError):
        project_create(customer=customer, name="Tower A", campaigns=[campaign], actor="tests")
    # then: the whole write was one transaction
    assert not Project.objects.filter(customer=customer).exists()


# --- admin ----------------------------------------------------------------------------------------


def test_ops_add_a_project_restricted_to_a_campaign_in_the_admin(client, ops, customer, campaign):
    # when
    response = client.post(
        reverse("admin:campaigns_project_add"),
        {"customer": customer.pk, "name": "Tower A", "campaigns": [campaign.pk], "is_active": "on"},
    )
    # then
    assert response.status_code == 302, response.content.decode()
    project = Project.objects.get(customer=customer)
    assert (project.name, project.is_active, list(project.campaigns.all())) == ("Tower A", True, [campaign])


def test_the_admin_refuses_another_customers_campaign_on_the_field(client, ops, customer, other_campaign):
    # when
    response = client.post(
        reverse("admin:campaigns_project_add"),
        {"customer": customer.pk, "name": "Tower A", "campaigns": [other_campaign.pk], "is_active": "on"},
    )
    # then
    assert response.status_code == 200
    assert "is not one of Acme Homes" in str(response.context["adminform"].form.errors["campaigns"])
    assert not Project.objects.exists()


def test_ops_switch_a_project_off_and_widen_it_to_every_campaign_but_never_move_it(
    client, ops, customer, campaign, other_campaign
):
    # given
    project = project_create(customer=customer, name="Tower A", campaigns=[campaign], actor="tests")
    url = reverse("admin:campaigns_project_change", args=[project.pk])
    # when: the post also names another customer, which the disabled field ignores
    response = client.post(url, {"customer": other_campaign.customer_id, "name": "Tower A1"})
    # then
    assert response.status_code == 302, response.content.decode()
    project.refresh_from_db()
    assert (project.customer, project.name, project.is_active, list(project.campaigns.all())) == (
        customer,
        "Tower A1",
        False,
        [],
    )


def test_the_change_form_refuses_a_name_the_customer_already_has(client, ops, customer):
    # given
    project_create(customer=customer, name="Tower A", actor="tests")
    tower_b = project_create(customer=customer, name="Tower B", actor="tests")
    # when
    response = client.post(reverse("admin:campaigns_project_change", args=[tower_b.pk]), {"name": "Tower A"})
    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    tower_b.refresh_from_db()
    assert tower_b.name == "Tower B"


def test_ops_add_and_change_a_lost_reason_in_the_admin(client, ops, customer):
    # when
    added = client.post(
        reverse("admin:campaigns_lostreason_add"),
        {"customer": customer.pk, "label": "Went quiet", "needs_note": "on", "is_active": "on", "sort_order": 7},
    )
    reason = LostReason.objects.get(customer=customer, label="Went quiet")
    changed = client.post(
        reverse("admin:campaigns_lostreason_change", args=[reason.pk]), {"label": "Went silent", "sort_order": 8}
    )
    # then
    assert (added.status_code, changed.status_code) == (302, 302)
    reason.refresh_from_db()
    assert (reason.label, reason.needs_note, reason.is_active, reason.sort_order) == ("Went silent", False, False, 8)


def test_ops_add_and_change_a_consideration_stage_in_the_admin(client, ops, campaign):
    # when
    added = client.post(
        reverse("admin:campaigns_considerationstage_add"),
        {"campaign": campaign.pk, "label": "Shortlist", "is_active": "on", "sort_order": 4},
    )
    stage = ConsiderationStage.objects.get(campaign=campaign, label="Shortlist")
    changed = client.post(
        reverse("admin:campaigns_considerationstage_change", args=[stage.pk]),
        {"label": "Short list", "sort_order": 1},
    )
    # then
    assert (added.status_code, changed.status_code) == (302, 302)
    stage.refresh_from_db()
    assert (stage.label, stage.is_active, stage.sort_order) == ("Short list", False, 1)


def test_the_catalogue_lists_open_for_ops_and_offer_no_deletion(client, ops, customer, campaign):
    # given
    project = project_create(customer=customer, name="Tower A", actor="tests")
    stage = ConsiderationStage.objects.filter(campaign=campaign).first()
    reason = LostReason.objects.filter(customer=customer).first()
    # when / then
    for model in ("project", "lostreason", "considerationstage"):
        response = client.get(reverse(f"admin:campaigns_{model}_changelist"))
        assert response.status_code == 200
        assert "delete_selected" not in response.content.decode()
    assert "Every campaign" in client.get(reverse("admin:campaigns_project_changelist")).content.decode()
    for model, row in (("project", project), ("lostreason", reason), ("considerationstage", stage)):
        assert client.get(reverse(f"admin:campaigns_{model}_delete", args=[row.pk])).status_code == 403


def test_a_caller_is_refused_every_catalogue_page(client, customer, campaign):
    # given: an approved caller of the Callers group, made staff so the admin lets them in at all
    staff_groups_create()
    caller = CallerFactory(approved_for=[campaign], is_staff=True)
    caller.groups.add(Group.objects.get(name="Callers"))
    client.force_login(caller)
    project = project_create(customer=customer, name="Tower A", actor="tests")
    stage = ConsiderationStage.objects.filter(campaign=campaign).first()
    reason = LostReason.objects.filter(customer=customer).first()
    # when / then
    for model, row in (("project", project), ("lostreason", reason), ("considerationstage", stage)):
        for url in (
            reverse(f"admin:campaigns_{model}_changelist"),
            reverse(f"admin:campaigns_{model}_add"),
            reverse(f"admin:campaigns_{model}_change", args=[row.pk]),
        ):
            assert client.get(url).status_code == 403, url
            assert client.post(url, {"name": "x", "label": "x"}).status_code == 403, url
    project.refresh_from_db()
    assert project.name == "Tower A"


def test_a_project_update_whose_campaigns_cannot_be_saved_leaves_the_project_as_it_was(customer, campaign, monkeypatch):
    # given
    project = project_create(customer=customer, name="Tower A", actor="tests")

    def fail(self, *args, **kwargs):
        raise RuntimeError("the campaigns could not be saved")

    monkeypatch.setattr(QuerySet, "bulk_create", fail)
    # when
    with pytest.raises(RuntimeError):
        project_update(project=project, name="Tower B", campaigns=[campaign], is_active=False, actor="tests")
    # then
    project.refresh_from_db()
    assert (project.name, project.is_active) == ("Tower A", True)
