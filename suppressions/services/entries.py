"""Remove suppression entries (one by one or a whole upload): stamp them, and lift the blocks they caused."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.models import Block
from campaigns.services import Actor, blocks_lift
from campaigns.services.actors import actor_fields
from leadops.errors import LeadopsError
from suppressions.models import Entry, Upload


def entries_remove(*, entries: QuerySet[Entry], actor: Actor, reason: str) -> int:
    """Deactivate the active ones of ``entries``, lift the blocks whose evidence they were, and recompute.

    The entry rows are kept (who removed them, when and why). Return how many entries were removed; a
    repeat call removes and lifts nothing more.
    """
    reason = (reason or "").strip()
    if not reason:
        raise LeadopsError("Say why the entries are removed.", field="reason")
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Entry.objects.select_for_update(of=("self",))
            .filter(pk__in=entries.active().values("pk"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Entry.objects.filter(pk__in=ids).update(
            removed_at=now,
            remove_reason=reason,
            **actor_fields(actor, user_field="removed_by", job_field="removed_by_job"),
        )
        blocks_lift(
            blocks=Block.objects.filter(
                source=Block.Source.SUPPRESSION,
                evidence_type=ContentType.objects.get_for_model(Entry),
                evidence_id__in=ids,
            ),
            actor=actor,
            reason=f"Suppression entry removed: {reason}",
        )
    return len(ids)


def uploads_remove(*, uploads: QuerySet[Upload], actor: Actor, reason: str) -> int:
    """Remove every active entry the ``uploads`` added and mark those uploads removed; return how many entries.

    One transaction of the same few statements whatever the number of uploads (one removal of their entries,
    one lift of their blocks, one recompute, one stamp of the uploads); a failure leaves the lists as they
    were. A repeat call removes nothing more and keeps the first removal's stamp.
    """
    selection = uploads.order_by().values("pk")
    with transaction.atomic():
        removed = entries_remove(entries=Entry.objects.filter(upload__in=selection), actor=actor, reason=reason)
        Upload.objects.filter(pk__in=selection, removed_at__isnull=True).update(
            removed_at=timezone.now(), removed_by=actor if not isinstance(actor, str) else None
        )
    return removed


def upload_remove(*, upload: Upload, actor: Actor, reason: str) -> int:
    """Remove every active entry the upload added and mark the upload removed; return how many entries.

    ``uploads_remove`` for one upload. A repeat call removes nothing more and keeps the first removal's stamp.
    """
    return uploads_remove(uploads=Upload.objects.filter(pk=upload.pk), actor=actor, reason=reason)
