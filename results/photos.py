"""Form-45 pictures: the Presiding Officer's upload, the Returning Officer's
decision, and the reads of the RO screens and the public station page.

``photo_upload`` (one use case, idempotent):

1. A resend with the same idempotency key by the same uploader returns the
   first answer (the picture already stored; 200 instead of 201), and so does
   the very same file sent again for the same station. Both are also unique
   constraints, so two requests at the same moment cannot make two rows.
2. Scope: a Presiding Officer sends pictures for the stations of the
   contests of their constituency only (403 otherwise).
3. The bytes are checked and decoded by ``results.forensics.decode_picture``
   (size, type by content, pixel limit, a full decode): a refusal is a
   ``DomainError`` naming the field ``photo`` and writes nothing.
4. Under the station's row lock and the pictures' lock, the picture is
   compared with the others of the election (same SHA-256, near perceptual
   hash), with the station's earlier pictures, its coordinates and the
   election's close of poll (``forensics.check_picture``). The original bytes
   are stored under ``results/photos/`` named by their SHA-256, the row
   written with its findings, the findings mirrored as the station's
   ``photo.*`` flags, a same/near-identical match flagged on the other station
   (and its picture) too, and the receipt audited.

Nothing is decided automatically: the RO accepts or queries each picture
(``photo_decide``, audited).

Lock order: ContestStation row, then the pictures' lock (a transaction-scoped
advisory lock on PostgreSQL; SQLite has a single writer), then other
pictures' rows, then the audit chain (``core.audit``). The pictures' lock
makes the comparison with the other pictures and the insert one step, so two
identical pictures sent for two stations at the same moment still see each
other, and a file named by its hash is never removed by one request while
another counts on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, F, Func, Q, QuerySet, Value
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.db import advisory_xact_lock
from core.exceptions import ConflictError, DomainError
from core.models import Role, User
from core.selectors import scope_to_constituencies

from . import forensics
from .messages import finding_text
from .models import Candidate, Contest, ContestStation, Flag, Form45, Form45Photo
from .services import raise_station_flags, require_scope

UPLOAD_ROLES = (Role.PRESIDING_OFFICER,)
REVIEW_ROLES = (Role.RETURNING_OFFICER,)
PHOTO_DIR = "results/photos/"
PHOTO_RULE_PREFIX = "photo."
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")
# An arbitrary fixed key for pg_advisory_xact_lock: "ECPPHOTO" in ASCII.
_ADVISORY_LOCK_KEY = 0x45435050484F544F & 0x7FFFFFFFFFFFFFFF

audit.register("results.photo_received", "A Presiding Officer sent a picture of a signed Form-45")
audit.register("results.photo_decided", "The Returning Officer accepted or queried a Form-45 picture")


# --- sentences -----------------------------------------------------------------------

REFUSAL_MESSAGES = {
    "photo.empty": gettext_lazy("The file is empty. Choose the picture again."),
    "photo.too_large": gettext_lazy(
        "The file is too large (%(size_mb)s MB); pictures of up to %(limit_mb)s MB are accepted."
    ),
    "photo.wrong_type": gettext_lazy(
        "This file is not a JPEG or PNG picture. Photograph the signed Form-45 and send that picture."
    ),
    "photo.too_many_pixels": gettext_lazy(
        "The picture has too many pixels (at most %(limit_mp)s million are accepted). "
        "Take it again at the camera's normal size."
    ),
    "photo.unreadable": gettext_lazy(
        "The picture could not be read to the end: it is incomplete or damaged. Send it again."
    ),
}

FINDING_MESSAGES = {
    "photo.no_exif": gettext_lazy(
        "The picture carries no EXIF (messaging apps remove it): where, when and with what it was taken "
        "cannot be checked."
    ),
    "photo.no_gps": gettext_lazy("The picture has no GPS position: where it was taken cannot be checked."),
    "photo.no_capture_time": gettext_lazy("The picture has no capture time: when it was taken cannot be checked."),
    "photo.station_unlocated": gettext_lazy(
        "The polling station has no coordinates on file: the distance cannot be checked."
    ),
    "photo.far_from_station": gettext_lazy(
        "Taken %(distance_m)s m from the polling station (more than %(radius_m)s m)."
    ),
    "photo.taken_before_close": gettext_lazy(
        "Taken at %(taken)s, %(hours_before)s h before the close of poll (%(close)s)."
    ),
    "photo.taken_long_before_receipt": gettext_lazy(
        "Taken %(hours)s h before it was received (more than %(max_hours)s h)."
    ),
    "photo.taken_after_receipt": gettext_lazy(
        "The capture time is %(hours)s h after the time received: the camera's clock is wrong or the picture "
        "was edited."
    ),
    "photo.same_picture": gettext_lazy("The same file was sent for %(stations)s."),
    "photo.near_duplicate": gettext_lazy("A near-identical picture was sent for %(stations)s."),
    "photo.replaced": gettext_lazy(
        "Pictures sent earlier for this polling station: %(count)s (every picture is kept)."
    ),
}


def _local_time(text: Any) -> str:
    moment = datetime.fromisoformat(str(text))
    return formats.date_format(timezone.localtime(moment), "j M Y, H:i")


def photo_finding_text(rule: str, data: dict[str, Any], fallback: str) -> str:
    """A finding's sentence in the active language (picture rules here, the Form-45 rules in results.messages)."""
    template = FINDING_MESSAGES.get(rule)
    if template is None:
        return finding_text(rule, data, fallback)
    values = dict(data)
    try:
        if "taken_at" in data:
            values["taken"] = _local_time(data["taken_at"])
        if "poll_close_at" in data:
            values["close"] = _local_time(data["poll_close_at"])
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return fallback


def findings_shown(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored findings ({"rule", "severity", "message", "data"}) with their sentence in the active language."""
    return [
        {
            "rule": f.get("rule", ""),
            "severity": f.get("severity", "warning"),
            "text": photo_finding_text(str(f.get("rule", "")), dict(f.get("data") or {}), str(f.get("message", ""))),
            "data": f.get("data") or {},
        }
        for f in findings
    ]


def _refusal(exc: forensics.PictureRefused) -> DomainError:
    values = {
        "size_mb": f"{exc.data.get('size', 0) / 1048576:.1f}",
        "limit_mb": f"{settings.RESULTS_PHOTO_MAX_BYTES / 1048576:g}",
        "limit_mp": f"{settings.RESULTS_PHOTO_MAX_PIXELS / 1_000_000:g}",
    }
    return DomainError(exc.code, str(REFUSAL_MESSAGES[exc.code]) % values, "photo")


# --- helpers ---------------------------------------------------------------------------


def limits() -> forensics.Limits:
    return forensics.Limits(
        radius_m=float(settings.RESULTS_PHOTO_RADIUS_M),
        max_age_hours=float(settings.RESULTS_PHOTO_MAX_AGE_HOURS),
        phash_distance=int(settings.RESULTS_PHOTO_PHASH_DISTANCE),
    )


def station_label(constituency_code: str, number: int) -> str:
    return f"{constituency_code} PS-{number}"


def photo_path(sha256: str, content_type: str) -> str:
    return f"{PHOTO_DIR}{sha256}.{forensics.EXTENSIONS[content_type]}"


def _station_queryset() -> QuerySet[ContestStation]:
    return ContestStation.objects.select_related("contest__constituency", "contest__election", "polling_station")


def _no_station() -> DomainError:
    return DomainError(
        "station_not_in_contest", _("There is no such polling station in this contest."), "contest_station", status=404
    )


def _read(content: bytes | IO[bytes]) -> bytes:
    """The upload's bytes, reading at most one byte more than the limit (an oversized file is not slurped)."""
    limit = settings.RESULTS_PHOTO_MAX_BYTES
    if isinstance(content, bytes | bytearray):
        return bytes(content)
    size = getattr(content, "size", None)
    if isinstance(size, int) and size > limit:
        raise _refusal(forensics.PictureRefused("photo.too_large", "", size=size))
    if hasattr(content, "seek"):
        content.seek(0)
    return content.read(limit + 1)


def _lock_pictures() -> None:
    advisory_xact_lock(_ADVISORY_LOCK_KEY)


class _Bits64(Func):
    """PostgreSQL: 16 hex digits as bit(64)."""

    template = "('x' || %(expressions)s)::bit(64)"
    output_field = models.TextField()


class _Xor(Func):
    template = "(%(expressions)s)"
    arg_joiner = " # "
    output_field = models.TextField()


class _BitCount(Func):
    function = "bit_count"
    output_field = models.IntegerField()


@dataclass(frozen=True)
class Device:
    """Who sent the bytes from where: the browser's User-Agent, the client's own device id, the IP."""

    user_agent: str = ""
    device_id: str = ""
    ip: str | None = None


@dataclass(frozen=True)
class UploadResult:
    photo: Form45Photo
    replayed: bool = False  # already received (same key, or the same file for the same station): nothing written
    findings: list[dict[str, Any]] = field(default_factory=list)


def _by_key(actor: User, key: str, contest_station_id: int) -> Form45Photo | None:
    photo = Form45Photo.objects.filter(uploaded_by=actor, idempotency_key=key).first()
    if photo is not None and photo.contest_station_id != contest_station_id:
        raise ConflictError(
            "idempotency_key_reused",
            _("This idempotency key was already used for a picture of another polling station."),
            "idempotency_key",
        )
    return photo


def _replayed(photo: Form45Photo) -> UploadResult:
    return UploadResult(photo=photo, replayed=True, findings=list(photo.findings))


# --- upload ------------------------------------------------------------------------------------


def photo_upload(
    *,
    actor: User,
    contest_station_id: int,
    idempotency_key: str,
    content: bytes | IO[bytes],
    device: Device | None = None,
) -> UploadResult:
    """Receive a picture of a signed Form-45 for a station (see the module docstring)."""
    key = (idempotency_key or "").strip()
    if not IDEMPOTENCY_KEY.match(key):
        raise DomainError(
            "bad_idempotency_key",
            _("The idempotency key is 8 to 64 letters, digits, '-' or '_'."),
            "idempotency_key",
        )
    replay = _by_key(actor, key, contest_station_id)
    if replay is not None:
        return _replayed(replay)
    received_at = timezone.now()
    station = _station_queryset().filter(pk=contest_station_id).first()
    if station is None:
        raise _no_station()
    require_scope(actor, station.contest, UPLOAD_ROLES, action=_("send Form-45 pictures"))
    data = _read(content)
    try:
        decoded = forensics.decode_picture(
            data, max_bytes=settings.RESULTS_PHOTO_MAX_BYTES, max_pixels=settings.RESULTS_PHOTO_MAX_PIXELS
        )
    except forensics.PictureRefused as exc:
        raise _refusal(exc) from exc
    sha256 = forensics.sha256_hex(data)
    same = Form45Photo.objects.filter(contest_station=station, sha256=sha256).first()
    if same is not None:
        return _replayed(same)
    exif = forensics.read_exif(data)
    try:
        return _store(
            actor=actor,
            station_id=station.pk,
            key=key,
            data=data,
            sha256=sha256,
            decoded=decoded,
            exif=exif,
            device=device or Device(),
            received_at=received_at,
        )
    except IntegrityError:
        # The same key or file arrived twice at the same moment: the other request stored it; answer as it did.
        replay = _by_key(actor, key, contest_station_id) or (
            Form45Photo.objects.filter(contest_station_id=station.pk, sha256=sha256).first()
        )
        if replay is None:
            raise
        return _replayed(replay)


@dataclass(frozen=True)
class _Other:
    """Another picture of the election, as the comparisons need it."""

    match: forensics.Match
    contest_id: int


def _others(election_id: int, station: ContestStation) -> QuerySet[Form45Photo]:
    return Form45Photo.objects.filter(contest_station__contest__election_id=election_id).exclude(
        contest_station_id=station.pk
    )


_OTHER_FIELDS = (
    "pk",
    "contest_station_id",
    "contest_station__number",
    "contest_station__contest__constituency__code",
    "contest_station__contest_id",
    "phash",
)


def _other(row: tuple, distance: int = 0) -> _Other:
    pk, station_id, number, code, contest_id, _phash = row
    return _Other(forensics.Match(pk, station_id, station_label(code, number), distance), contest_id)


def _same_elsewhere(election_id: int, station: ContestStation, sha256: str) -> list[_Other]:
    rows = _others(election_id, station).filter(sha256=sha256).order_by("received_at", "pk")
    return [_other(row) for row in rows.values_list(*_OTHER_FIELDS)]


def _near_elsewhere(election_id: int, station: ContestStation, sha256: str, phash: str, max_bits: int) -> list[_Other]:
    candidates = _others(election_id, station).exclude(sha256=sha256)
    if connection.vendor == "postgresql":  # narrow in the database; the distance is then computed here as anywhere
        candidates = candidates.annotate(phash_bits=_BitCount(_Xor(_Bits64(F("phash")), _Bits64(Value(phash))))).filter(
            phash_bits__lte=max_bits
        )
    rows = {row[0]: row for row in candidates.values_list(*_OTHER_FIELDS)}
    near = forensics.near_matches(phash, ((pk, row[5]) for pk, row in rows.items()), max_bits)
    return [_other(rows[pk], distance) for pk, distance in near]


def _save_bytes(sha256: str, content_type: str, data: bytes) -> tuple[str, bool]:
    """Store the original bytes under their hash (called under the pictures' lock); (name, created)."""
    name = photo_path(sha256, content_type)
    if default_storage.exists(name):
        if default_storage.size(name) == len(data):
            return name, False  # the same bytes, already kept for another station
        default_storage.delete(name)  # a partial file left by a crash mid-write: write it again
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:  # the storage renamed it: not content-addressed any more; undo rather than mislabel
        default_storage.delete(saved)
        raise RuntimeError(f"Storage saved {name} as {saved}")
    return name, True


def _with_match(finding: dict[str, Any] | None, rule: str, match: forensics.Match, **extra: Any) -> dict | None:
    """A stored finding of ``rule`` (or none yet) with ``match`` added; None if it already names that picture."""
    data = (finding or {}).get("data") or {}
    matches = [forensics.Match(**m) for m in data.get("matches", [])]
    if any(m.photo == match.photo for m in matches):
        return None
    merged = forensics.matches_finding(rule, [*matches, match], **extra).as_dict()
    merged["data"]["count"] = int(data.get("count", len(matches))) + 1  # the list stops at MAX_LISTED_MATCHES
    return merged


def _mirror_matches(photo: Form45Photo, station: ContestStation, same: list[_Other], near: list[_Other]) -> None:
    """A same/near-identical picture is flagged on the other station, and on its picture, too."""
    label = station_label(station.contest.constituency.code, station.number)
    pairs: list[tuple[str, _Other, dict[str, Any]]] = [("photo.same_picture", o, {}) for o in same] + [
        ("photo.near_duplicate", o, {"max_distance": limits().phash_distance}) for o in near
    ]
    if not pairs:
        return
    locked = {
        p.pk: p
        for p in Form45Photo.objects.select_for_update(of=("self",))
        .filter(pk__in=sorted({o.match.photo for _rule, o, _extra in pairs}))
        .order_by("pk")
    }
    for rule, other, extra in pairs:
        me = forensics.Match(photo.pk, station.pk, label, other.match.distance)
        target = locked[other.match.photo]
        findings = list(target.findings)
        index = next((i for i, f in enumerate(findings) if f.get("rule") == rule), None)
        merged = _with_match(findings[index] if index is not None else None, rule, me, **extra)
        if merged is not None:
            if index is None:
                findings.append(merged)
            else:
                findings[index] = merged
            target.findings = findings
            Form45Photo.objects.filter(pk=target.pk).update(findings=findings, is_flagged=True)
        flag = Flag.objects.filter(contest_station_id=other.match.contest_station, rule=rule).first()
        merged = _with_match({"data": flag.data} if flag is not None else None, rule, me, **extra)
        if merged is None:
            continue
        if flag is None:
            flag = Flag(contest_id=other.contest_id, contest_station_id=other.match.contest_station, rule=rule)
        flag.severity = merged["severity"]
        flag.message = merged["message"][:500]
        flag.data = merged["data"]
        flag.save()


@transaction.atomic(durable=True)
def _store(
    *,
    actor: User,
    station_id: int,
    key: str,
    data: bytes,
    sha256: str,
    decoded: forensics.DecodedPicture,
    exif: forensics.Exif,
    device: Device,
    received_at: datetime,
) -> UploadResult:
    try:
        station = _station_queryset().select_for_update(of=("self",)).get(pk=station_id)
    except ContestStation.DoesNotExist as exc:
        raise _no_station() from exc
    _lock_pictures()
    replay = (
        _by_key(actor, key, station_id) or Form45Photo.objects.filter(contest_station=station, sha256=sha256).first()
    )
    if replay is not None:  # written by a request that held the locks before this one
        return _replayed(replay)

    contest = station.contest
    election = contest.election
    taken_at = exif.taken_at(ZoneInfo(settings.TIME_ZONE))
    ps = station.polling_station
    lim = limits()
    same = _same_elsewhere(election.pk, station, sha256)
    near = _near_elsewhere(election.pk, station, sha256, decoded.phash, lim.phash_distance)
    earlier = list(Form45Photo.objects.filter(contest_station=station).order_by("received_at", "pk").values_list("pk"))
    evidence = forensics.Evidence(
        exif=exif,
        taken_at=taken_at,
        received_at=received_at,
        poll_close_at=election.poll_close_at,
        station_latitude=float(ps.latitude) if ps.latitude is not None else None,
        station_longitude=float(ps.longitude) if ps.longitude is not None else None,
        same_picture=[o.match for o in same],
        near_duplicates=[o.match for o in near],
        earlier_here=[pk for (pk,) in earlier],
    )
    findings = forensics.check_picture(evidence, lim)
    distance = evidence.distance_m

    name, created = _save_bytes(sha256, decoded.content_type, data)
    try:
        photo = Form45Photo.objects.create(
            contest_station=station,
            file=name,
            sha256=sha256,
            size=len(data),
            content_type=decoded.content_type,
            width=decoded.width,
            height=decoded.height,
            received_at=received_at,
            uploaded_by=actor,
            idempotency_key=key,
            device_id=device.device_id.strip()[:100],
            user_agent=device.user_agent[:300],
            ip=device.ip or None,
            exif=exif.as_json() if exif.present else {},
            taken_at=taken_at,
            latitude=Decimal(f"{exif.latitude:.7f}") if exif.latitude is not None else None,
            longitude=Decimal(f"{exif.longitude:.7f}") if exif.longitude is not None else None,
            distance_m=round(distance) if distance is not None else None,
            phash=decoded.phash,
            findings=[f.as_dict() for f in findings],
            is_flagged=any(f.severity == "warning" for f in findings),
        )
        raise_station_flags(station, findings, prefix=PHOTO_RULE_PREFIX)
        _mirror_matches(photo, station, same, near)
        audit.record(
            actor=actor,
            action="results.photo_received",
            target=photo,
            data={
                "contest": str(contest),
                "station": station.number,
                "sha256": sha256,
                "size": len(data),
                "content_type": decoded.content_type,
                "taken_at": taken_at,
                "distance_m": photo.distance_m,
                "findings": [f.rule for f in findings],
                "device_id": photo.device_id,
            },
        )
    except Exception:
        if created:  # still under the pictures' lock: nobody else can have started counting on this file
            default_storage.delete(name)
        raise
    return UploadResult(photo=photo, findings=list(photo.findings))


# --- the RO's decision -----------------------------------------------------------------------------

# From which status each decision may be taken. An accepted picture stays accepted.
_DECISIONS: dict[str, tuple[str, ...]] = {
    Form45Photo.Status.ACCEPTED: (Form45Photo.Status.RECEIVED, Form45Photo.Status.QUERIED),
    Form45Photo.Status.QUERIED: (Form45Photo.Status.RECEIVED,),
}


@transaction.atomic(durable=True)
def photo_decide(*, actor: User, photo_id: int, decision: str, note: str = "") -> Form45Photo:
    """The RO accepts a picture, or queries it with a note (the PO is asked to explain or send another)."""
    photo = (
        Form45Photo.objects.select_for_update(of=("self",))
        .select_related("contest_station__contest__constituency")
        .filter(pk=photo_id)
        .first()
    )
    if photo is None:
        raise DomainError("photo_not_found", _("There is no such picture."), status=404)
    station = photo.contest_station
    require_scope(actor, station.contest, REVIEW_ROLES, action=_("review Form-45 pictures"))
    if decision not in _DECISIONS:
        raise DomainError("bad_decision", _("Accept the picture or query it."), "decision")
    note = (note or "").strip()
    if decision == Form45Photo.Status.QUERIED and not note:
        raise DomainError("note_required", _("Say what is wrong: the note is kept with the query."), "note")
    previous = photo.status
    updated = Form45Photo.objects.filter(pk=photo.pk, status__in=_DECISIONS[decision]).update(
        status=decision, decision_note=note[:500], decided_by=actor, decided_at=timezone.now()
    )
    if not updated:
        raise ConflictError(
            "photo_already_decided",
            _("This picture is already %(status)s.") % {"status": photo.get_status_display()},
        )
    photo.refresh_from_db()
    audit.record(
        actor=actor,
        action="results.photo_decided",
        target=photo,
        data={
            "contest": str(station.contest),
            "station": station.number,
            "sha256": photo.sha256,
            "decision": decision,
            "previous": previous,
            "note": photo.decision_note,
        },
    )
    return photo


# --- selectors ----------------------------------------------------------------------------------------


def upload_contests(*, user) -> QuerySet[Contest]:
    """Contests whose stations the user may send pictures for (a PO: their constituency's)."""
    qs = Contest.objects.select_related("election", "constituency").order_by("-election__poll_date", "constituency")
    return scope_to_constituencies(qs, user, UPLOAD_ROLES, field="constituency")


def upload_stations(*, contest: Contest) -> QuerySet[ContestStation]:
    return (
        ContestStation.objects.filter(contest=contest)
        .select_related("polling_station")
        .annotate(photo_count=Count("photos"))
        .order_by("number")
    )


def uploads_of(*, user) -> QuerySet[Form45Photo]:
    """The pictures a user sent, the latest first."""
    return (
        Form45Photo.objects.filter(uploaded_by=user)
        .select_related("contest_station__contest__constituency", "contest_station__contest__election")
        .order_by("-received_at", "-pk")
    )


PHOTO_FILTERS = ("all", "flagged", "received", "queried", "accepted")


def photo_list(*, contest: Contest, show: str = "all") -> QuerySet[Form45Photo]:
    """A contest's pictures, newest first, for its RO: all, flagged, or by status."""
    qs = (
        Form45Photo.objects.filter(contest_station__contest=contest)
        .select_related("contest_station__polling_station", "uploaded_by")
        .order_by("-received_at", "-pk")
    )
    if show == "flagged":
        return qs.filter(is_flagged=True)
    if show in (Form45Photo.Status.RECEIVED, Form45Photo.Status.QUERIED, Form45Photo.Status.ACCEPTED):
        return qs.filter(status=show)
    return qs


def photo_counts(*, contest: Contest) -> dict[str, int]:
    status = Form45Photo.Status
    return Form45Photo.objects.filter(contest_station__contest=contest).aggregate(
        all=Count("pk"),
        flagged=Count("pk", filter=Q(is_flagged=True)),
        received=Count("pk", filter=Q(status=status.RECEIVED)),
        queried=Count("pk", filter=Q(status=status.QUERIED)),
        accepted=Count("pk", filter=Q(status=status.ACCEPTED)),
    )


def photo_get(*, contest: Contest, photo_id: int) -> Form45Photo | None:
    return (
        Form45Photo.objects.filter(pk=photo_id, contest_station__contest=contest)
        .select_related("contest_station__polling_station", "uploaded_by", "decided_by")
        .first()
    )


@dataclass
class StationFigures:
    """A station's accepted Form-45, as the RO screen and the public page show it."""

    form: Form45 | None
    candidates: list[dict[str, Any]]  # {"candidate", "votes"} in ballot order (votes None before acceptance)


def station_figures(*, station: ContestStation) -> StationFigures:
    form = Form45.objects.filter(contest_station=station).first()
    votes: dict[int, int] = {}
    if form is not None:
        votes = dict(form.votes.values_list("candidate_id", "votes"))
    candidates = Candidate.objects.filter(contest_id=station.contest_id).order_by("ballot_order")
    return StationFigures(
        form=form, candidates=[{"candidate": c, "votes": votes.get(c.pk) if form else None} for c in candidates]
    )


def station_photos(*, station: ContestStation) -> list[Form45Photo]:
    """Every picture of a station, the latest first."""
    return list(Form45Photo.objects.filter(contest_station=station).order_by("-received_at", "-pk"))


def public_station_get(*, election_code: str, constituency_code: str, number: int) -> ContestStation | None:
    return (
        _station_queryset()
        .filter(
            contest__election__code=election_code,
            contest__constituency__code__iexact=constituency_code,
            number=number,
        )
        .first()
    )


def station_flags(*, station: ContestStation) -> list[Flag]:
    return list(Flag.objects.filter(contest_station=station).order_by("rule"))
