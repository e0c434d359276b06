"""manage.py generate_polling_scheme [--stations N] [--seed S] [--national] --out FILE

Writes a synthetic polling scheme CSV (core/importers/synthetic.py): invented
names, plausible numbers, the same file for the same arguments. ``--out -``
writes to standard output.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.importers.synthetic import NATIONAL_STATIONS, generate_scheme, write_scheme_csv


class Command(BaseCommand):
    help = "Write a synthetic polling scheme CSV (invented names; deterministic for a seed)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--stations",
            type=int,
            default=None,
            help=f"number of rows (default 1,000; {NATIONAL_STATIONS:,} with --national)",
        )
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument(
            "--national",
            action="store_true",
            help="the GE-2024 shape: all 266 NA and 593 PA constituencies, rows spread as in the country",
        )
        parser.add_argument("--out", required=True, help="the CSV file to write, or - for standard output")

    def handle(self, *args, stations: int | None, seed: int, national: bool, out: str, **options):
        if stations is None:
            stations = NATIONAL_STATIONS if national else 1000
        if stations < 0:
            raise CommandError("--stations must be 0 or more.")
        rows = generate_scheme(stations=stations, seed=seed, national=national)
        if out == "-":
            write_scheme_csv(rows, sys.stdout)
            return
        path = Path(out)
        with path.open("w", encoding="utf-8", newline="") as handle:
            count = write_scheme_csv(rows, handle)
        if options["verbosity"] >= 1:
            self.stderr.write(f"Wrote {count:,} stations to {path} (seed {seed}).", style_func=str)
