"""``python manage.py import_leads --campaign ID FILE``: the admin's import pipeline, printing the report.

The import runs here, in this process, and nowhere else: it is created without being queued for a worker,
so no worker runs it at the same time. ``--resume ID`` runs again an import whose runner died (left
``reading``) or that failed; it carries on after the last row it committed.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.imports.models import LeadImport, LeadImportIssue
from campaigns.imports.services import lead_import_create, lead_import_run
from campaigns.models import Campaign
from leadops.errors import LeadopsError


class Command(BaseCommand):
    help = "Import a CSV/TSV/XLSX of leads into a campaign and print what became of every row."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, help="Campaign id.")
        parser.add_argument(
            "--resume",
            type=int,
            metavar="IMPORT_ID",
            help="Run again an import left 'reading' by a runner that died, or one that failed.",
        )
        parser.add_argument("--source", default="", help="Lead source label for rows without one.")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="Map a column to a field (repeatable): --map 'Tel. (work)=phone', or '#2=phone' for the 2nd column.",
        )
        parser.add_argument("file", type=Path, nargs="?")

    def handle(self, *args, **options):
        if options["resume"] is not None:
            if options["campaign"] is not None or options["file"] is not None:
                raise CommandError("--resume takes no --campaign and no file: it runs the import's own file.")
            self._run(options["resume"])
            return
        if options["campaign"] is None or options["file"] is None:
            raise CommandError("Give --campaign ID and a FILE (or --resume IMPORT_ID).")
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
                    enqueue=False,
                )
        except LeadopsError as exc:
            raise CommandError(exc.message) from exc
        self._run(lead_import.pk)

    def _run(self, lead_import_id: int) -> None:
        status = LeadImport.objects.filter(pk=lead_import_id).values_list("status", flat=True).first()
        if status is None:
            raise CommandError(f"No lead import with id {lead_import_id}.")
        if status == LeadImport.Status.PREVIEW:
            raise CommandError(f"Import #{lead_import_id} awaits confirmation: confirm it in the admin.")
        self.stdout.write(
            f"Running import #{lead_import_id} here, in this process (no worker is given it). If this process "
            f"stops, run: manage.py import_leads --resume {lead_import_id}"
        )
        lead_import = lead_import_run(lead_import_id=lead_import_id)
        if lead_import.status in (LeadImport.Status.QUEUED, LeadImport.Status.READING, LeadImport.Status.SCRUBBING):
            raise CommandError(
                f"Import #{lead_import_id} is being run by another process (a worker): it was left to that one. "
                "Follow it in the admin."
            )
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
