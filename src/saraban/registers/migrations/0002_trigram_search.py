"""PostgreSQL: trigram indexes so a register's text search (subject, number, sender, recipient) stays fast.

Thai has no spaces between words, so the search is by substring; ``pg_trgm`` indexes substrings.
Django's ``icontains`` compares ``UPPER(column)``, so the indexes are on that expression.
SQLite scans; a year's book is small enough for that.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

COLUMNS = ("subject", "letter_number", "sender", "recipient")


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS registerentry_{column}_trgm ON registers_registerentry "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS registerentry_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("registers", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
