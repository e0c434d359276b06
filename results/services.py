"""Writes of the Result Management System. One function per use case; each is
one durable transaction that validates, locks, writes and audits.

Double entry (DOMAIN.md check 10): every Form-45 is keyed by two different
operators. The first entry waits; the second is compared with it field by
field (``tally.entry_differences``). The same figures → the form is accepted
(``Form45`` + one ``Form45Vote`` per candidate). Different figures → both
entries go to the supervisor (the RO), who chooses one or keys corrected
figures, with a note. Concurrent submissions for one station are serialised
by locking its ``ContestStation`` row, and ``Form45.contest_station`` is
unique, so a station can never have two accepted forms.

Lock order, everywhere in this app: ContestStation rows (by primary key),
then the Contest row, then the audit chain's lock (``core.audit``). An
acceptance takes its contest's lock just before writing the form, so
acceptances of one contest commit one at a time and each sees the others
when it recomputes the contest's flags; keying of different contests never
waits on each other except at the audit chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import ConflictError, DomainError, PermissionDeniedError
from core.models import Role, User
from core.selectors import constituency_scope

from . import publication, tally
from .messages import finding_text
from .models import Candidate, Contest, ContestStation, Flag, Form45, Form45Entry, Form45Vote, Form46
from .selectors import ContestTally, contest_tally

ENTRY_ROLES = (Role.DATA_ENTRY_OPERATOR, Role.RETURNING_OFFICER)
SUPERVISOR_ROLES = (Role.RETURNING_OFFICER,)

audit.register("results.form45_entered", "An operator keyed a Form-45 (first of two entries)")
audit.register("results.form45_accepted", "A Form-45 was accepted (two matching entries)")
audit.register("results.form45_mismatch", "Two entries of a Form-45 differ; sent to the supervisor")
audit.register("results.form45_decided", "The supervisor decided a mismatched Form-45")
audit.register("results.form46_recorded", "A Form-46 (ballot paper account) was recorded")


@dataclass(frozen=True)
class Figures:
    """What an operator keys from a Form-45 (validated for shape by the form/serializer)."""

    polled_male: int
    polled_female: int
    polled_total: int
    excluded: int
    votes: Mapping[int, int]  # ballot order -> valid votes
    counted_at: datetime | None = None

    def as_entry_fields(self) -> dict[str, Any]:
        return {
            "polled_male": self.polled_male,
            "polled_female": self.polled_female,
            "polled_total": self.polled_total,
            "excluded": self.excluded,
            "counted_at": self.counted_at,
            "votes": {str(k): v for k, v in sorted(self.votes.items())},
        }


@dataclass(frozen=True)
class EntryResult:
    entry: Form45Entry
    status: str  # Form45Entry.Status
    form: Form45 | None = None
    differences: list[str] = field(default_factory=list)
    warnings: list[tally.Finding] = field(default_factory=list)
    replayed: bool = False  # the same idempotency key was seen before: nothing new was written


def _said(finding: tally.Finding) -> str:
    return finding_text(finding.rule, finding.data, finding.message)


# --- helpers (shared with results.consolidation) ------------------------------


def require_scope(actor: User, contest: Contest, roles, *, action: str) -> None:
    allowed = constituency_scope(actor, roles)
    if allowed is not None and contest.constituency_id not in allowed:
        raise PermissionDeniedError(
            "out_of_scope",
            _("You may not %(action)s for %(code)s.") % {"action": action, "code": contest.constituency.code},
        )


def _lock_station(contest_station_id: int) -> ContestStation:
    try:
        return (
            ContestStation.objects.select_for_update(of=("self",))
            .select_related("contest__constituency", "contest__election")
            .get(pk=contest_station_id)
        )
    except ContestStation.DoesNotExist as exc:
        raise DomainError(
            "station_not_in_contest",
            _("There is no such polling station in this contest."),
            "contest_station",
            status=404,
        ) from exc


def tally_figures(station: ContestStation, figures: Figures) -> tally.Form45Figures:
    return tally.Form45Figures(
        station_type=station.station_type,  # type: ignore[arg-type]
        registered_male=station.male_voters,
        registered_female=station.female_voters,
        polled_male=figures.polled_male,
        polled_female=figures.polled_female,
        polled_total=figures.polled_total,
        excluded=figures.excluded,
        votes=dict(figures.votes),
    )


def _entry_figures(station: ContestStation, entry: Form45Entry) -> tally.Form45Figures:
    return tally_figures(
        station,
        Figures(
            polled_male=entry.polled_male,
            polled_female=entry.polled_female,
            polled_total=entry.polled_total,
            excluded=entry.excluded,
            votes={int(k): v for k, v in entry.votes.items()},
        ),
    )


def validate_figures(station: ContestStation, figures: Figures, ballot_orders: set[int]) -> list[tally.Finding]:
    """Refuse a form that breaks a rule (DomainError naming every field); return its warnings."""
    fields: dict[str, list[str]] = {}
    for key in sorted(set(figures.votes) - ballot_orders):
        fields[f"votes.{key}"] = [_("There is no candidate with ballot order %(n)s in this contest.") % {"n": key}]
    for key in sorted(ballot_orders - set(figures.votes)):
        fields[f"votes.{key}"] = [_("Enter the votes of candidate %(n)s (0 if none).") % {"n": key}]
    if fields:
        raise DomainError(
            "candidates_mismatch",
            _("The votes must list every candidate of this contest, and only them."),
            fields=fields,
        )
    findings = tally.check_form45(tally_figures(station, figures), turnout_warning=settings.RESULTS_TURNOUT_WARNING)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        for finding in errors:
            fields.setdefault(finding.field or "non_field_errors", []).append(_said(finding))
        raise DomainError(errors[0].rule, _said(errors[0]), fields=fields)
    return [f for f in findings if f.severity == "warning"]


def accept(
    *, station: ContestStation, figures: tally.Form45Figures, source: str, candidates: dict[int, Candidate], **extra
) -> Form45:
    form = Form45.objects.create(
        contest_station=station,
        source=source,
        polled_male=figures.polled_male,
        polled_female=figures.polled_female,
        polled_total=figures.polled_total,
        excluded=figures.excluded,
        **extra,
    )
    Form45Vote.objects.bulk_create(
        Form45Vote(form=form, candidate=candidates[key], votes=votes) for key, votes in sorted(figures.votes.items())
    )
    return form


def raise_station_flags(station: ContestStation, warnings: list[tally.Finding], *, prefix: str = "form45.") -> None:
    """Replace the station's flags of one form (rules named ``prefix…``) by these findings."""
    Flag.objects.filter(contest_station=station, rule__startswith=prefix).delete()
    Flag.objects.bulk_create(
        Flag(
            contest_id=station.contest_id,
            contest_station=station,
            rule=w.rule,
            severity=w.severity,
            message=w.message[:500],
            data=dict(w.data),
        )
        for w in warnings
    )


def lock_contest_for_acceptance(contest_id: int) -> Contest:
    """Take the contest's row lock before a form of it is accepted or changed; return the contest as locked.

    Acceptances of different stations of one contest then commit one at a time
    from here on, so each recomputes the contest's flags and publishes its
    tally with the others' forms in view, and a Form-49 signed since the
    station was locked is seen."""
    contest = (
        Contest.objects.select_for_update(of=("self",)).select_related("election", "constituency").get(pk=contest_id)
    )
    if contest.is_locked:
        raise ConflictError(
            "contest_locked", _("This contest is final (Form-49 signed); figures change only by recount.")
        )
    return contest


def contest_changed(contest: Contest, *, reason: str, candidates: list[Candidate] | None = None) -> None:
    """The contest's figures changed (call with its row locked): refresh its flags and publish its tally."""
    tally = contest_tally(contest=contest, with_awaited=False, candidates=candidates)
    _refresh_contest_flags(contest, tally)
    publication.publish(contest=contest, reason=reason, tally=tally)


def _refresh_contest_flags(contest: Contest, tally: ContestTally) -> None:
    """Store the contest's standing findings (recount margin, tie, women's turnout) as its flags.

    The flags are rewritten only when the findings changed. Deadline findings
    depend on the clock and are computed when shown, not stored."""
    wanted = [
        Flag(contest=contest, rule=f.rule, severity=f.severity, message=f.message[:500], data=dict(f.data))
        for f in tally.findings(with_deadlines=False)
        if f.severity == "warning"
    ]
    stored = Flag.objects.filter(contest=contest, contest_station__isnull=True)
    if {(f.rule, f.message, str(f.data)) for f in stored} == {(f.rule, f.message, str(f.data)) for f in wanted}:
        return
    stored.delete()
    Flag.objects.bulk_create(wanted)


# --- Form-45 entry ------------------------------------------------------------


def form45_entry_submit(*, actor: User, contest_station_id: int, idempotency_key: str, figures: Figures) -> EntryResult:
    """Key one Form-45 (see the module docstring). A resend with the same key returns the first answer."""
    replay = Form45Entry.objects.filter(operator=actor, idempotency_key=idempotency_key).first()
    if replay is not None:
        return _replay(replay)
    try:
        return _submit(
            actor=actor, contest_station_id=contest_station_id, idempotency_key=idempotency_key, figures=figures
        )
    except IntegrityError:
        # The same key arrived twice at the same moment: the other request wrote it; answer as it did.
        replay = Form45Entry.objects.filter(operator=actor, idempotency_key=idempotency_key).first()
        if replay is None:
            raise
        return _replay(replay)


def _replay(entry: Form45Entry) -> EntryResult:
    form = Form45.objects.filter(contest_station_id=entry.contest_station_id).first()
    return EntryResult(entry=entry, status=entry.status, form=form, replayed=True)


@transaction.atomic(durable=True)
def _submit(*, actor: User, contest_station_id: int, idempotency_key: str, figures: Figures) -> EntryResult:
    station = _lock_station(contest_station_id)
    contest = station.contest
    require_scope(actor, contest, ENTRY_ROLES, action=_("key Form-45s"))
    if contest.is_locked:
        raise ConflictError(
            "contest_locked", _("This contest is final (Form-49 signed); figures change only by recount.")
        )
    if Form45.objects.filter(contest_station=station).exists():
        raise ConflictError(
            "already_accepted", _("The Form-45 of this polling station has already been accepted."), "contest_station"
        )
    candidate_list = list(Candidate.objects.filter(contest=contest).order_by("ballot_order"))
    candidates = {c.ballot_order: c for c in candidate_list}
    warnings = validate_figures(station, figures, set(candidates))

    entries = list(Form45Entry.objects.filter(contest_station=station))
    if any(e.operator_id == actor.pk for e in entries):
        raise ConflictError(
            "already_keyed", _("You have already keyed this Form-45; a second operator must key it."), "contest_station"
        )
    if any(e.status == Form45Entry.Status.MISMATCHED for e in entries):
        raise ConflictError(
            "with_supervisor", _("This Form-45's two entries differ; the supervisor is deciding it."), "contest_station"
        )

    entry = Form45Entry.objects.create(
        contest_station=station, operator=actor, idempotency_key=idempotency_key, **figures.as_entry_fields()
    )
    waiting = [e for e in entries if e.status == Form45Entry.Status.WAITING]
    if not waiting:
        audit.record(action="results.form45_entered", target=entry, data={"station": station.number})
        return EntryResult(entry=entry, status=entry.status, warnings=warnings)

    first = waiting[0]
    mine = tally_figures(station, figures)
    differences = tally.entry_differences(_entry_figures(station, first), mine)
    if differences:
        Form45Entry.objects.filter(pk__in=[first.pk, entry.pk]).update(status=Form45Entry.Status.MISMATCHED)
        entry.status = Form45Entry.Status.MISMATCHED
        audit.record(
            action="results.form45_mismatch",
            target=station,
            data={"contest": str(contest), "station": station.number, "fields": differences},
        )
        return EntryResult(entry=entry, status=entry.status, differences=differences)

    contest = lock_contest_for_acceptance(contest.pk)
    form = accept(
        station=station,
        figures=mine,
        source=Form45.Source.DOUBLE_ENTRY,
        candidates=candidates,
        counted_at=figures.counted_at or first.counted_at,
        first_entry=first,
        second_entry=entry,
    )
    Form45Entry.objects.filter(pk__in=[first.pk, entry.pk]).update(status=Form45Entry.Status.MATCHED)
    entry.status = Form45Entry.Status.MATCHED
    raise_station_flags(station, warnings)
    recheck_form46(station, mine)
    contest_changed(contest, reason="form45_accepted", candidates=candidate_list)
    audit.record(
        action="results.form45_accepted",
        target=form,
        data={
            "contest": str(contest),
            "station": station.number,
            "polled": form.polled_total,
            "votes": mine.votes,
            "excluded": form.excluded,
        },
    )
    return EntryResult(entry=entry, status=entry.status, form=form, warnings=warnings)


@transaction.atomic(durable=True)
def form45_decide(
    *, actor: User, contest_station_id: int, choice: str, note: str, figures: Figures | None = None
) -> Form45:
    """The supervisor settles a mismatch: accept the first or second entry, or corrected figures."""
    station = _lock_station(contest_station_id)
    contest = station.contest
    require_scope(actor, contest, SUPERVISOR_ROLES, action=_("decide Form-45 mismatches"))
    if contest.is_locked:
        raise ConflictError(
            "contest_locked", _("This contest is final (Form-49 signed); figures change only by recount.")
        )
    if not note.strip():
        raise DomainError("note_required", _("Say why: the note is kept with the decision."), "note")
    entries = list(
        Form45Entry.objects.filter(contest_station=station, status=Form45Entry.Status.MISMATCHED).order_by(
            "submitted_at", "pk"
        )
    )
    if len(entries) != 2 or Form45.objects.filter(contest_station=station).exists():
        raise ConflictError("nothing_to_decide", _("This polling station has no mismatch waiting for a decision."))
    candidate_list = list(Candidate.objects.filter(contest=contest).order_by("ballot_order"))
    candidates = {c.ballot_order: c for c in candidate_list}
    if choice in ("first", "second"):
        chosen = entries[0] if choice == "first" else entries[1]
        accepted = _entry_figures(station, chosen)
        warnings = validate_figures(
            station,
            Figures(
                accepted.polled_male, accepted.polled_female, accepted.polled_total, accepted.excluded, accepted.votes
            ),
            set(candidates),
        )
        statuses = {chosen.pk: Form45Entry.Status.CHOSEN}
    elif choice == "corrected":
        if figures is None:
            raise DomainError("figures_required", _("Key the corrected figures."), "figures")
        warnings = validate_figures(station, figures, set(candidates))
        accepted = tally_figures(station, figures)
        statuses = {}
    else:
        raise DomainError("bad_choice", _("Choose the first entry, the second entry or corrected figures."), "choice")
    contest = lock_contest_for_acceptance(contest.pk)
    form = accept(
        station=station,
        figures=accepted,
        source=Form45.Source.SUPERVISOR,
        candidates=candidates,
        decided_by=actor,
        decision_note=note.strip()[:500],
        first_entry=entries[0],
        second_entry=entries[1],
        counted_at=(figures.counted_at if figures else None) or entries[0].counted_at,
    )
    for e in entries:
        Form45Entry.objects.filter(pk=e.pk).update(status=statuses.get(e.pk, Form45Entry.Status.SET_ASIDE))
    raise_station_flags(station, warnings)
    recheck_form46(station, accepted)
    contest_changed(contest, reason="form45_decided", candidates=candidate_list)
    audit.record(
        action="results.form45_decided",
        target=form,
        data={
            "contest": str(contest),
            "station": station.number,
            "choice": choice,
            "note": note.strip()[:500],
            "polled": form.polled_total,
            "votes": accepted.votes,
            "excluded": form.excluded,
        },
    )
    return form


# --- Form-46 ------------------------------------------------------------------

FORM46_FIELDS = ("received", "unissued", "issued", "spoilt", "tendered", "challenged", "taken_out")


def recheck_form46(station: ContestStation, form45: tally.Form45Figures | None) -> None:
    form46 = Form46.objects.filter(contest_station=station).first()
    if form46 is not None:
        figures = tally.Form46Figures(**{name: getattr(form46, name) for name in FORM46_FIELDS})
        raise_station_flags(station, tally.check_form46(figures, form45), prefix="form46.")


@transaction.atomic(durable=True)
def form46_record(*, actor: User, contest_station_id: int, figures: Mapping[str, int]) -> Form46:
    """Record (or correct) a station's ballot paper account; reconciliation findings become flags."""
    station = _lock_station(contest_station_id)
    require_scope(actor, station.contest, ENTRY_ROLES, action=_("record Form-46s"))
    if station.contest.is_locked:
        raise ConflictError(
            "contest_locked", _("This contest is final (Form-49 signed); figures change only by recount.")
        )
    missing = [name for name in FORM46_FIELDS if name not in figures]
    if missing:
        raise DomainError(
            "form46_incomplete",
            _("Give every figure of the ballot paper account."),
            fields={name: [_("This figure is required.")] for name in missing},
        )
    f46 = tally.Form46Figures(**{name: int(figures[name]) for name in FORM46_FIELDS})
    accepted = Form45.objects.filter(contest_station=station).prefetch_related("votes__candidate").first()
    f45 = None
    if accepted is not None:
        f45 = tally_figures(
            station,
            Figures(
                accepted.polled_male,
                accepted.polled_female,
                accepted.polled_total,
                accepted.excluded,
                {v.candidate.ballot_order: v.votes for v in accepted.votes.all()},
            ),
        )
    findings = tally.check_form46(f46, f45)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        fields: dict[str, list[str]] = {}
        for finding in errors:
            fields.setdefault(finding.field or "non_field_errors", []).append(_said(finding))
        raise DomainError(errors[0].rule, _said(errors[0]), fields=fields)
    form46, _created = Form46.objects.update_or_create(
        contest_station=station, defaults={**{name: getattr(f46, name) for name in FORM46_FIELDS}, "entered_by": actor}
    )
    raise_station_flags(station, [f for f in findings if f.severity == "warning"], prefix="form46.")
    audit.record(
        action="results.form46_recorded",
        target=form46,
        data={"station": station.number, **{name: getattr(f46, name) for name in FORM46_FIELDS}},
    )
    return form46
