"""manage.py import_candidates FILE.csv [--dry-run]

Checks the whole file first; if any row is bad, prints every bad row (line,
column, rule) and imports nothing (exit status 1). Otherwise creates the
missing contests (with their stations, from the polling scheme) and upserts
the candidates in one transaction, recorded in the audit trail. The format:
docs/results-offline.md, "Candidates".
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import context
from core.importers.progress import TerminalProgress
from results.importers import CandidateImportReport, CandidatesInvalid, candidates_import


class Command(BaseCommand):
    help = (
        "Import a candidates CSV (docs/results-offline.md). The whole file is checked first: "
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
            bar = TerminalProgress(lambda text: self.stderr.write(text, style_func=str, ending=""), label="Contests")
        try:
            with context.acting(label="command:import_candidates"):
                report = candidates_import(actor=None, path_or_stream=path, dry_run=dry_run, progress=bar)
        except CandidatesInvalid as exc:
            for line in exc.lines():
                self.stderr.write(line)
            raise CommandError(exc.message) from None
        finally:
            if bar is not None:
                bar.close()
        if verbosity >= 1:
            self.print_report(report)

    def print_report(self, report: CandidateImportReport) -> None:
        if report.dry_run:
            self.stdout.write(f"{report.file_name}: {report.rows:,} rows, no errors. Nothing was written (--dry-run).")
            self.stdout.write("An import would make these changes:")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {report.file_name}: {report.rows:,} rows."))
        self.stdout.write(
            f"  contests: {report.contests_created:,} created (with {report.stations_created:,} stations), "
            f"{report.contests:,} in the file"
        )
        self.stdout.write(
            f"  candidates: {report.candidates_created:,} created, {report.candidates_updated:,} updated, "
            f"{report.candidates_unchanged:,} unchanged, {report.candidates_removed:,} removed"
        )
        self.stdout.write(f"  file sha256: {report.sha256}")
