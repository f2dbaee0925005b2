"""Whether ops showed a block's note to the customer (off: notes are internal).

SQLite adds a column with a default by rebuilding the table, which drops its triggers: the trigger that
refuses to delete a block (migration 0002) is written again afterwards. Migration 0006's rebuild had
dropped it the same way.
"""

from django.db import migrations, models

SQLITE_NEVER_DELETED = """
CREATE TRIGGER IF NOT EXISTS campaigns_block_never_deleted BEFORE DELETE ON campaigns_block
BEGIN
    SELECT RAISE(ABORT, 'blocks are never deleted; lift them instead');
END;
"""


def restore_sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_NEVER_DELETED)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0007_api_key_change_notices"),
    ]

    operations = [
        migrations.AddField(
            model_name="block",
            name="note_shown",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Shown in the customer's portal and to its API key; otherwise only agency staff read the note.",
                verbose_name="note shown to the customer",
            ),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
    ]
