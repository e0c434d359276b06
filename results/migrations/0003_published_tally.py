"""Published tallies (one hash chain per contest) and, on PostgreSQL, a trigger that makes their table
append-only at the database level, as the audit table is (docs/adr/0003-live-results.md)."""

import django.db.models.deletion
from django.db import migrations, models

GUARD_SQL = """
CREATE OR REPLACE FUNCTION results_publishedtally_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'results_publishedtally is append-only: %% refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER results_publishedtally_no_update_delete
    BEFORE UPDATE OR DELETE ON results_publishedtally
    FOR EACH ROW EXECUTE FUNCTION results_publishedtally_append_only();
"""

UNGUARD_SQL = """
DROP TRIGGER IF EXISTS results_publishedtally_no_update_delete ON results_publishedtally;
DROP FUNCTION IF EXISTS results_publishedtally_append_only();
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_SQL)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("results", "0002_form45vote_covering_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="contest",
            name="published_hash",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="published hash"),
        ),
        migrations.AddField(
            model_name="contest",
            name="published_version",
            field=models.PositiveIntegerField(default=0, verbose_name="published version"),
        ),
        migrations.CreateModel(
            name="PublishedTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.PositiveIntegerField(verbose_name="version")),
                ("figures", models.JSONField(verbose_name="figures")),
                ("content_hash", models.CharField(max_length=64, verbose_name="content hash")),
                ("prev_hash", models.CharField(max_length=64, verbose_name="previous hash")),
                ("hash", models.CharField(max_length=64, unique=True, verbose_name="hash")),
                ("published_at", models.DateTimeField(verbose_name="published at")),
                ("reason", models.CharField(max_length=40, verbose_name="reason")),
                (
                    "contest",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="published_tallies",
                        to="results.contest",
                    ),
                ),
            ],
            options={
                "verbose_name": "published tally",
                "verbose_name_plural": "published tallies",
                "ordering": ["contest", "-version"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("contest", "version"),
                        name="published_tally_unique",
                        violation_error_message="This version of the contest's tally is already published.",
                    )
                ],
            },
        ),
        migrations.RunPython(guard, unguard),
    ]
