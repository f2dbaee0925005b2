"""Celery tasks of lead import: thin, idempotent, taking ids."""

from celery import shared_task


@shared_task(name="imports.process", acks_late=True)
def lead_import_process(lead_import_id: int) -> dict:
    from campaigns.imports.services import lead_import_run

    lead_import = lead_import_run(lead_import_id=lead_import_id)
    return {"status": lead_import.status, "rows_read": lead_import.rows_read}


@shared_task(name="imports.fit_reevaluate", acks_late=True)
def campaign_fit_reevaluate(campaign_id: int) -> dict:
    from campaigns.imports.services import campaign_fit_evaluate
    from campaigns.models import Campaign

    return campaign_fit_evaluate(campaign=Campaign.objects.get(pk=campaign_id))
