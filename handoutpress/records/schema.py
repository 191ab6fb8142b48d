"""The record's schema, created or migrated when the record is opened.

`MIGRATIONS` is the schema's history, oldest first: each step takes the
database from the version before it to its own, inside the one transaction
that also notes the new version in ``handoutpress_schema``. An empty database
runs them all; one already at the latest runs none; one from a newer Handout
Press is refused rather than guessed at. Two desks starting at once take turns
(PostgreSQL: an advisory lock; SQLite: ``BEGIN IMMEDIATE``).

Version 1 makes the ``handed_out`` table and the triggers that refuse
UPDATE, DELETE (and, in PostgreSQL, TRUNCATE) on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, inspect, select, text

from handoutpress.records.events import handed_out, records_error, schema_version, utc_today

# Any fixed number: the key of PostgreSQL's advisory lock taken while migrating.
MIGRATION_LOCK_KEY = 7_140_014

APPEND_ONLY = "handed_out is append-only: events are never changed or removed"


@dataclass(frozen=True)
class Migration:
    """One step of the schema's history."""

    version: int
    summary: str
    apply: Callable[[Connection], None]


def _sqlite_append_only(conn: Connection) -> None:
    for action in ("UPDATE", "DELETE"):
        conn.execute(
            text(
                f"CREATE TRIGGER handed_out_no_{action.lower()} BEFORE {action} ON handed_out "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
        )


def _postgresql_append_only(conn: Connection) -> None:
    conn.execute(
        text(
            "CREATE FUNCTION handed_out_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
    )
    conn.execute(
        text(
            "CREATE TRIGGER handed_out_no_change BEFORE UPDATE OR DELETE ON handed_out "
            "FOR EACH ROW EXECUTE FUNCTION handed_out_append_only()"
        )
    )
    conn.execute(
        text(
            "CREATE TRIGGER handed_out_no_truncate BEFORE TRUNCATE ON handed_out "
            "FOR EACH STATEMENT EXECUTE FUNCTION handed_out_append_only()"
        )
    )


def _version_1(conn: Connection) -> None:
    # While `events.handed_out` is still the version-1 shape, it makes it; a later version that
    # changes the table must copy the version-1 definition here first, so old databases replay.
    handed_out.create(conn)
    if conn.dialect.name == "postgresql":
        _postgresql_append_only(conn)
    else:
        _sqlite_append_only(conn)


MIGRATIONS: tuple[Migration, ...] = (Migration(1, "the handed_out table, append-only", _version_1),)


def current_version(conn: Connection) -> int:
    """The schema version the database is at (0: nothing made yet)."""
    if not inspect(conn).has_table(schema_version.name):
        return 0
    return conn.execute(select(func.max(schema_version.c.version))).scalar() or 0


def migrate(conn: Connection, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Bring the database up to the last of ``migrations``, in the caller's transaction; the versions applied."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    latest = migrations[-1].version if migrations else 0
    version = current_version(conn)
    if version > latest:
        raise records_error(f"the database's schema is version {version}, newer than this Handout Press knows ({latest})")
    if not inspect(conn).has_table(schema_version.name):
        schema_version.create(conn)
    applied = []
    for step in migrations:
        if step.version > version:
            step.apply(conn)
            conn.execute(insert(schema_version).values(version=step.version, applied_on=utc_today()))
            applied.append(step.version)
    return applied
