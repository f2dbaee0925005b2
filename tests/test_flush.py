"""The flush between transactional tests (``tests/conftest.py``) empties every table and leaves the guards on,
on either backend, though on both it deletes rows that the guards would refuse to delete."""

import pytest
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.utils import DatabaseError

import tests.conftest
from campaigns.models import Block
from campaigns.services import BlockTarget, block_create
from suppressions.models import Upload
from tests.campaigns.api_factories import api_key_for
from tests.campaigns.factories import CustomerFactory, LeadFactory
from tests.suppressions.factories import EntryFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _flush() -> list[str]:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    statements = connection.ops.sql_flush(no_style(), tables)
    connection.ops.execute_sql_flush(statements)
    return statements


def _rows_left() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return {table: count for table, count in counts.items() if count}


def _block() -> Block:
    lead = LeadFactory()
    block, _ = block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    return block


@pytest.mark.parametrize("largest", ["small tables", "a table past the size the flush deletes"])
def test_the_flush_empties_every_table_and_the_guards_refuse_deletes_again_after_it(largest, monkeypatch):
    # given: a block, an upload with an entry and an API key: rows the guards keep from being deleted
    if largest != "small tables":
        monkeypatch.setattr(tests.conftest, "_FLUSH_DELETES_UP_TO_BYTES", 0)
    _block()
    EntryFactory(customer=CustomerFactory(slug="flushed"))
    api_key_for()
    assert {"campaigns_block", "suppressions_upload", "suppressions_entry", "campaigns_apikey"} <= set(_rows_left())

    # when
    statements = _flush()

    # then: nothing is left, and a new block and a new upload with entries are guarded as before
    assert _rows_left() == {}
    if connection.vendor == "postgresql":  # by DELETE, or by Django's TRUNCATE once a table is large
        assert statements[-1].startswith("ALTER TABLE" if largest == "small tables" else "TRUNCATE")
    block = _block()
    entry = EntryFactory(customer=CustomerFactory(slug="guarded"))
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_block WHERE id = %s", [block.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM suppressions_upload WHERE id = %s", [entry.upload_id])
    assert Block.objects.filter(pk=block.pk).exists() and Upload.objects.filter(pk=entry.upload_id).exists()
