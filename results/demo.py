"""Demo data for the Result Management System: an election with two contests,
candidates in both scripts, and Form-45s keyed by the demo operators so the
RO dashboard shows accepted stations, one mismatch for the supervisor and
one entry waiting for its second operator. Candidates are invented."""

from __future__ import annotations

import datetime
import io
import math
import random
import uuid

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.context import acting
from core.demo import Printer, register
from core.demo_country import DEMO_PASSWORD
from core.models import Constituency, Role
from core.services import role_grant

from . import photos, services
from .importers import contest_create
from .models import Candidate, Contest, ContestStation, Election, Form45Photo

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


# --- Form-45 pictures -----------------------------------------------------------------------------------

# Station number -> metres east of the station where the demo picture is "taken" (the third is far: flagged).
PHOTO_OFFSETS_M = {1: 40, 2: 120, 3: 6500}


def _form45_picture(
    station: ContestStation, *, taken: datetime.datetime, latitude: float, longitude: float, seed: int
) -> bytes:
    """A phone-camera-like JPEG of a signed Form-45: Pillow draws the form; EXIF carries GPS and the time."""
    from PIL import ExifTags, Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (900, 1200), (248, 247, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 860, 1160), outline=(20, 20, 20), width=3)
    draw.text((70, 70), "FORM-45  RESULT OF THE COUNT", fill=(0, 0, 0))
    draw.text((70, 100), f"{station.contest.constituency.code}  PS-{station.number}", fill=(0, 0, 0))
    for row in range(10):
        y = 170 + row * 80
        draw.line((60, y, 840, y), fill=(40, 40, 40), width=2)
        draw.text((80, y + 25), f"{row + 1}.", fill=(0, 0, 0))
        draw.text((640, y + 25), str(rng.randint(0, 900)), fill=(20, 30, 140))
    for _ in range(6):  # signatures and thumb impressions
        x, y = rng.randint(80, 700), rng.randint(1000, 1120)
        draw.line((x, y, x + rng.randint(40, 120), y + rng.randint(-20, 20)), fill=(20, 30, 140), width=3)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "DemoPhone"
    exif[ExifTags.Base.Model] = "DP-1"
    local = taken.astimezone(datetime.timezone(datetime.timedelta(hours=5)))
    exif.get_ifd(ExifTags.IFD.Exif).update(
        {
            ExifTags.Base.DateTimeOriginal: local.strftime("%Y:%m:%d %H:%M:%S"),
            ExifTags.Base.OffsetTimeOriginal: "+05:00",
        }
    )

    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        degrees, minutes = int(value), int(value * 60) % 60
        return (float(degrees), float(minutes), round((value * 3600) % 60, 2))

    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N" if latitude >= 0 else "S",
            ExifTags.GPS.GPSLatitude: dms(latitude),
            ExifTags.GPS.GPSLongitudeRef: "E" if longitude >= 0 else "W",
            ExifTags.GPS.GPSLongitude: dms(longitude),
        }
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


@register(order=31, name="results.photos")
def seed_photos(out: Printer) -> None:
    constituency = Constituency.objects.filter(code="NA-46").first()
    if constituency is None:
        return
    user_model = get_user_model()
    po, created = user_model.objects.get_or_create(
        username="po",
        defaults={"first_name": "Qamar", "last_name": "Demo", "is_demo_account": True, "is_staff": True},
    )
    if created:
        po.set_password(DEMO_PASSWORD)
        po.save(update_fields=["password"])
        role_grant(actor=None, user=po, role=Role.PRESIDING_OFFICER, constituency=constituency)
    contest = Contest.objects.filter(election__code=ELECTION_CODE, constituency=constituency).first()
    if contest is None:
        return
    if not Form45Photo.objects.filter(contest_station__contest=contest).exists():
        now = timezone.now()
        stations = {s.number: s for s in contest.stations.select_related("polling_station", "contest__constituency")}
        with acting(label="command:seed_demo"):
            for number, east_m in PHOTO_OFFSETS_M.items():
                station = stations.get(number)
                if station is None:
                    continue
                ps = station.polling_station
                lat = float(ps.latitude) if ps.latitude is not None else 33.6844
                lon = float(ps.longitude) if ps.longitude is not None else 73.0479
                lon += east_m / (111_320 * math.cos(math.radians(lat)))
                picture = _form45_picture(
                    station,
                    taken=now - datetime.timedelta(minutes=10 + 7 * number),
                    latitude=lat,
                    longitude=lon,
                    seed=number,
                )
                photos.photo_upload(
                    actor=po,
                    contest_station_id=station.pk,
                    idempotency_key=uuid.uuid4().hex,
                    content=picture,
                    device=photos.Device(user_agent="seed_demo", device_id="demo-phone-1"),
                )
    out(
        "  po            Presiding Officer — NA-46: sends Form-45 pictures at /results/photos/upload/; "
        f"the RO reviews them at /results/contests/{contest.pk}/photos/"
    )
