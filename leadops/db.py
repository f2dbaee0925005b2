"""Statements the dialer's hot paths run thousands of times a minute, planned once per connection.

Django binds parameters on the client, so PostgreSQL parses and plans every statement afresh: for the dial
check that planning cost several times what running the statement did, and building the ORM query cost
more again. ``prepared_cursor`` binds on the server instead and prepares each statement the first time a
connection runs it (``prepare_threshold`` is 0 in the settings; Django's own cursors bind on the client and
are never prepared, so nothing else changes). ``Related`` writes such a statement's ``SELECT`` for a model
and the relations it needs, and loads the rows back into instances as ``select_related`` would.

Statements run here are plain SQL that the embedded SQLite demo runs too: write a cast where PostgreSQL
cannot infer a parameter's type (``CAST(%(customer)s AS bigint) IS NULL``), and match a list of ids with
``in_ids(column)`` and the parameter ``id_list(ids)``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field, Model
from django.db.models.expressions import RawSQL


class _PreparedDebugWrapper(CursorDebugWrapper):
    # Django's wrapper asks psycopg for the statement it sent, which a server-binding cursor does not keep:
    # log the statement as written, with its parameters.
    def execute(self, sql, params=None):
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator:
    """Yield a cursor whose statements PostgreSQL prepares once per connection (a plain cursor elsewhere).

    It is Django's cursor wrapper around it: errors are Django's, and the statements are logged and counted
    like any other (``assertNumQueries`` sees them). On PostgreSQL the cursor is kept for the connection and
    lent again by the next call (making one was a third of a short statement's Python): a call made while it
    is lent (a statement run while another's rows are read) gets a cursor of its own, closed after.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.validate_thread_sharing()
    connection.ensure_connection()
    kept = getattr(connection, "_leadops_prepared", None)
    # Kept for this very connection (Django opens a new one after closing it), wrapped as it would be now
    # (Django logs statements while DEBUG is on or a test counts them), and not lent to an enclosing call.
    if (
        kept is None
        or kept[0] is not connection.connection
        or kept[1] is not connection.queries_logged
        or kept[2] != connection.timezone
        or kept[3]
        or kept[4].cursor.closed
    ):
        cursor = _new_prepared_cursor(connection)
        if kept is not None and kept[3] and kept[0] is connection.connection:
            with cursor:  # the kept one is lent: this one is for this call alone
                yield cursor
            return
        kept = [connection.connection, connection.queries_logged, connection.timezone, False, cursor]
        connection._leadops_prepared = kept
    kept[3] = True
    try:
        yield kept[4]
    finally:
        kept[3] = False


def _new_prepared_cursor(connection):
    import psycopg
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    with connection.wrap_database_errors:
        raw = _native_cursor_class()(connection.connection)  # binds on the server, unlike Django's ClientCursor
    # As Django's own cursors do: read timestamps in the connection's time zone.
    timestamptz = psycopg.adapters.types["timestamptz"].oid
    if connection.timezone != raw.adapters.get_loader(timestamptz, Format.TEXT).timezone:
        register_tzloader(connection.timezone, raw)
    return _PreparedDebugWrapper(raw, connection) if connection.queries_logged else connection.make_cursor(raw)


# psycopg turns ``%(name)s`` into ``$1`` by parsing the statement, and caches the result only for statements
# up to 4 KB: the dial check's (about 6 KB) was parsed on every request, a tenth of its Python time. The
# statements run here are a few fixed texts, so each is turned into PostgreSQL's own placeholders once
# (``_native``) and sent through psycopg's ``RawCursor``, which parses nothing.
_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?s|%%")


@functools.lru_cache(maxsize=512)
def _native(sql: str) -> tuple[str, tuple[str, ...] | int]:
    """Return ``sql`` with ``$n`` placeholders, and the parameters' names in ``$n`` order (or, for ``%s``
    placeholders, their number)."""
    names: list[str] = []
    positional = 0

    def placeholder(match: re.Match) -> str:
        nonlocal positional
        if match.group(0) == "%%":
            return "%"
        name = match.group(1)
        if name is None:
            positional += 1
            return f"${positional}"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    native = _PLACEHOLDER.sub(placeholder, sql)
    if names and positional:
        raise ValueError("A statement names its parameters or numbers them, not both.")
    return native, tuple(names) if names else positional


@functools.cache
def _native_cursor_class():
    import psycopg

    class NativeCursor(psycopg.RawCursor):
        def execute(self, query, params=None, **kwargs):
            native, order = _native(query)
            if isinstance(order, tuple):
                params = [params[name] for name in order] if order else None
            elif params is not None and len(params) != order:
                raise ValueError(f"The statement has {order} placeholders and {len(params)} parameters.")
            return super().execute(native, params or None, **kwargs)

    return NativeCursor


_BIGINT_MAX = 2**63 - 1


def can_be_an_id(pk: int) -> bool:
    """Whether ``pk`` (from a URL, say) can name a row: a bigger one is no row, and no statement an index serves."""
    return 0 < pk <= _BIGINT_MAX


def in_ids(column: str, placeholder: str = "%s") -> str:
    """Return SQL saying ``column`` is one of the ids of the parameter ``id_list(ids)``: one statement text
    whatever the number of ids, so that it is prepared once."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(CAST({placeholder} AS bigint[]))"
    return f"{column} IN (SELECT value FROM json_each({placeholder}))"


def id_list(ids: Iterable[int]) -> list[int] | str:
    """Return ``ids`` as the parameter ``in_ids`` reads: an array for PostgreSQL, JSON text for SQLite."""
    ids = [int(pk) for pk in ids]
    return ids if connection.vendor == "postgresql" else json.dumps(ids)


def ids_query(ids: Iterable[int]) -> RawSQL:
    """Return ``ids`` for an ORM ``__in`` lookup (``pk__in=ids_query(ids)``) as one parameter, ``in_ids``'
    form: ids a statement just returned may be many more than the 32,766 placeholders SQLite allows."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(CAST(%s AS bigint[]))", [id_list(ids)])
    return RawSQL("SELECT value FROM json_each(%s)", [id_list(ids)])


@dataclass(frozen=True)
class _Node:
    path: str  # "" for the model itself, else e.g. "contact__account"
    model: type[Model]
    parent: str | None
    field: Field | None  # the foreign key on the parent
    fields: tuple[Field, ...]


class Related:
    """``SELECT`` a model's rows with related rows joined, as ``select_related`` would, for ``prepared_cursor``.

    ``Related(Lead, "l", "contact__account", "campaign")`` gives ``.sql``: ``SELECT <every column> FROM
    campaigns_lead l JOIN campaigns_contact "l__contact" ON … JOIN campaigns_account "l__contact__account"
    …``, to which the caller adds its ``WHERE``, naming the tables by those aliases; ``.load(row)`` rebuilds
    the lead with its related instances cached, so reading ``lead.contact.account`` costs no query. A
    nullable relation is a LEFT JOIN and stays unset when the row has none. Field converters run as the ORM
    runs them (e.g. a JSON field's text becomes a dict).

    It earns its place over ``select_related``: loading a lead with its contact, account, campaign and
    customer took 0.17 to 0.26 ms this way and 0.71 to 1.75 ms through ``Lead.objects.select_related(…)``;
    a campaign with its customer and the caller (one statement here, two for the ORM) 0.13 to 0.16 ms
    against 0.80 to 1.76 ms; three blocks with the seven relations their sentences read 0.35 to 0.41 ms
    against 1.31 to 2.93 ms; ten pulled leads with contact and account 0.52 ms against 0.94 to 1.16 ms
    (medians of 1,500 interleaved calls each, two runs on the shared machine, ``bench/dial_check.py``'s
    database; most of the ORM's time is building and compiling the query). ``tests/test_db.py`` holds
    it to what the ORM loads.
    """

    def __init__(
        self,
        model: type[Model],
        alias: str,
        *paths: str,
        table: str | None = None,
        defer: dict[str, Iterable[str]] | None = None,
    ) -> None:
        # ``table`` reads the model's rows from elsewhere, e.g. a ``WITH … RETURNING`` of the same columns.
        # ``defer`` leaves fields out, by path ("" the model itself), as ``QuerySet.defer`` does: the instances
        # load them when read, one query each; for a hot statement's fields nobody reads.
        deferred = {path: frozenset(names) for path, names in (defer or {}).items()}

        def loaded_fields(path: str, of: type[Model]) -> tuple[Field, ...]:
            fields = tuple(f for f in of._meta.concrete_fields if f.name not in deferred.get(path, ()))
            unknown = deferred.get(path, frozenset()) - {f.name for f in of._meta.concrete_fields}
            if unknown or any(f.primary_key for f in of._meta.concrete_fields if f not in fields):
                raise ValueError(f"{of.__name__} cannot defer {sorted(unknown) or 'its primary key'}.")
            return fields

        self._nodes = [_Node("", model, None, None, loaded_fields("", model))]
        nullable = {"": False}
        joins = []
        for path in paths:
            parts = path.split("__")
            for depth in range(1, len(parts) + 1):
                sub, parent = "__".join(parts[:depth]), "__".join(parts[: depth - 1])
                if sub in nullable:
                    continue
                parent_model = next(node.model for node in self._nodes if node.path == parent)
                field = parent_model._meta.get_field(parts[depth - 1])
                if not (field.many_to_one or field.one_to_one) or not field.concrete:
                    raise ValueError(f"{parent_model.__name__}.{field.name} is not a foreign key.")
                related = field.related_model
                self._nodes.append(_Node(sub, related, parent, field, loaded_fields(sub, related)))
                nullable[sub] = nullable[parent] or field.null
                joins.append(
                    f"{'LEFT JOIN' if nullable[sub] else 'JOIN'} {related._meta.db_table} {_alias(alias, sub)} "
                    f'ON {_alias(alias, sub)}."{field.target_field.column}" = {_alias(alias, parent)}."{field.column}"'
                )
        columns = ", ".join(
            f'{_alias(alias, node.path)}."{field.column}"' for node in self._nodes for field in node.fields
        )
        # ``columns`` and ``tables`` apart, for a statement that selects more than this model's rows.
        self.columns = columns
        self.tables = " ".join([f"{table or model._meta.db_table} {alias}", *joins])
        self.width = sum(len(node.fields) for node in self._nodes)
        self.sql = f"SELECT {columns} FROM {self.tables}"
        self._converters: dict[str, list] = {}

    def load(self, row: Sequence, using: str = DEFAULT_DB_ALIAS) -> Model:
        """Return the instance ``row`` (a row of ``.sql``) describes, its related instances attached."""
        if using not in self._converters:
            self._converters[using] = self._converters_for(using)
        converters = self._converters[using]
        connection = connections[using]
        values = list(row)
        for index, col, functions in converters:
            for function in functions:
                values[index] = function(values[index], col, connection)
        loaded: dict[str, Model | None] = {}
        start = 0
        for node in self._nodes:
            end = start + len(node.fields)
            parent = loaded[node.parent] if node.parent is not None else None
            if node.parent is not None and (parent is None or getattr(parent, node.field.attname) is None):
                loaded[node.path] = None
            else:
                instance = node.model.from_db(using, [field.attname for field in node.fields], values[start:end])
                loaded[node.path] = instance
                if parent is not None:
                    setattr(parent, node.field.name, instance)
            start = end
        return loaded[""]

    def _converters_for(self, using: str) -> list[tuple[int, object, list]]:
        # The converters the ORM's compiler applies to each column: the backend's (e.g. SQLite's text into
        # aware datetimes), then the field's own (e.g. a JSON field's text into a dict).
        connection = connections[using]
        converters = []
        index = 0
        for node in self._nodes:
            for field in node.fields:
                col = field.get_col(node.model._meta.db_table)
                functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if functions:
                    converters.append((index, col, functions))
                index += 1
        return converters


def _alias(alias: str, path: str) -> str:
    return f'"{alias}__{path}"' if path else alias


# --- The planner's statistics of tables that grow faster than autovacuum looks -----------------------------

STALE_AFTER = 100


def statistics_refresh(written: dict[str, int]) -> list[str]:
    """Refresh the planner's statistics (``ANALYZE``) of each table of ``written`` whose rows changed by more
    than it had when they were taken (and ``STALE_AFTER``): the changes PostgreSQL counted since (those
    committed), plus the ``written[table]`` rows the caller has just written and not committed yet. Return
    the tables analysed (none on SQLite).

    A table that started (nearly) empty is planned as empty, and a statement over it that is cheap for a few
    rows (a nested loop that reads the whole inner table per outer row) grows with the square of what was
    written: a lead import's lookups by email, a CRM sync's matching of its records. ``ANALYZE`` inside the
    writing transaction counts its own rows, so the statements after it are planned with them. Statistics
    within a factor of two are all the planner needs: a table growing from nothing is analysed about
    log2(rows) times.
    """
    if connection.vendor != "postgresql" or not written:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.relname, s.n_mod_since_analyze, c.reltuples FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = current_schema() AND s.relname = ANY(%s)",
            [list(written)],
        )
        stale = sorted(
            name for name, changed, rows in cursor.fetchall() if changed + written[name] > max(STALE_AFTER, rows)
        )
        for name in stale:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
    return stale
