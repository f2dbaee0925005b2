"""Merge one batch of parsed lead rows into accounts, contacts, numbers and leads, set-based.

The batch is loaded into temporary staging tables (``COPY`` on PostgreSQL, one ``executemany`` on the
embedded SQLite), and every step after that is one SQL statement over the whole batch: match accounts,
insert the missing ones with ``INSERT … SELECT``, share numbers, match contacts, insert the missing ones,
attach emails and numbers, insert the leads and the import's records of them. The statements are the same
on both engines; only the loading, the id allocation and the JSON cast differ. Nothing here loops over rows
in Python but the loading itself.

Matching (so that re-importing the same file creates nothing new):

- an account by its website domain, else by its name (``LOWER`` of it, both sides);
- a contact by the first of the row's emails that a contact of the customer has (the oldest such contact),
  else by name (``LOWER``, both sides) plus a shared number within the row's account;
- a number by its E.164 form, shared with whoever has it already;
- rows of one batch that share an email, or a name and a number in one account, are one person
  (``ParsedBatch.groups``): a row that matched nothing joins the contact its group's first matched row
  found, else the one contact the group creates from its first row.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from campaigns.models import Campaign

# The staging tables, one batch at a time. On PostgreSQL they live in the batch's transaction (``ON COMMIT
# DROP``): a runner killed mid-batch leaves none behind for its backend to clean up on the way out, and a
# connection handed on by a pooler carries none. SQLite keeps them per connection, emptied by hand.
_TABLES = {
    "import_accounts": (
        "akey INTEGER PRIMARY KEY, kind TEXT NOT NULL, domain TEXT NOT NULL, match_name TEXT NOT NULL, "
        "name TEXT NOT NULL, attributes TEXT NOT NULL, account_id BIGINT, created BOOLEAN NOT NULL"
    ),
    "import_rows": (
        "line INTEGER PRIMARY KEY, grp INTEGER NOT NULL, akey INTEGER NOT NULL, first_name TEXT NOT NULL, "
        "last_name TEXT NOT NULL, title TEXT NOT NULL, source TEXT NOT NULL, attributes TEXT NOT NULL, "
        "contact_id BIGINT"
    ),
    "import_emails": "line INTEGER NOT NULL, position INTEGER NOT NULL, email TEXT NOT NULL, domain TEXT NOT NULL",
    "import_phones": (
        "line INTEGER NOT NULL, position INTEGER NOT NULL, e164 TEXT NOT NULL, kind TEXT NOT NULL, phone_id BIGINT"
    ),
    "import_groups": "grp INTEGER PRIMARY KEY, contact_id BIGINT, created BOOLEAN NOT NULL",
    "import_leads": "contact_id BIGINT PRIMARY KEY, first_line INTEGER NOT NULL, lead_id BIGINT, new_lead_id BIGINT",
}
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS import_rows_grp ON import_rows (grp, line)",
    "CREATE INDEX IF NOT EXISTS import_emails_line ON import_emails (line, position)",
    "CREATE INDEX IF NOT EXISTS import_phones_line ON import_phones (line, position)",
)


# Each staged row with its contact: the one it matched, else its group's (matched by another of its rows, or
# created). Read where it is needed rather than written back into the staged rows.
_PEOPLE = (
    "(SELECT r.line, r.grp, COALESCE(r.contact_id, g.contact_id) AS contact_id FROM import_rows r "
    "JOIN import_groups g ON g.grp = r.grp)"
)


def _staging_ready(cursor) -> None:
    """Create the staging tables if this connection has none yet, and leave them empty.

    On PostgreSQL in one round trip (fifteen statements, sent together: each batch creates them anew), on
    SQLite, which runs one statement per call, one by one.
    """
    tail = " ON COMMIT DROP" if _postgres() else ""
    statements = [
        *(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({columns}){tail}" for table, columns in _TABLES.items()),
        *_INDEXES,
        *_emptying(),
    ]
    if _postgres():
        cursor.execute("; ".join(statements))
        return
    for sql in statements:
        cursor.execute(sql)


def _emptying() -> list[str]:
    return [f"DELETE FROM {table}" for table in _TABLES]


def _staging_empty(cursor) -> None:
    for sql in _emptying():
        cursor.execute(sql)


@dataclass
class ParsedBatch:
    """A batch's kept rows as the staging tables take them (built by ``importing.stage_rows``)."""

    accounts: list[tuple] = field(default_factory=list)  # akey, kind, domain, match_name, name, attributes
    rows: list[tuple] = field(default_factory=list)  # line, grp, akey, first, last, title, source, attributes
    emails: list[tuple] = field(default_factory=list)  # line, position, email, domain
    phones: list[tuple] = field(default_factory=list)  # line, position, e164, kind
    # The same rows as the CSV text ``COPY`` reads, per staging table (``copy_ready``).
    copy_text: dict[str, str] = field(default_factory=dict)

    def staging(self) -> list[tuple[str, tuple[str, ...], list[tuple]]]:
        """Return each staging table with the columns the batch fills and its rows."""
        return [
            (
                "import_accounts",
                ("akey", "kind", "domain", "match_name", "name", "attributes", "created"),
                [(*a, False) for a in self.accounts],
            ),
            (
                "import_rows",
                ("line", "grp", "akey", "first_name", "last_name", "title", "source", "attributes"),
                self.rows,
            ),
            ("import_emails", ("line", "position", "email", "domain"), self.emails),
            ("import_phones", ("line", "position", "e164", "kind"), self.phones),
        ]

    def copy_ready(self) -> None:
        """Render the rows as the CSV text ``COPY`` reads (PostgreSQL), by the csv module's C writer: the import
        calls it in its reading thread, leaving the merging thread only the sending (rows written one by one
        to the COPY were 2.8 s of a 200,000-row import's main thread). Every value is quoted, so an empty
        text is an empty text, not NULL (no staged value is NULL)."""
        for table, _, rows in self.staging():
            out = io.StringIO()
            csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
            self.copy_text[table] = out.getvalue()


@dataclass
class MergeResult:
    leads_created: int = 0
    leads_existing: int = 0
    accounts_created: int = 0
    contacts_created: int = 0
    contact_ids: list[int] = field(default_factory=list)
    # line -> (contact id, whether the contact existed before this batch): what the preview reports per row.
    contacts_by_line: dict[int, tuple[int, bool]] = field(default_factory=dict)
    # The contacts whose lead in the campaign was there before this batch (with ``with_lines``).
    leads_there: set[int] = field(default_factory=set)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _json(column: str) -> str:
    return f"CAST({column} AS jsonb)" if _postgres() else column


def _load(cursor, table: str, columns: tuple[str, ...], rows: list[tuple], text: str | None) -> None:
    if not rows:
        return
    if _postgres():
        if text is None:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(text)
        return
    marks = ", ".join(["%s"] * len(columns))
    cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _allocate_ids(cursor, *, staging: str, key: str, target: str, column: str) -> int:
    """Give the staging rows whose ``column`` is NULL new ids of ``target`` (marking them ``created``); return
    how many. PostgreSQL draws them from the table's sequence; SQLite (one writer at a time) numbers them after
    the highest id it ever gave (``sqlite_sequence``), which its AUTOINCREMENT then carries on from."""
    if _postgres():
        # The sequence's name is looked up once per statement (an uncorrelated subquery), not per row.
        cursor.execute(
            f"UPDATE {staging} SET {column} = nextval((SELECT CAST(pg_get_serial_sequence(%s, 'id') AS regclass))), "
            f"created = TRUE WHERE {column} IS NULL",
            [target],
        )
        return cursor.rowcount
    cursor.execute(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
        f"COALESCE((SELECT MAX(id) FROM {target}), 0))",
        [target],
    )
    base = cursor.fetchone()[0]
    cursor.execute(
        f"UPDATE {staging} SET {column} = %s + n.number, created = TRUE FROM (SELECT {key} AS k, "
        f"ROW_NUMBER() OVER (ORDER BY {key}) AS number FROM {staging} WHERE {column} IS NULL) n "
        f"WHERE {staging}.{key} = n.k",
        [base],
    )
    return cursor.rowcount


def batch_merge(
    batch: ParsedBatch, *, campaign: Campaign, lead_import_id: int | None, source: str, with_lines: bool = False
) -> MergeResult:
    """Merge ``batch`` into ``campaign`` in the caller's transaction; return what it created and met.

    With ``lead_import_id`` the import's ``ImportedLead`` records are written too; ``with_lines`` fills
    ``contacts_by_line`` and ``leads_there`` (the preview's questions: which row met a contact, or a lead, that
    was there before?). The statuses are left to the scrub, which the caller runs next in the same transaction.

    Every lookup in the big tables is a correlated subquery served by one of their indexes: a join of a few
    thousand staged rows with a million-row table is planned as a hash of the whole table, which costs a
    sequential scan of it per batch.
    """
    result = MergeResult()
    if not batch.rows:
        return result
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = {"customer": campaign.customer_id, "campaign": campaign.pk, "now": now, "source": source}
    with connection.cursor() as cursor:
        _staging_ready(cursor)
        for table, columns, rows in batch.staging():
            _load(cursor, table, columns, rows, batch.copy_text.get(table))

        # Accounts: by domain, else by name; the missing ones get ids and are inserted.
        cursor.execute(
            "UPDATE import_accounts SET account_id = (SELECT MIN(a.id) FROM campaigns_account a "
            "WHERE a.customer_id = %(customer)s AND a.domain = import_accounts.domain) WHERE kind = 'domain'",
            params,
        )
        cursor.execute(
            "UPDATE import_accounts SET account_id = m.id FROM (SELECT LOWER(a.name) AS k, MIN(a.id) AS id "
            "FROM campaigns_account a WHERE a.customer_id = %(customer)s AND a.domain = '' AND LOWER(a.name) IN "
            "(SELECT LOWER(match_name) FROM import_accounts WHERE kind = 'name') GROUP BY LOWER(a.name)) m "
            "WHERE import_accounts.kind = 'name' AND LOWER(import_accounts.match_name) = m.k",
            params,
        )
        result.accounts_created = _allocate_ids(
            cursor, staging="import_accounts", key="akey", target="campaigns_account", column="account_id"
        )
        if result.accounts_created:
            cursor.execute(
                "INSERT INTO campaigns_account (id, customer_id, name, domain, attributes, created_at, updated_at) "
                f"SELECT account_id, %(customer)s, name, domain, {_json('attributes')}, %(now)s, %(now)s "
                "FROM import_accounts WHERE created ORDER BY account_id",
                params,
            )

        # Numbers: shared by their E.164 form. The missing ones are inserted (one that is there already is a
        # conflict, skipped), then every staged number finds its row: one pass over the staged numbers, where
        # looking them up before the insert as well rewrote each staged row twice.
        if batch.phones:
            # (On PostgreSQL a skipped number still draws its id from the sequence: a gap, nothing more.)
            cursor.execute(
                "INSERT INTO campaigns_phonenumber (e164, created_at) SELECT DISTINCT e164, %(now)s "
                "FROM import_phones ORDER BY e164 ON CONFLICT DO NOTHING",
                params,
            )
            cursor.execute(
                "UPDATE import_phones SET phone_id = (SELECT p.id FROM campaigns_phonenumber p "
                "WHERE p.e164 = import_phones.e164)"
            )

        # Contacts: by the first of the row's emails a contact of the customer has, else by name and a shared
        # number within the row's account.
        if batch.emails:
            cursor.execute(
                "UPDATE import_rows SET contact_id = (SELECT ce.contact_id FROM import_emails e "
                "JOIN campaigns_contactemail ce ON ce.email = e.email JOIN campaigns_contact c ON c.id = ce.contact_id "
                "WHERE e.line = import_rows.line AND c.customer_id = %(customer)s "
                "ORDER BY e.position, ce.contact_id LIMIT 1)",
                params,
            )
        if batch.phones:
            cursor.execute(
                "UPDATE import_rows SET contact_id = (SELECT cp.contact_id FROM import_phones p "
                "JOIN campaigns_contactphone cp ON cp.phone_id = p.phone_id "
                "JOIN campaigns_contact c ON c.id = cp.contact_id JOIN import_accounts a ON a.akey = import_rows.akey "
                "WHERE p.line = import_rows.line AND c.account_id = a.account_id "
                "AND LOWER(TRIM(c.first_name || ' ' || c.last_name)) = "
                "LOWER(TRIM(import_rows.first_name || ' ' || import_rows.last_name)) "
                "ORDER BY p.position, cp.contact_id LIMIT 1) WHERE contact_id IS NULL"
            )
        # One contact per group of rows: its first matched contact, else a new one made from its first row.
        cursor.execute(
            "INSERT INTO import_groups (grp, contact_id, created) SELECT grp, (SELECT r.contact_id FROM import_rows r "
            "WHERE r.grp = g.grp AND r.contact_id IS NOT NULL ORDER BY r.line LIMIT 1), FALSE "
            "FROM (SELECT DISTINCT grp FROM import_rows) g"
        )
        result.contacts_created = _allocate_ids(
            cursor, staging="import_groups", key="grp", target="campaigns_contact", column="contact_id"
        )
        if result.contacts_created:
            cursor.execute(
                "INSERT INTO campaigns_contact (id, customer_id, account_id, first_name, last_name, title, attributes, "
                f"created_at, updated_at) SELECT g.contact_id, %(customer)s, a.account_id, r.first_name, r.last_name, "
                f"r.title, {_json('r.attributes')}, %(now)s, %(now)s FROM import_groups g "
                "JOIN import_rows r ON r.line = g.grp JOIN import_accounts a ON a.akey = r.akey WHERE g.created "
                "ORDER BY g.contact_id",
                params,
            )
        if with_lines:
            cursor.execute(
                "SELECT r.line, COALESCE(r.contact_id, g.contact_id), g.created FROM import_rows r "
                "JOIN import_groups g ON g.grp = r.grp"
            )
            result.contacts_by_line = {line: (pk, not created) for line, pk, created in cursor.fetchall()}

        # Emails and numbers join the contacts (each once: the first row that gives a number says its kind).
        if batch.emails:
            cursor.execute(
                "INSERT INTO campaigns_contactemail (contact_id, email, domain) SELECT DISTINCT r.contact_id, e.email, "
                f"e.domain FROM import_emails e JOIN {_PEOPLE} r ON r.line = e.line WHERE TRUE ON CONFLICT DO NOTHING"
            )
        if batch.phones:
            cursor.execute(
                "INSERT INTO campaigns_contactphone (contact_id, phone_id, kind) SELECT contact_id, phone_id, kind "
                "FROM (SELECT r.contact_id, p.phone_id, p.kind, ROW_NUMBER() OVER (PARTITION BY r.contact_id, "
                "p.phone_id ORDER BY p.line, p.position) AS n FROM import_phones p "
                f"JOIN {_PEOPLE} r ON r.line = p.line) x WHERE n = 1 ON CONFLICT DO NOTHING"
            )

        # Leads: one per campaign and contact; a new one's source is its contact's first row's.
        cursor.execute(
            "INSERT INTO import_leads (contact_id, first_line, lead_id) SELECT r.contact_id, MIN(r.line), "
            "(SELECT l.id FROM campaigns_lead l WHERE l.campaign_id = %(campaign)s AND l.contact_id = r.contact_id) "
            f"FROM {_PEOPLE} r GROUP BY r.contact_id",
            params,
        )
        if with_lines:
            cursor.execute("SELECT contact_id FROM import_leads WHERE lead_id IS NOT NULL")
            result.leads_there = {contact_id for (contact_id,) in cursor.fetchall()}
        cursor.execute(
            "INSERT INTO campaigns_lead (customer_id, campaign_id, contact_id, status, waiting_reason, priority, "
            "attempts, source, stage, created_at, updated_at) SELECT %(customer)s, %(campaign)s, il.contact_id, "
            "'eligible', '', 0, 0, CASE WHEN r.source = '' THEN %(source)s ELSE r.source END, 'new', %(now)s, "
            "%(now)s FROM import_leads il JOIN import_rows r ON r.line = il.first_line WHERE il.lead_id IS NULL "
            "ORDER BY il.contact_id ON CONFLICT DO NOTHING",
            params,
        )
        result.leads_created = cursor.rowcount
        result.leads_existing = len(batch.rows) - result.leads_created
        if lead_import_id is not None:
            cursor.execute(
                "UPDATE import_leads SET new_lead_id = (SELECT l.id FROM campaigns_lead l "
                "WHERE l.campaign_id = %(campaign)s AND l.contact_id = import_leads.contact_id) WHERE lead_id IS NULL",
                params,
            )
            cursor.execute(
                "INSERT INTO imports_importedlead (lead_import_id, lead_id, created) SELECT %(import)s, "
                "COALESCE(lead_id, new_lead_id), lead_id IS NULL FROM import_leads WHERE TRUE "
                "ON CONFLICT DO NOTHING",
                {**params, "import": lead_import_id},
            )
        cursor.execute("SELECT contact_id FROM import_leads ORDER BY contact_id")
        result.contact_ids = [contact_id for (contact_id,) in cursor.fetchall()]
        if not _postgres():
            _staging_empty(cursor)  # PostgreSQL drops them when the batch commits
    return result


def json_text(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
