"""``import_roll``: stream a roll file into a staging table (PostgreSQL ``COPY``; batched inserts on SQLite), check
what needs the whole file in SQL, then upsert into the roll by CNIC in one statement.

- Memory stays flat: the file is read row by row and written to the database in chunks; only the map of census
  block codes is held.
- A bad row never stops the good ones. Rows that fail a rule of their own (roll.RowChecker), a CNIC found on
  more than one line, two lines on one serial of a list, and a serial held by an elector the file does not
  move are all written to the bad-row report (line, column, code, message; never the row's content) and
  left out.
- Everything is one transaction: the roll is either changed by the whole file's good rows or not at all.
- What an update changes is kept in ElectorChange (old and new values of the changed fields).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.db import connection, transaction
from django.utils import timezone

from core import audit
from core.models import CensusBlock

from .models import ImportStatus, RollImport
from .roll import COLUMNS, STAGE_COLUMNS, HeaderError, RowChecker, RowError, column_positions

ROLL_IMPORTED = audit.register("evp.roll_imported", "An electoral roll file was imported")

Progress = Callable[[int, int], None]  # (rows read, estimated rows in the file)

CHUNK_ROWS = 20_000
STAGE = "evp_stage"
# The columns an import sets on an elector (besides updated_at), in STAGE_COLUMNS order.
DATA_COLUMNS = STAGE_COLUMNS[2:]


class RollFileError(ValueError):
    """The file cannot be read as a roll at all (no header, wrong columns)."""


@dataclass
class Counts:
    rows: int = 0
    bad: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_by_code: dict[str, int] = field(default_factory=dict)


class _HashingReader(io.RawIOBase):
    """Reads a binary file, feeding a SHA-256 and counting bytes as it goes."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.digest.update(data)
        self.bytes_read += n
        return n


class _Report:
    """The bad-row report, a CSV written as rows are found (line, column, code, message)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self.writer = csv.writer(self.file)
        self.writer.writerow(["line", "column", "code", "message"])

    def write(self, error: RowError, counts: Counts) -> None:
        self.writer.writerow([error.line, error.column, error.code, error.message])
        counts.bad_by_code[error.code] = counts.bad_by_code.get(error.code, 0) + 1

    def close(self) -> None:
        self.file.close()


def _rows(text: IO[str], checker: RowChecker, report: _Report, counts: Counts) -> Iterator[tuple]:
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise RollFileError("The file is empty: it needs a header line naming the columns.") from None
    except csv.Error as exc:
        raise RollFileError(f"The header line is not CSV: {exc}.") from None
    try:
        positions = column_positions(header)
    except HeaderError as exc:
        raise RollFileError(str(exc)) from None
    width = len(header)
    in_order = positions == list(range(len(COLUMNS))) and width == len(COLUMNS)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            counts.rows += 1
            counts.bad += 1
            report.write(RowError(reader.line_num, "", "malformed", f"Not a CSV row: {exc}."), counts)
            continue
        if not values:
            continue
        counts.rows += 1
        line = reader.line_num
        if len(values) != width:
            counts.bad += 1
            report.write(
                RowError(line, "", "columns", f"The header has {width} columns; this row has {len(values)}."), counts
            )
            continue
        picked = values if in_order else [values[p] if p >= 0 else "" for p in positions]
        if "\ufffd" in "".join(picked):
            counts.bad += 1
            report.write(RowError(line, "", "encoding", "The row is not valid UTF-8 text."), counts)
            continue
        checked = checker.check(line, picked)
        if isinstance(checked, list):
            counts.bad += 1
            for error in checked:
                report.write(error, counts)
            continue
        yield checked


def roll_import(
    *,
    path: str,
    report_path: str | None = None,
    actor=None,
    progress: Progress | None = None,
    today: datetime.date | None = None,
) -> RollImport:
    """Import a roll file; returns the RollImport row (status done, or failed with the reason in ``error``)."""
    report_path = report_path or f"{path}.bad-rows.csv"
    size = os.path.getsize(path)
    started = timezone.now()
    record = RollImport.objects.create(file_name=os.path.basename(path), sha256="", started_at=started, actor=actor)
    counts = Counts()
    report = _Report(report_path)
    blocks = dict(CensusBlock.objects.values_list("code", "id"))
    checker = RowChecker(blocks, today or timezone.localdate())
    try:
        with open(path, "rb") as raw:
            hashing = _HashingReader(raw)
            text = io.TextIOWrapper(
                io.BufferedReader(hashing, 1 << 20), encoding="utf-8-sig", errors="replace", newline=""
            )

            def tick() -> None:
                if progress is not None and hashing.bytes_read:
                    progress(counts.rows, max(counts.rows, round(counts.rows * size / hashing.bytes_read)))

            with transaction.atomic(durable=True):
                _create_stage()
                _fill_stage(_rows(text, checker, report, counts), tick)
                _whole_file_checks(report, counts)
                _apply(record, counts, started)
                record.sha256 = hashing.digest.hexdigest()
                _finish(record, counts, report_path, ImportStatus.DONE)
                audit.record(
                    action=ROLL_IMPORTED,
                    target=record,
                    actor=actor,
                    data={
                        "file": record.file_name,
                        "sha256": record.sha256,
                        "rows": counts.rows,
                        "created": counts.created,
                        "updated": counts.updated,
                        "unchanged": counts.unchanged,
                        "bad": counts.bad,
                        "bad_by_code": counts.bad_by_code,
                    },
                )
            if progress is not None:
                progress(counts.rows, counts.rows)
    except RollFileError as exc:
        record.error = str(exc)
        _finish(record, counts, report_path, ImportStatus.FAILED)
    finally:
        report.close()
    return record


def _finish(record: RollImport, counts: Counts, report_path: str, status: str) -> None:
    record.status = status
    record.rows, record.bad = counts.rows, counts.bad
    record.created, record.updated, record.unchanged = counts.created, counts.updated, counts.unchanged
    record.report_path = report_path
    record.finished_at = timezone.now()
    record.save()


def _create_stage() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (line bigint, cnic bigint, name text, name_ur text, relation text,"
            " relation_name text, relation_name_ur text, gender text, date_of_birth date, address text,"
            " address_ur text, block_id bigint, roll text, serial integer, family_number integer, status text)"
        )


def _fill_stage(rows: Iterator[tuple], tick: Callable[[], None]) -> None:
    columns = ", ".join(STAGE_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
                for n, row in enumerate(rows, 1):
                    copy.write_row(row)
                    if n % CHUNK_ROWS == 0:
                        tick()
        else:
            marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
            sql = f"INSERT INTO {STAGE} ({columns}) VALUES ({marks})"
            batch: list[tuple] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= CHUNK_ROWS:
                    cursor.executemany(sql, batch)
                    batch.clear()
                    tick()
            cursor.executemany(sql, batch)
        tick()
        cursor.execute(f"CREATE INDEX {STAGE}_cnic ON {STAGE} (cnic)")
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {STAGE}")


def _drop_lines(cursor, lines_sql: str, column: str, code: str, message: str, report: _Report, counts: Counts):
    """Report and remove the staged rows the query finds; the query yields (line, other lines)."""
    cursor.execute(lines_sql)
    found = cursor.fetchall()
    for line, others in found:
        report.write(RowError(int(line), column, code, message.format(others=others)), counts)
    counts.bad += len(found)
    bad_lines = [int(line) for line, _others in found]
    for start in range(0, len(bad_lines), 10_000):
        part = bad_lines[start : start + 10_000]
        cursor.execute(f"DELETE FROM {STAGE} WHERE line IN ({', '.join(['%s'] * len(part))})", part)


def _group_lines(column_list: str) -> str:
    """Each staged line whose ``column_list`` values are on another line too, with the other lines."""
    if connection.vendor == "postgresql":
        others = "array_to_string(array_agg(o.line ORDER BY o.line), ', ')"
    else:
        others = "group_concat(o.line, ', ')"
    columns = column_list.split(", ")
    join = " AND ".join(f"o.{c} = s.{c}" for c in columns)
    mine = ", ".join(f"s.{c}" for c in columns)
    return (
        f"SELECT s.line, {others} FROM {STAGE} s JOIN {STAGE} o ON {join} AND o.line <> s.line"
        f" WHERE ({mine}) IN (SELECT {column_list} FROM {STAGE} GROUP BY {column_list} HAVING count(*) > 1)"
        " GROUP BY s.line ORDER BY s.line"
    )


def _whole_file_checks(report: _Report, counts: Counts) -> None:
    with connection.cursor() as cursor:
        # A CNIC on two lines: neither line can be trusted over the other, so both are left out.
        _drop_lines(
            cursor,
            _group_lines("cnic"),
            "cnic",
            "duplicate_cnic",
            "This CNIC is also on line(s) {others}; neither line was imported.",
            report,
            counts,
        )
        _drop_lines(
            cursor,
            _group_lines("block_id, roll, serial"),
            "serial",
            "duplicate_serial",
            "Line(s) {others} give the same serial number on the same list; none of them was imported.",
            report,
            counts,
        )
        # A serial held in the roll by someone else whom this file does not move.
        _drop_lines(
            cursor,
            f"SELECT s.line, '' FROM {STAGE} s JOIN evp_elector e"
            " ON e.block_id = s.block_id AND e.roll = s.roll AND e.serial = s.serial AND e.cnic <> s.cnic"
            f" WHERE NOT EXISTS (SELECT 1 FROM {STAGE} m WHERE m.cnic = e.cnic) ORDER BY s.line",
            "serial",
            "serial_taken",
            "Another elector holds this serial number on this list in the roll.",
            report,
            counts,
        )


def _apply(record: RollImport, counts: Counts, now: datetime.datetime) -> None:
    changed = " OR ".join(f"e.{c} <> s.{c}" for c in DATA_COLUMNS)
    # The changed fields only, as a JSON object of one side's values (the unchanged ones are null, then dropped).
    pairs = ", ".join(f"'{c}', CASE WHEN e.{c} <> s.{c} THEN {{side}}.{c} END" for c in DATA_COLUMNS)
    if connection.vendor == "postgresql":
        changes = "jsonb_strip_nulls(jsonb_build_object({}))"
    else:  # json_patch drops the members whose value is null
        changes = "json_patch('{{}}', json_object({}))"
    before, after = (changes.format(pairs.format(side=side)) for side in ("e", "s"))
    targets = ", ".join(DATA_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in DATA_COLUMNS)
    differs = " OR ".join(f"evp_elector.{c} <> excluded.{c}" for c in DATA_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {STAGE}")
        good = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {STAGE} s JOIN evp_elector e ON e.cnic = s.cnic")
        matched = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO evp_electorchange (elector_id, changed_at, source, before, after)"
            f" SELECT e.cnic, %s, %s, {before}, {after} FROM {STAGE} s JOIN evp_elector e ON e.cnic = s.cnic"
            f" WHERE {changed}",
            [now, f"import:{record.pk}"],
        )
        counts.updated = cursor.rowcount
        counts.unchanged = matched - counts.updated
        counts.created = good - matched
        # "WHERE true" lets SQLite parse ON CONFLICT after a SELECT; it costs PostgreSQL nothing.
        cursor.execute(
            f"INSERT INTO evp_elector (cnic, {targets}, updated_at) SELECT cnic, {targets}, %s FROM {STAGE}"
            f" WHERE true ON CONFLICT (cnic) DO UPDATE SET {updates}, updated_at = excluded.updated_at"
            f" WHERE {differs}",
            [now],
        )
        cursor.execute(f"DROP TABLE {STAGE}")
