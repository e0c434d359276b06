"""The polling scheme import: check a whole file, then write it in one
durable transaction with one audit event (docs/polling-scheme-csv.md).

``polling_scheme_import`` reads and checks the file first (the pure parser in
``polling_scheme.py``, outside any transaction), then, holding an advisory
lock so two imports never interleave: compares the rows with what the
database holds, refuses a constituency that already exists in another
province, creates the missing districts and constituencies, updates changed
constituency names and districts, and upserts only the stations that are new
or changed (``bulk_create(update_conflicts=True)`` on the station's unique
constituency + number, in batches). Unchanged rows are not written, so a
re-import is a no-op apart from its audit event. Nothing is ever deleted: a
station in the database but not in the file is kept and counted.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from os import PathLike
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import audit
from core.exceptions import DomainError
from core.models import Constituency, District, Job, JobStatus, PollingStation, Province, User
from core.services import job_add_errors, job_create, job_finish, job_set_progress, job_start

from .polling_scheme import ProvinceRef, RowError, StationRow, parse_rows

BATCH_SIZE = 5000
# The station columns the file sets; name_ur and counterpart are left as they are.
STATION_FIELDS = (
    "name",
    "station_type",
    "male_voters",
    "female_voters",
    "male_booths",
    "female_booths",
    "latitude",
    "longitude",
)
# An arbitrary fixed key for pg_advisory_xact_lock: "ECPSCHEM" in ASCII.
_IMPORT_LOCK_KEY = 0x4543505343484558 & 0x7FFFFFFFFFFFFFFF

Progress = Callable[[int, int], None]


class PollingSchemeInvalid(DomainError):
    """The file has bad rows (``errors``, sorted by line); nothing was written."""

    def __init__(self, errors: Sequence[RowError], *, file_name: str) -> None:
        self.errors = sorted(errors, key=lambda error: error.line)
        self.file_name = file_name
        bad_lines = len({error.line for error in self.errors})
        super().__init__(
            "scheme_invalid",
            _("%(file)s has %(errors)d errors on %(lines)d lines; nothing was imported.")
            % {"file": file_name, "errors": len(self.errors), "lines": bad_lines},
            "file",
        )

    def lines(self) -> list[str]:
        """One translated line per error: "line 12, ps_number: … [code]"."""
        return [describe_error(error) for error in self.errors]


def describe_error(error: RowError) -> str:
    if error.column:
        where = _("line %(line)d, %(column)s") % {"line": error.line, "column": error.column}
    else:
        where = _("line %(line)d") % {"line": error.line}
    return f"{where}: {error.render(_)} [{error.code}]"


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    file_name: str
    sha256: str
    rows: int
    constituencies: int
    stations_created: int
    stations_updated: int
    stations_unchanged: int
    stations_not_in_file: int  # in the file's constituencies, kept as they are
    constituencies_created: int
    constituencies_updated: int
    districts_created: int
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def polling_scheme_import(
    *,
    actor: User | None,
    path_or_stream: str | PathLike[str] | IO[bytes],
    progress: Progress | None = None,
    dry_run: bool = False,
    file_name: str | None = None,
) -> ImportReport:
    """Import a polling scheme CSV; raise ``PollingSchemeInvalid`` (writing nothing) if any row is bad.

    ``path_or_stream`` is a path or a file opened in binary mode. ``progress``
    is called as ``progress(done, total)`` over the file's rows while stations
    are written. ``dry_run`` checks everything, the database rules included,
    and reports what an import would do without writing or auditing.
    ``file_name`` overrides the name taken from the path (e.g. an upload's original name).
    """
    provinces = {p.code: p for p in Province.objects.all()}
    refs = [ProvinceRef(code=p.code, name=p.name, pa_prefix=p.pa_prefix) for p in provinces.values()]
    digest = hashlib.sha256()
    with binary_lines(path_or_stream) as (lines, detected_name):
        rows, errors = parse_rows(hashing(lines, digest), provinces=refs)
    file_name = file_name or detected_name
    if errors:
        raise PollingSchemeInvalid(errors, file_name=file_name)
    sha256 = digest.hexdigest()
    if dry_run:
        plan = _plan(rows, provinces, file_name=file_name)
        return plan.report(file_name=file_name, sha256=sha256, dry_run=True)
    return _import(actor=actor, rows=rows, provinces=provinces, file_name=file_name, sha256=sha256, progress=progress)


@transaction.atomic(durable=True)
def _import(
    *,
    actor: User | None,
    rows: list[StationRow],
    provinces: dict[str, Province],
    file_name: str,
    sha256: str,
    progress: Progress | None,
) -> ImportReport:
    _lock_imports()
    plan = _plan(rows, provinces, file_name=file_name)
    plan.apply(progress)
    report = plan.report(file_name=file_name, sha256=sha256)
    audit.record(actor=actor, action="geography.scheme_imported", target=None, data=report.as_dict())
    return report


def _lock_imports() -> None:
    """Serialise imports, so the comparison with the database holds until commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])


# --- reading the input ---------------------------------------------------------


@contextmanager
def binary_lines(path_or_stream: str | PathLike[str] | IO[bytes]) -> Iterator[tuple[Iterable[bytes], str]]:
    if isinstance(path_or_stream, str | PathLike):
        path = Path(path_or_stream)
        with path.open("rb") as stream:
            yield stream, path.name
    else:
        yield path_or_stream, Path(str(getattr(path_or_stream, "name", "") or "stream")).name


def hashing(lines: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    for line in lines:
        digest.update(line)
        yield line


# --- comparing with the database, then writing --------------------------------


def _station_values(row: StationRow) -> tuple[Any, ...]:
    return (
        row.name,
        row.station_type,
        row.male_voters,
        row.female_voters,
        row.male_booths,
        row.female_booths,
        row.latitude,
        row.longitude,
    )


@dataclass
class _Plan:
    rows: list[StationRow]
    province_ids: dict[str, int]  # province code -> id
    # (province id, district name casefolded) -> id, or None for a district to create
    districts: dict[tuple[int, str], int | None]
    new_districts: list[District]
    first_rows: dict[str, StationRow]  # constituency code -> its first row
    district_keys: dict[str, tuple[int, str]]  # constituency code -> district key, where the file gives one
    constituency_ids: dict[str, int]  # existing constituencies (the new ones are added by apply)
    new_constituencies: list[str]
    changed_constituencies: list[str]
    to_write: list[StationRow]  # new or changed stations
    stations_created: int
    stations_unchanged: int
    stations_not_in_file: int

    def report(self, *, file_name: str, sha256: str, dry_run: bool = False) -> ImportReport:
        return ImportReport(
            file_name=file_name,
            sha256=sha256,
            rows=len(self.rows),
            constituencies=len(self.first_rows),
            stations_created=self.stations_created,
            stations_updated=len(self.to_write) - self.stations_created,
            stations_unchanged=self.stations_unchanged,
            stations_not_in_file=self.stations_not_in_file,
            constituencies_created=len(self.new_constituencies),
            constituencies_updated=len(self.changed_constituencies),
            districts_created=len(self.new_districts),
            dry_run=dry_run,
        )

    def apply(self, progress: Progress | None) -> None:
        for district in District.objects.bulk_create(self.new_districts):
            self.districts[district.province_id, district.name.casefold()] = district.pk

        def district_id(code: str) -> int | None:
            key = self.district_keys.get(code)
            return self.districts[key] if key else None

        new = []
        for code in self.new_constituencies:
            row = self.first_rows[code]
            new.append(
                Constituency(
                    house=row.house,
                    code=code,
                    name=row.constituency_name,
                    province_id=self.province_ids[row.province],
                    district_id=district_id(code),
                )
            )
        for constituency in Constituency.objects.bulk_create(new):
            self.constituency_ids[constituency.code] = constituency.pk
        changed = [
            Constituency(
                pk=self.constituency_ids[code],
                name=self.first_rows[code].constituency_name,
                district_id=district_id(code),
            )
            for code in self.changed_constituencies
        ]
        # A constituency the file gives no district keeps its own: only the name is written then.
        with_district = [c for c in changed if c.district_id is not None]
        without_district = [c for c in changed if c.district_id is None]
        Constituency.objects.bulk_update(with_district, ["name", "district"])
        Constituency.objects.bulk_update(without_district, ["name"])

        total, done = len(self.rows), self.stations_unchanged
        if progress:
            progress(done, total)
        for start in range(0, len(self.to_write), BATCH_SIZE):
            batch = self.to_write[start : start + BATCH_SIZE]
            PollingStation.objects.bulk_create(
                [
                    PollingStation(
                        constituency_id=self.constituency_ids[row.constituency_code],
                        number=row.number,
                        **dict(zip(STATION_FIELDS, _station_values(row), strict=True)),
                    )
                    for row in batch
                ],
                update_conflicts=True,
                unique_fields=["constituency", "number"],
                update_fields=list(STATION_FIELDS),
            )
            done += len(batch)
            if progress:
                progress(done, total)


def _plan(rows: list[StationRow], provinces: dict[str, Province], *, file_name: str) -> _Plan:
    """Compare the file with the database (reads only); refuse a constituency moved to another province."""
    province_ids = {code: p.pk for code, p in provinces.items()}
    province_names = {p.pk: p.name for p in provinces.values()}

    first_rows: dict[str, StationRow] = {}
    district_names: dict[str, str] = {}  # constituency code -> district name as first written
    for row in rows:
        first_rows.setdefault(row.constituency_code, row)
        if row.district:
            district_names.setdefault(row.constituency_code, row.district)

    # Districts: matched by province and name, case-insensitively; the file's spelling for new ones.
    district_keys = {
        code: (province_ids[first_rows[code].province], name.casefold()) for code, name in district_names.items()
    }
    districts: dict[tuple[int, str], int | None] = {}
    wanted_provinces = {key[0] for key in district_keys.values()}
    for pk, province_id, name in District.objects.filter(province_id__in=wanted_provinces).values_list(
        "id", "province_id", "name"
    ):
        districts.setdefault((province_id, name.casefold()), pk)
    new_districts: list[District] = []
    for code, key in district_keys.items():
        if key not in districts:
            districts[key] = None
            new_districts.append(District(province_id=key[0], name=district_names[code]))

    # Constituencies: matched by code.
    existing = {
        c["code"]: c
        for c in Constituency.objects.filter(code__in=list(first_rows)).values(
            "id", "code", "name", "province_id", "district_id"
        )
    }
    errors = []
    changed: list[str] = []
    for code, current in existing.items():
        row = first_rows[code]
        if current["province_id"] != province_ids[row.province]:
            errors.append(
                RowError(
                    row.line,
                    "constituency_in_other_province",
                    gettext_noop(
                        "%(code)s already exists in %(existing)s, not %(given)s; if the delimitation moved it, "
                        "change it in the admin first."
                    ),
                    {
                        "code": code,
                        "existing": province_names[current["province_id"]],
                        "given": province_names[province_ids[row.province]],
                    },
                    column="province",
                )
            )
            continue
        district_key = district_keys.get(code)
        district_changed = district_key is not None and (
            districts[district_key] is None  # a district still to be created
            or districts[district_key] != current["district_id"]
        )
        if current["name"] != row.constituency_name or district_changed:
            changed.append(code)
    if errors:
        raise PollingSchemeInvalid(errors, file_name=file_name)

    # Stations: one query for the file's existing constituencies, keyed by (constituency id, number).
    constituency_ids = {code: c["id"] for code, c in existing.items()}
    stored: dict[tuple[int, int], tuple[Any, ...]] = {}
    if constituency_ids:
        values = PollingStation.objects.filter(constituency_id__in=list(constituency_ids.values())).values_list(
            "constituency_id", "number", *STATION_FIELDS
        )
        for constituency_id, number, *fields in values.iterator(chunk_size=10_000):
            stored[constituency_id, number] = tuple(fields)
    to_write: list[StationRow] = []
    created = unchanged = 0
    for row in rows:
        constituency_id = constituency_ids.get(row.constituency_code)
        old = stored.pop((constituency_id, row.number), None) if constituency_id is not None else None
        if old is None:
            created += 1
            to_write.append(row)
        elif old != _station_values(row):
            to_write.append(row)
        else:
            unchanged += 1
    return _Plan(
        rows=rows,
        province_ids=province_ids,
        districts=districts,
        new_districts=new_districts,
        first_rows=first_rows,
        district_keys=district_keys,
        constituency_ids=constituency_ids,
        new_constituencies=[code for code in first_rows if code not in existing],
        changed_constituencies=changed,
        to_write=to_write,
        stations_created=created,
        stations_unchanged=unchanged,
        stations_not_in_file=len(stored),
    )


# --- the same import from the web, as a background job -------------------------


def polling_scheme_upload_start(*, actor: User, uploaded: IO[bytes], file_name: str) -> Job:
    """Keep an uploaded scheme under MEDIA_ROOT (named by its hash) and import it on a worker.

    The Job shows progress; its errors are the bad-row report when the file is refused."""
    from core.tasks import polling_scheme_import_task

    digest = hashlib.sha256()
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"upload-{uuid.uuid4().hex}.part"
    with partial.open("wb") as out:
        for chunk in iter(lambda: uploaded.read(1 << 20), b""):
            digest.update(chunk)
            out.write(chunk)
    stored = folder / f"{digest.hexdigest()}.csv"
    partial.replace(stored)
    with transaction.atomic():
        job = job_create(
            actor=actor,
            kind="geography.scheme_import",
            title=_("Import polling scheme %(file)s") % {"file": Path(file_name).name[:120]},
        )
        transaction.on_commit(lambda: polling_scheme_import_task.delay(str(job.pk), str(stored), Path(file_name).name))
    return job


def polling_scheme_import_run(*, job_id, path: str, file_name: str) -> str:
    """Body of the core.polling_scheme_import task: idempotent (a finished job is not run again)."""
    job = Job.objects.select_related("created_by").get(pk=job_id)
    if job.is_finished:
        return job.status
    job_start(job_id=job_id)
    try:
        report = polling_scheme_import(
            actor=job.created_by,
            path_or_stream=path,
            file_name=file_name,
            progress=lambda done, total: job_set_progress(job_id=job_id, done=done, total=total),
        )
    except PollingSchemeInvalid as invalid:
        job_add_errors(job_id=job_id, errors=[{"line": e.line, "message": describe_error(e)} for e in invalid.errors])
        job_finish(job_id=job_id, status=JobStatus.FAILED, message=invalid.message)
        return JobStatus.FAILED
    message = _("%(created)d stations created, %(updated)d updated, %(unchanged)d unchanged.") % {
        "created": report.stations_created,
        "updated": report.stations_updated,
        "unchanged": report.stations_unchanged,
    }
    job_finish(job_id=job_id, status=JobStatus.SUCCEEDED, message=message, result=report.as_dict())
    return JobStatus.SUCCEEDED
