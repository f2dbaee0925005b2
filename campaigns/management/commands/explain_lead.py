"""Print a lead, its status, and every reason that stops it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns.models import Lead, LeadStatus
from campaigns.selectors import can_dial, explain
from campaigns.selectors.explaining import moment_parse, waiting_sentence
from leadops.errors import LeadopsError

NOTHING_STOPS_THIS_LEAD = "Nothing stops this lead."
NOTHING_STOPPED_THIS_LEAD = "Nothing stopped this lead then."


class Command(BaseCommand):
    help = "Explain why a lead may not be called (or whether one number may be dialled for it)."

    def add_arguments(self, parser):
        parser.add_argument("lead_id", type=int)
        parser.add_argument("--number", help="Check this number for the lead instead, in any writing.")
        parser.add_argument(
            "--at", help="Answer as of this past moment (ISO 8601: 2026-03-02T14:05, in the current time zone if none)."
        )

    def handle(self, *args, lead_id: int, number: str | None, at: str | None = None, **options):
        try:
            moment = moment_parse(at) if at is not None else None
        except LeadopsError as exc:
            raise CommandError(exc.message) from exc
        lead = Lead.objects.select_related("contact__account", "campaign", "customer").filter(pk=lead_id).first()
        if lead is None:
            raise CommandError(f"There is no lead #{lead_id}.")
        self.stdout.write(
            f"Lead #{lead.pk}: {lead.contact} at {lead.contact.account}, in {lead.campaign} ({lead.customer})"
        )
        status = lead.get_status_display()
        if lead.status == LeadStatus.WAITING:
            status += f": {waiting_sentence(lead)}"
        self.stdout.write(f"Status: {status}")
        if moment is not None:
            self.stdout.write(f"As of {timezone.localtime(moment):%Y-%m-%d %H:%M:%S %Z}:")
        if number is not None:
            try:
                check = can_dial(lead, number, at=moment)
            except LeadopsError as exc:
                raise CommandError(exc.message) from exc
            if moment is None:
                verdict = "may be dialled" if check.allowed else "may not be dialled"
            else:
                verdict = "might have been dialled" if check.allowed else "might not have been dialled"
            self.stdout.write(f"{check.number} {verdict}.")
            reasons = check.reasons
        else:
            reasons = explain(lead, at=moment)
            if not reasons and moment is not None:
                self.stdout.write(NOTHING_STOPPED_THIS_LEAD)
            # "Nothing stops this lead" only of a lead that may be pulled now: a Waiting one said why above.
            elif not reasons and lead.status == LeadStatus.ELIGIBLE:
                self.stdout.write(NOTHING_STOPS_THIS_LEAD)
        for reason in reasons:
            self.stdout.write(f"- {reason.message}")
