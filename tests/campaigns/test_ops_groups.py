"""The seeded "Ops" and "Ops lead" groups see and may do the whole ops product (migration 0022)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.campaigns.factories import UserFactory, staff_groups_create

pytestmark = pytest.mark.django_db

# What ops open every day, beyond campaigns and leads: each list and, where ops start something, its add page.
PRODUCT_PAGES = [
    "admin:suppressions_entry_changelist",
    "admin:suppressions_entry_import",
    "admin:suppressions_upload_changelist",
    "admin:imports_leadimport_changelist",
    "admin:imports_leadimport_add",
    "admin:imports_fitrule_changelist",
    "admin:imports_fitrule_add",
    "admin:crm_crmconnection_changelist",
    "admin:crm_crmconnection_add",
    "admin:crm_crmrule_changelist",
    "admin:crm_crmrule_add",
    "admin:crm_crmrecord_changelist",
    "admin:crm_crmevent_changelist",
    "admin:crm_crmmatch_changelist",
    "admin:campaigns_account_changelist",
    "admin:campaigns_lead_changelist",
    "admin:campaigns_phonenumber_changelist",
]


def member_of(client, group: str):
    staff_groups_create()
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def opens(client) -> dict[str, int]:
    return {name: client.get(reverse(name)).status_code for name in PRODUCT_PAGES}


def test_ops_opens_the_whole_product(client):
    user = member_of(client, "Ops")
    assert opens(client) == dict.fromkeys(PRODUCT_PAGES, 200)
    assert user.has_perms(["suppressions.add_upload", "suppressions.change_entry", "imports.add_leadimport"])
    assert user.has_perms(["crm.change_crmconnection", "crm.add_crmrule", "imports.change_fitrule"])
    # allowing free-mail domains and public suffixes in an upload stops whole domains: an Ops lead's call
    assert not user.has_perm("suppressions.allow_broad_domains")
    assert not user.has_perm("suppressions.delete_entry")


def test_ops_lead_opens_the_whole_product_and_may_allow_broad_domains(client):
    user = member_of(client, "Ops lead")
    assert opens(client) == dict.fromkeys(PRODUCT_PAGES, 200)
    assert user.has_perms(["suppressions.allow_broad_domains", "campaigns.lift_platform_dnc"])


def test_callers_do_not_open_the_ops_product(client):
    member_of(client, "Callers")
    seen = opens(client)
    assert all(seen[name] == 403 for name in PRODUCT_PAGES if not name.startswith("admin:campaigns_")), seen
