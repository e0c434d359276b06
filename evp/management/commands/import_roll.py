"""manage.py import_roll FILE.csv [--report BAD.csv] [--progress]

Streams an electoral roll file into the roll (docs/evp.md gives the columns): good rows are upserted by CNIC in
one transaction, bad rows are written to the bad-row report (line, column, rule) and left out. The import is
recorded in the audit trail with the file's SHA-256 and its counts.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import context
from core.importers.progress import TerminalProgress
from evp.importer import roll_import
from evp.models import ImportStatus


class Command(BaseCommand):
    help = "Import an electoral roll CSV (docs/evp.md): bad rows go to a report, the good ones are imported."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8, header line naming the columns)")
        parser.add_argument("--report", help="where to write the bad-row report (default: FILE.bad-rows.csv)")
        parser.add_argument(
            "--progress", action="store_true", help="draw the progress bar even when standard error is not a terminal"
        )

    def handle(self, *args, file: str, report: str | None, progress: bool, verbosity: int = 1, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file.")
        bar = None
        if verbosity >= 1 and (progress or self.stderr.isatty()):
            bar = TerminalProgress(lambda text: self.stderr.write(text, style_func=str, ending=""), label="Electors")
        started = time.monotonic()
        try:
            with context.acting(label="command:import_roll"):
                record = roll_import(path=str(path), report_path=report, progress=bar)
        finally:
            if bar is not None:
                bar.close()
        seconds = time.monotonic() - started
        if record.status == ImportStatus.FAILED:
            raise CommandError(f"{path.name}: {record.error} Nothing was imported.")
        if verbosity >= 1:
            rate = record.rows / seconds if seconds else 0
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {path.name}: {record.rows:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s, "
                    f"peak memory {peak:,.0f} MB)."
                )
            )
            self.stdout.write(
                f"  electors: {record.created:,} created, {record.updated:,} updated, {record.unchanged:,} unchanged"
            )
            if record.bad:
                self.stdout.write(
                    self.style.WARNING(f"  {record.bad:,} bad rows left out; report: {record.report_path}")
                )
            else:
                self.stdout.write("  no bad rows")
            self.stdout.write(f"  file sha256: {record.sha256}")
