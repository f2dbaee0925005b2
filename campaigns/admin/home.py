"""The ops home's own panels (``leadops.home``): find an account, each active campaign's pool, and the uploads and
lead imports in progress or failed. Other apps register theirs (undo requests, opt-out deadlines…)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from campaigns.admin.base import changelist_url
from campaigns.imports.models import LeadImport
from campaigns.models import Account, Campaign, Contact, Lead, LeadStatus, PhoneNumber
from campaigns.selectors.scope import visible
from leadops.home import home_panel_register
from suppressions.models import Upload

# How long a failed upload or import stays on the home page.
FAILED_SHOWN_FOR = timedelta(days=7)


def search_panel(request: HttpRequest) -> dict | None:
    if not request.user.has_perm("campaigns.view_account"):
        return None
    return {
        "accounts": changelist_url(Account),
        "contacts": changelist_url(Contact),
        "numbers": changelist_url(PhoneNumber),
        "leads": changelist_url(Lead),
    }


def pools_panel(request: HttpRequest) -> dict | None:
    """Each active campaign the user may see, with its pool by status: two queries whatever the size (the counts
    read the ``lead_campaign_status`` index)."""
    if not request.user.has_perm("campaigns.view_lead"):
        return None
    campaigns = list(
        visible(Campaign.objects.filter(status=Campaign.Status.ACTIVE), request.user)
        .select_related("customer")
        .order_by("customer__name", "name")
    )
    if not campaigns:
        return None
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Lead.objects.filter(campaign__in=[c.pk for c in campaigns])
        .order_by()
        .values("campaign_id", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts[row["campaign_id"]][row["status"]] = row["n"]
    pools = []
    for campaign in campaigns:
        pools.append(
            {
                "campaign": campaign,
                "url": reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
                "statuses": [
                    (
                        label,
                        counts[campaign.pk].get(status, 0),
                        changelist_url(Lead, campaign__id__exact=campaign.pk, status__exact=status),
                    )
                    for status, label in LeadStatus.choices
                ],
            }
        )
    return {"pools": pools}


def _uploads(request: HttpRequest, since) -> list[dict]:
    if not request.user.has_perm("suppressions.view_upload"):
        return []
    going = Upload.objects.filter(
        status__in=[Upload.Status.QUEUED, Upload.Status.READING, Upload.Status.MATCHING], removed_at__isnull=True
    )
    failed = Upload.objects.filter(status=Upload.Status.FAILED, created_at__gte=since)
    return [
        {
            "what": "Suppression upload",
            "name": upload.original_name,
            "for": upload.customer,
            "status": upload.get_status_display(),
            "failed": upload.status == Upload.Status.FAILED,
            "progress": upload.progress_percent,
            "url": reverse("admin:suppressions_upload_change", args=[upload.pk]),
            "at": upload.created_at,
        }
        for upload in (going | failed).select_related("customer").order_by("-created_at")[:20]
    ]


def _imports(request: HttpRequest, since) -> list[dict]:
    if not request.user.has_perm("imports.view_leadimport"):
        return []
    going = LeadImport.objects.exclude(status__in=[LeadImport.Status.DONE, LeadImport.Status.FAILED])
    failed = LeadImport.objects.filter(status=LeadImport.Status.FAILED, created_at__gte=since)
    return [
        {
            "what": "Lead import",
            "name": run.original_name,
            "for": run.campaign,
            "status": run.get_status_display(),
            "failed": run.status == LeadImport.Status.FAILED,
            "progress": run.progress_percent,
            "url": reverse("admin:imports_leadimport_change", args=[run.pk]),
            "at": run.created_at,
        }
        for run in (going | failed).select_related("campaign").order_by("-created_at")[:20]
    ]


def work_panel(request: HttpRequest) -> dict | None:
    """Suppression uploads and lead imports still going, and those that failed this week."""
    since = timezone.now() - FAILED_SHOWN_FOR
    rows = sorted(_uploads(request, since) + _imports(request, since), key=lambda row: row["at"], reverse=True)
    if not rows and not (
        request.user.has_perm("suppressions.view_upload") or request.user.has_perm("imports.view_leadimport")
    ):
        return None
    return {"rows": rows}


home_panel_register(name="find", template="admin/home/find.html", context=search_panel, order=10)
home_panel_register(name="pools", template="admin/home/pools.html", context=pools_panel, order=20)
home_panel_register(name="work", template="admin/home/work.html", context=work_panel, order=30)
