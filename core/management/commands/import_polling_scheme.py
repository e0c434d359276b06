"""manage.py import_polling_scheme FILE.csv [--dry-run]

Checks the whole file first; if any row is bad, prints every bad row (line,
column, rule) and imports nothing. Otherwise upserts the stations in one
transaction and records the import in the audit trail. The format:
docs/polling-scheme-csv.md.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import context
from core.importers.progress import TerminalProgress
from core.importers.services import ImportReport, PollingSchemeInvalid, polling_scheme_import


class Command(BaseCommand):
    help = (
        "Import a polling scheme CSV (docs/polling-scheme-csv.md). The whole file is checked first: "
        "one bad row and nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8, header line required)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report what would change; write nothing"
        )

    def handle(self, *args, file: str, dry_run: bool, verbosity: int = 1, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file.")
        bar = None
        if verbosity >= 1 and self.stderr.isatty():
            bar = TerminalProgress(lambda text: self.stderr.write(text, style_func=str, ending=""), label="Stations")
            self.stderr.write(f"Checking {path.name}…", style_func=str)
        started = time.monotonic()
        try:
            with context.acting(label="command:import_polling_scheme"):
                report = polling_scheme_import(actor=None, path_or_stream=path, progress=bar, dry_run=dry_run)
        except PollingSchemeInvalid as exc:
            for line in exc.lines():
                self.stderr.write(line)
            raise CommandError(exc.message) from None
        finally:
            if bar is not None:
                bar.close()
        if verbosity >= 1:
            self.print_report(report, time.monotonic() - started)

    def print_report(self, report: ImportReport, seconds: float) -> None:
        if report.dry_run:
            self.stdout.write(f"{report.file_name}: {report.rows:,} rows, no errors. Nothing was written (--dry-run).")
            self.stdout.write("An import would make these changes:")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Imported {report.file_name}: {report.rows:,} rows in {seconds:.1f} s."),
            )
        self.stdout.write(
            f"  stations: {report.stations_created:,} created, {report.stations_updated:,} updated, "
            f"{report.stations_unchanged:,} unchanged"
        )
        self.stdout.write(
            f"  constituencies: {report.constituencies_created:,} created, {report.constituencies_updated:,} updated "
            f"(of {report.constituencies:,} in the file)"
        )
        self.stdout.write(f"  districts: {report.districts_created:,} created")
        if report.stations_not_in_file:
            self.stdout.write(
                f"  {report.stations_not_in_file:,} stations of these constituencies are not in the file; "
                "they were kept (an import never deletes)."
            )
        self.stdout.write(f"  file sha256: {report.sha256}")
