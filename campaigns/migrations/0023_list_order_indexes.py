"""The indexes behind a broad search's walk (``campaigns.selectors.searching``) and the lead list's source
filter, on PostgreSQL: each list's own sort order, so that a broad search ("Davis") walks the list in order and
checks each row, stopping at its page (the contact list by last name, first name and id, the customer's too for
the portal; the account list by name and id; the phone-number list already has its unique E.164 index), and
the leads' source, which the lead source filter reads as a skip scan (``lead_filters.LeadSourceFilter``).
Built concurrently: a live table keeps taking writes.

SQLite keeps its scans: the migration does nothing there (the same statements answer the same rows).
"""

from django.db import migrations

INDEXES = (
    ("contact_list_order", "campaigns_contact", "btree (last_name, first_name, id)"),
    ("contact_customer_list_order", "campaigns_contact", "btree (customer_id, last_name, first_name, id)"),
    ("account_list_order", "campaigns_account", "btree (name, id)"),
    ("lead_source", "campaigns_lead", "btree (source)"),
)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, how in INDEXES:
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING {how}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("campaigns", "0022_ops_groups_whole_product")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
