"""Foreign keys checked once per statement instead of once per row: what migrations install in their place.

PostgreSQL checks a foreign key with one look-up per row written, queued until the commit: a lead import's
batch of 2,500 rows wrote about 20,000 such checks, a sixth of the import's time (``docs/lead-import.md``).
For the tables an import fills, the model's foreign key keeps its index and the ORM's behaviour
(``db_constraint=False``: Django's ``on_delete`` is Python's anyway) and the database keeps the promise with
triggers written here:

- after each ``INSERT`` statement on the child, one set-based check of its new rows (a transition table),
  each parent locked ``FOR KEY SHARE`` as PostgreSQL's own check locks it, so that a parent deleted at the
  same time either waits for the rows that name it (and then refuses) or is found gone (and the insert
  refuses);
- before an ``UPDATE`` that changes a reference, the same check for that row;
- on the parent, before a delete (or a change of its id), a refusal while a child row names it.

The checks run when each statement ends, not at the commit: a parent must be written before its children
(every writer does so). A refusal is PostgreSQL's ``foreign_key_violation`` (Django's ``IntegrityError``),
saying which reference failed. On SQLite (the embedded default) the same promises are row triggers. What
is not guarded, unlike a constraint: ``TRUNCATE`` of a parent alone (leadops truncates none of these; Django's
test flush truncates every table at once), and a delete under ``REPEATABLE READ`` racing an insert (PostgreSQL's
own check takes a second snapshot for it; leadops runs ``READ COMMITTED``).

The text these functions return is what migrations ran: change it only with a new migration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    """``child.column`` names a row of ``parent`` by its id; ``parent_words`` name that row in a refusal."""

    child: str
    column: str
    parent: str
    parent_words: str
    child_words: str

    @property
    def missing(self) -> str:
        return f"{self.child}.{self.column} references no {self.parent_words}"

    @property
    def protected(self) -> str:
        return (
            f"the {self.parent_words} is referenced by {self.child_words} ({self.child}.{self.column}): "
            "it cannot be deleted or renumbered"
        )


def checked_per_statement(vendor: str, child: str, references: Sequence[Reference]) -> tuple[str, str]:
    """Return the SQL that checks ``references`` (all of ``child``) on its inserts and updates, and its undoing."""
    assert all(r.child == child for r in references)
    if vendor == "postgresql":
        return _postgresql_child(child, references)
    return _sqlite_child(child, references)


def protected_parent(vendor: str, reference: Reference) -> tuple[str, str]:
    """Return the SQL that refuses to delete (or renumber) a parent row a child row names, and its undoing."""
    if vendor == "postgresql":
        return _postgresql_parent(reference)
    return _sqlite_parent(reference)


def _postgresql_child(child: str, references: Sequence[Reference]) -> tuple[str, str]:
    statement_checks = "".join(
        f"""
    IF (SELECT count(DISTINCT n.{r.column}) FROM new_rows n WHERE n.{r.column} IS NOT NULL)
       <> (SELECT count(*) FROM (SELECT 1 FROM {r.parent} p WHERE p.id IN (SELECT n.{r.column} FROM new_rows n)
                                 FOR KEY SHARE OF p) locked) THEN
        RAISE foreign_key_violation USING MESSAGE = '{r.missing}';
    END IF;"""
        for r in references
    )
    row_checks = "".join(
        f"""
    IF NEW.{r.column} IS DISTINCT FROM OLD.{r.column} AND NEW.{r.column} IS NOT NULL THEN
        PERFORM 1 FROM {r.parent} p WHERE p.id = NEW.{r.column} FOR KEY SHARE OF p;
        IF NOT FOUND THEN
            RAISE foreign_key_violation USING MESSAGE = '{r.missing}';
        END IF;
    END IF;"""
        for r in references
    )
    changed = " OR ".join(f"OLD.{r.column} IS DISTINCT FROM NEW.{r.column}" for r in references)
    create = f"""
CREATE OR REPLACE FUNCTION {child}_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN{statement_checks}
    RETURN NULL;
END $$;
CREATE TRIGGER {child}_references_on_insert AFTER INSERT ON {child}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {child}_check_references();
CREATE OR REPLACE FUNCTION {child}_check_references_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN{row_checks}
    RETURN NEW;
END $$;
CREATE TRIGGER {child}_references_on_update BEFORE UPDATE ON {child}
    FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {child}_check_references_changed();
"""
    drop = f"""
DROP TRIGGER IF EXISTS {child}_references_on_update ON {child};
DROP FUNCTION IF EXISTS {child}_check_references_changed();
DROP TRIGGER IF EXISTS {child}_references_on_insert ON {child};
DROP FUNCTION IF EXISTS {child}_check_references();
"""
    return create, drop


def _postgresql_parent(r: Reference) -> tuple[str, str]:
    name = f"{r.parent}_protect_{r.child}"
    create = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM {r.child} c WHERE c.{r.column} = OLD.id) THEN
        RAISE foreign_key_violation USING MESSAGE = '{r.protected}';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER {name} BEFORE DELETE OR UPDATE OF id ON {r.parent}
    FOR EACH ROW EXECUTE FUNCTION {name}();
"""
    drop = f"""
DROP TRIGGER IF EXISTS {name} ON {r.parent};
DROP FUNCTION IF EXISTS {name}();
"""
    return create, drop


def _sqlite_child(child: str, references: Sequence[Reference]) -> tuple[str, str]:
    creates, drops = [], []
    for r in references:
        for event, when in (("INSERT", "INSERT"), ("UPDATE", f"UPDATE OF {r.column}")):
            name = f"{child}_{r.column}_references_on_{event.lower()}"
            creates.append(
                f"CREATE TRIGGER {name} BEFORE {when} ON {child} FOR EACH ROW "
                f"WHEN NEW.{r.column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {r.parent} WHERE id = NEW.{r.column}) "
                f"BEGIN SELECT RAISE(ABORT, '{r.missing}'); END;"
            )
            drops.append(f"DROP TRIGGER IF EXISTS {name};")
    return "\n".join(creates), "\n".join(drops)


def _sqlite_parent(r: Reference) -> tuple[str, str]:
    named = f"EXISTS (SELECT 1 FROM {r.child} WHERE {r.column} = OLD.id)"
    creates, drops = [], []
    for event, when, condition in (
        ("delete", "DELETE", named),
        ("update", "UPDATE OF id", f"NEW.id IS NOT OLD.id AND {named}"),
    ):
        name = f"{r.parent}_protect_{r.child}_on_{event}"
        creates.append(
            f"CREATE TRIGGER {name} BEFORE {when} ON {r.parent} FOR EACH ROW WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, '{r.protected}'); END;"
        )
        drops.append(f"DROP TRIGGER IF EXISTS {name};")
    return "\n".join(creates), "\n".join(drops)


def install(schema_editor, children: dict[str, Sequence[Reference]]) -> None:
    """Install the checks of ``children`` (child table → its references) and their parents' protections."""
    vendor = schema_editor.connection.vendor
    for child, references in children.items():
        create, _ = checked_per_statement(vendor, child, references)
        _run(schema_editor, create)
        for reference in references:
            _run(schema_editor, protected_parent(vendor, reference)[0])


def uninstall(schema_editor, children: dict[str, Sequence[Reference]]) -> None:
    vendor = schema_editor.connection.vendor
    for child, references in children.items():
        for reference in references:
            _run(schema_editor, protected_parent(vendor, reference)[1])
        _run(schema_editor, checked_per_statement(vendor, child, references)[1])


def _run(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(sql)
        return
    # SQLite runs one statement at a time; each trigger is one statement ending in "END;".
    for statement in sql.split("\n"):
        if statement.strip():
            schema_editor.execute(statement)
