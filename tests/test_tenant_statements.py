"""Every tenant table carries ``customer_id``, and every hot statement pins each tenant table it reads to one
customer: the claim a distribution by customer (Citus, or hash partitions by customer) rests on
(``docs/SCALING.md``).

The hot statements are captured as they run: the dial check (a customer's key and the agency's), the pull,
a suppression upload's read and its matching, a full rematch. For each, every reference to a tenant table
must be *pinned*: its alias has ``customer_id = <a parameter or constant>``, or ``customer_id = <alias>
.customer_id`` with an alias that is pinned. Where that does not hold today, ``UNPINNED`` says so and why,
and the docs say what the scale-out path does about it; a new hot statement that does not pin its tenant
tables fails here, and so does an exception that no longer happens (the list only shrinks).
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.dialer.pool import leads_pull
from campaigns.selectors.explaining import can_dial_lead
from campaigns.services import BlockTarget, block_create
from suppressions.models import Entry
from suppressions.services import upload_create
from suppressions.services.matching import customer_rematch
from suppressions.services.pipeline import upload_process
from tests.campaigns.api_factories import CallerFactory, pool_create
from tests.campaigns.factories import CampaignFactory, CustomerFactory
from tests.suppressions.factories import csv_bytes

pytestmark = [pytest.mark.postgres("the statements as PostgreSQL runs them"), pytest.mark.django_db]

# The tables a distribution by customer splits: each has a customer_id column (checked below).
TENANT_TABLES = {
    "campaigns_lead",
    "campaigns_contact",
    "campaigns_account",
    "campaigns_campaign",
    "campaigns_block",
    "suppressions_entry",
    "suppressions_upload",
}
# Tables without customer_id: children of a tenant row reached through it (co-located with their contact once
# they carry its customer_id), and the numbers, shared by every customer (a reference table).
CHILD_TABLES = {"campaigns_contactphone", "campaigns_contactemail"}
SHARED_TABLES = {"campaigns_phonenumber"}

# (hot path, tenant table) not pinned today, and why; docs/SCALING.md says what scale-out does about each.
UNPINNED = {
    # The dial check's one statement finds the lead by id (an agency key) or by id and customer (a customer's
    # key), then reads the rest through the lead's row ("subject"), not through a parameter; platform-wide
    # blocks belong to no customer. Wording a refusal loads the blocks it found, and their rows, by id.
    **{
        (f"dial check, {key}", table): why
        for key in ("agency key", "customer key")
        for table, why in {
            "campaigns_contact": "the lead's contact, by id",
            "campaigns_block": "platform-wide blocks belong to no customer",
            "suppressions_entry": "the customer read from the lead's row",
            "suppressions_upload": "the customer read from the lead's row",
            "campaigns_account": "a refusal's wording: rows by id",
            "campaigns_campaign": "a refusal's wording: rows by id",
            "campaigns_lead": "an agency key names a lead by id only; a refusal's wording loads it by id",
        }.items()
    },
    # The pull reads the pool by campaign, and what it leases through the leads' rows.
    **{
        ("pull", table): "the pool is read by campaign, its rows through the lead's"
        for table in (
            "campaigns_lead",
            "campaigns_contact",
            "campaigns_account",
            "campaigns_campaign",
            "campaigns_block",
            "suppressions_entry",
            "suppressions_upload",
        )
    },
    # An upload's own row (claim, heartbeat, counts, status) is read and written by id.
    ("upload read", "suppressions_upload"): "the upload's own row, by id",
    ("upload matching", "suppressions_upload"): "the upload's own row, by id",
}

_NOT_ALIASES = {
    "on",
    "where",
    "join",
    "left",
    "right",
    "inner",
    "outer",
    "cross",
    "set",
    "using",
    "group",
    "order",
    "limit",
    "union",
    "for",
    "returning",
    "select",
    "values",
    "as",
    "and",
    "or",
    "natural",
    "full",
    "lateral",
    "having",
    "window",
    "offset",
    "fetch",
    "default",
}
_REFERENCE = re.compile(r"\b(?:from|join|update|into)\s+(\w+)(?:\s+(?:as\s+)?(\w+))?", re.IGNORECASE)
_VALUE = r"(?:%s|%\(\w+\)s|\$\d+|\d+|cast\(\s*(?:%s|%\(\w+\)s|\$\d+))"


def _references(sql: str) -> list[tuple[str, str]]:
    """Return ``(table, alias)`` for each tenant table the statement names."""
    found = []
    for table, alias in _REFERENCE.findall(sql):
        if table.lower() in TENANT_TABLES:
            found.append((table.lower(), table.lower() if not alias or alias.lower() in _NOT_ALIASES else alias))
    return found


def _pinned(sql: str) -> set[str]:
    """Return the aliases whose customer_id the statement fixes, directly or through another's."""
    pinned = {a for a in re.findall(rf"\b(\w+)\.customer_id\s*=\s*{_VALUE}", sql, re.IGNORECASE)}
    pinned |= {a for a in re.findall(rf"{_VALUE}\s*=\s*(\w+)\.customer_id\b", sql, re.IGNORECASE) if a}
    pairs = re.findall(r"\b(\w+)\.customer_id\s*=\s*(\w+)\.customer_id\b", sql, re.IGNORECASE)
    changed = True
    while changed:
        changed = False
        for left, right in pairs:
            if (left in pinned) != (right in pinned):
                pinned |= {left, right}
                changed = True
    return pinned


_INSERT_SELECT = re.compile(
    r"\binsert\s+into\s+(\w+)\s*\(([^)]*)\)\s*select\s+(.*?)\s+from\b", re.IGNORECASE | re.DOTALL
)


def _inserts_one_customer(sql: str, table: str) -> bool:
    """Return whether an ``INSERT INTO table (…) SELECT …`` gives every row one customer: a constant or a
    parameter in the customer_id position of a plain select list."""
    for target, columns, selected in _INSERT_SELECT.findall(sql):
        names = [name.strip().lower() for name in columns.split(",")]
        values = [value.strip() for value in selected.split(",")]
        if target.lower() == table and "customer_id" in names and len(values) == len(names):
            return re.fullmatch(_VALUE, values[names.index("customer_id")], re.IGNORECASE) is not None
    return False


def unpinned(statements: list[str]) -> set[str]:
    """Return the tenant tables some statement reads or writes without pinning them to a customer."""
    found = set()
    for raw in statements:
        sql = raw.replace('"', "")
        pinned = _pinned(sql)
        for table, alias in _references(sql):
            # An INSERT's rows take their customer from what it selects: pinned when that is.
            inserting = re.search(rf"\binsert\s+into\s+{table}\b", sql, re.IGNORECASE)
            if alias in pinned or _inserts_one_customer(sql, table):
                continue
            if not (inserting and alias == table and pinned):
                found.add(table)
    return found


def _captured(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        call()
    return [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def hot_statements() -> dict[str, list[str]]:
    customer = CustomerFactory(slug="tenant-statements")
    campaign = CampaignFactory(customer=customer)
    leads = pool_create(campaign=campaign, size=6)
    lead = leads[0]
    number = lead.contact.phones.get().phone
    block_create(
        target=BlockTarget(phone=number), source="ops_phone_dnc", reason="do_not_call", reach="platform", actor="tests"
    )
    caller = CallerFactory(approved_for=[campaign])
    can_dial_lead(lead.pk, number.e164)  # the content types the check names, cached as in a warm process
    rows = [["value"], [leads[1].contact.phones.get().phone.e164], ["someone@example.com"], ["example.org"]]
    upload = upload_create(
        customer=customer,
        file=ContentFile(csv_bytes(rows), name="dnc.csv"),
        original_name="dnc.csv",
        uploaded_by=None,
        enqueue=False,
    )
    statements = {
        "dial check, agency key": _captured(lambda: can_dial_lead(lead.pk, number.e164)),
        "dial check, customer key": _captured(lambda: can_dial_lead(lead.pk, number.e164, customer_id=customer.pk)),
        "pull": _captured(lambda: leads_pull(campaign=campaign, caller=caller, count=3)),
    }
    statements["upload read and matching"] = _captured(lambda: upload_process(upload_id=upload.pk))
    Entry.objects.create(customer=customer, kind="phone", value=leads[2].contact.phones.get().phone.e164)
    statements["full rematch"] = _captured(lambda: customer_rematch(customer=customer))
    reading = statements.pop("upload read and matching")
    first_match = next(i for i, sql in enumerate(reading) if "campaigns_block" in sql)
    statements["upload read"], statements["upload matching"] = reading[:first_match], reading[first_match:]
    return statements


def test_every_tenant_table_carries_customer_id():
    tables = {model._meta.db_table: model for model in apps.get_models()}
    for table in TENANT_TABLES:
        assert "customer_id" in {field.column for field in tables[table]._meta.concrete_fields}, table
    for table in CHILD_TABLES | SHARED_TABLES:
        assert "customer_id" not in {field.column for field in tables[table]._meta.concrete_fields}, table


def test_every_hot_statement_pins_its_tenant_tables_to_one_customer_but_the_known_exceptions(hot_statements):
    # given: the statements of each hot path, as they ran

    # when
    found = {(path, table) for path, statements in hot_statements.items() for table in unpinned(statements)}

    # then
    assert found == set(UNPINNED), {
        "not pinned and not listed": sorted(found - set(UNPINNED)),
        "listed but pinned now (strike them)": sorted(set(UNPINNED) - found),
    }


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1 FROM campaigns_lead l WHERE l.customer_id = %s", set()),
        ("SELECT 1 FROM campaigns_lead l WHERE l.id = %s", {"campaigns_lead"}),
        (
            "SELECT 1 FROM campaigns_lead l JOIN campaigns_block b ON b.customer_id = l.customer_id "
            "WHERE l.customer_id = %(customer)s",
            set(),
        ),
        (
            "SELECT 1 FROM campaigns_lead l JOIN campaigns_block b ON b.lead_id = l.id WHERE l.customer_id = 3",
            {"campaigns_block"},
        ),
        ('UPDATE "campaigns_lead" SET status = %s WHERE "campaigns_lead"."customer_id" = %s', set()),
        ("INSERT INTO campaigns_block (x) SELECT 1 FROM suppressions_entry e WHERE e.customer_id = %s", set()),
        ("INSERT INTO suppressions_entry (customer_id, value) SELECT 212, value FROM staging", set()),
        ("INSERT INTO suppressions_entry (customer_id, value) SELECT c, value FROM staging", {"suppressions_entry"}),
    ],
)
def test_the_check_tells_a_pinned_table_from_one_that_is_not(sql, expected):
    assert unpinned([sql]) == expected
