"""The references 0004 checks with PostgreSQL triggers, checked on the embedded SQLite too.

``Entry.customer`` and ``Entry.upload`` have no database foreign key (0004: PostgreSQL checks them once per
statement instead of once per row). SQLite has only row triggers, which cost nothing at the embedded demo's
sizes: an entry must name an existing customer and, if any, an existing upload, and an upload with entries
cannot be deleted. The messages are PostgreSQL's, so a caller reads the same refusal on either backend.
SQLite drops a table's triggers when a migration rebuilds it (as 0006's new upload columns may): a later
migration that alters either table makes them again.
"""

from django.db import migrations

SQLITE_UP = [
    """
CREATE TRIGGER IF NOT EXISTS suppressions_entry_references_on_insert BEFORE INSERT ON suppressions_entry
WHEN NOT EXISTS (SELECT 1 FROM campaigns_customer c WHERE c.id = NEW.customer_id)
  OR (NEW.upload_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM suppressions_upload u WHERE u.id = NEW.upload_id))
BEGIN
    SELECT RAISE(ABORT, 'suppressions_entry.customer_id references no customer')
        WHERE NOT EXISTS (SELECT 1 FROM campaigns_customer c WHERE c.id = NEW.customer_id);
    SELECT RAISE(ABORT, 'suppressions_entry.upload_id references no upload');
END;
""",
    """
CREATE TRIGGER IF NOT EXISTS suppressions_entry_references_on_update BEFORE UPDATE OF customer_id, upload_id
ON suppressions_entry
WHEN NOT EXISTS (SELECT 1 FROM campaigns_customer c WHERE c.id = NEW.customer_id)
  OR (NEW.upload_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM suppressions_upload u WHERE u.id = NEW.upload_id))
BEGIN
    SELECT RAISE(ABORT, 'suppressions_entry.customer_id references no customer')
        WHERE NOT EXISTS (SELECT 1 FROM campaigns_customer c WHERE c.id = NEW.customer_id);
    SELECT RAISE(ABORT, 'suppressions_entry.upload_id references no upload');
END;
""",
    """
CREATE TRIGGER IF NOT EXISTS suppressions_upload_protect_entries BEFORE DELETE ON suppressions_upload
WHEN EXISTS (SELECT 1 FROM suppressions_entry e WHERE e.upload_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'an upload with entries cannot be deleted');
END;
""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS suppressions_upload_protect_entries;",
    "DROP TRIGGER IF EXISTS suppressions_entry_references_on_update;",
    "DROP TRIGGER IF EXISTS suppressions_entry_references_on_insert;",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("suppressions", "0006_upload_claim_and_pending_index")]

    operations = [migrations.RunPython(forwards, backwards)]
