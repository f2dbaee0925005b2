"""``python manage.py check_statuses [--customer SLUG] [--report-only]``: find, and repair, stored statuses that
differ from what the blocks say, and stored stages that differ from the leads' calls, meetings and blocks."""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Customer, Lead
from campaigns.services import lead_statuses_check

logger = logging.getLogger("campaigns.statuses")


class Command(BaseCommand):
    help = (
        "Compare every lead's stored status with the one its blocks give, and its stored stage with the one its "
        "calls, meetings and blocks give; print what differs, and repair it (the history is the truth; the "
        "stored status is what the pull reads, the stored stage what lists filter on)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customer", help="Only this customer's leads (its slug).")
        parser.add_argument("--report-only", action="store_true", help="Print what differs; change nothing.")

    def handle(self, *args, customer: str | None, report_only: bool, **options):
        leads = None
        if customer:
            found = Customer.objects.filter(slug=customer).first()
            if found is None:
                raise CommandError(f"No customer with the slug '{customer}'.")
            leads = Lead.objects.filter(customer=found)
        drift = lead_statuses_check(leads=leads, repair=not report_only)
        self.stdout.write(drift.summary())
        if drift.drifted:
            logger.warning("check_statuses: %s First leads: %s", drift.summary(), list(drift.lead_ids))
            self.stdout.write(f"First leads that drifted: {', '.join(f'#{pk}' for pk in drift.lead_ids)}")
