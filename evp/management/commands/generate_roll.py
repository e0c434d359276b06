"""manage.py generate_roll --count N [--seed S] [--bad N] --out FILE

Writes a synthetic electoral roll CSV (evp/synth.py) placed into the census blocks that have station ranges.
When no block has one yet, blocks and ranges are first made for every polling station (evp/blocks.py) — this
writes to the database. ``--bad N`` appends N rows the importer must refuse (for trying the bad-row report).
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from evp.blocks import block_shapes, synthetic_blocks
from evp.synth import bad_rows, generate, write_csv


class Command(BaseCommand):
    help = "Write a synthetic electoral roll CSV into the existing census blocks (deterministic for a seed)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="electors to write")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument("--bad", type=int, default=0, help="rows to append that the importer must refuse")
        parser.add_argument("--out", required=True, help="the CSV file to write, or - for standard output")

    def handle(self, *args, count: int, seed: int, bad: int, out: str, verbosity: int = 1, **options):
        if count < 1 or bad < 0:
            raise CommandError("--count must be 1 or more and --bad 0 or more.")
        shapes = block_shapes()
        if not shapes:
            made = synthetic_blocks(seed)
            if verbosity >= 1:
                self.stderr.write(f"Made {made:,} census blocks with their station ranges.", style_func=str)
            shapes = block_shapes()
        if not shapes:
            raise CommandError("There are no polling stations to place electors at: import a polling scheme first.")
        started = time.monotonic()
        first: list[list[str]] = []

        def rows():
            for row in generate(shapes, count, seed):
                if not first:
                    first.append(row)
                yield row
            if bad:
                yield from bad_rows(first[0], bad, seed)

        if out == "-":
            written = write_csv(rows(), sys.stdout)
        else:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                written = write_csv(rows(), handle)
        if verbosity >= 1:
            seconds = time.monotonic() - started
            self.stderr.write(
                f"Wrote {written:,} electors in {len(shapes):,} census blocks to {out} in {seconds:.1f} s "
                f"(seed {seed}).",
                style_func=str,
            )
