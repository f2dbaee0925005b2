"""The indexes behind search (``campaigns.selectors.searching``), on PostgreSQL: trigram indexes (``pg_trgm``)
on the upper-cased names, account names and domains, and emails, which serve "a word begins this field or a
word of it" (``UPPER(col) LIKE 'MIA%'`` and ``LIKE '% MIA%'``), and a pattern index on the E.164 number for
"+1202…" prefixes. Built concurrently: a live table keeps taking writes.

SQLite has none of these (no trigram indexes): the migration does nothing there, and search scans.
"""

from django.db import migrations

INDEXES = (
    ("contact_first_name_trgm", "campaigns_contact", "gin (UPPER(first_name) gin_trgm_ops)"),
    ("contact_last_name_trgm", "campaigns_contact", "gin (UPPER(last_name) gin_trgm_ops)"),
    ("account_name_trgm", "campaigns_account", "gin (UPPER(name) gin_trgm_ops)"),
    ("account_domain_trgm", "campaigns_account", "gin (UPPER(domain) gin_trgm_ops)"),
    ("contact_email_email_trgm", "campaigns_contactemail", "gin (UPPER(email) gin_trgm_ops)"),
    ("phonenumber_e164_pattern", "campaigns_phonenumber", "btree (e164 text_pattern_ops)"),
)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, how in INDEXES:
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING {how}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("campaigns", "0019_verdicts")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
