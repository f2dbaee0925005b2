"""No index on the hottest tables is served by another already: each costs every insert and every status
update a write (migration campaigns 0025 dropped six such)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# Kept on purpose: the contact list's ``(customer, last name)`` index is the embedded SQLite's; PostgreSQL also
# has migration 0023's longer one for the search walk (PostgreSQL only), which serves the same look-ups.
KEPT = {"contact_customer_last_name"}
TABLES = ("campaigns_lead", "campaigns_contactphone", "campaigns_contactemail", "campaigns_contact", "campaigns_block")


@pytest.mark.postgres("reads PostgreSQL's catalogue of indexes")
def test_no_plain_index_is_the_leading_columns_of_another_index_of_its_table():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname, x.indisunique, string_to_array(x.indkey::text, ' ')::int[],
                   x.indpred IS NULL AND x.indexprs IS NULL, am.amname
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_am am ON am.oid = i.relam
            WHERE t.relname = ANY(%s)
            """,
            [list(TABLES)],
        )
        indexes = cursor.fetchall()
    redundant = [
        f"{table}.{name} {columns} is served by {other} {other_columns}"
        for table, name, unique, columns, plain, method in indexes
        if plain and not unique and method == "btree" and name not in KEPT
        for other_table, other, _, other_columns, other_plain, other_method in indexes
        if other_table == table
        and other != name
        and other_plain
        and other_method == "btree"
        and other_columns[: len(columns)] == columns
    ]
    assert redundant == []
