"""The live suppression look-up (the dial check's, the portal's) probes the active-entry index per value:
a customer's list may hold millions of entries, and scanning them costs seconds per call."""

import re

import pytest
from django.db import connection

from campaigns.selectors.explaining import dial_check_statement
from tests.campaigns.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan")
def test_the_dial_checks_live_lookup_probes_the_entry_index_by_customer_kind_and_value():
    # given: a customer with a long list, and the dial statement as a connection prepares it, planned without
    # its values
    lead = LeadFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO suppressions_entry (kind, value, line, created_at, removed_by_job, remove_reason, "
            "customer_id) SELECT 'phone', '+1303' || (2000000 + g), g, now(), '', '', %s "
            "FROM generate_series(1, 20000) g",
            [lead.customer_id],
        )
        cursor.execute("ANALYZE suppressions_entry")
    names: list[str] = []

    def numbered(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    statement, dial_params = dial_check_statement()
    prepared = re.sub(r"%\((\w+)\)s", numbered, statement).replace("%%", "%")
    params = dial_params(lead.pk, "+12025550143")
    with connection.cursor() as cursor:
        cursor.execute(f"PREPARE dial_plan AS {prepared}")
        # when
        cursor.execute(f"EXPLAIN EXECUTE dial_plan({', '.join(['%s'] * len(names))})", [params[n] for n in names])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE dial_plan")
    # then: every use of the entries is an index probe on all three columns, never a scan of the customer's
    entry_scans = re.findall(r"(\w[\w ]*) on suppressions_entry e(?:_\d+)?\b.*\n\s+Index Cond: \(([^\n]*)\)", plan)
    assert entry_scans and len(entry_scans) == plan.count(" on suppressions_entry "), plan
    for scan, condition in entry_scans:
        assert scan.strip().endswith("Index Scan using entry_one_active_per_customer_value"), plan
        assert all(column in condition for column in ("customer_id", "kind", "value")), plan
