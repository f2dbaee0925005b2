"""``manage.py rematch [--customer SLUG] [--full]``: match active suppression entries, batch by batch."""

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Customer
from suppressions.models import Upload
from suppressions.services import customer_rematch, rematch_all, upload_match


class Command(BaseCommand):
    help = (
        "Match suppression entries against leads. Without --full, only uploads whose matching has not "
        "finished; with --full, every active entry. Idempotent: it only adds the blocks that are missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customer", help="only this customer (slug)")
        parser.add_argument("--full", action="store_true", help="every active entry, not only unmatched uploads")

    def handle(self, *args, customer: str | None, full: bool, **options):
        owner = None
        if customer:
            owner = Customer.objects.filter(slug=customer).first()
            if owner is None:
                raise CommandError(f"No customer with the slug '{customer}'.")
        if full:
            result = customer_rematch(customer=owner) if owner else rematch_all()
        else:
            uploads = Upload.objects.filter(status=Upload.Status.MATCHING)
            if owner:
                uploads = uploads.filter(customer=owner)
            result = None
            for upload in uploads.order_by("pk"):
                matched = upload_match(upload=upload)
                result = matched if result is None else result + matched
            if result is None:
                self.stdout.write("No upload is waiting for matching (use --full to rematch every entry).")
                return
        self.stdout.write(
            f"{result.blocks_created:,} blocks created, {result.leads_changed:,} leads changed status, "
            f"in {result.batches:,} batches."
        )
