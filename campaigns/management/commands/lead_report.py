"""Print the lead report of a customer: the figures of the admin's and the portal's report pages."""

from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign, Customer
from campaigns.selectors.reports import OPS, csv_rows, lead_report, percent, query_from_params, rate, report_tables
from campaigns.services.reporting import lead_facts_refresh
from leadops.errors import LeadopsError
from leadops.exporting import escape_formula


class Command(BaseCommand):
    help = "Print a customer's lead report by source and segment, as a table or as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--customer", required=True, help="The customer's slug.")
        parser.add_argument("--campaign", type=int, help="Only this campaign (its id).")
        parser.add_argument("--by", default="source", help="One or two of: source, campaign, country, industry, …")
        parser.add_argument("--since", default="", help="First day, 2026-03-01.")
        parser.add_argument("--until", default="", help="Last day, 2026-03-31.")
        parser.add_argument("--format", choices=("table", "csv"), default="table")
        parser.add_argument("--refresh", action="store_true", help="Rebuild the customer's figures first.")

    def handle(self, *args, customer: str, campaign: int | None, by: str, since: str, until: str, **options):
        found = Customer.objects.filter(slug=customer).first()
        if found is None:
            raise CommandError(f"There is no customer {customer!r}.")
        if campaign is not None and not Campaign.objects.filter(pk=campaign, customer=found).exists():
            raise CommandError(f"Campaign #{campaign} is not a campaign of {found}.")
        params = {"by": by, "since": since, "until": until, "campaign": str(campaign or "")}
        try:
            query = query_from_params(params, customer_id=found.pk)
        except LeadopsError as exc:
            raise CommandError(exc.message) from exc
        if options["refresh"]:
            lead_facts_refresh(customer=found, actor="manage.py lead_report")
        report = lead_report(query, audience=OPS)
        if options["format"] == "csv":
            header, rows = csv_rows(report)
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([escape_formula(value) for value in row] for row in rows)
            return
        if report.refreshed_at is None:
            self.stdout.write("The figures have not been built yet: run with --refresh.")
        else:
            self.stdout.write(f"{found}: figures as of {report.refreshed_at:%Y-%m-%d %H:%M}.")
        for table in report_tables(report):
            lines = [table.headings]
            lines += [[*labels, *(f.text for f in figures)] for labels, figures in table.rows]
            dims = len(table.headings) - len(table.total)
            lines.append(["Total", *[""] * (dims - 1), *(f.text for f in table.total)])
            self._print(table.title, lines)
        blocks = report.false_blocks
        self.stdout.write(
            f"\nFalse blocks: {blocks.lifted} of the {blocks.made} blocks made in the period were lifted "
            f"({percent(rate(blocks.lifted, blocks.made))})."
        )
        for _, label, made, lifted in blocks.by_source:
            self.stdout.write(f"  {label}: {lifted} of {made} lifted")
        for who, n in blocks.by_lifter:
            self.stdout.write(f"  lifted by {who}: {n}")
        for c in report.comparisons:
            change = c.change
            self.stdout.write(f"\nFit rules of {change.campaign} changed {change.at:%Y-%m-%d %H:%M} by {c.who}:")
            self.stdout.write(f"  {change.summary}")
            for name in ("acceptance", "meeting_conversion"):
                self.stdout.write(
                    f"  {name.replace('_', ' ')}: {percent(c.before.rate(name))} in the {c.days} days before, "
                    f"{percent(c.after.rate(name))} in the {c.days} days after"
                )

    def _print(self, title: str, lines: list[list[str]]) -> None:
        self.stdout.write(f"\n{title}")
        if len(lines[0]) <= 1:
            self.stdout.write("  (nothing)")
            return
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(lines[0]))]
        for line in lines:
            self.stdout.write("  " + "  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)))
