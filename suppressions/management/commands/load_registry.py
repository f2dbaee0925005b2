"""``manage.py load_registry --registry national|TX --full|--changes FILE...``: load a registry copy."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from leadops.errors import LeadopsError
from suppressions.models import registry_name
from suppressions.services.registries import registry_load

JOB = "load_registry command"


class Command(BaseCommand):
    help = (
        "Load the national Do-Not-Call registry or a state list: --full with its area-code files (one 10-digit "
        "number per line; the registry becomes exactly these numbers), or --changes with change lists "
        "(number,A or number,D per line). A bad line anywhere loads nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--registry", required=True, help='"national", or a state\'s two-letter code')
        kind = parser.add_mutually_exclusive_group(required=True)
        kind.add_argument("--full", action="store_true", help="a full copy")
        kind.add_argument("--changes", action="store_true", help="change lists")
        parser.add_argument("files", nargs="+", help="the files to read")

    def handle(self, *args, registry: str, full: bool, changes: bool, files: list[str], **options):
        try:
            load = registry_load(registry=registry, paths=[Path(f) for f in files], changes=changes, job=JOB)
        except LeadopsError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Loaded {registry_name(load.registry)} ({load.get_kind_display().lower()}, load #{load.pk}): "
            f"{load.staged:,} lines read, {load.added:,} added, {load.removed:,} removed, {load.total:,} listed."
        )
