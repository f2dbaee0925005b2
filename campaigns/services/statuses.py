"""The one code path that writes ``Lead.status`` and ``Lead.stage``.

A lead is Disqualified when an active block reaches it, its contact or its account (respecting the
block's reach), or when none of its numbers may be dialled; otherwise Waiting while ``waiting_until`` is
in the future; otherwise Eligible. When a block reaches a lead is ``campaigns.rules``; its ORM condition is
compiled into one UPDATE, so recomputing the status of 5,000 or 500,000 leads is one statement, never a loop
of ``save()`` calls.

The stage (``campaigns.rules.lead_stage_expression``) rides along in the same UPDATE when the caller says
what it did can move it: a call, a meeting outcome, an unqualification or qualification, or a block on a lead
created or lifted. Bulk recomputes after suppressions, CRM rules or numbers change leave it alone: nothing
they write moves a stage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from campaigns.models import ContactPhone, Lead, LeadStatus
from campaigns.rules import LEAD_TARGETS, NUMBER_TARGETS, lead_is_disqualified, lead_stage_expression, leads_stopped_sql


def status_expression(*, now: datetime) -> Case:
    return Case(
        When(lead_is_disqualified(now), then=Value(LeadStatus.DISQUALIFIED)),
        When(waiting_until__gt=now, then=Value(LeadStatus.WAITING)),
        default=Value(LeadStatus.ELIGIBLE),
    )


def lead_statuses_recompute(*, leads: QuerySet[Lead], now: datetime | None = None, stages: bool = False) -> int:
    """Recompute the stored status of ``leads`` from the blocks (and, with ``stages``, their stage from the
    blocks, calls and meetings); return how many leads changed.

    One UPDATE statement whatever the number of leads, rewriting only the rows whose status (or stage)
    differs; it runs in the caller's transaction. Running it twice changes nothing the second time.
    """
    now = now or timezone.now()
    expression = status_expression(now=now)
    if not stages:
        return (
            Lead.objects.filter(pk__in=leads.values("pk"))
            .exclude(status=expression)
            .update(status=expression, updated_at=now)
        )
    stage = lead_stage_expression()
    return (
        Lead.objects.filter(pk__in=leads.values("pk"))
        .exclude(Q(status=expression) & Q(stage=stage))
        .update(status=expression, stage=stage, updated_at=now)
    )


def lead_statuses_blocks_added(
    *, blocks: str, params: Sequence[object] = (), customer_id: int | None = None, now: datetime | None = None
) -> int:
    """Bring the stored statuses up to date after the blocks ``blocks`` were added, nothing being lifted; return
    how many leads changed. ``blocks`` is SQL naming a relation with ``campaigns_block``'s columns (a temporary
    table of the rows just inserted, or a parenthesised subquery with ``params``).

    Adding a block only ever moves a lead to Disqualified, and only a lead it stops: so the leads already
    Disqualified are left alone, and of the others exactly those that a block on the lead, its contact or its
    account reaches (``campaigns.rules.leads_stopped_sql``) are rewritten, with no rule evaluated per lead —
    one UPDATE joining the new blocks to their leads. A number block stops a lead only when no number is left,
    so the leads of its number's contacts get the full recompute (``lead_statuses_recompute``). Runs in the
    caller's transaction; a second call changes nothing. ``customer_id`` says every block is of that customer
    and reaches no other's leads (a suppression block): the statement then reads that customer's rows only.
    """
    now = now or timezone.now()
    disqualified = LeadStatus.DISQUALIFIED
    with connection.cursor() as cursor:
        pinned = [] if customer_id is None else [customer_id]
        stopped = leads_stopped_sql(blocks, now="%s", customer=None if customer_id is None else "%s")
        moment = connection.ops.adapt_datetimefield_value(now)
        # The leads in the order of their ids, which is about the order of their rows: the rewrite then walks
        # the table and its indexes page after page, where ``id IN (…)`` walked them in the hash's order
        # (``bench/suppressions.py``'s full rematch: its seven recomputes 29.7 s before, 11.5 s after).
        cursor.execute(
            f"UPDATE campaigns_lead SET status = %s, updated_at = %s FROM (SELECT DISTINCT stopped.id FROM "
            f"({stopped}) stopped ORDER BY stopped.id) s WHERE campaigns_lead.id = s.id AND campaigns_lead.status <> %s"
            f"{'' if customer_id is None else ' AND campaigns_lead.customer_id = %s'}",
            # ``blocks``, the moment, then the customer appear once per target kind the statement joins.
            [disqualified, moment, *[*params, moment, *pinned] * len(LEAD_TARGETS), disqualified, *pinned],
        )
        changed = cursor.rowcount
        targets = ", ".join(f"'{kind}'" for kind in NUMBER_TARGETS)
        cursor.execute(f"SELECT 1 FROM {blocks} b WHERE b.target IN ({targets}) LIMIT 1", list(params))
        has_number_blocks = cursor.fetchone() is not None
    if has_number_blocks:
        phones = RawSQL(f"SELECT b.phone_id FROM {blocks} b WHERE b.target IN ({targets})", list(params))
        leads = Lead.objects.filter(
            contact_id__in=ContactPhone.objects.filter(phone_id__in=phones).values("contact_id")
        ).exclude(status=disqualified)
        changed += lead_statuses_recompute(leads=leads, now=now)
    return changed


def leads_wake_waiting(*, now: datetime | None = None) -> int:
    """Return to the pool every lead whose cool-down, callback or lease has run out; return the count.

    Expired leases are released too, so a lead is never leased to a caller after ``waiting_until``.
    """
    now = now or timezone.now()
    with transaction.atomic():
        expired = Lead.objects.filter(status=LeadStatus.WAITING, waiting_until__lte=now)
        Lead.objects.filter(pk__in=expired.values("pk")).update(waiting_reason="", leased_to=None, updated_at=now)
        Lead.objects.filter(~Q(status=LeadStatus.WAITING), leased_to__isnull=False, waiting_until__lte=now).update(
            waiting_reason="", leased_to=None, updated_at=now
        )
        return lead_statuses_recompute(leads=Lead.objects.filter(pk__in=expired.values("pk")), now=now)


@dataclass(frozen=True)
class StatusDrift:
    """What a status check found: leads whose stored status (or stage) differed from the rules' answer."""

    checked: int
    # (stored, computed) → how many leads, e.g. ("eligible", "disqualified"): 3
    changes: dict[tuple[str, str], int] = field(default_factory=dict)
    repaired: int = 0
    lead_ids: tuple[int, ...] = ()  # the first few drifted leads, to look at
    # The same for the stage, e.g. ("new", "attempted"): 2
    stage_changes: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def drifted(self) -> int:
        """Return how many stored values drifted: a lead whose status and stage both drifted counts twice."""
        return sum(self.changes.values()) + sum(self.stage_changes.values())

    def summary(self) -> str:
        """Return one line: how many leads were checked, and each kind of drift found (and repaired)."""
        if not self.drifted:
            return (
                f"Checked {self.checked:,} leads: every stored status matches its blocks, and every stage its history."
            )
        kinds = ", ".join(
            [f"{count:,} stored {stored} but {computed}" for (stored, computed), count in sorted(self.changes.items())]
            + [
                f"{count:,} at the stage {stored} but {computed}"
                for (stored, computed), count in sorted(self.stage_changes.items())
            ]
        )
        repaired = f"; repaired {self.repaired:,}" if self.repaired else "; reported only, not repaired"
        return f"Checked {self.checked:,} leads: {self.drifted:,} drifted ({kinds}){repaired}."


STATUS_CHECK_BATCH = 50_000
_SAMPLE = 20


def lead_statuses_check(
    *, leads: QuerySet[Lead] | None = None, repair: bool, batch_size: int = STATUS_CHECK_BATCH
) -> StatusDrift:
    """Compare every stored status and stage of ``leads`` (all leads by default) with the rules' answers (the
    blocks; the calls and meetings for the stage); with ``repair``, rewrite the ones that differ. Return what
    was found.

    Leads whose waiting time has run out are first woken, as the minute job would: that is the normal path,
    not drift. Then, batch by batch of ids (each batch one transaction, so a million leads never hold one
    long lock), the status rule is evaluated in the database and compared. Nothing should ever be found:
    every write path recomputes what it touches, so a finding means a bug to look for. Running it twice
    finds nothing the second time after a repair.
    """
    now = timezone.now()
    leads_wake_waiting(now=now)
    scope = Lead.objects.all() if leads is None else Lead.objects.filter(pk__in=leads.values("pk"))
    changes: Counter[tuple[str, str], int] = Counter()
    stage_changes: Counter[tuple[str, str], int] = Counter()
    sample: list[int] = []
    checked = repaired = 0
    last_id = 0
    while True:
        with transaction.atomic():
            ids = list(scope.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            last_id = ids[-1]
            checked += len(ids)
            batch = Lead.objects.filter(pk__in=ids)
            drifted = (
                batch.annotate(computed=status_expression(now=now), computed_stage=lead_stage_expression())
                .exclude(Q(status=F("computed")) & Q(stage=F("computed_stage")))
                .order_by()
                .values_list("pk", "status", "computed", "stage", "computed_stage")
            )
            found = list(drifted)
            for pk, stored, computed, stage, computed_stage in found:
                if stored != computed:
                    changes[(stored, computed)] += 1
                if stage != computed_stage:
                    stage_changes[(stage, computed_stage)] += 1
                if len(sample) < _SAMPLE:
                    sample.append(pk)
            if found and repair:
                repaired += lead_statuses_recompute(
                    leads=Lead.objects.filter(pk__in=[pk for pk, *_ in found]), now=now, stages=True
                )
    return StatusDrift(
        checked=checked,
        changes=dict(changes),
        repaired=repaired,
        lead_ids=tuple(sample),
        stage_changes=dict(stage_changes),
    )
