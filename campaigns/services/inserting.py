"""``INSERT … SELECT``: one row per selected row in one statement, the other columns as the ORM writes them.

The set-based writes (a block per selected contact, per selected lead; a CRM rule per selected customer) are
one statement for a selection of any size this way, where ``bulk_create`` would split into batches on SQLite
(999 parameters a statement) and send every value once per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import transaction
from django.db.models import Model


def rows_insert_select(
    template: Model,
    *,
    columns: Mapping[str, str],
    select_from: str,
    params: Sequence[object] = (),
    skip_conflicts: bool = False,
) -> list[int]:
    """Insert a copy of ``template`` for each row that ``select_from`` selects; return the new rows' ids.

    ``columns`` maps a database column to the SQL expression over those rows that fills it (``{"lead_id":
    "l.id"}``); every other column is ``template``'s value, prepared as the ORM would save it, so a field added
    to the model is written here too. ``select_from`` is ``FROM … WHERE …`` (a ``WHERE`` it must have: SQLite
    would read ``ON CONFLICT`` as part of a join otherwise) and ``params`` its parameters. ``skip_conflicts``
    skips a row a unique constraint refuses (``ON CONFLICT DO NOTHING``), also against a concurrent
    transaction. The new rows are the ones the statement returns, never "the ones stamped now": the embedded
    SQLite keeps a timestamp in the text form of whoever wrote it.
    """
    connection = transaction.get_connection()
    names, values, value_params = [], [], []
    for field in template._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.column in columns:
            values.append(columns[field.column])
        else:
            values.append("%s")
            value_params.append(field.get_db_prep_save(field.pre_save(template, add=True), connection))
    unknown = set(columns) - {field.column for field in template._meta.concrete_fields}
    if unknown:
        raise ValueError(f"{template._meta.label} has no column {', '.join(sorted(unknown))}")
    conflicts = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(template._meta.db_table)} ({', '.join(names)}) "
            f"SELECT {', '.join(values)} {select_from}{conflicts} "
            f"RETURNING {connection.ops.quote_name(template._meta.pk.column)}",
            [*value_params, *params],
        )
        return [row[0] for row in cursor.fetchall()]
