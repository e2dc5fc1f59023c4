"""PostgreSQL: a function that waits for the book's lock, then reads an entry's number afresh.

In READ COMMITTED each statement of a volatile PL/pgSQL function takes a new snapshot, so the read
after the lock sees what the previous lock holder committed. Called outside a transaction, the lock
is released when the statement ends: one round trip for a client whose entry was numbered by the
batch of another client.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CREATE = """
CREATE OR REPLACE FUNCTION saraban_await_number(p_book bigint, p_entry bigint)
RETURNS TABLE (last_number integer, number integer, letter_number varchar) AS $$
BEGIN
    PERFORM 1 FROM registers_registerbook WHERE id = p_book FOR UPDATE;
    RETURN QUERY
        SELECT b.last_number::integer, e.number::integer, e.letter_number::varchar
        FROM registers_registerbook b, registers_registerentry e
        WHERE b.id = p_book AND e.id = p_entry;
END
$$ LANGUAGE plpgsql VOLATILE
"""
DROP = "DROP FUNCTION IF EXISTS saraban_await_number(bigint, bigint)"


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("registers", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
