"""Demo data for the Result Management System: an election with two contests,
candidates in both scripts, and Form-45s keyed by the demo operators so the
RO dashboard shows accepted stations, one mismatch for the supervisor and
one entry waiting for its second operator. Candidates are invented."""

from __future__ import annotations

import datetime
import random
import uuid

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.context import acting
from core.demo import Printer, register
from core.models import Constituency

from . import services
from .importers import contest_create
from .models import Candidate, Contest, ContestStation, Election

ELECTION_CODE = "ge-2026-demo"

CANDIDATES = {
    "NA-46": [
        ("Ahmed Raza", "احمد رضا", "Qaumi Taraqqi Party", "قومی ترقی پارٹی", "Lamp", "چراغ"),
        ("Sadia Noor", "سعدیہ نور", "Awami Insaf Mahaz", "عوامی انصاف محاذ", "Book", "کتاب"),
        ("Tariq Mehmood", "طارق محمود", "Jamhoori Ittehad", "جمہوری اتحاد", "Bicycle", "سائیکل"),
        ("Nadia Iqbal", "نادیہ اقبال", "Independent", "آزاد", "Tree", "درخت"),
        ("Usman Ghani", "عثمان غنی", "Independent", "آزاد", "Kite", "پتنگ"),
    ],
    "NA-47": [
        ("Farah Javed", "فرح جاوید", "Awami Insaf Mahaz", "عوامی انصاف محاذ", "Book", "کتاب"),
        ("Kamran Ali", "کامران علی", "Qaumi Taraqqi Party", "قومی ترقی پارٹی", "Lamp", "چراغ"),
        ("Zubair Khan", "زبیر خان", "Jamhoori Ittehad", "جمہوری اتحاد", "Bicycle", "سائیکل"),
        ("Hina Pervez", "حنا پرویز", "Independent", "آزاد", "Scales", "ترازو"),
    ],
}


def _election() -> Election:
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    close = datetime.datetime.combine(today, datetime.time(17, 0), tz)
    election, _ = Election.objects.get_or_create(
        code=ELECTION_CODE,
        defaults={
            "name": "General Election 2026 (demonstration)",
            "name_ur": "عام انتخابات 2026 (نمونہ)",
            "poll_date": today,
            "poll_close_at": close,
            "provisional_deadline_at": close + datetime.timedelta(hours=9),  # 02:00 the next day
            "complete_deadline_at": close + datetime.timedelta(hours=17),  # 10:00 the next day
            "status": Election.Status.COUNTING,
        },
    )
    return election


def _figures(station: ContestStation, rng: random.Random, candidates: int) -> services.Figures:
    male = int(station.male_voters * rng.uniform(0.45, 0.65))
    female = int(station.female_voters * rng.uniform(0.35, 0.55))
    total = male + female
    excluded = rng.randint(0, max(1, total // 60))
    weights = [rng.uniform(0.2, 1.0) * (1.6 if k == 0 else 1.0) for k in range(candidates)]
    valid = total - excluded
    votes = [int(valid * w / sum(weights)) for w in weights]
    votes[0] += valid - sum(votes)
    return services.Figures(male, female, total, excluded, {k + 1: v for k, v in enumerate(votes)})


@register(order=30, name="results.election")
def seed_results(out: Printer) -> None:
    election = _election()
    for code, people in CANDIDATES.items():
        constituency = Constituency.objects.filter(code=code).first()
        if constituency is None or Contest.objects.filter(election=election, constituency=constituency).exists():
            continue
        contest = contest_create(actor=None, election=election, constituency=constituency)
        Candidate.objects.bulk_create(
            Candidate(
                contest=contest,
                ballot_order=n,
                name=name,
                name_ur=name_ur,
                party=party,
                party_ur=party_ur,
                symbol=symbol,
                symbol_ur=symbol_ur,
            )
            for n, (name, name_ur, party, party_ur, symbol, symbol_ur) in enumerate(people, start=1)
        )
    contest = Contest.objects.filter(election=election, constituency__code="NA-46").first()
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["deo1", "deo2"])}
    if contest is not None and len(users) == 2 and not contest.stations.filter(entries__isnull=False).exists():
        rng = random.Random(2026)
        stations = list(contest.stations.order_by("number"))
        with acting(label="command:seed_demo"):
            for index, station in enumerate(stations[:10]):
                figures = _figures(station, rng, len(CANDIDATES["NA-46"]))
                services.form45_entry_submit(
                    actor=users["deo1"],
                    contest_station_id=station.pk,
                    idempotency_key=uuid.uuid4().hex,
                    figures=figures,
                )
                if index == 9:
                    continue  # waits for its second operator
                if index == 8:  # the second operator misreads one figure: the supervisor decides
                    votes = dict(figures.votes)
                    votes[2] += 10
                    votes[1] -= 10
                    figures = services.Figures(
                        figures.polled_male, figures.polled_female, figures.polled_total, figures.excluded, votes
                    )
                services.form45_entry_submit(
                    actor=users["deo2"],
                    contest_station_id=station.pk,
                    idempotency_key=uuid.uuid4().hex,
                    figures=figures,
                )
    if contest is not None:
        out(
            f"Results: election {election.code}; RO dashboard at /results/contests/{contest.pk}/ "
            "(sign in as ro; operators deo1 and deo2 key Form-45s at /results/)"
        )
