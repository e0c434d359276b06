"""core's demo data: a small country (districts, four constituencies with
their stations, the office hierarchy, holidays) and one demo user per role.

Everything is get-or-create, so running it again changes nothing. Names of
places are real public geography; people are invented.
"""

from __future__ import annotations

import datetime
import random

from django.contrib.auth import get_user_model

from . import services
from .demo import Printer, register
from .models import Constituency, District, Holiday, Office, OfficeKind, PollingStation, Province, Role, StationType

DEMO_PASSWORD = "ecp-demo-2026"  # noqa: S105 (printed on purpose; seed_demo is refused in production)

DISTRICTS = [("ict", "Islamabad", "اسلام آباد"), ("punjab", "Lahore", "لاہور"), ("punjab", "Rawalpindi", "راولپنڈی")]

CONSTITUENCIES = [
    # code, name, name_ur, province, district, stations
    ("NA-46", "Islamabad-I", "اسلام آباد-۱", "ict", "Islamabad", 14),
    ("NA-47", "Islamabad-II", "اسلام آباد-۲", "ict", "Islamabad", 12),
    ("NA-120", "Lahore-IV", "لاہور-۴", "punjab", "Lahore", 16),
    ("PP-150", "Lahore-VI", "لاہور-۶", "punjab", "Lahore", 10),
]

PLACES = ["G-6", "G-7", "F-8", "I-9", "Bhara Kahu", "Tarnol", "Model Town", "Shadman", "Gulberg", "Samanabad"]
SCHOOLS = [
    ("Government Boys Primary School", "گورنمنٹ بوائز پرائمری اسکول", StationType.MALE),
    ("Government Girls High School", "گورنمنٹ گرلز ہائی اسکول", StationType.FEMALE),
    ("Government Model School", "گورنمنٹ ماڈل اسکول", StationType.COMBINED),
    ("Islamabad College", "اسلام آباد کالج", StationType.COMBINED),
]

OFFICES = [
    # code, kind, name, name_ur, parent, province
    ("cec", OfficeKind.CEC, "Office of the Chief Election Commissioner", "دفتر چیف الیکشن کمشنر", None, None),
    ("secretary", OfficeKind.SECRETARY, "Secretary ECP", "سیکرٹری الیکشن کمیشن", "cec", None),
    ("special-secretary", OfficeKind.SPECIAL_SECRETARY, "Special Secretary", "اسپیشل سیکرٹری", "secretary", None),
    (
        "as-admin",
        OfficeKind.ADDITIONAL_SECRETARY,
        "Additional Secretary (Admin)",
        "ایڈیشنل سیکرٹری (ایڈمن)",
        "special-secretary",
        None,
    ),
    (
        "as-elections",
        OfficeKind.ADDITIONAL_SECRETARY,
        "Additional Secretary (Elections)",
        "ایڈیشنل سیکرٹری (الیکشنز)",
        "special-secretary",
        None,
    ),
    (
        "pec-punjab",
        OfficeKind.PEC,
        "Provincial Election Commissioner Punjab",
        "صوبائی الیکشن کمشنر پنجاب",
        "secretary",
        "punjab",
    ),
    (
        "pec-sindh",
        OfficeKind.PEC,
        "Provincial Election Commissioner Sindh",
        "صوبائی الیکشن کمشنر سندھ",
        "secretary",
        "sindh",
    ),
    (
        "pec-kp",
        OfficeKind.PEC,
        "Provincial Election Commissioner Khyber Pakhtunkhwa",
        "صوبائی الیکشن کمشنر خیبر پختونخوا",
        "secretary",
        "kp",
    ),
    (
        "pec-balochistan",
        OfficeKind.PEC,
        "Provincial Election Commissioner Balochistan",
        "صوبائی الیکشن کمشنر بلوچستان",
        "secretary",
        "balochistan",
    ),
    (
        "rec-lahore",
        OfficeKind.REC,
        "Regional Election Commissioner Lahore",
        "ریجنل الیکشن کمشنر لاہور",
        "pec-punjab",
        "punjab",
    ),
    (
        "rec-rawalpindi",
        OfficeKind.REC,
        "Regional Election Commissioner Rawalpindi",
        "ریجنل الیکشن کمشنر راولپنڈی",
        "pec-punjab",
        "punjab",
    ),
    (
        "dec-lahore",
        OfficeKind.DEC,
        "District Election Commissioner Lahore",
        "ڈسٹرکٹ الیکشن کمشنر لاہور",
        "rec-lahore",
        "punjab",
    ),
    (
        "dec-rawalpindi",
        OfficeKind.DEC,
        "District Election Commissioner Rawalpindi",
        "ڈسٹرکٹ الیکشن کمشنر راولپنڈی",
        "rec-rawalpindi",
        "punjab",
    ),
    (
        "dec-islamabad",
        OfficeKind.DEC,
        "District Election Commissioner Islamabad",
        "ڈسٹرکٹ الیکشن کمشنر اسلام آباد",
        "rec-rawalpindi",
        "ict",
    ),
]

HOLIDAYS = [
    ("02-05", "Kashmir Solidarity Day", "یوم یکجہتی کشمیر"),
    ("03-23", "Pakistan Day", "یوم پاکستان"),
    ("05-01", "Labour Day", "یوم مزدور"),
    ("08-14", "Independence Day", "یوم آزادی"),
    ("11-09", "Iqbal Day", "یوم اقبال"),
    ("12-25", "Quaid-e-Azam Day", "یوم قائد اعظم"),
]

# username, role, scope (office code / constituency code / None), first and last name (invented)
DEMO_USERS = [
    ("admin", Role.ADMIN, None, "Ayesha", "Demo"),
    ("desk", Role.DESK_OFFICER, "dec-islamabad", "Bilal", "Demo"),
    ("desk2", Role.DESK_OFFICER, "dec-rawalpindi", "Mansoor", "Demo"),
    ("supervisor", Role.COMPLAINTS_SUPERVISOR, "rec-rawalpindi", "Lubna", "Demo"),
    ("ro", Role.RETURNING_OFFICER, "NA-46", "Saima", "Demo"),
    ("deo1", Role.DATA_ENTRY_OPERATOR, "NA-46", "Danish", "Demo"),
    ("deo2", Role.DATA_ENTRY_OPERATOR, "NA-46", "Erum", "Demo"),
    ("hr", Role.HR, "secretary", "Farhan", "Demo"),
    ("omr", Role.OMR_OPERATOR, None, "Ghazala", "Demo"),
    ("sms", Role.SMS_OFFICER, None, "Nadia", "Demo"),
    ("sms2", Role.SMS_OFFICER, None, "Omar", "Demo"),
    ("scrutiny", Role.SCRUTINY_CELL, None, "Hamid", "Demo"),
    ("agency", Role.AGENCY, None, "Iqra", "Demo"),
    ("facilitation", Role.FACILITATION_OPERATOR, "dec-lahore", "Junaid", "Demo"),
    ("citizen", Role.CITIZEN, None, "Kiran", "Demo"),
]


def _seed_geography() -> None:
    provinces = {p.code: p for p in Province.objects.all()}
    districts = {}
    for province, name, name_ur in DISTRICTS:
        districts[name], _ = District.objects.get_or_create(
            province=provinces[province], name=name, defaults={"name_ur": name_ur}
        )
    rng = random.Random(46)
    for code, name, name_ur, province, district, count in CONSTITUENCIES:
        constituency, created = Constituency.objects.get_or_create(
            code=code,
            defaults={
                "house": "NA" if code.startswith("NA-") else "PA",
                "name": name,
                "name_ur": name_ur,
                "province": provinces[province],
                "district": districts[district],
            },
        )
        if not created:
            continue
        stations = []
        for number in range(1, count + 1):
            school, school_ur, kind = SCHOOLS[number % len(SCHOOLS)]
            place = PLACES[(number + len(code)) % len(PLACES)]
            male = rng.randint(700, 1600) if kind != StationType.FEMALE else 0
            female = rng.randint(650, 1500) if kind != StationType.MALE else 0
            stations.append(
                PollingStation(
                    constituency=constituency,
                    number=number,
                    name=f"{school} No. {number}, {place}",
                    name_ur=f"{school_ur} نمبر {number}، {place}",
                    station_type=kind,
                    male_voters=male,
                    female_voters=female,
                    male_booths=(male + 399) // 400,
                    female_booths=(female + 399) // 400,
                    latitude=round(33.68 + rng.uniform(-0.08, 0.08), 6) if province == "ict" else None,
                    longitude=round(73.05 + rng.uniform(-0.1, 0.1), 6) if province == "ict" else None,
                )
            )
        PollingStation.objects.bulk_create(stations)


# A District Election Commissioner's office serves its district (the complaints reports count by district).
DEC_DISTRICTS = {"dec-lahore": "Lahore", "dec-rawalpindi": "Rawalpindi", "dec-islamabad": "Islamabad"}


def _seed_offices() -> None:
    provinces = {p.code: p for p in Province.objects.all()}
    for code, kind, name, name_ur, parent, province in OFFICES:
        if Office.objects.filter(code=code).exists():
            continue
        services.office_create(
            district=District.objects.filter(name=DEC_DISTRICTS[code]).first() if code in DEC_DISTRICTS else None,
            actor=None,
            code=code,
            kind=kind,
            name=name,
            name_ur=name_ur,
            parent=Office.objects.get(code=parent) if parent else None,
            province=provinces.get(province) if province else None,
            phone="051-9210000" if province is None else "",
        )


def _seed_holidays() -> None:
    for year in (2026, 2027):
        for month_day, name, name_ur in HOLIDAYS:
            month, day = (int(x) for x in month_day.split("-"))
            Holiday.objects.get_or_create(
                date=datetime.date(year, month, day), defaults={"name": name, "name_ur": name_ur}
            )


def _seed_users(out: Printer) -> None:
    user_model = get_user_model()
    out(f"Demo logins (password for all: {DEMO_PASSWORD}; second factor skipped while DEBUG is on):")
    for username, role, scope, first, last in DEMO_USERS:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "is_demo_account": True,
                "is_staff": role != Role.CITIZEN,
                "is_superuser": role == Role.ADMIN,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            office = Office.objects.filter(code=scope).first() if scope else None
            constituency = Constituency.objects.filter(code=scope).first() if scope else None
            services.role_grant(actor=None, user=user, role=role, office=office, constituency=constituency)
        out(f"  {username:<13} {Role(role).label}" + (f" — {scope}" if scope else ""))


@register(order=0, name="core.country")
def seed_country(out: Printer) -> None:
    _seed_geography()
    _seed_offices()
    _seed_holidays()
    _seed_users(out)
