"""Consolidation services: Forms 47, 48 and 49, postal ballots, the recount.

Each produced form is an immutable ``FormVersion``: its figures (derived from
the accepted Form-45s at that moment, DOMAIN check 5), the SHA-256 of those
figures (printed on the PDF and in its QR code), and the two PDFs (English,
Urdu) with their own SHA-256, all audited. The contest moves
counting → provisional (47) → consolidated (48) → final (49); after Form-49
it is locked, and figures change only through the one recount the RO may
hold, which is recorded and leads to new versions of Forms 48 and 49.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import ConflictError, DomainError
from core.models import User

from . import pdf, publication, selectors, tally
from .messages import finding_text_ur
from .models import Candidate, Contest, Form45, Form45Vote, FormVersion, PostalBallots, PostalVote
from .services import (
    SUPERVISOR_ROLES,
    Figures,
    contest_changed,
    require_scope,
    tally_figures,
    validate_figures,
)

audit.register("results.form_produced", "A version of Form-47, 48 or 49 was produced")
audit.register("results.postal_recorded", "Postal ballots of a contest were recorded")
audit.register("results.contest_finalized", "The RO signed Form-49; the contest is final")
audit.register("results.recount_recorded", "A recount changed accepted Form-45 figures")


def content_hash(figures: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a form's figures (the hash printed on it)."""
    return audit.compute_hash(dict(figures))


def _lock_contest(contest_id: int) -> Contest:
    try:
        return (
            Contest.objects.select_for_update(of=("self",))
            .select_related("election", "constituency__province")
            .get(pk=contest_id)
        )
    except Contest.DoesNotExist as exc:
        raise DomainError("contest_not_found", _("There is no such contest."), "contest", status=404) from exc


def _postal(contest: Contest) -> tuple[dict[int, int], int] | None:
    postal = PostalBallots.objects.filter(contest=contest).first()
    if postal is None:
        return None
    votes = dict(postal.votes.values_list("candidate__ballot_order", "votes"))
    return votes, postal.rejected


def _figures(contest: Contest, form: str, *, version: int, actor: User | None) -> dict[str, Any]:
    t = selectors.contest_tally(contest=contest)
    candidates = t.candidates
    postal = _postal(contest) if form in ("48", "49") else None
    postal_votes, postal_rejected = postal if postal else ({}, 0)
    totals_by_order = tally.add_postal(t.votes, postal_votes) if form != "47" else dict(t.votes)
    turnout = t.turnout  # at the stations that have reported: a provisional form must not understate it
    constituency = contest.constituency
    data: dict[str, Any] = {
        "form": form,
        "version": version,
        "election": {
            "code": contest.election.code,
            "name": contest.election.name,
            "name_ur": contest.election.name_ur,
            "poll_date": contest.election.poll_date.isoformat(),
        },
        "contest": {
            "code": constituency.code,
            "name": constituency.name,
            "name_ur": constituency.name_ur,
            "house": constituency.house,
            "province": constituency.province.name,
            "province_ur": constituency.province.name_ur,
        },
        "produced_at": timezone.localtime().isoformat(timespec="seconds"),
        "produced_by": (actor.get_full_name() or actor.get_username()) if actor else "",
        "candidates": [
            {
                "ballot_order": c.ballot_order,
                "name": c.name,
                "name_ur": c.name_ur,
                "party": c.party,
                "party_ur": c.party_ur,
                "symbol": c.symbol,
                "symbol_ur": c.symbol_ur,
                "votes": t.votes[c.ballot_order],
                **(
                    {"postal": postal_votes.get(c.ballot_order, 0), "total": totals_by_order[c.ballot_order]}
                    if form != "47"
                    else {}
                ),
            }
            for c in candidates
        ],
        "totals": {
            "registered": t.registered,
            "polled_male": t.polled_male,
            "polled_female": t.polled_female,
            "polled": t.polled_total,
            "excluded": t.excluded,
            "valid": t.valid,
            "turnout_percent": f"{float(turnout) * 100:.2f}" if turnout is not None else "0.00",
            **(
                {"postal_counted": sum(postal_votes.values()), "postal_rejected": postal_rejected}
                if form != "47"
                else {}
            ),
        },
        "flags": [
            {
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
                "message_ur": finding_text_ur(f.rule, f.data, f.message),
            }
            for f in tally.check_contest(
                tally.ContestTotals(
                    votes=totals_by_order,
                    polled_total=t.polled_total,
                    polled_female=t.polled_female,
                    excluded=t.excluded,
                    stations_total=t.stations_total,
                    stations_reported=t.stations_reported,
                ),
                recount=_recount_rule(contest),
            )
            if f.severity != "info"
        ],
    }
    if form in ("47", "48"):
        data["stations"] = _station_rows(contest)
    if form == "47":
        data["awaited"] = [
            {"number": s.number, "name": s.polling_station.name, "name_ur": s.polling_station.name_ur}
            for s in t.awaited
        ]
    if form == "49":
        leaders = [s for s in tally.standings(totals_by_order) if s.rank == 1]
        if len(leaders) == 1:
            winner = next(c for c in candidates if c.ballot_order == leaders[0].key)
            data["returned"] = {
                "ballot_order": winner.ballot_order,
                "name": winner.name,
                "name_ur": winner.name_ur,
                "party": winner.party,
            }
        data["signed_by"] = data["produced_by"]
    return data


def _recount_rule(contest: Contest) -> tally.RecountRule:
    from django.conf import settings

    rule = settings.RESULTS_RECOUNT_RULES[contest.constituency.house]
    return tally.RecountRule(percent=rule["percent"], absolute=rule["absolute"])


def _station_rows(contest: Contest) -> list[dict[str, Any]]:
    forms = (
        Form45.objects.filter(contest_station__contest=contest)
        .select_related("contest_station__polling_station")
        .order_by("contest_station__number")
    )
    votes: dict[int, dict[str, int]] = {}
    for form_id, order, count in Form45Vote.objects.filter(form__contest_station__contest=contest).values_list(
        "form_id", "candidate__ballot_order", "votes"
    ):
        votes.setdefault(form_id, {})[str(order)] = count
    return [
        {
            "number": f.contest_station.number,
            "name": f.contest_station.polling_station.name,
            "name_ur": f.contest_station.polling_station.name_ur,
            "registered": f.contest_station.registered_voters,
            "polled": f.polled_total,
            "excluded": f.excluded,
            "votes": votes.get(f.pk, {}),
        }
        for f in forms
    ]


def _produce(*, actor: User, contest: Contest, form: str) -> FormVersion:
    version = (FormVersion.objects.filter(contest=contest, form=form).aggregate(v=Max("version"))["v"] or 0) + 1
    figures = _figures(contest, form, version=version, actor=actor)
    digest = content_hash(figures)
    rendered = {"content_hash": digest, **figures}
    stem = f"{contest.election.code}-{contest.constituency.code}-form{form}-v{version}"
    files = {}
    for language in ("en", "ur"):
        data = pdf.render_form(rendered, language=language)  # type: ignore[arg-type]
        sha = hashlib.sha256(data).hexdigest()
        files[language] = (ContentFile(data, name=f"{stem}-{language}-{sha[:12]}.pdf"), sha)
    produced = FormVersion.objects.create(
        contest=contest,
        form=form,
        version=version,
        figures=figures,
        content_hash=digest,
        pdf_en=files["en"][0],
        pdf_en_sha256=files["en"][1],
        pdf_ur=files["ur"][0],
        pdf_ur_sha256=files["ur"][1],
        produced_by=actor,
        produced_at=timezone.now(),
    )
    audit.record(
        action="results.form_produced",
        target=produced,
        data={
            "contest": str(contest),
            "form": form,
            "version": version,
            "content_hash": digest,
            "pdf_en_sha256": files["en"][1],
            "pdf_ur_sha256": files["ur"][1],
            "votes": {c["ballot_order"]: c.get("total", c["votes"]) for c in figures["candidates"]},
        },
    )
    return produced


def _set_status(contest: Contest, status: str, *, reason: str, **more: Any) -> None:
    """Move the (locked) contest to ``status`` and publish it: the public pages show the stage."""
    Contest.objects.filter(pk=contest.pk).update(status=status, **more)
    contest.status = status
    publication.publish(contest=contest, reason=reason)


def _open_for_changes(contest: Contest) -> None:
    if contest.is_locked:
        raise ConflictError(
            "contest_locked", _("This contest is final (Form-49 signed); figures change only by recount.")
        )


@transaction.atomic(durable=True)
def form47_produce(*, actor: User, contest_id: int) -> FormVersion:
    """The provisional consolidated statement, with the stations still awaited."""
    contest = _lock_contest(contest_id)
    require_scope(actor, contest, SUPERVISOR_ROLES, action=_("produce Form-47"))
    _open_for_changes(contest)
    if not Form45.objects.filter(contest_station__contest=contest).exists():
        raise ConflictError("nothing_reported", _("No Form-45 has been accepted yet; Form-47 would be empty."))
    produced = _produce(actor=actor, contest=contest, form="47")
    if contest.status == Contest.Status.COUNTING:
        _set_status(contest, Contest.Status.PROVISIONAL, reason="form47")
    return produced


@transaction.atomic(durable=True)
def postal_ballots_record(*, actor: User, contest_id: int, votes: Mapping[int, int], rejected: int) -> PostalBallots:
    """Record the postal ballots counted in the consolidation proceedings (replaces an earlier record)."""
    contest = _lock_contest(contest_id)
    require_scope(actor, contest, SUPERVISOR_ROLES, action=_("record postal ballots"))
    _open_for_changes(contest)
    candidates = {c.ballot_order: c for c in Candidate.objects.filter(contest=contest)}
    fields: dict[str, list[str]] = {}
    for key in sorted(set(votes) ^ set(candidates)):
        fields[f"votes.{key}"] = [_("Give the postal votes of every candidate of this contest, and only them.")]
    for key, value in votes.items():
        if value < 0:
            fields[f"votes.{key}"] = [_("Votes cannot be negative.")]
    if rejected < 0:
        fields["rejected"] = [_("Votes cannot be negative.")]
    if fields:
        raise DomainError("postal_invalid", _("Check the postal ballot figures."), fields=fields)
    postal, _created = PostalBallots.objects.update_or_create(
        contest=contest, defaults={"rejected": rejected, "recorded_by": actor}
    )
    PostalVote.objects.filter(postal=postal).delete()
    PostalVote.objects.bulk_create(
        PostalVote(postal=postal, candidate=candidates[key], votes=value) for key, value in sorted(votes.items())
    )
    publication.publish(contest=contest, reason="postal")
    audit.record(
        action="results.postal_recorded",
        target=postal,
        data={"contest": str(contest), "votes": dict(sorted(votes.items())), "rejected": rejected},
    )
    return postal


@transaction.atomic(durable=True)
def form48_produce(*, actor: User, contest_id: int) -> FormVersion:
    """The consolidated statement: every station's figures plus the postal ballots."""
    contest = _lock_contest(contest_id)
    require_scope(actor, contest, SUPERVISOR_ROLES, action=_("produce Form-48"))
    _open_for_changes(contest)
    awaited = selectors.contest_tally(contest=contest).awaited
    if awaited:
        raise ConflictError(
            "stations_awaited",
            _("%(n)d polling stations have no accepted Form-45 yet (first: PS-%(first)d); consolidate when all are in.")
            % {"n": len(awaited), "first": awaited[0].number},
        )
    if not PostalBallots.objects.filter(contest=contest).exists():
        raise ConflictError(
            "postal_missing", _("Record the postal ballots first (zeros if there were none)."), "postal"
        )
    produced = _produce(actor=actor, contest=contest, form="48")
    if contest.status != Contest.Status.CONSOLIDATED:
        _set_status(contest, Contest.Status.CONSOLIDATED, reason="form48")
    return produced


@transaction.atomic(durable=True)
def form49_finalize(*, actor: User, contest_id: int) -> FormVersion:
    """The final consolidated result, signed by the RO; the contest locks."""
    contest = _lock_contest(contest_id)
    require_scope(actor, contest, SUPERVISOR_ROLES, action=_("sign Form-49"))
    _open_for_changes(contest)
    latest48 = FormVersion.objects.filter(contest=contest, form="48").order_by("-version").first()
    if latest48 is None:
        raise ConflictError("form48_missing", _("Produce Form-48 before signing Form-49."))
    current = _figures(contest, "48", version=latest48.version, actor=None)
    if _vote_figures(current) != _vote_figures(latest48.figures):
        raise ConflictError("form48_stale", _("Figures changed since the last Form-48; produce a new Form-48 first."))
    produced = _produce(actor=actor, contest=contest, form="49")
    _set_status(contest, Contest.Status.FINAL, reason="form49", finalized_at=timezone.now(), finalized_by=actor)
    audit.record(
        action="results.contest_finalized",
        target=contest,
        data={"form49_version": produced.version, "content_hash": produced.content_hash},
    )
    return produced


def _vote_figures(figures: Mapping[str, Any]) -> tuple:
    return (
        tuple((c["ballot_order"], c.get("total", c["votes"])) for c in figures["candidates"]),
        tuple(sorted(figures["totals"].items())),
    )


@transaction.atomic(durable=True)
def recount_record(*, actor: User, contest_id: int, station_figures: Mapping[int, Figures], note: str) -> Contest:
    """The RO's one recount after Form-49: replace the figures of the recounted stations.

    The contest reopens as consolidated; new versions of Forms 48 and 49 follow."""
    contest = _lock_contest(contest_id)
    require_scope(actor, contest, SUPERVISOR_ROLES, action=_("record a recount"))
    if not contest.is_locked:
        raise ConflictError("not_final", _("A recount is recorded after Form-49; before it, correct the Form-45s."))
    if contest.recounts >= 1:
        raise ConflictError("recount_done", _("The Returning Officer recounts only once; this contest was recounted."))
    if not note.strip():
        raise DomainError("note_required", _("Say what was recounted and why."), "note")
    if not station_figures:
        raise DomainError("stations_required", _("Give the recounted figures of at least one station."), "stations")
    candidates = {c.ballot_order: c for c in Candidate.objects.filter(contest=contest)}
    forms = {
        f.contest_station_id: f
        for f in Form45.objects.select_related("contest_station").filter(
            contest_station__contest=contest, contest_station_id__in=list(station_figures)
        )
    }
    missing = sorted(set(station_figures) - set(forms))
    if missing:
        raise DomainError(
            "station_not_accepted", _("Only stations with an accepted Form-45 can be recounted."), "stations"
        )
    changes = []
    for station_id, figures in sorted(station_figures.items()):
        form = forms[station_id]
        validate_figures(form.contest_station, figures, set(candidates))
        before = dict(form.votes.values_list("candidate__ballot_order", "votes"))
        new = tally_figures(form.contest_station, figures)
        Form45.objects.filter(pk=form.pk).update(
            polled_male=new.polled_male,
            polled_female=new.polled_female,
            polled_total=new.polled_total,
            excluded=new.excluded,
        )
        for order, count in new.votes.items():
            Form45Vote.objects.filter(form=form, candidate=candidates[order]).update(votes=count)
        changes.append(
            {
                "station": form.contest_station.number,
                "before": before,
                "after": dict(new.votes),
                "polled_before": form.polled_total,
                "polled_after": new.polled_total,
            }
        )
    Contest.objects.filter(pk=contest.pk).update(status=Contest.Status.CONSOLIDATED, recounts=contest.recounts + 1)
    contest.status, contest.recounts = Contest.Status.CONSOLIDATED, contest.recounts + 1
    contest_changed(contest, reason="recount", candidates=sorted(candidates.values(), key=lambda c: c.ballot_order))
    audit.record(
        action="results.recount_recorded",
        target=contest,
        data={"note": note.strip()[:500], "stations": changes},
    )
    contest.refresh_from_db()
    return contest
