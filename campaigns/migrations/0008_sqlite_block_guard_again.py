"""Blocks are never deleted, on the embedded SQLite too.

SQLite cannot alter a column in place: Django rebuilds the table, and the rebuild drops its triggers. 0006
altered ``campaigns_block``, so the guard 0002 made on SQLite was gone. Make it again (a later migration that
alters the table must do the same: ``tests/campaigns/test_blocks_never_deleted.py`` runs on both backends).
"""

from django.db import migrations

SQLITE_UP = """
CREATE TRIGGER IF NOT EXISTS campaigns_block_never_deleted BEFORE DELETE ON campaigns_block
BEGIN
    SELECT RAISE(ABORT, 'blocks are never deleted; lift them instead');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS campaigns_block_never_deleted;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0007_api_key_change_notices")]

    operations = [migrations.RunPython(forwards, backwards)]
