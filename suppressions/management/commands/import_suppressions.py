"""``manage.py import_suppressions --customer SLUG FILE``: the upload pipeline, run here, with its report."""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Customer
from leadops.errors import LeadopsError
from suppressions.admin_forms import parse_columns
from suppressions.models import Upload
from suppressions.services import upload_create, upload_process


class Command(BaseCommand):
    help = "Add a file of suppressions (CSV, TSV or XLSX) to a customer's list, then match it."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--customer", required=True, help="the customer's slug")
        parser.add_argument(
            "--columns", default="", help='e.g. "Mobile=phone, Email=email, #3=domain" (#3: the third column)'
        )
        parser.add_argument("--allow-broad-domains", action="store_true", help="accept gmail.com, co.uk …")
        parser.add_argument(
            "--enqueue", action="store_true", help="hand the work to a Celery worker instead of doing it here"
        )

    def handle(self, *args, file: Path, customer: str, columns: str, allow_broad_domains: bool, enqueue: bool, **kw):
        try:
            owner = Customer.objects.get(slug=customer)
        except Customer.DoesNotExist as exc:
            raise CommandError(f"No customer with the slug '{customer}'.") from exc
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        try:
            mapping = parse_columns(columns)
            with file.open("rb") as stream:
                upload = upload_create(
                    customer=owner,
                    file=File(stream, name=file.name),
                    original_name=file.name,
                    uploaded_by=None,
                    column_mapping=mapping,
                    allow_broad_domains=allow_broad_domains,
                    enqueue=enqueue,
                )
        except (LeadopsError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if enqueue:
            if upload.status == Upload.Status.QUEUED:
                self.stdout.write(
                    f"Upload #{upload.pk} queued for a worker; its customer's calls wait until it is read."
                )
            else:  # small enough to read at once: in force now (or failed), matching left to the worker
                self.stdout.write(f"Upload #{upload.pk} read, {upload.get_status_display().lower()}: {upload.report}")
            return
        upload = upload_process(upload_id=upload.pk)
        self.stdout.write(f"Upload #{upload.pk} ({upload.original_name}): {upload.get_status_display()}.")
        self.stdout.write(upload.report)
        if upload.status == Upload.Status.DONE:
            self.stdout.write(f"{upload.blocks_created:,} blocks made from its entries.")
        if upload.rejected:
            for row in upload.rejected_rows.order_by("line", "id")[:20]:
                self.stdout.write(f"  line {row.line} {row.column}: {row.raw_value!r}: {row.reason}")
            if upload.rejected > 20:
                self.stdout.write(f"  … and {upload.rejected - 20:,} more (download them from the upload's admin page)")
        if upload.status == Upload.Status.FAILED:
            raise CommandError(upload.error)
