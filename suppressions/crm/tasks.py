"""Celery tasks of the CRM integration: thin, idempotent, taking ids."""

from celery import shared_task


@shared_task(name="crm.process_connection", acks_late=True)
def crm_connection_process(connection_id: int) -> dict:
    from suppressions.crm.models import CrmConnection
    from suppressions.crm.services import crm_events_process

    connection = CrmConnection.objects.select_related("customer").get(pk=connection_id)
    return crm_events_process(connection=connection)


@shared_task(name="crm.evaluate_customer", acks_late=True)
def crm_customer_evaluate(customer_id: int) -> dict:
    from campaigns.models import Customer
    from suppressions.crm.services import crm_rules_evaluate

    return crm_rules_evaluate(customer=Customer.objects.get(pk=customer_id))


@shared_task(name="crm.sweep_pending")
def crm_pending_sweep() -> int:
    """Process connections whose events are still pending (their enqueue was lost)."""
    from suppressions.crm.models import CrmEvent

    ids = set(CrmEvent.objects.filter(status=CrmEvent.Status.PENDING).values_list("connection_id", flat=True))
    for connection_id in ids:
        crm_connection_process.delay(connection_id)
    return len(ids)
