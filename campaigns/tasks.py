"""Celery tasks: thin, idempotent, taking ids; each calls one service."""

from celery import shared_task


@shared_task(name="campaigns.tasks.leads_wake_waiting")
def leads_wake_waiting() -> int:
    from campaigns.services import leads_wake_waiting as wake

    return wake()


@shared_task(name="campaigns.tasks.verdict_partitions_ensure")
def verdict_partitions_ensure() -> list[str]:
    from campaigns.services.verdicts import verdict_partitions_ensure as ensure

    return ensure()
