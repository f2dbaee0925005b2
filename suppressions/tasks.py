"""Celery tasks: thin, idempotent, taking ids; each calls one service.

Late acks and ``reject_on_worker_lost`` (settings) re-deliver a task whose worker died; every service
here resumes safely: reading is all-or-nothing, matching inserts only what is missing.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

# Only a lost database connection is worth retrying; a bad file fails the upload with its reason.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    name="suppressions.tasks.upload_process",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def upload_process(upload_id: int) -> str:
    from suppressions.services.pipeline import upload_process as process

    return process(upload_id=upload_id).status


@shared_task(name="suppressions.tasks.upload_match", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def upload_match(upload_id: int) -> int:
    from suppressions.models import Upload
    from suppressions.services.matching import upload_match as match

    return match(upload=Upload.objects.get(pk=upload_id)).blocks_created


@shared_task(name="suppressions.tasks.customer_rematch", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def customer_rematch(customer_id: int) -> int:
    """Rematch every active entry of the customer, then check that each of its leads' stored status is what its
    blocks say, repairing (and logging, with counts) any that is not."""
    from campaigns.models import Customer, Lead
    from campaigns.services import lead_statuses_check
    from suppressions.services.matching import customer_rematch as rematch

    customer = Customer.objects.get(pk=customer_id)
    created = rematch(customer=customer).blocks_created
    drift = lead_statuses_check(leads=Lead.objects.filter(customer=customer), repair=True)
    if drift.drifted:
        logger.warning(
            "Status check after the rematch of %s: %s First leads: %s", customer, drift.summary(), list(drift.lead_ids)
        )
    return created


@shared_task(name="suppressions.tasks.rematch_all")
def rematch_all() -> int:
    """Enqueue one rematch and status check per customer that has leads, so a slow customer does not hold up the
    others (a customer with no entries rematches nothing, and its statuses are checked all the same)."""
    from campaigns.models import Customer, Lead

    customer_ids = Lead.objects.order_by().values_list("customer_id", flat=True).distinct()
    ids = list(Customer.objects.filter(pk__in=customer_ids).order_by("pk").values_list("pk", flat=True))
    for customer_id in ids:
        customer_rematch.delay(customer_id)
    return len(ids)


@shared_task(name="suppressions.tasks.uploads_sweep")
def uploads_sweep() -> int:
    from suppressions.services.sweeping import uploads_sweep as sweep

    return sweep()
