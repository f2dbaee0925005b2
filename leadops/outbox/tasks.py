"""The outbox's beat job: publish what the on-commit send could not (the broker was down)."""

from celery import shared_task


@shared_task(name="outbox.send_pending")
def outbox_send_pending() -> int:
    from leadops.outbox.services import messages_send

    return messages_send()
