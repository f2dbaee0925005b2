"""The admin index opens on an ops home: find an account, each active campaign's pool (linked), the uploads and
imports in progress or failed; the sections read as the product."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.urls import reverse

from campaigns.imports.models import LeadImport
from campaigns.models import Campaign, Lead, LeadStatus
from suppressions.models import Upload
from tests.campaigns.factories import CampaignFactory, LeadFactory, UserFactory, staff_groups_create
from tests.suppressions.factories import UploadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    staff_groups_create()
    user = UserFactory(username="olga")
    user.groups.add(Group.objects.get(name="Ops"))
    client.force_login(user)
    return user


def test_the_home_shows_each_active_campaigns_pool_linked(client, ops):
    # given: a campaign of three leads, one disqualified; a paused campaign
    campaign = CampaignFactory(name="Clinic outreach")
    leads = [LeadFactory(campaign=campaign) for _ in range(3)]

    Lead.objects.filter(pk=leads[0].pk).update(status=LeadStatus.DISQUALIFIED)
    CampaignFactory(name="Paused one", status=Campaign.Status.PAUSED)

    page = client.get(reverse("admin:index")).content.decode()

    assert 'id="home-pools"' in page
    assert "Clinic outreach" in page and "Paused one" not in page
    eligible = f"?campaign__id__exact={campaign.pk}&amp;status__exact=eligible"
    assert f'{eligible}" class="pool-eligible">2</a>' in page
    assert 'status__exact=disqualified" class="pool-disqualified">1</a>' in page


def test_the_home_lists_uploads_and_imports_in_progress_or_failed(client, ops):
    UploadFactory(original_name="do-not-contact.csv", status=Upload.Status.READING)
    UploadFactory(original_name="broken.csv", status=Upload.Status.FAILED)
    UploadFactory(original_name="old-and-done.csv", status=Upload.Status.DONE)
    LeadImport.objects.create(
        campaign=CampaignFactory(), original_name="crm-export.csv", file=ContentFile(b"x", name="crm-export.csv")
    )

    page = client.get(reverse("admin:index")).content.decode()

    for name in ("do-not-contact.csv", "broken.csv", "crm-export.csv"):
        assert name in page
    assert "old-and-done.csv" not in page
    assert "<strong>Failed</strong>" in page


def test_the_home_searches_accounts(client, ops):
    page = client.get(reverse("admin:index")).content.decode()
    assert f'action="{reverse("admin:campaigns_account_changelist")}"' in page


def test_sections_read_as_the_product(admin_client):
    # superuser: every section
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "CRM matches" in page and "Crm matchs" not in page
    assert "Sign-in security" in page and ">Axes<" not in page
    names = {model._meta.verbose_name_plural for model in admin.site._registry}
    assert not any(name.lower().startswith("crm ") and not name.startswith("CRM") for name in names)


def test_an_approved_callers_home_shows_only_their_campaigns_pools_and_no_uploads(client):
    from tests.campaigns.caller_scenes import caller_scene

    scene = caller_scene()
    UploadFactory(original_name="their-list.csv", status=Upload.Status.READING)
    client.force_login(scene.amy)
    page = client.get(reverse("admin:index")).content.decode()
    assert f'id="pool-{scene.mine.pk}"' in page
    assert f'id="pool-{scene.sibling.pk}"' not in page and f'id="pool-{scene.theirs.pk}"' not in page
    assert "their-list.csv" not in page and 'id="home-work"' not in page
