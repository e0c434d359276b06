"""Offline mode: signed result bundles between a Returning Officer's laptop and the centre.

The laptop runs this same code on its embedded SQLite database with no
network. Its operators key Form-45s there (double entry, supervisor
decisions, Forms 47-49 as usual); ``bundle_export`` writes what the laptop
holds for one contest as a *bundle*: canonical JSON signed with the RO
office's Ed25519 key (``results.signing``). At the centre ``bundle_import``
checks the signature, that the key is an active ``SigningKey`` registered for
that very constituency, and that the bundle's ballot and stations are the
centre's, then imports what is new in one durable transaction with one audit
event (docs/results-offline.md).

The conflict rule: a figure already accepted at the centre is never
overwritten. A station whose centre form has the same figures is skipped; one
whose centre form has different figures is a *conflict*: reported, left as
it is, and the rest of the bundle is still imported (a disagreement at one
station must not hold back the others on election night). The same goes for
Form 47/48/49 versions (same number, different content hash). A contest that
is final at the centre takes nothing from a bundle: everything that would be
written is a conflict. Anything that makes the bundle itself doubtful refuses
the whole bundle and writes nothing: a bad signature, an unknown, inactive or
other constituency's key, a different ballot or station list, a form that
breaks a Form-45 rule (``results.tally.check_form45``), a malformed file.

Bundle file (``FORMAT`` version ``VERSION``), canonical JSON::

    {"payload": {"format", "version", "exported_at", "election", "contest",
                 "candidates", "stations", "forms", "form_versions"},
     "signature": {"algorithm": "Ed25519", "public_key", "signature"}}

The signature is over ``signing.canonical_json(payload)``. Form versions
carry their PDFs (base64) as well as their SHA-256s, so the centre holds the
same evidence as the laptop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import ConflictError, DomainError
from core.models import Constituency, StationType, User

from . import services, signing, tally
from .models import Candidate, Contest, ContestStation, Form45, Form45Entry, FormVersion, SigningKey

audit.register("results.signing_key_registered", "An RO office's public key was registered for offline bundles")
audit.register("results.signing_key_deactivated", "An RO office's bundle signing key was deactivated")
audit.register("results.bundle_exported", "A signed offline results bundle was exported")
audit.register("results.bundle_imported", "A signed offline results bundle was imported")

FORMAT = "ecp-results-bundle"
VERSION = 1
MAX_FIGURE = 2_147_483_647  # PositiveIntegerField
PDF_FOLDER = "results/forms/"


class BundleRefused(DomainError):
    """The bundle was refused as a whole; nothing was written. ``problems`` lists every reason found."""

    def __init__(self, code: str, message: str, problems: Iterable[str] = (), *, status: int | None = None):
        super().__init__(code, message, "bundle", status=status)
        self.problems = list(problems)

    def lines(self) -> list[str]:
        return [self.message, *(f"  - {problem}" for problem in self.problems)]


# --- signing keys ----------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def signing_key_register(*, actor: User | None, constituency_code: str, label: str, public_key: str) -> SigningKey:
    """Trust ``public_key`` (base64 of the raw 32 bytes) for bundles of one constituency."""
    try:
        normalised = signing.normalise_public_key(public_key)
    except signing.BadKey as exc:
        raise DomainError("bad_public_key", _("This is not an Ed25519 public key: %s.") % exc, "public_key") from exc
    label = " ".join(label.split())
    if not label or len(label) > 120:
        raise DomainError("bad_label", _("Give a label of 1 to 120 characters, e.g. the laptop's name."), "label")
    constituency = Constituency.objects.filter(code=constituency_code.strip().upper()).first()
    if constituency is None:
        raise DomainError(
            "unknown_constituency",
            _("There is no constituency %(code)s.") % {"code": constituency_code},
            "constituency",
        )
    try:
        with transaction.atomic():
            key = SigningKey.objects.create(label=label, constituency=constituency, public_key=normalised)
    except IntegrityError as exc:
        other = SigningKey.objects.select_related("constituency").get(public_key=normalised)
        raise ConflictError(
            "key_exists",
            _("This public key is already registered as %(key)s.") % {"key": other},
            "public_key",
        ) from exc
    audit.record(
        actor=actor,
        action="results.signing_key_registered",
        target=key,
        data={"constituency": constituency.code, "label": label, "public_key": normalised},
    )
    return key


@transaction.atomic(durable=True)
def signing_key_deactivate(*, actor: User | None, public_key: str) -> SigningKey:
    """Stop trusting a key (a lost or replaced laptop). Bundles signed with it are refused from now on."""
    try:
        normalised = signing.normalise_public_key(public_key)
    except signing.BadKey as exc:
        raise DomainError("bad_public_key", _("This is not an Ed25519 public key: %s.") % exc, "public_key") from exc
    key = SigningKey.objects.select_for_update().select_related("constituency").filter(public_key=normalised).first()
    if key is None:
        raise DomainError("unknown_key", _("This public key is not registered."), "public_key", status=404)
    if not key.is_active:
        raise ConflictError("key_inactive", _("This key is already inactive."), "public_key")
    SigningKey.objects.filter(pk=key.pk).update(is_active=False)
    key.is_active = False
    audit.record(
        actor=actor,
        action="results.signing_key_deactivated",
        target=key,
        data={"constituency": key.constituency.code, "label": key.label, "public_key": normalised},
    )
    return key


# --- export (on the laptop) ------------------------------------------------------------------------------------


def bundle_contest_get(*, constituency_code: str, election_code: str = "") -> Contest:
    """The contest to export: the constituency's only contest, or the one of ``election_code``."""
    contests = Contest.objects.select_related("election", "constituency").filter(
        constituency__code=constituency_code.strip().upper()
    )
    if election_code:
        contests = contests.filter(election__code=election_code)
    found = list(contests[:2])
    if not found:
        raise DomainError(
            "contest_not_found",
            _("There is no contest in %(code)s%(election)s.")
            % {"code": constituency_code, "election": f" ({election_code})" if election_code else ""},
            "contest",
            status=404,
        )
    if len(found) > 1:
        codes = ", ".join(sorted(c.election.code for c in contests))
        raise DomainError(
            "contest_ambiguous",
            _("%(code)s has contests in several elections (%(codes)s); name one with --election.")
            % {"code": constituency_code, "codes": codes},
            "election",
        )
    return found[0]


@dataclass(frozen=True)
class ExportedBundle:
    data: bytes  # the file's bytes (canonical JSON)
    sha256: str
    contest: str
    public_key: str
    stations: int
    forms: int
    form_versions: int


@transaction.atomic(durable=True)
def bundle_export(
    *, actor: User | None, contest: Contest, private_key: Ed25519PrivateKey, with_form_versions: bool = True
) -> ExportedBundle:
    """Build and sign the bundle of ``contest``; record the export (with the bundle's SHA-256) in the audit trail.

    ``with_form_versions=False`` leaves the Form 47/48/49 versions out (figures of Form-45s only), for when a
    version's PDF is missing or damaged and the Form-45s must still travel.
    """
    payload = _payload(contest, with_form_versions=with_form_versions)
    document = signing.sign_document(payload, private_key)
    data = signing.canonical_json(document)
    exported = ExportedBundle(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        contest=str(contest),
        public_key=document["signature"]["public_key"],
        stations=len(payload["stations"]),
        forms=len(payload["forms"]),
        form_versions=len(payload["form_versions"]),
    )
    audit.record(
        actor=actor,
        action="results.bundle_exported",
        target=contest,
        data={
            "sha256": exported.sha256,
            "public_key": exported.public_key,
            "exported_at": payload["exported_at"],
            "stations": exported.stations,
            "forms": exported.forms,
            "form_versions": exported.form_versions,
        },
    )
    return exported


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _payload(contest: Contest, *, with_form_versions: bool) -> dict[str, Any]:
    election = contest.election
    candidates = list(Candidate.objects.filter(contest=contest).order_by("ballot_order"))
    ballot_orders = {c.pk: c.ballot_order for c in candidates}
    stations = list(ContestStation.objects.filter(contest=contest).order_by("number"))
    forms = list(
        Form45.objects.filter(contest_station__contest=contest)
        .select_related("contest_station")
        .prefetch_related("votes")
        .order_by("contest_station__number")
    )
    versions = (
        list(FormVersion.objects.filter(contest=contest).order_by("form", "version")) if with_form_versions else []
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _iso(timezone.now()),
        "election": {
            "code": election.code,
            "name": election.name,
            "name_ur": election.name_ur,
            "kind": election.kind,
            "poll_date": election.poll_date.isoformat(),
        },
        "contest": {
            "constituency": contest.constituency.code,
            "constituency_name": contest.constituency.name,
            "status": contest.status,
        },
        "candidates": [
            {
                "ballot_order": c.ballot_order,
                "name": c.name,
                "name_ur": c.name_ur,
                "party": c.party,
                "party_ur": c.party_ur,
                "symbol": c.symbol,
                "symbol_ur": c.symbol_ur,
            }
            for c in candidates
        ],
        "stations": [
            {
                "number": s.number,
                "station_type": s.station_type,
                "male_voters": s.male_voters,
                "female_voters": s.female_voters,
            }
            for s in stations
        ],
        "forms": [
            {
                "station": f.contest_station.number,
                "polled_male": f.polled_male,
                "polled_female": f.polled_female,
                "polled_total": f.polled_total,
                "excluded": f.excluded,
                "counted_at": _iso(f.counted_at),
                "accepted_at": _iso(f.accepted_at),
                "source": f.source,
                "votes": {str(ballot_orders[v.candidate_id]): v.votes for v in f.votes.all()},
            }
            for f in forms
        ],
        "form_versions": [_version_payload(v) for v in versions],
    }


def _version_payload(version: FormVersion) -> dict[str, Any]:
    pdfs = {}
    for lang in ("en", "ur"):
        stored: str = getattr(version, f"pdf_{lang}_sha256")
        file = getattr(version, f"pdf_{lang}")
        label = f"Form-{version.form} v{version.version} ({lang})"
        try:
            with file.open("rb") as stream:
                content = stream.read()
        except (OSError, ValueError) as exc:
            raise DomainError(
                "pdf_missing",
                _(
                    "The PDF of %(form)s cannot be read (%(error)s); export with --no-form-versions to send the "
                    "Form-45s alone."
                )
                % {"form": label, "error": exc},
            ) from exc
        if hashlib.sha256(content).hexdigest() != stored:
            raise DomainError(
                "pdf_altered",
                _(
                    "The PDF of %(form)s does not match its recorded SHA-256: it was changed after it was produced. "
                    "Export with --no-form-versions to send the Form-45s alone, and report it."
                )
                % {"form": label},
            )
        pdfs[f"pdf_{lang}"] = base64.b64encode(content).decode("ascii")
    return {
        "form": version.form,
        "version": version.version,
        "figures": version.figures,
        "content_hash": version.content_hash,
        "produced_at": _iso(version.produced_at),
        "pdf_en_sha256": version.pdf_en_sha256,
        "pdf_ur_sha256": version.pdf_ur_sha256,
        **pdfs,
    }


# --- reading a bundle (no database) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleCandidate:
    ballot_order: int
    name: str


@dataclass(frozen=True)
class BundleStation:
    number: int
    station_type: str
    male_voters: int
    female_voters: int


@dataclass(frozen=True)
class BundleForm:
    station: int
    polled_male: int
    polled_female: int
    polled_total: int
    excluded: int
    counted_at: datetime | None
    source: str
    votes: dict[int, int]


@dataclass(frozen=True)
class BundleFormVersion:
    form: str
    version: int
    figures: Any
    content_hash: str
    produced_at: datetime
    pdf_en_sha256: str
    pdf_ur_sha256: str
    pdf_en: bytes
    pdf_ur: bytes

    @property
    def label(self) -> str:
        return f"Form-{self.form} v{self.version}"


@dataclass(frozen=True)
class Bundle:
    sha256: str  # of the file's bytes
    public_key: str
    exported_at: datetime
    election_code: str
    constituency_code: str
    contest_status: str  # on the laptop; never imported
    candidates: list[BundleCandidate]
    stations: list[BundleStation]
    forms: list[BundleForm]
    form_versions: list[BundleFormVersion]


def bundle_read(data: bytes) -> Bundle:
    """Parse a bundle file and check its signature and shape; raise ``BundleRefused``. Touches no database.

    The signature proves only that the holder of *some* key signed it; whether that key is trusted for the
    constituency is the import's question.
    """
    try:
        document = signing.parse_json(data)
    except signing.NotCanonical as exc:
        raise BundleRefused("bundle_unreadable", _("This is not a results bundle: %s.") % exc) from exc
    try:
        payload, public_key = signing.verify_document(document)
    except (signing.BadSignature, signing.BadKey, signing.NotCanonical) as exc:
        raise BundleRefused(
            "bad_signature",
            _("The bundle's signature does not verify (%s): it was altered after signing, or damaged.") % exc,
        ) from exc
    reader = _Reader()
    bundle = reader.bundle(payload, sha256=hashlib.sha256(data).hexdigest(), public_key=public_key)
    if reader.problems or bundle is None:
        raise BundleRefused(
            "bundle_malformed",
            _("The bundle is signed but malformed (%(count)d problems); nothing was imported.")
            % {"count": len(reader.problems)},
            reader.problems,
        )
    return bundle


class _Reader:
    """Typed access to the parsed payload; every problem is collected with its JSON path."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def obj(self, value: Any, path: str, keys: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(path, "must be an object")
            return None
        if missing := sorted(keys - set(value)):
            self.problem(path, f"lacks {', '.join(missing)}")
            return None
        if extra := sorted(set(value) - keys):
            self.problem(path, f"has members this version does not know: {', '.join(extra)}")
        return value

    def items(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            self.problem(path, "must be a list")
            return []
        return value

    def whole(self, value: Any, path: str, *, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_FIGURE:
            self.problem(path, f"must be a whole number from {minimum} to {MAX_FIGURE:,}, not {value!r}")
            return minimum
        return value

    def text(self, value: Any, path: str, *, choices: Iterable[str] | None = None, nonempty: bool = False) -> str:
        if not isinstance(value, str) or (nonempty and not value):
            self.problem(path, "must be a non-empty string" if nonempty else "must be a string")
            return ""
        if choices is not None and value not in (allowed := list(choices)):
            self.problem(path, f"must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def moment(self, value: Any, path: str, *, nullable: bool = False) -> datetime | None:
        if value is None and nullable:
            return None
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            self.problem(path, f"must be an ISO 8601 date and time with its UTC offset, not {value!r}")
            return None
        return moment

    def b64(self, value: Any, path: str) -> bytes:
        try:
            return base64.b64decode(value.encode("ascii"), validate=True) if isinstance(value, str) else b""
        except (binascii.Error, UnicodeEncodeError):
            self.problem(path, "must be base64")
            return b""

    def bundle(self, payload: Any, *, sha256: str, public_key: str) -> Bundle | None:
        keys = {"format", "version", "exported_at", "election", "contest", "candidates", "stations", "forms"}
        p = self.obj(payload, "payload", keys | {"form_versions"})
        if p is None:
            return None
        if p["format"] != FORMAT or p["version"] != VERSION:
            self.problem("payload", f"is {p['format']!r} version {p['version']!r}, not {FORMAT!r} version {VERSION}")
            return None
        exported_at = self.moment(p["exported_at"], "exported_at")
        election = self.obj(p["election"], "election", {"code", "name", "name_ur", "kind", "poll_date"})
        contest = self.obj(p["contest"], "contest", {"constituency", "constituency_name", "status"})
        election_code = self.text(election["code"], "election.code", nonempty=True) if election else ""
        if election:
            try:
                date.fromisoformat(self.text(election["poll_date"], "election.poll_date"))
            except ValueError:
                self.problem("election.poll_date", "must be a date like 2026-02-08")
        constituency = self.text(contest["constituency"], "contest.constituency", nonempty=True) if contest else ""
        status = self.text(contest["status"], "contest.status", choices=Contest.Status.values) if contest else ""

        candidates = []
        for i, item in enumerate(self.items(p["candidates"], "candidates")):
            path = f"candidates[{i}]"
            c = self.obj(item, path, {"ballot_order", "name", "name_ur", "party", "party_ur", "symbol", "symbol_ur"})
            if c is not None:
                for name in ("name_ur", "party", "party_ur", "symbol", "symbol_ur"):
                    self.text(c[name], f"{path}.{name}")
                candidates.append(
                    BundleCandidate(
                        self.whole(c["ballot_order"], f"{path}.ballot_order", minimum=1),
                        self.text(c["name"], f"{path}.name", nonempty=True),
                    )
                )
        ballot = self.unique([c.ballot_order for c in candidates], "candidates", "ballot order")

        stations = []
        for i, item in enumerate(self.items(p["stations"], "stations")):
            path = f"stations[{i}]"
            s = self.obj(item, path, {"number", "station_type", "male_voters", "female_voters"})
            if s is not None:
                stations.append(
                    BundleStation(
                        self.whole(s["number"], f"{path}.number", minimum=1),
                        self.text(s["station_type"], f"{path}.station_type", choices=StationType.values),
                        self.whole(s["male_voters"], f"{path}.male_voters"),
                        self.whole(s["female_voters"], f"{path}.female_voters"),
                    )
                )
        numbers = self.unique([s.number for s in stations], "stations", "station number")

        forms = []
        for i, item in enumerate(self.items(p["forms"], "forms")):
            form = self.form(item, f"forms[{i}]", ballot, numbers)
            if form is not None:
                forms.append(form)
        self.unique([f.station for f in forms], "forms", "station")

        versions = []
        for i, item in enumerate(self.items(p.get("form_versions", []), "form_versions")):
            version = self.form_version(item, f"form_versions[{i}]")
            if version is not None:
                versions.append(version)
        self.unique([(v.form, v.version) for v in versions], "form_versions", "form and version")

        if self.problems or exported_at is None:
            return None
        return Bundle(
            sha256=sha256,
            public_key=public_key,
            exported_at=exported_at,
            election_code=election_code,
            constituency_code=constituency,
            contest_status=status,
            candidates=candidates,
            stations=stations,
            forms=forms,
            form_versions=versions,
        )

    def unique(self, values: list[Any], path: str, what: str) -> set[Any]:
        seen: set[Any] = set()
        for value in values:
            if value in seen:
                self.problem(path, f"the {what} {value} appears twice")
            seen.add(value)
        return seen

    def form(self, item: Any, path: str, ballot: set[int], numbers: set[int]) -> BundleForm | None:
        keys = {"station", "polled_male", "polled_female", "polled_total", "excluded", "counted_at", "accepted_at"}
        f = self.obj(item, path, keys | {"source", "votes"})
        if f is None:
            return None
        station = self.whole(f["station"], f"{path}.station", minimum=1)
        if station not in numbers:
            self.problem(f"{path}.station", f"station {station} is not in the bundle's stations")
        votes: dict[int, int] = {}
        raw_votes = f["votes"] if isinstance(f["votes"], dict) else {}
        if not isinstance(f["votes"], dict):
            self.problem(f"{path}.votes", "must be an object of ballot order: votes")
        for key, value in raw_votes.items():
            order = int(key) if key.isdigit() and key == str(int(key)) else None
            if order is None or order not in ballot:
                self.problem(f"{path}.votes", f"{key!r} is not a ballot order of the bundle's candidates")
                continue
            votes[order] = self.whole(value, f"{path}.votes.{key}")
        if missing := sorted(ballot - set(votes)):
            self.problem(f"{path}.votes", f"lacks ballot orders {', '.join(map(str, missing))}")
        self.moment(f["accepted_at"], f"{path}.accepted_at", nullable=True)
        return BundleForm(
            station=station,
            polled_male=self.whole(f["polled_male"], f"{path}.polled_male"),
            polled_female=self.whole(f["polled_female"], f"{path}.polled_female"),
            polled_total=self.whole(f["polled_total"], f"{path}.polled_total"),
            excluded=self.whole(f["excluded"], f"{path}.excluded"),
            counted_at=self.moment(f["counted_at"], f"{path}.counted_at", nullable=True),
            source=self.text(f["source"], f"{path}.source", choices=Form45.Source.values),
            votes=votes,
        )

    def form_version(self, item: Any, path: str) -> BundleFormVersion | None:
        keys = {"form", "version", "figures", "content_hash", "produced_at", "pdf_en_sha256", "pdf_ur_sha256"}
        v = self.obj(item, path, keys | {"pdf_en", "pdf_ur"})
        if v is None:
            return None
        pdfs = {}
        for lang in ("en", "ur"):
            content = self.b64(v[f"pdf_{lang}"], f"{path}.pdf_{lang}")
            declared = self.text(v[f"pdf_{lang}_sha256"], f"{path}.pdf_{lang}_sha256")
            if hashlib.sha256(content).hexdigest() != declared:
                self.problem(f"{path}.pdf_{lang}", "the PDF does not match its SHA-256")
            pdfs[lang] = (content, declared)
        produced_at = self.moment(v["produced_at"], f"{path}.produced_at")
        return BundleFormVersion(
            form=self.text(v["form"], f"{path}.form", choices=FormVersion.Form.values),
            version=self.whole(v["version"], f"{path}.version", minimum=1),
            figures=v["figures"],
            content_hash=self.text(v["content_hash"], f"{path}.content_hash", nonempty=True),
            produced_at=produced_at or datetime.min.replace(tzinfo=UTC),
            pdf_en_sha256=pdfs["en"][1],
            pdf_ur_sha256=pdfs["ur"][1],
            pdf_en=pdfs["en"][0],
            pdf_ur=pdfs["ur"][0],
        )


# --- import (at the centre) -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    """Something in the bundle that disagrees with what the centre already holds; left as the centre has it."""

    kind: str  # "form45" or "form_version"
    code: str  # "figures_differ", "contest_final", "content_differs"
    what: str  # "PS-12", "Form-47 v2"
    message: str
    fields: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BundleImportReport:
    file_name: str
    sha256: str
    election: str
    constituency: str
    key: str  # the SigningKey's label
    exported_at: str
    stations: int
    forms: int
    forms_created: int
    forms_unchanged: int
    versions: int
    versions_created: int
    versions_unchanged: int
    conflicts: list[Conflict]
    warnings: list[str]
    created_stations: list[int]  # station numbers whose Form-45 came from this bundle
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bundle_import(
    *, actor: User | None, data: bytes, file_name: str = "bundle", dry_run: bool = False
) -> BundleImportReport:
    """Check and import a bundle (see the module docstring). Raise ``BundleRefused`` and write nothing if it
    cannot be trusted or does not fit; otherwise import what is new and report conflicts.

    ``dry_run`` runs every check and reports what an import would do, writing nothing.
    """
    bundle = bundle_read(data)
    plan = _plan(bundle, lock=False)
    if dry_run:
        return plan.report(file_name=file_name, dry_run=True)
    # PDFs are stored before the transaction, under their SHA-256: a refused or raced import leaves at worst an
    # unreferenced file, never a version row without its file.
    for version in plan.versions_to_create:
        _store_pdf(version.pdf_en, version.pdf_en_sha256)
        _store_pdf(version.pdf_ur, version.pdf_ur_sha256)
    return _import(actor=actor, bundle=bundle, file_name=file_name)


@transaction.atomic(durable=True)
def _import(*, actor: User | None, bundle: Bundle, file_name: str) -> BundleImportReport:
    plan = _plan(bundle, lock=True)
    plan.apply()
    report = plan.report(file_name=file_name)
    audit.record(
        actor=actor,
        action="results.bundle_imported",
        target=plan.contest,
        data={**report.as_dict(), "signing_key_id": plan.key.pk},
    )
    return report


def _pdf_name(sha256: str) -> str:
    return f"{PDF_FOLDER}{sha256}.pdf"


def _store_pdf(content: bytes, sha256: str) -> str:
    name = _pdf_name(sha256)
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(content))
        if saved != name:  # another import stored the same bytes a moment ago; keep one copy
            default_storage.delete(saved)
    return name


@dataclass
class _Plan:
    bundle: Bundle
    key: SigningKey
    contest: Contest
    stations: dict[int, ContestStation]  # number -> station
    candidates: dict[int, Candidate]  # ballot order -> candidate
    forms_to_create: list[tuple[BundleForm, tally.Form45Figures, list[tally.Finding]]]
    forms_unchanged: int
    versions_to_create: list[BundleFormVersion]
    versions_unchanged: int
    conflicts: list[Conflict]
    warnings: list[str]

    def report(self, *, file_name: str, dry_run: bool = False) -> BundleImportReport:
        b = self.bundle
        return BundleImportReport(
            file_name=file_name,
            sha256=b.sha256,
            election=b.election_code,
            constituency=b.constituency_code,
            key=self.key.label,
            exported_at=_iso(b.exported_at) or "",
            stations=len(b.stations),
            forms=len(b.forms),
            forms_created=len(self.forms_to_create),
            forms_unchanged=self.forms_unchanged,
            versions=len(b.form_versions),
            versions_created=len(self.versions_to_create),
            versions_unchanged=self.versions_unchanged,
            conflicts=self.conflicts,
            warnings=self.warnings,
            created_stations=[form.station for form, _figures, _warnings in self.forms_to_create],
            dry_run=dry_run,
        )

    def apply(self) -> None:
        note = _("Imported from offline bundle %(sha)s, signed by %(key)s") % {
            "sha": self.bundle.sha256[:16],
            "key": self.key.label,
        }
        for form, figures, warnings in self.forms_to_create:
            station = self.stations[form.station]
            services.accept(
                station=station,
                figures=figures,
                source=Form45.Source.BUNDLE,
                candidates=self.candidates,
                counted_at=form.counted_at,
                decision_note=f"{note} (accepted there by {form.source.replace('_', ' ')})"[:500],
            )
            services.raise_station_flags(station, warnings)
            services.recheck_form46(station, figures)
        if self.forms_to_create:
            services.contest_changed(self.contest, reason="bundle_import")
        for version in self.versions_to_create:
            FormVersion.objects.create(
                contest=self.contest,
                form=version.form,
                version=version.version,
                figures=version.figures,
                content_hash=version.content_hash,
                pdf_en=_store_pdf(version.pdf_en, version.pdf_en_sha256),
                pdf_en_sha256=version.pdf_en_sha256,
                pdf_ur=_store_pdf(version.pdf_ur, version.pdf_ur_sha256),
                pdf_ur_sha256=version.pdf_ur_sha256,
                produced_at=version.produced_at,
            )


def _plan(bundle: Bundle, *, lock: bool) -> _Plan:
    """Every check against the centre's database, and what an import would write. Raises ``BundleRefused``."""
    key = _trusted_key(bundle, lock=lock)
    contest = (
        Contest.objects.select_related("election", "constituency")
        .filter(election__code=bundle.election_code, constituency__code=bundle.constituency_code)
        .first()
    )
    if contest is None:
        raise BundleRefused(
            "contest_not_found",
            _("The centre has no contest for %(election)s in %(code)s; import its candidates first.")
            % {"election": bundle.election_code, "code": bundle.constituency_code},
            status=404,
        )
    station_rows = ContestStation.objects.filter(contest=contest).order_by("pk")
    if lock:
        # Keying a Form-45 locks its ContestStation row, then the Contest row (results.services): the same
        # order here — every station of the contest, then the contest — means no form is accepted at the
        # centre between this comparison and the commit, and the two never wait for each other in a cycle.
        station_rows = station_rows.select_for_update()
    stations = {s.number: s for s in station_rows}
    if lock:
        contest = (
            Contest.objects.select_for_update(of=("self",))
            .select_related("election", "constituency")
            .get(pk=contest.pk)
        )
    candidates = {c.ballot_order: c for c in Candidate.objects.filter(contest=contest)}
    warnings = _compare_setup(bundle, stations, candidates)

    centre_forms = {
        f.contest_station_id: f
        for f in Form45.objects.filter(contest_station__contest=contest).prefetch_related("votes__candidate")
    }
    conflicts: list[Conflict] = []
    problems: list[str] = []
    to_create = []
    unchanged = 0
    for form in bundle.forms:
        station = stations[form.station]
        figures = tally.Form45Figures(
            station_type=station.station_type,  # type: ignore[arg-type]
            registered_male=station.male_voters,
            registered_female=station.female_voters,
            polled_male=form.polled_male,
            polled_female=form.polled_female,
            polled_total=form.polled_total,
            excluded=form.excluded,
            votes=form.votes,
        )
        centre = centre_forms.get(station.pk)
        if centre is not None:
            differences = tally.entry_differences(_centre_figures(station, centre), figures)
            if not differences:
                unchanged += 1
                continue
            conflicts.append(
                Conflict(
                    kind="form45",
                    code="figures_differ",
                    what=f"PS-{form.station}",
                    message=_("The centre's accepted Form-45 has different figures (%(fields)s); it was kept.")
                    % {"fields": ", ".join(differences)},
                    fields=differences,
                )
            )
            continue
        if contest.is_locked:
            conflicts.append(_final_conflict("form45", f"PS-{form.station}"))
            continue
        try:
            warnings_ = services.validate_figures(station, _as_service_figures(form), set(candidates))
        except DomainError as error:
            details = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.fields.items())
            problems.append(f"PS-{form.station}: {error.message} [{error.code}]" + (f" ({details})" if details else ""))
            continue
        to_create.append((form, figures, warnings_))
    if problems:
        raise BundleRefused(
            "form45_invalid",
            _("%(count)d Form-45s in the bundle break the Form-45 rules; nothing was imported.")
            % {"count": len(problems)},
            problems,
        )

    centre_versions = {
        (v.form, v.version): v.content_hash
        for v in FormVersion.objects.filter(contest=contest).only("form", "version", "content_hash")
    }
    versions_to_create = []
    versions_unchanged = 0
    for version in bundle.form_versions:
        centre_hash = centre_versions.get((version.form, version.version))
        if centre_hash == version.content_hash:
            versions_unchanged += 1
        elif centre_hash is not None:
            conflicts.append(
                Conflict(
                    kind="form_version",
                    code="content_differs",
                    what=version.label,
                    message=_("The centre's %(form)s has a different content hash; it was kept.")
                    % {"form": version.label},
                )
            )
        elif contest.is_locked:
            conflicts.append(_final_conflict("form_version", version.label))
        else:
            versions_to_create.append(version)

    if bundle.contest_status != contest.status:
        warnings.append(
            _(
                "The contest is %(theirs)s on the laptop and %(ours)s at the centre; an import never changes a "
                "contest's status (that is the RO's act at the centre)."
            )
            % {"theirs": bundle.contest_status, "ours": contest.status}
        )
    entries = sorted(
        set(
            Form45Entry.objects.filter(
                contest_station__in=[stations[form.station] for form, _f, _w in to_create],
                status__in=(Form45Entry.Status.WAITING, Form45Entry.Status.MISMATCHED),
            ).values_list("contest_station__number", flat=True)
        )
    )
    if entries:
        warnings.append(
            _(
                "The centre has unfinished entries for stations %(numbers)s; the bundle's forms are accepted and those "
                "entries are left as they are."
            )
            % {"numbers": ", ".join(map(str, entries))}
        )
    return _Plan(
        bundle=bundle,
        key=key,
        contest=contest,
        stations=stations,
        candidates=candidates,
        forms_to_create=to_create,
        forms_unchanged=unchanged,
        versions_to_create=versions_to_create,
        versions_unchanged=versions_unchanged,
        conflicts=conflicts,
        warnings=warnings,
    )


def _trusted_key(bundle: Bundle, *, lock: bool) -> SigningKey:
    keys = SigningKey.objects.select_related("constituency").filter(public_key=bundle.public_key)
    if lock:  # a deactivation waits for this import's commit, or this import sees it
        keys = keys.select_for_update(of=("self",))
    key = keys.first()
    if key is None:
        raise BundleRefused(
            "unknown_key",
            _("The bundle is signed with a key the centre does not know (%(key)s); register the RO's key first.")
            % {"key": bundle.public_key},
            status=403,
        )
    if not key.is_active:
        raise BundleRefused(
            "key_inactive",
            _("The bundle is signed with %(key)s, which is no longer active; bundles signed with it are refused.")
            % {"key": key},
            status=403,
        )
    if key.constituency.code != bundle.constituency_code:
        raise BundleRefused(
            "key_wrong_constituency",
            _("The bundle is for %(code)s but is signed with %(key)s, a key of another constituency.")
            % {"code": bundle.constituency_code, "key": key},
            status=403,
        )
    return key


def _compare_setup(bundle: Bundle, stations: dict[int, ContestStation], candidates: dict[int, Candidate]) -> list[str]:
    """Refuse a bundle whose ballot or station list differs from the centre's; return milder differences."""
    problems = []
    ours, theirs = set(candidates), {c.ballot_order for c in bundle.candidates}
    if ours != theirs:
        problems.append(
            _("ballot orders: the centre has %(ours)s, the bundle %(theirs)s")
            % {"ours": _numbers(ours), "theirs": _numbers(theirs)}
        )
    ours, theirs = set(stations), {s.number for s in bundle.stations}
    if ours != theirs:
        only_centre, only_bundle = sorted(ours - theirs), sorted(theirs - ours)
        problems.append(
            _("station numbers differ: only at the centre %(centre)s; only in the bundle %(bundle)s")
            % {"centre": _numbers(only_centre), "bundle": _numbers(only_bundle)}
        )
    if problems:
        raise BundleRefused(
            "bundle_mismatch",
            _("The bundle's contest is not set up like the centre's; nothing was imported."),
            problems,
            status=409,
        )
    warnings = []
    for c in bundle.candidates:
        if " ".join(c.name.split()).casefold() != " ".join(candidates[c.ballot_order].name.split()).casefold():
            warnings.append(
                _(
                    'Candidate %(n)d is "%(theirs)s" in the bundle but "%(ours)s" at the centre (votes go by ballot '
                    "order)."
                )
                % {"n": c.ballot_order, "theirs": c.name, "ours": candidates[c.ballot_order].name}
            )
    for s in bundle.stations:
        ours_station = stations[s.number]
        if (s.station_type, s.male_voters, s.female_voters) != (
            ours_station.station_type,
            ours_station.male_voters,
            ours_station.female_voters,
        ):
            warnings.append(
                _("PS-%(n)d is %(theirs)s in the bundle but %(ours)s at the centre; the centre's figures are used.")
                % {
                    "n": s.number,
                    "theirs": f"{s.station_type} {s.male_voters:,}+{s.female_voters:,}",
                    "ours": f"{ours_station.station_type} {ours_station.male_voters:,}+{ours_station.female_voters:,}",
                }
            )
    return warnings


def _numbers(numbers: Iterable[int], limit: int = 20) -> str:
    ordered = sorted(numbers)
    if not ordered:
        return "none"
    shown = ", ".join(map(str, ordered[:limit]))
    return shown + (f" … ({len(ordered) - limit} more)" if len(ordered) > limit else "")


def _centre_figures(station: ContestStation, form: Form45) -> tally.Form45Figures:
    return tally.Form45Figures(
        station_type=station.station_type,  # type: ignore[arg-type]
        registered_male=station.male_voters,
        registered_female=station.female_voters,
        polled_male=form.polled_male,
        polled_female=form.polled_female,
        polled_total=form.polled_total,
        excluded=form.excluded,
        votes={v.candidate.ballot_order: v.votes for v in form.votes.all()},
    )


def _as_service_figures(form: BundleForm) -> services.Figures:
    return services.Figures(
        polled_male=form.polled_male,
        polled_female=form.polled_female,
        polled_total=form.polled_total,
        excluded=form.excluded,
        votes=form.votes,
        counted_at=form.counted_at,
    )


def _final_conflict(kind: str, what: str) -> Conflict:
    return Conflict(
        kind=kind,
        code="contest_final",
        what=what,
        message=_("The contest is final at the centre (Form-49 signed); nothing is added to it."),
    )
