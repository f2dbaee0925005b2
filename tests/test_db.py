"""leadops.db: prepared statements for the hot paths, and rows loaded back as select_related would."""

from datetime import UTC

import pytest
from django.db import ProgrammingError, connection, transaction

from campaigns.models import Block, Lead
from campaigns.services import BlockTarget, block_create
from leadops.db import Related, id_list, in_ids, prepared_cursor
from tests.campaigns.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

LEAD = Related(Lead, "l", "contact__account", "campaign", "customer")
BLOCK = Related(Block, "b", "actor", "campaign", "phone", "lead__contact")


def _load(related: Related, sql: str, params) -> list:
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return [related.load(row) for row in cursor.fetchall()]


def test_a_lead_loads_with_every_field_and_its_relations_as_the_orm_loads_it(django_assert_num_queries):
    # given
    lead = LeadFactory(contact__account__attributes={"industry": "Retail", "size": 40})
    expected = Lead.objects.select_related("contact__account", "campaign", "customer").get(pk=lead.pk)
    # when
    with django_assert_num_queries(1):
        (loaded,) = _load(LEAD, f"{LEAD.sql} WHERE l.id = %s", [lead.pk])
        account, campaign, customer = loaded.contact.account, loaded.campaign, loaded.customer
    # then
    for instance, orm in ((loaded, expected), (loaded.contact, expected.contact), (account, expected.contact.account)):
        assert [getattr(instance, f.attname) for f in type(orm)._meta.concrete_fields] == [
            getattr(orm, f.attname) for f in type(orm)._meta.concrete_fields
        ]
    assert account.attributes == {"industry": "Retail", "size": 40}  # the JSON field's converter ran
    assert (campaign, customer) == (expected.campaign, expected.customer)
    assert loaded.created_at.tzinfo is not None and loaded.created_at.utcoffset() == UTC.utcoffset(None)
    assert loaded._state.adding is False and loaded._state.db == "default"


def test_a_missing_nullable_relation_stays_unset_and_costs_no_query(django_assert_num_queries):
    # given: a contact block made by a job (no actor), for the customer (no campaign), on no number or lead
    lead = LeadFactory()
    block, _ = block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        customer=lead.customer,
        actor="tests",
    )
    # when
    with django_assert_num_queries(1):
        (loaded,) = _load(BLOCK, f"{BLOCK.sql} WHERE {in_ids('b.id')}", [id_list([block.pk])])
        related = (loaded.actor, loaded.campaign, loaded.phone, loaded.lead)
    # then
    assert loaded.pk == block.pk and loaded.contact_id == lead.contact_id
    assert related == (None, None, None, None)


def test_a_relation_of_a_relation_loads_when_both_are_there():
    # given
    lead = LeadFactory()
    actor = UserFactory()
    block, _ = block_create(
        target=BlockTarget(lead=lead),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.NOT_INTERESTED,
        reach=Block.Reach.CAMPAIGN,
        customer=lead.customer,
        campaign=lead.campaign,
        actor=actor,
    )
    # when
    (loaded,) = _load(BLOCK, f"{BLOCK.sql} WHERE {in_ids('b.id')}", [id_list([block.pk])])
    # then
    assert loaded.actor == actor and loaded.campaign == lead.campaign
    assert loaded.lead == lead and loaded.lead.contact == lead.contact


def test_deferred_fields_stay_in_the_table_and_load_when_read_as_the_orm_defers_them(django_assert_num_queries):
    # given
    lead = LeadFactory(contact__account__attributes={"industry": "Retail"}, contact__title="CFO")
    deferred = {"contact": ("attributes", "created_at"), "contact__account": ("attributes",)}
    related = Related(Lead, "l", "contact__account", defer=deferred)
    # when: the statement selects none of them
    assert related.sql.count("attributes") == 0 and '"l__contact"."created_at"' not in related.sql
    with django_assert_num_queries(1):
        (loaded,) = _load(related, f"{related.sql} WHERE l.id = %s", [lead.pk])
        read = (loaded.contact.title, loaded.contact.account.name, loaded.created_at)
    # then: what was loaded is the ORM's; what was deferred is deferred as ``QuerySet.defer`` leaves it
    assert read == (lead.contact.title, lead.contact.account.name, lead.created_at)
    assert loaded.contact.get_deferred_fields() == {"attributes", "created_at"}
    assert loaded.contact.account.get_deferred_fields() == {"attributes"}
    with django_assert_num_queries(1):
        assert loaded.contact.account.attributes == {"industry": "Retail"}


def test_a_field_that_is_not_there_or_the_primary_key_cannot_be_deferred():
    with pytest.raises(ValueError, match="cannot defer"):
        Related(Lead, "l", "contact", defer={"contact": ("no_such_field",)})
    with pytest.raises(ValueError, match="cannot defer"):
        Related(Lead, "l", defer={"": ("id",)})


def test_only_foreign_keys_can_be_joined():
    with pytest.raises(ValueError, match="not a foreign key"):
        Related(Lead, "l", "contact__emails")


@pytest.mark.postgres("reads pg_prepared_statements")
def test_a_statement_is_prepared_once_per_connection_and_counted_like_any_other(django_assert_num_queries):
    # given
    lead = LeadFactory()
    sql = f"{LEAD.sql} WHERE l.id = %s"
    # when
    with django_assert_num_queries(3):
        for _ in range(3):
            _load(LEAD, sql, [lead.pk])
    # then: PostgreSQL holds it as one prepared statement of this connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"{LEAD.sql[:60]}%"])
        assert cursor.fetchone()[0] == 1


@pytest.mark.postgres("a server-side prepared statement that fails, and its ::int cast, are PostgreSQL's")
def test_a_failing_statement_raises_djangos_error_and_the_connection_goes_on():
    # when
    with pytest.raises(ProgrammingError), transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM campaigns_lead WHERE id = %s", [1])
    # then
    with prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int + 1", [1])
        assert cursor.fetchone() == (2,)


def test_statements_are_sent_with_postgresqls_own_placeholders_named_or_numbered():
    from leadops.db import _native

    # named: each name one placeholder, however often it is used, in the order first used
    assert _native("SELECT %(b)s, %(a)s, %(b)s") == ("SELECT $1, $2, $1", ("b", "a"))
    # numbered, and a percent sign written twice is one
    assert _native("SELECT %s, %s WHERE x LIKE 'a%%'") == ("SELECT $1, $2 WHERE x LIKE 'a%'", 2)
    assert _native("SELECT 1") == ("SELECT 1", 0)
    with pytest.raises(ValueError, match="not both"):
        _native("SELECT %s, %(a)s")


@pytest.mark.postgres(
    "the statements of prepared_cursor are PostgreSQL's only on PostgreSQL (SQLite's cursor is Django's)"
)
def test_a_prepared_statement_longer_than_psycopgs_cache_runs_with_named_and_numbered_parameters(db):
    from leadops.db import prepared_cursor

    padding = " " * 5000  # psycopg caches its own parsing only up to 4 KB
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT CAST(%(a)s AS int) + CAST(%(b)s AS int), CAST(%(a)s AS int){padding}", {"a": 2, "b": 3})
        assert cursor.fetchone() == (5, 2)
        cursor.execute(f"SELECT CAST(%s AS text) || '%%'{padding}", ["x"])
        assert cursor.fetchone() == ("x%",)
        with pytest.raises(ValueError, match="2 placeholders and 1 parameters"):
            cursor.execute("SELECT %s, %s", ["x"])


@pytest.mark.postgres("prepared_cursor keeps its cursor only on PostgreSQL (SQLite's is Django's own, each time)")
def test_the_prepared_cursor_is_kept_for_its_connection_and_a_nested_call_gets_its_own(db, django_assert_num_queries):
    # given: a first call keeps its cursor
    with prepared_cursor() as first:
        first.execute("SELECT 1")
    # when: the next call, and one made while that one's rows are being read
    with prepared_cursor() as again:
        again.execute("SELECT g FROM generate_series(1, 3) g")
        read = [again.fetchone()]
        with prepared_cursor() as nested:
            nested.execute("SELECT 'inner'")
            assert nested.fetchall() == [("inner",)]
        read += again.fetchall()
    # then: the same cursor is lent again, the nested call had its own, and the outer rows were not disturbed
    assert again is first and nested is not first
    assert read == [(1,), (2,), (3,)]
    assert nested.cursor.closed and not first.cursor.closed
    # and: a test counting statements gets a cursor that logs them, though one was kept before
    with django_assert_num_queries(1), prepared_cursor() as counted:
        counted.execute("SELECT 2")
    assert counted is not first


@pytest.mark.postgres("prepared_cursor keeps its cursor only on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_gets_a_new_prepared_cursor():
    # given
    with prepared_cursor() as kept:
        kept.execute("SELECT 1")
    # when: Django closes the connection (CONN_MAX_AGE, an error) and opens another
    connection.close()
    with prepared_cursor() as reconnected:
        reconnected.execute("SELECT 3")
        # then
        assert reconnected.fetchone() == (3,)
    assert reconnected is not kept
