"""The candidates CSV (docs/results-offline.md, "Candidates") and the contests it fills.

Two halves, like the polling scheme import (core/importers/):

- ``parse_candidates`` reads and checks a whole file in pure Python (no
  database): every problem is a ``RowError`` naming the physical line where
  the record starts, the column and the rule. The CSV reading (UTF-8 with an
  optional BOM, quoted values over several lines, line numbers) is the
  polling scheme's own, imported from ``core.importers.polling_scheme``.
- ``candidates_import`` checks the rows against the database (the election
  and the constituency must exist; a contest that already has Form-45 entries
  or accepted forms, or is final, cannot have its candidates changed), then
  writes everything in one durable transaction with one audit event. One bad
  row and nothing is written.

A contest is the election in one constituency. If the file names a contest
that does not exist yet it is created with ``contest_create``'s helper, which
also gives it its stations: one ``ContestStation`` per polling station of the
constituency's scheme, copying the number, the type and the registered male
and female voters (so import the polling scheme first).

The file is the whole ballot of each contest it names: ballot orders run
1..N without gaps, a re-import with the same rows changes nothing, a changed
name, party or symbol is updated, and a candidate of a named contest whose
ballot order is not in the file any more is removed (allowed only while no
Form-45 of the contest has been keyed). Contests the file does not name are
not touched.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from typing import IO, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import ConflictError, DomainError
from core.importers.polling_scheme import (  # the polling scheme's CSV reading, shared
    CONSTITUENCY_CODE,
    RowError,
    csv_records,
    decode_lines,
    gettext_noop,
    normalise_name,
    read_header,
    shown,
)
from core.importers.services import binary_lines, describe_error, hashing
from core.models import Constituency, PollingStation, User

from .models import Candidate, Contest, ContestStation, Election, Form45, Form45Entry

audit.register("results.candidates_imported", "A candidates file was imported")
audit.register("results.contest_created", "A contest (an election in one constituency) was created with its stations")

COLUMNS = ("election", "constituency_code", "ballot_order", "name", "name_ur", "party", "symbol")
OPTIONAL_COLUMNS = ("party_ur", "symbol_ur")
# Columns whose value may be empty on a row (an independent candidate has no party).
OPTIONAL_VALUES = frozenset({"name_ur", "party", "symbol", "party_ur", "symbol_ur"})
# Limits of the database columns (results.models).
MAX_LENGTH = {"name": 160, "name_ur": 160, "party": 160, "party_ur": 160, "symbol": 80, "symbol_ur": 80}
MAX_ELECTION_CODE = 40
MAX_BALLOT_ORDER = 32_767  # PositiveSmallIntegerField
CANDIDATE_FIELDS = ("name", "name_ur", "party", "party_ur", "symbol", "symbol_ur")

_ELECTION_CODE = re.compile(r"[-a-zA-Z0-9_]+")
_WHOLE_NUMBER = re.compile(r"[0-9]+")
# An arbitrary fixed key for pg_advisory_xact_lock: "ECPCANDS" in ASCII.
_IMPORT_LOCK_KEY = 0x45435043414E4453 & 0x7FFFFFFFFFFFFFFF

Progress = Callable[[int, int], None]


# --- the file (pure) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CandidateRow:
    line: int
    election: str  # Election.code
    constituency_code: str  # upper case, e.g. "NA-46"
    ballot_order: int
    name: str
    name_ur: str
    party: str
    party_ur: str
    symbol: str
    symbol_ur: str

    @property
    def contest_key(self) -> tuple[str, str]:
        return self.election, self.constituency_code

    def values(self) -> tuple[str, ...]:
        return tuple(getattr(self, name) for name in CANDIDATE_FIELDS)


def parse_candidates(lines: Iterable[bytes] | Iterable[str]) -> tuple[list[CandidateRow], list[RowError]]:
    """Read a whole candidates file; return (good rows, errors sorted by line). Usable only with no errors."""
    errors: list[RowError] = []
    reader = csv.reader(decode_lines(lines, errors), strict=True)
    records = csv_records(reader, errors)
    first = next(records, None)
    if first is None:
        if not errors:
            errors.append(RowError(1, "empty_file", gettext_noop("The file is empty; it needs a header line.")))
        return [], _sorted(errors)
    header_line, header = first
    columns, header_errors = read_header(header_line, header, required=COLUMNS, optional=OPTIONAL_COLUMNS)
    if header_errors:
        return [], _sorted(errors + header_errors)
    checker = _RowChecker(columns, len(header), errors)
    rows = [row for line, values in records if (row := checker.check(line, values)) is not None]
    if checker.records == 0 and not errors:
        errors.append(
            RowError(header_line, "no_rows", gettext_noop("The file has a header but no candidates after it."))
        )
    checker.check_ballots()
    return rows, _sorted(errors)


def _sorted(errors: list[RowError]) -> list[RowError]:
    return sorted(errors, key=lambda e: e.line)


class _RowChecker:
    def __init__(self, columns: dict[str, int], width: int, errors: list[RowError]) -> None:
        self.columns = columns
        self.width = width
        self.errors = errors
        self.records = 0
        # (election, code, ballot order) -> line; (election, code) -> {ballot order}, and its first line
        self.seen: dict[tuple[str, str, int], int] = {}
        self.ballots: dict[tuple[str, str], set[int]] = {}
        self.first_lines: dict[tuple[str, str], int] = {}

    def error(self, line: int, column: str | None, code: str, template: str, /, **params: Any) -> None:
        self.errors.append(RowError(line, code, template, params, column))

    def check(self, line: int, values: list[str]) -> CandidateRow | None:
        self.records += 1
        if len(values) != self.width:
            self.error(
                line,
                None,
                "field_count",
                gettext_noop(
                    "This record has %(count)d fields but the header has %(width)d; "
                    "a value that contains a comma must be in double quotes."
                ),
                count=len(values),
                width=self.width,
            )
            return None
        v = {name: values[index].strip() for name, index in self.columns.items()}
        before = len(self.errors)
        election = self.election(line, v["election"])
        code = self.constituency_code(line, v["constituency_code"])
        ballot_order = self.ballot_order(line, v["ballot_order"])
        texts = {name: self.text(line, name, v.get(name, "")) for name in CANDIDATE_FIELDS}
        if election is not None and code is not None and ballot_order is not None:
            self.unique(line, election, code, ballot_order)
        if len(self.errors) > before or election is None or code is None or ballot_order is None:
            return None
        if any(value is None for value in texts.values()):
            return None
        return CandidateRow(
            line=line,
            election=election,
            constituency_code=code,
            ballot_order=ballot_order,
            **{name: value or "" for name, value in texts.items()},
        )

    def required(self, line: int, column: str, value: str) -> bool:
        if value:
            return True
        self.error(line, column, "required", gettext_noop("This value is required; the field is empty."))
        return False

    def election(self, line: int, value: str) -> str | None:
        if not self.required(line, "election", value):
            return None
        if _ELECTION_CODE.fullmatch(value) is None or len(value) > MAX_ELECTION_CODE:
            self.error(
                line,
                "election",
                "bad_election_code",
                gettext_noop(
                    '"%(value)s" is not an election code: letters, digits, hyphens and underscores, '
                    "at most %(max)d, like ge-2026."
                ),
                value=shown(value),
                max=MAX_ELECTION_CODE,
            )
            return None
        return value

    def constituency_code(self, line: int, value: str) -> str | None:
        if not self.required(line, "constituency_code", value):
            return None
        code = value.upper()
        if CONSTITUENCY_CODE.fullmatch(code) is None:
            self.error(
                line,
                "constituency_code",
                "bad_constituency_code",
                gettext_noop(
                    '"%(value)s" is not a constituency code: write the house prefix, a hyphen and the number '
                    "without leading zeros, like NA-44, PP-120, PS-5, PK-3 or PB-7."
                ),
                value=shown(value),
            )
            return None
        return code

    def ballot_order(self, line: int, value: str) -> int | None:
        if not self.required(line, "ballot_order", value):
            return None
        if _WHOLE_NUMBER.fullmatch(value) is None or int(value) < 1:
            self.error(
                line,
                "ballot_order",
                "not_a_number",
                gettext_noop('"%(value)s" is not a whole number of 1 or more.'),
                value=shown(value),
            )
            return None
        number = int(value) if len(value) <= 18 else MAX_BALLOT_ORDER + 1
        if number > MAX_BALLOT_ORDER:
            self.error(
                line,
                "ballot_order",
                "too_large",
                gettext_noop("%(value)s is larger than the largest allowed, %(max)d."),
                value=shown(value),
                max=MAX_BALLOT_ORDER,
            )
            return None
        return number

    def text(self, line: int, column: str, value: str) -> str | None:
        if column not in OPTIONAL_VALUES and not self.required(line, column, value):
            return None
        text = normalise_name(value)
        if len(text) > MAX_LENGTH[column]:
            self.error(
                line,
                column,
                "too_long",
                gettext_noop("This has %(length)d characters; at most %(max)d are allowed."),
                length=len(text),
                max=MAX_LENGTH[column],
            )
            return None
        return text

    def unique(self, line: int, election: str, code: str, ballot_order: int) -> None:
        key = (election, code)
        self.first_lines.setdefault(key, line)
        self.ballots.setdefault(key, set()).add(ballot_order)
        first_line = self.seen.setdefault((election, code, ballot_order), line)
        if first_line != line:
            self.error(
                line,
                "ballot_order",
                "duplicate_ballot_order",
                gettext_noop(
                    "%(code)s (%(election)s) ballot order %(number)d is on line %(first_line)d and again on "
                    "line %(line)d; each ballot order appears once per contest."
                ),
                code=code,
                election=election,
                number=ballot_order,
                first_line=first_line,
                line=line,
            )

    def check_ballots(self) -> None:
        """A contest's ballot orders run 1..N without gaps (reported on the contest's first line)."""
        for key, orders in self.ballots.items():
            missing = sorted(set(range(1, max(orders) + 1)) - orders)
            if missing:
                election, code = key
                self.error(
                    self.first_lines[key],
                    "ballot_order",
                    "ballot_order_gap",
                    gettext_noop(
                        "%(code)s (%(election)s) has ballot orders up to %(max)d but not %(missing)s; "
                        "a contest's candidates are numbered 1 to N without gaps."
                    ),
                    code=code,
                    election=election,
                    max=max(orders),
                    missing=_list(missing),
                )


def _list(numbers: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f" … ({len(numbers) - limit} more)" if len(numbers) > limit else "")


# --- the database side ---------------------------------------------------------


class CandidatesInvalid(DomainError):
    """The file has bad rows (``errors``, sorted by line); nothing was written."""

    def __init__(self, errors: Sequence[RowError], *, file_name: str) -> None:
        self.errors = sorted(errors, key=lambda error: error.line)
        self.file_name = file_name
        bad_lines = len({error.line for error in self.errors})
        super().__init__(
            "candidates_invalid",
            _("%(file)s has %(errors)d errors on %(lines)d lines; nothing was imported.")
            % {"file": file_name, "errors": len(self.errors), "lines": bad_lines},
            "file",
        )

    def lines(self) -> list[str]:
        return [describe_error(error) for error in self.errors]


@dataclass(frozen=True)
class CandidateImportReport:
    file_name: str
    sha256: str
    rows: int
    contests: int
    contests_created: int
    stations_created: int  # contest stations of the new contests
    candidates_created: int
    candidates_updated: int
    candidates_unchanged: int
    candidates_removed: int
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def candidates_import(
    *,
    actor: User | None,
    path_or_stream: str | PathLike[str] | IO[bytes],
    dry_run: bool = False,
    file_name: str | None = None,
    progress: Progress | None = None,
) -> CandidateImportReport:
    """Import a candidates CSV; raise ``CandidatesInvalid`` (writing nothing) if any row is bad.

    ``dry_run`` checks everything, the database rules included, and reports what an import would do.
    ``progress(done, total)`` is called over the file's contests while they are written.
    """
    digest = hashlib.sha256()
    with binary_lines(path_or_stream) as (lines, detected_name):
        rows, errors = parse_candidates(hashing(lines, digest))
    file_name = file_name or detected_name
    if errors:
        raise CandidatesInvalid(errors, file_name=file_name)
    sha256 = digest.hexdigest()
    if dry_run:
        plan = _plan(rows, file_name=file_name)
        plan.refuse_locked(_contests_with_results(plan.changed_contest_ids()), file_name=file_name)
        return plan.report(file_name=file_name, sha256=sha256, dry_run=True)
    return _import(actor=actor, rows=rows, file_name=file_name, sha256=sha256, progress=progress)


@transaction.atomic(durable=True)
def _import(
    *, actor: User | None, rows: list[CandidateRow], file_name: str, sha256: str, progress: Progress | None
) -> CandidateImportReport:
    _lock_imports()
    plan = _plan(rows, file_name=file_name)
    changed = plan.changed_contest_ids()
    # Keying takes the ContestStation row lock (results.services): holding the stations of every contest whose
    # ballot changes means no Form-45 can be keyed against the old ballot while this runs.
    list(ContestStation.objects.select_for_update().filter(contest_id__in=changed).order_by("pk").values_list("pk"))
    plan.refuse_locked(_contests_with_results(changed), file_name=file_name)
    plan.apply(progress)
    report = plan.report(file_name=file_name, sha256=sha256)
    audit.record(actor=actor, action="results.candidates_imported", target=None, data=report.as_dict())
    return report


def _lock_imports() -> None:
    """Serialise candidate imports and contest creation, so the comparison with the database holds."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])


def _contests_with_results(contest_ids: Iterable[int]) -> set[int]:
    """Contests where keying has started: a Form-45 entry or an accepted Form-45 (from any source)."""
    ids = list(contest_ids)
    if not ids:
        return set()
    keyed = set(
        Form45Entry.objects.filter(contest_station__contest_id__in=ids).values_list("contest_station__contest_id")
    )
    keyed |= set(Form45.objects.filter(contest_station__contest_id__in=ids).values_list("contest_station__contest_id"))
    return {contest_id for (contest_id,) in keyed}


@dataclass
class _ContestPlan:
    key: tuple[str, str]
    first_line: int
    election: Election
    constituency: Constituency
    contest: Contest | None  # None: to be created
    rows: list[CandidateRow]
    create: list[CandidateRow]
    update: list[tuple[int, CandidateRow]]  # (candidate pk, row)
    remove: list[int]  # candidate pks not in the file
    unchanged: int

    @property
    def changes(self) -> bool:
        return bool(self.create or self.update or self.remove)


@dataclass
class _Plan:
    contests: list[_ContestPlan]
    stations: dict[int, int]  # constituency id -> polling stations, for the contests to create
    rows: int

    def changed_contest_ids(self) -> list[int]:
        return sorted(c.contest.pk for c in self.contests if c.contest is not None and c.changes)

    def refuse_locked(self, with_results: set[int], *, file_name: str) -> None:
        errors = []
        for c in self.contests:
            if c.contest is None or not c.changes:
                continue
            if c.contest.is_locked:
                errors.append(
                    RowError(
                        c.first_line,
                        "contest_final",
                        gettext_noop(
                            "%(code)s (%(election)s) is final (Form-49 signed); its candidates cannot change."
                        ),
                        {"code": c.key[1], "election": c.key[0]},
                    )
                )
            elif c.contest.pk in with_results:
                errors.append(
                    RowError(
                        c.first_line,
                        "contest_has_results",
                        gettext_noop(
                            "Form-45s of %(code)s (%(election)s) have already been keyed; its candidates cannot "
                            "change now (the file would add %(created)d, change %(updated)d and remove "
                            "%(removed)d)."
                        ),
                        {
                            "code": c.key[1],
                            "election": c.key[0],
                            "created": len(c.create),
                            "updated": len(c.update),
                            "removed": len(c.remove),
                        },
                    )
                )
        if errors:
            raise CandidatesInvalid(errors, file_name=file_name)

    def report(self, *, file_name: str, sha256: str, dry_run: bool = False) -> CandidateImportReport:
        new = [c for c in self.contests if c.contest is None]
        return CandidateImportReport(
            file_name=file_name,
            sha256=sha256,
            rows=self.rows,
            contests=len(self.contests),
            contests_created=len(new),
            stations_created=sum(self.stations[c.constituency.pk] for c in new),
            candidates_created=sum(len(c.create) for c in self.contests),
            candidates_updated=sum(len(c.update) for c in self.contests),
            candidates_unchanged=sum(c.unchanged for c in self.contests),
            candidates_removed=sum(len(c.remove) for c in self.contests),
            dry_run=dry_run,
        )

    def apply(self, progress: Progress | None) -> None:
        total = len(self.contests)
        for done, c in enumerate(self.contests, start=1):
            contest = c.contest or _contest_create(election=c.election, constituency=c.constituency)
            if c.remove:
                Candidate.objects.filter(pk__in=c.remove).delete()
            Candidate.objects.bulk_update(
                [Candidate(pk=pk, **_fields(row)) for pk, row in c.update],
                list(CANDIDATE_FIELDS),
            )
            Candidate.objects.bulk_create(
                Candidate(contest=contest, ballot_order=row.ballot_order, **_fields(row)) for row in c.create
            )
            if progress:
                progress(done, total)


def _fields(row: CandidateRow) -> dict[str, str]:
    return dict(zip(CANDIDATE_FIELDS, row.values(), strict=True))


def _plan(rows: list[CandidateRow], *, file_name: str) -> _Plan:
    """Compare the file with the database (reads only); refuse unknown elections and constituencies."""
    by_contest: dict[tuple[str, str], list[CandidateRow]] = {}
    for row in rows:
        by_contest.setdefault(row.contest_key, []).append(row)
    elections = {e.code: e for e in Election.objects.filter(code__in={row.election for row in rows})}
    constituencies = {c.code: c for c in Constituency.objects.filter(code__in={row.constituency_code for row in rows})}
    errors: list[RowError] = []
    for row in rows:
        if row.election not in elections:
            errors.append(
                RowError(
                    row.line,
                    "unknown_election",
                    gettext_noop('There is no election with the code "%(code)s"; create the election first.'),
                    {"code": row.election},
                    column="election",
                )
            )
        if row.constituency_code not in constituencies:
            errors.append(
                RowError(
                    row.line,
                    "unknown_constituency",
                    gettext_noop("There is no constituency %(code)s; import the polling scheme first."),
                    {"code": row.constituency_code},
                    column="constituency_code",
                )
            )
    if errors:
        raise CandidatesInvalid(errors, file_name=file_name)

    contests = {
        (c.election.code, c.constituency.code): c
        for c in Contest.objects.filter(
            election__in=elections.values(), constituency__in=constituencies.values()
        ).select_related("election", "constituency")
    }
    stored: dict[int, dict[int, Candidate]] = {}
    for stored_candidate in Candidate.objects.filter(contest__in=contests.values()):
        stored.setdefault(stored_candidate.contest_id, {})[stored_candidate.ballot_order] = stored_candidate
    missing = {constituencies[key[1]].pk for key in by_contest if key not in contests}
    stations = dict.fromkeys(missing, 0)
    for constituency_id, count in _station_counts(missing).items():
        stations[constituency_id] = count

    plans = []
    for key, contest_rows in by_contest.items():
        contest = contests.get(key)
        constituency = constituencies[key[1]]
        first_line = contest_rows[0].line
        if contest is None and stations[constituency.pk] == 0:
            errors.append(
                RowError(
                    first_line,
                    "no_stations",
                    gettext_noop(
                        "%(code)s has no polling stations, so its contest cannot be created; "
                        "import its polling scheme first."
                    ),
                    {"code": key[1]},
                    column="constituency_code",
                )
            )
            continue
        existing: dict[int, Candidate] = dict(stored.get(contest.pk, {})) if contest is not None else {}
        create: list[CandidateRow] = []
        update: list[tuple[int, CandidateRow]] = []
        unchanged = 0
        for row in contest_rows:
            candidate = existing.pop(row.ballot_order, None)
            if candidate is None:
                create.append(row)
            elif tuple(getattr(candidate, name) for name in CANDIDATE_FIELDS) != row.values():
                update.append((candidate.pk, row))
            else:
                unchanged += 1
        plans.append(
            _ContestPlan(
                key=key,
                first_line=first_line,
                election=elections[key[0]],
                constituency=constituency,
                contest=contest,
                rows=contest_rows,
                create=create,
                update=update,
                remove=sorted(c.pk for c in existing.values()),
                unchanged=unchanged,
            )
        )
    if errors:
        raise CandidatesInvalid(errors, file_name=file_name)
    return _Plan(contests=plans, stations=stations, rows=len(rows))


def _station_counts(constituency_ids: set[int]) -> dict[int, int]:
    if not constituency_ids:
        return {}
    return dict(
        PollingStation.objects.filter(constituency_id__in=constituency_ids)
        .values_list("constituency_id")
        .annotate(n=Count("pk"))
    )


# --- contests ------------------------------------------------------------------


@transaction.atomic(durable=True)
def contest_create(*, actor: User | None, election: Election, constituency: Constituency) -> Contest:
    """Create the contest of ``election`` in ``constituency`` with one station per polling station of its scheme.

    Refused when the contest exists (``contest_exists``, 409) or the constituency has no polling stations
    (``no_stations``). Audited as ``results.contest_created``.
    """
    _lock_imports()
    contest = _contest_create(election=election, constituency=constituency)
    audit.record(
        actor=actor,
        action="results.contest_created",
        target=contest,
        data={"election": election.code, "constituency": constituency.code, "stations": contest.stations.count()},
    )
    return contest


def _contest_create(*, election: Election, constituency: Constituency) -> Contest:
    stations = list(
        PollingStation.objects.filter(constituency=constituency)
        .order_by("number")
        .values_list("pk", "number", "station_type", "male_voters", "female_voters")
    )
    if not stations:
        raise DomainError(
            "no_stations",
            _("%(code)s has no polling stations; import its polling scheme first.") % {"code": constituency.code},
            "constituency",
        )
    try:
        with transaction.atomic():
            contest = Contest.objects.create(election=election, constituency=constituency)
    except IntegrityError as exc:
        raise ConflictError(
            "contest_exists",
            _("%(election)s already has a contest in %(code)s.")
            % {"election": election.code, "code": constituency.code},
        ) from exc
    ContestStation.objects.bulk_create(
        ContestStation(
            contest=contest,
            polling_station_id=pk,
            number=number,
            station_type=station_type,
            male_voters=male,
            female_voters=female,
        )
        for pk, number, station_type, male, female in stations
    )
    return contest
