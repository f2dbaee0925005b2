from django.db import migrations

# Every suffix of a domain that is itself a domain: a.b.acme.com → {a.b.acme.com, b.acme.com, acme.com}.
# Lets "is this domain, or a parent of it, suppressed?" be indexed equality (value = ANY(...)), not LIKE.
CREATE = """
CREATE OR REPLACE FUNCTION suppressions_domain_suffixes(domain text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(array_to_string(parts[i:], '.') ORDER BY i), ARRAY[]::text[])
    FROM (SELECT string_to_array(domain, '.') AS parts) AS p,
         generate_series(1, coalesce(array_length(parts, 1), 0) - 1) AS i
$$;
"""
DROP = "DROP FUNCTION IF EXISTS suppressions_domain_suffixes(text);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("suppressions", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
