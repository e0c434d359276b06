"""Benchmark: import a national-scale polling scheme CSV into PostgreSQL.

    .venv/bin/python bench/import_scheme.py [--stations 96000] [--seed 1]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/ecp_bench),
which it DROPS, creates fresh and migrates; it refuses a database whose name
does not contain "bench". Runs with DEBUG off, as production does.

Prints ``name: value`` lines:
- import_*: the first import into empty tables (the command's service:
  parse and check every row, compare, create districts and constituencies,
  upsert stations in batches of 5,000, audit);
- reimport_*: the same file again (an idempotent no-op: nothing written);
- update_*: the file with 1 % of the stations changed;
- baseline_copy_*: PostgreSQL ``COPY`` of the same CSV into a temporary table of
  13 text columns — the floor for getting the bytes into the server, with no
  parsing into types, no checks and no indexes;
- baseline_bulk_create_*: csv.DictReader + int()/Decimal() + a plain
  ``PollingStation.objects.bulk_create`` (batches of 5,000) into the emptied
  station table, no validation and no comparison, rolled back afterwards.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ecp_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=96_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecp_portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]

    from core.importers.synthetic import generate_scheme, write_scheme_csv

    with tempfile.TemporaryDirectory(prefix="ecp-bench-") as tmp:
        path = Path(tmp) / "national_scheme.csv"
        started = time.perf_counter()
        rows = list(generate_scheme(stations=args.stations, seed=args.seed, national=True))
        with path.open("w", encoding="utf-8", newline="") as out:
            write_scheme_csv(rows, out)
        generate_seconds = time.perf_counter() - started
        changed = Path(tmp) / "national_scheme_changed.csv"
        with changed.open("w", encoding="utf-8", newline="") as out:
            changed_rows = (
                {**row, "ps_name": row["ps_name"] + " (new building)"} if i % 100 == 0 else row
                for i, row in enumerate(rows)
            )
            write_scheme_csv(changed_rows, out)

        figures: list[tuple[str, object]] = [
            ("machine", f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"),
            ("postgresql", server),
            ("rows", len(rows)),
            ("file_megabytes", f"{path.stat().st_size / 1e6:.1f}"),
            ("generate_seconds", f"{generate_seconds:.2f}"),
        ]
        copy_seconds = baseline_copy(path)
        first = timed_import(path)
        again = timed_import(path)
        update = timed_import(changed)
        bulk_seconds = baseline_bulk_create(path)

        seconds, report = first
        figures += [
            ("import_seconds", f"{seconds:.2f}"),
            ("import_rows_per_second", f"{len(rows) / seconds:,.0f}"),
            (
                "import_created",
                f"{report.stations_created} stations, {report.constituencies_created} constituencies, "
                f"{report.districts_created} districts",
            ),
            ("reimport_seconds", f"{again[0]:.2f}"),
            (
                "reimport_changes",
                f"{again[1].stations_created} created, {again[1].stations_updated} updated, "
                f"{again[1].stations_unchanged} unchanged",
            ),
            ("update_1pct_seconds", f"{update[0]:.2f}"),
            ("update_1pct_changes", f"{update[1].stations_updated} updated, {update[1].stations_unchanged} unchanged"),
            ("baseline_copy_seconds", f"{copy_seconds:.2f}"),
            ("baseline_bulk_create_seconds", f"{bulk_seconds:.2f}"),
            ("ratio_import_to_copy", f"{seconds / copy_seconds:.1f}"),
            ("ratio_import_to_bulk_create", f"{seconds / bulk_seconds:.2f}"),
        ]
    for name, value in figures:
        print(f"{name}: {value}")


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit(f"bench: DATABASE_URL must point at PostgreSQL, not {parts.scheme}.")
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"bench: refusing to drop database {name!r}; use a database whose name contains 'bench'.")
    maintenance = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(maintenance.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed_import(path: Path):
    from core import context
    from core.importers.services import polling_scheme_import

    started = time.perf_counter()
    with context.acting(label="bench:import_scheme"):
        report = polling_scheme_import(actor=None, path_or_stream=path)
    return time.perf_counter() - started, report


def baseline_copy(path: Path) -> float:
    from django.db import connection, transaction

    from core.importers.polling_scheme import COLUMNS

    columns = ", ".join(f"{name} text" for name in COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE bench_scheme_copy ({columns}) ON COMMIT DROP")
        started = time.perf_counter()
        with (
            path.open("rb") as source,
            cursor.copy("COPY bench_scheme_copy FROM STDIN (FORMAT csv, HEADER)") as copy,
        ):
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM bench_scheme_copy")
        assert cursor.fetchone()[0] > 0
    return seconds


def baseline_bulk_create(path: Path) -> float:
    from django.db import connection, transaction

    from core.models import Constituency, PollingStation

    constituency_ids = dict(Constituency.objects.values_list("code", "id"))
    with transaction.atomic():
        with connection.cursor() as cursor:  # nothing refers to the stations in this database
            cursor.execute("DELETE FROM core_pollingstation")
        started = time.perf_counter()
        with path.open(encoding="utf-8", newline="") as source:
            stations = [
                PollingStation(
                    constituency_id=constituency_ids[row["constituency_code"]],
                    number=int(row["ps_number"]),
                    name=row["ps_name"],
                    station_type=row["station_type"],
                    male_voters=int(row["male_voters"]),
                    female_voters=int(row["female_voters"]),
                    male_booths=int(row["male_booths"]),
                    female_booths=int(row["female_booths"]),
                    latitude=Decimal(row["lat"]) if row["lat"] else None,
                    longitude=Decimal(row["lon"]) if row["lon"] else None,
                )
                for row in csv.DictReader(source)
            ]
        PollingStation.objects.bulk_create(stations, batch_size=5000)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


if __name__ == "__main__":
    main()
