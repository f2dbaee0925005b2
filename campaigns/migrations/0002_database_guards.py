"""What the ORM cannot say for both databases.

* Blocks are never deleted: the database refuses it, whatever code path asks.
* The pull's index: next eligible leads of a campaign by priority, least recently attempted (never
  attempted first), so a pull is one index scan. SQLite sorts NULLs first in ascending order already and
  cannot write ``NULLS FIRST`` in an index; PostgreSQL needs it said.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION campaigns_block_refuse_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'blocks are never deleted; lift them instead (block %)', OLD.id;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER campaigns_block_never_deleted BEFORE DELETE ON campaigns_block
    FOR EACH ROW EXECUTE FUNCTION campaigns_block_refuse_delete();
"""
POSTGRES_UP += """
CREATE INDEX lead_pool_order ON campaigns_lead
    (campaign_id, priority DESC, last_attempt_at ASC NULLS FIRST, id) WHERE status = 'eligible';
"""
POSTGRES_DOWN = """
DROP INDEX IF EXISTS lead_pool_order;
DROP TRIGGER IF EXISTS campaigns_block_never_deleted ON campaigns_block;
DROP FUNCTION IF EXISTS campaigns_block_refuse_delete();
"""
SQLITE_UP = """
CREATE TRIGGER campaigns_block_never_deleted BEFORE DELETE ON campaigns_block
BEGIN
    SELECT RAISE(ABORT, 'blocks are never deleted; lift them instead');
END;
"""
SQLITE_UP_INDEX = """
CREATE INDEX lead_pool_order ON campaigns_lead
    (campaign_id, priority DESC, last_attempt_at ASC, id) WHERE status = 'eligible';
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS campaigns_block_never_deleted;"
SQLITE_DOWN_INDEX = "DROP INDEX IF EXISTS lead_pool_order;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)
        schema_editor.execute(SQLITE_UP_INDEX)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)
        schema_editor.execute(SQLITE_DOWN_INDEX)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
