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


@shared_task(name="campaigns.tasks.lead_facts_rebuild")
def lead_facts_rebuild(customer_id: int | None = None) -> int:
    """Rebuild one customer's lead report facts (every customer's when None)."""
    from campaigns.models import Customer
    from campaigns.services.reporting import lead_facts_refresh, lead_facts_refresh_all

    if customer_id is None:
        return lead_facts_refresh_all(actor="lead_report.nightly")
    customer = Customer.objects.filter(pk=customer_id).first()
    return lead_facts_refresh(customer=customer, actor="lead_report.asked") if customer else 0


@shared_task(name="campaigns.tasks.blocks_expire")
def blocks_expire() -> int:
    from campaigns.services.blocks import blocks_expire as expire

    return expire()
