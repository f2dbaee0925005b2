"""Celery tasks: thin, idempotent, taking ids; each calls one service."""

from celery import shared_task


@shared_task(name="campaigns.tasks.leads_wake_waiting")
def leads_wake_waiting() -> int:
    from campaigns.services import leads_wake_waiting as wake

    return wake()


@shared_task(name="campaigns.tasks.blocks_expire")
def blocks_expire() -> int:
    from campaigns.services.blocks import blocks_expire as expire

    return expire()
