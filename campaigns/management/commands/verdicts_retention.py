"""Make the verdicts' months ahead, list the months past the retention, and detach them when asked."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from campaigns.services.verdicts import (
    retention_years,
    verdict_partitions_detach,
    verdict_partitions_ensure,
    verdict_partitions_past_retention,
)
from leadops.errors import LeadopsError


class Command(BaseCommand):
    help = (
        "Make the dialer verdicts' monthly partitions ahead, and list (or, with --detach, detach) the months older "
        "than LEADOPS_VERDICT_RETENTION_YEARS. A detached month stays a table of its own, to archive and drop."
    )

    def add_arguments(self, parser):
        parser.add_argument("--detach", action="store_true", help="Detach the months past the retention.")

    def handle(self, *args, detach: bool, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("The embedded database keeps every verdict in one table: there is no month to detach.")
            return
        try:
            made = verdict_partitions_ensure()
        except LeadopsError as exc:
            raise CommandError(exc.message) from exc
        for name in made:
            self.stdout.write(f"Made {name}.")
        old = verdict_partitions_detach(actor="verdicts_retention") if detach else verdict_partitions_past_retention()
        if not old:
            self.stdout.write(f"No month is older than the retention ({retention_years()} years).")
        for partition in old:
            done = "Detached" if detach else "Past the retention (run with --detach):"
            self.stdout.write(f"{done} {partition.name}, {partition.first_day:%B %Y}, {partition.rows:,} verdicts.")
