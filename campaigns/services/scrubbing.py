"""The scrub: what every new lead, contact, number and email goes through before a lead can be pulled.

A lead may be Eligible only once its contact was matched against the customer's active suppressions and
the lead was judged by its campaign's fit rules. Both live above the domain core (``suppressions``, and
the fit rules of ``campaigns.imports``), which must not import them. So the layers above register their
step here when their app is ready (``ImportsConfig.ready``), and the core's services that add people
(``contact_create``, ``contact_update``, ``contact_phone_add``, ``contact_email_add``, ``lead_create``) call
``contacts_scrub`` inside their own transaction, exactly as a lead import does for each batch: nothing is
committed Eligible that the scrub would stop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from campaigns.models import Campaign, Customer, Lead
from campaigns.services.statuses import lead_statuses_recompute
from leadops.db import ids_query


class ScrubStep(Protocol):
    def __call__(self, *, customer: Customer, contact_ids: list[int], campaign: Campaign | None) -> None: ...


_steps: list[Callable[..., None]] = []


def scrub_step_register(step: ScrubStep) -> None:
    """Add ``step`` to the scrub; registering the same step again changes nothing."""
    if step not in _steps:
        _steps.append(step)


def contacts_scrub(*, customer: Customer, contact_ids: Iterable[int], campaign: Campaign | None = None) -> None:
    """Run every registered step over the contacts, then recompute the statuses of their leads.

    ``campaign`` limits the fit rules and the recompute to that campaign's leads (a lead import's batch);
    without it every lead of the contacts is judged. Idempotent: a second call changes nothing. Call it in
    the transaction that wrote the contacts, numbers, emails or leads.
    """
    ids = sorted(set(contact_ids))
    if not ids:
        return
    if not _steps:
        # A wrong "yes" is the one failure to prevent: refuse rather than leave leads unscrubbed.
        raise RuntimeError("No scrub step is registered: is campaigns.imports in INSTALLED_APPS?")
    for step in _steps:
        step(customer=customer, contact_ids=ids, campaign=campaign)
    # One parameter whatever the number of ids (an import's batch has thousands).
    leads = Lead.objects.filter(contact_id__in=ids_query(ids), customer_id=customer.pk)
    lead_statuses_recompute(leads=leads.filter(campaign=campaign) if campaign is not None else leads)
