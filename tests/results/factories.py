"""A small contest for results tests: one NA constituency, its stations, candidates, operators."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from core.models import Role, RoleAssignment, StationType, User
from results.models import Candidate, Contest, ContestStation, Election
from tests.factories import ConstituencyFactory, PollingStationFactory, UserFactory

KARACHI = datetime.timezone(datetime.timedelta(hours=5))


def make_election(code: str = "ge-2026", poll_date=datetime.date(2026, 2, 8)) -> Election:
    close = datetime.datetime.combine(poll_date, datetime.time(17, 0), KARACHI)
    election, _ = Election.objects.get_or_create(
        code=code,
        defaults={
            "name": "General Election 2026",
            "poll_date": poll_date,
            "poll_close_at": close,
            "provisional_deadline_at": close + datetime.timedelta(hours=9),
            "complete_deadline_at": close + datetime.timedelta(hours=17),
        },
    )
    return election


@dataclass
class ContestSetup:
    contest: Contest
    stations: list[ContestStation]
    candidates: list[Candidate]
    deo1: User
    deo2: User
    ro: User


def make_contest(
    code: str = "NA-46", *, stations: int = 4, candidates: int = 3, election: Election | None = None
) -> ContestSetup:
    election = election or make_election()
    constituency = ConstituencyFactory(code=code, house="NA" if code.startswith("NA-") else "PA")
    contest = Contest.objects.create(election=election, constituency=constituency)
    rows = []
    for n in range(1, stations + 1):
        kind = StationType.COMBINED if n % 3 else StationType.FEMALE
        ps = PollingStationFactory(
            constituency=constituency,
            number=n,
            station_type=kind,
            male_voters=0 if kind == StationType.FEMALE else 1000,
            male_booths=0 if kind == StationType.FEMALE else 2,
            female_voters=900,
        )
        rows.append(
            ContestStation.objects.create(
                contest=contest,
                polling_station=ps,
                number=n,
                station_type=kind,
                male_voters=ps.male_voters,
                female_voters=ps.female_voters,
            )
        )
    people = [
        Candidate.objects.create(contest=contest, ballot_order=n, name=f"Candidate {n}", party=f"Party {n}")
        for n in range(1, candidates + 1)
    ]
    deo1, deo2, ro = (UserFactory(username=f"{code.lower()}-{who}") for who in ("deo1", "deo2", "ro"))
    for user in (deo1, deo2):
        RoleAssignment.objects.create(user=user, role=Role.DATA_ENTRY_OPERATOR, constituency=constituency)
    RoleAssignment.objects.create(user=ro, role=Role.RETURNING_OFFICER, constituency=constituency)
    return ContestSetup(contest, rows, people, deo1, deo2, ro)


def now() -> datetime.datetime:
    return timezone.now()
