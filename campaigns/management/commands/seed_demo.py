"""Build the demo data set (or, if it is there already, only reset the passwords it prints)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from campaigns.demo import ADMIN_URL, OPS_MEMBER_USERNAME, OPS_USERNAME, PORTAL_URL, demo_seed
from campaigns.models import LeadStatus
from suppressions.registries import loads_in_force


class Command(BaseCommand):
    help = "Build a demo: two customers, their campaigns, ~5,000 leads and a block of every source."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=5000, help="About how many leads to make (default 5000).")

    def handle(self, *args, leads: int, **options):
        started = time.monotonic()
        result = demo_seed(leads=leads)
        elapsed = time.monotonic() - started
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"Demo built in {elapsed:.1f}s."))
        else:
            self.stdout.write("The demo is already there: nothing was added. The passwords were reset.")
        statuses = [status for status, _ in LeadStatus.choices]
        self.stdout.write("\n" + f"{'customer':<20} {'campaign':<24}" + "".join(f"{s:>14}" for s in statuses))
        for customer, campaign, counts in result.leads_by_campaign:
            row = "".join(f"{counts.get(s, 0):>14}" for s in statuses)
            self.stdout.write(f"{customer:<20} {campaign:<24}{row}")
        blocks = ", ".join(f"{source} {n}" for source, n in sorted(result.blocks_by_source.items()))
        self.stdout.write(f"\nActive blocks by source: {blocks}")
        self.stdout.write("\nNot now, not here, not again: the dial check right now (docs/calling-windows.md):")
        for name, number, words in result.not_now:
            self.stdout.write(f"  {name} on {number}: {words}")
        registries = "; ".join(f"{load} ({load.total:,} listed)" for load in loads_in_force())
        self.stdout.write(f"\nRegistry copies in force: {registries or 'none loaded'}")
        self.stdout.write(
            f"\nA customer's portal, as its users see it: {PORTAL_URL}\n"
            f"  username: {result.portal_username}\n  password: {result.portal_password}"
        )
        if result.dossier_path:
            self.stdout.write(
                f"\nA dossier worth opening (a number a caller marked Do Not Call, and what the dialer was told):\n"
                f"  {ADMIN_URL}{result.dossier_path}"
            )
        self.stdout.write(f"\nApproved callers sign in at {ADMIN_URL} too (the Callers group):")
        for caller, password, campaigns in result.callers:
            self.stdout.write(
                f"  {caller.get_full_name()}, approved for {' and '.join(campaigns)}\n"
                f"    username: {caller.username}\n    password: {password}"
            )
        self.stdout.write(
            f"\nOps (the Ops group: every workflow but lifting a platform Do-Not-Call) signs in at {ADMIN_URL}\n"
            f"  username: {OPS_MEMBER_USERNAME}\n  password: {result.ops_member_password}"
        )
        self.stdout.write(
            f"\nOps lead (the Ops lead group, not a superuser) logs in at {ADMIN_URL}\n"
            f"  username: {OPS_USERNAME}\n  password: {result.password}"
        )
