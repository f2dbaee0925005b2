from django.db import migrations

# Every change to a key row (revoking it, or deleting it) tells the listening API workers which key it was,
# so that the keys they hold in memory never outlive a revocation (campaigns/api/authentication.py).
CREATE = """
CREATE OR REPLACE FUNCTION campaigns_apikey_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('leadops_api_keys', OLD.prefix);
    RETURN NULL;
END
$$;
CREATE TRIGGER apikey_changed AFTER UPDATE OR DELETE ON campaigns_apikey
    FOR EACH ROW EXECUTE FUNCTION campaigns_apikey_changed();
"""
DROP = """
DROP TRIGGER IF EXISTS apikey_changed ON campaigns_apikey;
DROP FUNCTION IF EXISTS campaigns_apikey_changed();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0006_block_fewer_indexes")]

    operations = [migrations.RunPython(create, drop)]
