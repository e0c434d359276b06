"""Staff search over subject and complainant name: on PostgreSQL a GIN full-text index on the same expression
complaints.selectors uses (config "simple": Urdu and English words alike, no stemming). SQLite has none."""

from django.db import migrations

INDEX = "complaint_search_fts"
EXPRESSION = "to_tsvector('simple'::regconfig, coalesce(subject, '') || ' ' || coalesce(name, ''))"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON complaints_complaint USING gin ({EXPRESSION})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("complaints", "0002_desks_sla")]

    operations = [migrations.RunPython(create, drop)]
