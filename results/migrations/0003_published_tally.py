"""Published tallies (one hash chain per contest) and, on PostgreSQL, a trigger that makes their table
append-only at the database level, as the audit table is (docs/adr/0003-live-results.md)."""

import django.db.models.deletion
from django.db import migrations, models

from core.db import append_only_guard


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
        append_only_guard("results_publishedtally"),
    ]
