"""A block made by an approved caller records the campaign they were working: the role its sentence names
("marked by Amy Lee, approved caller for Clinic outreach Q3, …"). Empty for every block made before, by ops,
by a job or by a customer's user.

A nullable column without a default: PostgreSQL adds it without rewriting the table, SQLite with ``ALTER TABLE
ADD COLUMN``. The trigger that refuses to delete a block is written again on SQLite all the same, in case a
later Django rebuilds the table for it (as migrations 0006 and 0008 had to).
"""

import django.db.models.deletion
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
        ("campaigns", "0014_catalogue_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="block",
            name="caller_campaign",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The campaign the actor worked as its approved caller when they made the block.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="campaigns.campaign",
            ),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
    ]
