"""The ops back office: an adapter over the services and selectors, for every model of the domain core.

* Rows that change lead statuses are created through the services (``customer_create``, ``lead_create``
  …), never by a bare ``save()``; fields that only a service may change are read-only here.
* Blocks are read-only: they are created by workflows and lifted with Undisqualify, never deleted. No
  admin here offers deletion of anything that history hangs on (leads, contacts, accounts, numbers,
  calls, meetings), so nothing ever cascades into blocks.
* List pages stay fast at a million rows: ``list_select_related`` for every related column, and
  ``BoundedCountPaginator`` instead of a full-table ``COUNT(*)`` per page load.

* An approved caller (an agency user without ``work_every_campaign``) sees only what the campaigns they are
  approved for reach: every domain ModelAdmin is ``ScopedToCampaigns`` (``base``), which reads
  ``campaigns.selectors.scope``; ops see every row, unfiltered.

Registration happens on import: one module per concern (``customers``, ``campaigns``, ``catalogues``,
``people``, ``leads``, ``blocks``, ``calls``, ``opportunities``, ``reports``), the workflows as admin actions in
``workflows``, approving and revoking callers in ``callers``, the add forms in ``forms``.
"""

from django.contrib import admin

# Importing each module registers its admins. (Not ``import campaigns.dialer.api.admin``: that would bind the name
# ``campaigns`` here to the project package, and ``from campaigns.admin import campaigns`` would find it.)
from campaigns.admin import (  # noqa: F401
    blocks,
    calling,
    calls,
    campaigns,
    catalogues,
    customers,
    home,
    leads,
    opportunities,
    people,
    reports,
    undo_requests,
)
from campaigns.admin.base import NOTHING_STOPS_THIS_LEAD
from campaigns.dialer.api import admin as api_admin  # noqa: F401 - the API key admin

admin.site.site_header = "leadops"
admin.site.site_title = "leadops"
admin.site.index_title = "Back office"
# No "View site": the back office has no public site, and the portal is for customers' users, not staff.
admin.site.site_url = None

__all__ = ["NOTHING_STOPS_THIS_LEAD"]
