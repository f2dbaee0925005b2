"""Celery tasks: thin, idempotent, taking ids; each calls one service.

Late acks and ``reject_on_worker_lost`` (settings) re-deliver a task whose worker died; every service
here resumes safely: reading is all-or-nothing, matching inserts only what is missing.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

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
    from campaigns.models import Customer
    from suppressions.services.matching import customer_rematch as rematch

    return rematch(customer=Customer.objects.get(pk=customer_id)).blocks_created


@shared_task(name="suppressions.tasks.rematch_all")
def rematch_all() -> int:
    """Enqueue one rematch per customer, so a slow customer does not hold up the others."""
    from campaigns.models import Customer
    from suppressions.models import Entry

    customer_ids = Entry.objects.active().order_by().values_list("customer_id", flat=True).distinct()
    ids = list(Customer.objects.filter(pk__in=customer_ids).order_by("pk").values_list("pk", flat=True))
    for customer_id in ids:
        customer_rematch.delay(customer_id)
    return len(ids)


@shared_task(name="suppressions.tasks.uploads_sweep")
def uploads_sweep() -> int:
    from suppressions.services.sweeping import uploads_sweep as sweep

    return sweep()
