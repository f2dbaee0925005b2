"""``python manage.py import_leads --campaign ID FILE``: the admin's import pipeline, printing the report."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.imports.models import LeadImport, LeadImportIssue
from campaigns.imports.services import lead_import_create, lead_import_run
from campaigns.models import Campaign
from leadops.errors import LeadopsError


class Command(BaseCommand):
    help = "Import a CSV/TSV/XLSX of leads into a campaign and print what became of every row."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, required=True, help="Campaign id.")
        parser.add_argument("--source", default="", help="Lead source label for rows without one.")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="Map a column to a field (repeatable), e.g. --map 'Tel. (work)=phone'.",
        )
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options):
        campaign = Campaign.objects.filter(pk=options["campaign"]).select_related("customer").first()
        if campaign is None:
            raise CommandError(f"No campaign with id {options['campaign']}.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        mapping = {}
        for item in options["map"]:
            header, sep, field_name = item.partition("=")
            if not sep:
                raise CommandError(f"--map '{item}' is not HEADER=FIELD.")
            mapping[header.strip()] = field_name.strip()
        try:
            with path.open("rb") as stream:
                lead_import = lead_import_create(
                    campaign=campaign,
                    stream=stream,
                    filename=path.name,
                    actor=None,
                    source=options["source"],
                    column_mapping=mapping,
                )
        except LeadopsError as exc:
            raise CommandError(exc.message) from exc
        # In-process when Celery is eager; otherwise the worker may already be on it: running it here too is
        # harmless, the second run finds the import done.
        lead_import = lead_import_run(lead_import_id=lead_import.pk)
        self._report(lead_import)
        if lead_import.status == LeadImport.Status.FAILED:
            raise CommandError(lead_import.error)

    def _report(self, li: LeadImport) -> None:
        out = self.stdout.write
        out(f"Import #{li.pk} of {li.original_name} into {li.campaign}: {li.get_status_display()}")
        out(f"  rows read        {li.rows_read:>9,}")
        out(f"  junk (kept out)  {li.junk:>9,}")
        out(f"  leads created    {li.leads_created:>9,}")
        out(f"  already in pool  {li.leads_existing:>9,}")
        out(f"  accounts created {li.accounts_created:>9,}   contacts created {li.contacts_created:,}")
        out(f"  arrived Eligible {li.eligible:>9,}   Waiting {li.waiting:,}   Disqualified {li.disqualified:,}")
        for source, count in sorted(li.disqualified_by_source.items(), key=lambda kv: -kv[1]):
            out(f"    disqualified by {source}: {count:,}")
        if li.unknown_columns:
            out(f"  columns not imported: {', '.join(li.unknown_columns)}")
        if li.status == LeadImport.Status.DONE and li.leads_created == 0 and li.rows_read:
            out("  Nothing new: every row was already in the campaign or junk.")
        for issue in li.issues.filter(kind=LeadImportIssue.Kind.JUNK)[:20]:
            out(f"  line {issue.line_number}: {issue.message}")
