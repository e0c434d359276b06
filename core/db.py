"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def read_snapshot() -> Iterator[None]:
    """Every query inside sees the same moment of the database: one read-only REPEATABLE READ transaction on
    PostgreSQL (a page or a file built while forms are being accepted is never half of a change). Inside an
    outer transaction it joins that one, which already is a single moment for its own reads."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def advisory_xact_lock(key: int) -> None:
    """Wait for, then hold to the end of the transaction, PostgreSQL's advisory lock ``key`` (a 63-bit number).
    SQLite needs none: it has a single writer."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def append_only_guard(table: str):
    """A migration operation: on PostgreSQL, a trigger that refuses UPDATE and DELETE on ``table`` (its rows are
    a trail: the audit chain, message events, published tallies, elector changes). Nothing on SQLite."""
    from django.db import migrations

    guard_sql = f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only: %% refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_no_update_delete
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
"""
    unguard_sql = f"""
DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table};
DROP FUNCTION IF EXISTS {table}_append_only();
"""

    def guard(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(guard_sql)

    def unguard(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(unguard_sql)

    return migrations.RunPython(guard, unguard)
