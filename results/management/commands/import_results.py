"""manage.py import_results BUNDLE [--dry-run]

At the centre: check a signed bundle from an RO's laptop and import what is
new (docs/results-offline.md). A bundle that cannot be trusted or does not fit
is refused whole (exit status 1, nothing written). Figures that disagree with
what the centre already accepted are conflicts: listed, never overwritten,
and the rest is imported (exit status 2 so a script notices).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import context
from results.offline import BundleImportReport, BundleRefused, bundle_import


class Command(BaseCommand):
    help = "Verify and import a signed offline results bundle (export_results on the RO's laptop)."

    def add_arguments(self, parser):
        parser.add_argument("bundle", help="the bundle file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the bundle and report what would change; write nothing"
        )

    def handle(self, *args, bundle: str, dry_run: bool, **options):
        path = Path(bundle)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{bundle}: {exc.strerror}.") from None
        try:
            with context.acting(label="command:import_results"):
                report = bundle_import(actor=None, data=data, file_name=path.name, dry_run=dry_run)
        except BundleRefused as exc:
            for line in exc.problems:
                self.stderr.write(f"  - {line}")
            raise CommandError(f"Refused: {exc.message} [{exc.code}]") from None
        self.print_report(report)
        if report.conflicts:
            raise CommandError(
                f"{len(report.conflicts)} conflicts: the centre's figures were kept; resolve them with the RO.",
                returncode=2,
            )

    def print_report(self, report: BundleImportReport) -> None:
        head = f"{report.file_name}: {report.election} {report.constituency}, signed by {report.key}"
        if report.dry_run:
            self.stdout.write(f"{head}. Nothing was written (--dry-run); an import would do this:")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {head}."))
        self.stdout.write(f"  exported at {report.exported_at}; bundle sha256 {report.sha256}")
        self.stdout.write(
            f"  Form-45s: {report.forms_created:,} imported, {report.forms_unchanged:,} already the same, "
            f"{sum(c.kind == 'form45' for c in report.conflicts):,} conflicting "
            f"(the bundle has {report.forms:,} of {report.stations:,} stations)"
        )
        if report.created_stations:
            self.stdout.write(f"    imported stations: {', '.join(map(str, report.created_stations))}")
        self.stdout.write(
            f"  form versions: {report.versions_created:,} imported, {report.versions_unchanged:,} already the same, "
            f"{sum(c.kind == 'form_version' for c in report.conflicts):,} conflicting"
        )
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"  note: {warning}"))
        for conflict in report.conflicts:
            self.stdout.write(self.style.ERROR(f"  CONFLICT {conflict.what}: {conflict.message} [{conflict.code}]"))
