"""Every verdict kept: the dialer's answers, append-only; partitioned by month on PostgreSQL.

On PostgreSQL the table is ``PARTITION BY RANGE (at)``, one partition per calendar month (UTC), made ahead of
time (``campaigns.services.verdicts.verdict_partitions_ensure``, daily by beat), with a default partition
so that an insert never fails for want of one. Its key is ``(id, at)``: a partitioned table's unique index
must hold the partition key. On SQLite it is the plain table Django makes. Both refuse UPDATE and DELETE.
"""

from datetime import date

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

POSTGRES_UP = """
CREATE SEQUENCE campaigns_verdict_id_seq AS bigint;
CREATE TABLE campaigns_verdict (
    id bigint NOT NULL DEFAULT nextval('campaigns_verdict_id_seq'),
    at timestamp with time zone NOT NULL,
    kind varchar(10) NOT NULL,
    lead_id bigint NOT NULL,
    number varchar(20) NOT NULL,
    api_key_id bigint NULL,
    caller_id bigint NULL,
    allowed boolean NOT NULL,
    reasons jsonb NOT NULL,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
ALTER SEQUENCE campaigns_verdict_id_seq OWNED BY campaigns_verdict.id;
CREATE INDEX verdict_lead_at ON campaigns_verdict (lead_id, at);
CREATE INDEX verdict_number_at ON campaigns_verdict (number, at);
CREATE TABLE campaigns_verdict_default PARTITION OF campaigns_verdict DEFAULT;
CREATE OR REPLACE FUNCTION campaigns_verdict_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'verdicts are never changed or deleted (verdict %)', OLD.id;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER campaigns_verdict_append_only BEFORE UPDATE OR DELETE ON campaigns_verdict
    FOR EACH ROW EXECUTE FUNCTION campaigns_verdict_refuse_change();
"""
POSTGRES_DOWN = """
DROP TABLE IF EXISTS campaigns_verdict CASCADE;
DROP FUNCTION IF EXISTS campaigns_verdict_refuse_change();
"""
SQLITE_UP = [
    """CREATE TRIGGER campaigns_verdict_never_updated BEFORE UPDATE ON campaigns_verdict
    BEGIN SELECT RAISE(ABORT, 'verdicts are never changed or deleted'); END;""",
    """CREATE TRIGGER campaigns_verdict_never_deleted BEFORE DELETE ON campaigns_verdict
    BEGIN SELECT RAISE(ABORT, 'verdicts are never changed or deleted'); END;""",
]
# Months made ahead at migration time; beat makes the rest (``verdict_partitions_ensure``).
MONTHS_AHEAD = 3


def _month_partition_sql(first: date) -> str:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (
        f"CREATE TABLE IF NOT EXISTS campaigns_verdict_y{first.year}m{first.month:02d} PARTITION OF campaigns_verdict "
        f"FOR VALUES FROM ('{first.isoformat()}T00:00:00+00:00') TO ('{following.isoformat()}T00:00:00+00:00')"
    )


class CreateModelUnlessPostgres(migrations.CreateModel):
    """Django's table elsewhere; PostgreSQL's partitioned one is written by hand (``forwards``)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
        today = django.utils.timezone.now().date()
        first = date(today.year, today.month, 1)
        for _ in range(MONTHS_AHEAD + 1):
            schema_editor.execute(_month_partition_sql(first), params=None)
            first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return
    if vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0018_calling_windows"),
    ]

    operations = [
        CreateModelUnlessPostgres(
            name="Verdict",
            fields=[
                (
                    "id",
                    models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "kind",
                    models.CharField(choices=[("dial_check", "Dial check"), ("pull", "Pull")], max_length=10),
                ),
                ("number", models.CharField(help_text="The number as E.164.", max_length=20)),
                ("allowed", models.BooleanField()),
                (
                    "reasons",
                    models.JSONField(default=list, help_text='[{"code": …, "block_id": …, "entry_id": …}, …]'),
                ),
                (
                    "api_key",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="campaigns.apikey",
                    ),
                ),
                (
                    "caller",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "lead",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="campaigns.lead",
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-id"],
                "indexes": [
                    models.Index(fields=["lead", "at"], name="verdict_lead_at"),
                    models.Index(fields=["number", "at"], name="verdict_number_at"),
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
