"""One row per Celery task to publish; see ``leadops.outbox``."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Message(models.Model):
    """A task to publish to the broker, committed with the work that asks for it."""

    task = models.CharField(max_length=200, help_text="The Celery task's name.")
    args = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Failed attempts to publish it.")
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The sweep reads only unsent rows: the index holds those and nothing else, so it stays tiny.
            models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="outbox_message_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
