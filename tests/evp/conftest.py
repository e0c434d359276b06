"""evp test fixtures: counters of their own for every test, a small piece of geography with stations paired
across the two houses, census blocks split by serial range, electors on them, roll files, the memory SMS
provider and the signed Twilio inbound webhook, staff sessions."""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from core.models import CensusBlock, Constituency, PollingStation, Province, Role, RoleAssignment, StationType
from evp import limits
from evp.models import Elector
from evp.roll import COLUMNS
from tests.core.test_admin import verified_login
from tests.evp.factories import CensusBlockFactory, DistrictFactory, ElectorFactory, StationRangeFactory
from tests.factories import ConstituencyFactory, PollingStationFactory, UserFactory

TOKEN = "evp-webhook-token"
YEAR = 365 * 86_400
BASE = "https://portal.example.pk"


@pytest.fixture(autouse=True)
def _own_counters(settings):
    """Every test counts lookups under its own Redis prefix (and with empty in-process counters)."""
    settings.EVP_COUNTER_PREFIX = f"evp-test:{uuid.uuid4().hex}:"
    # Fixed windows of a year: a window never rolls over in the middle of a test and resets a count.
    settings.EVP_CLIENT_WINDOW_SECONDS = settings.EVP_CNIC_WINDOW_SECONDS = YEAR
    settings.EVP_ABUSE_WINDOW_SECONDS = YEAR
    limits.reset_local()
    yield
    limits.reset_local()


# --- geography ------------------------------------------------------------------------------------------------


def station(constituency, number: int, kind: str, name: str, name_ur: str, **extra) -> PollingStation:
    voters = {
        StationType.MALE: {"male_voters": 1400, "female_voters": 0, "male_booths": 3, "female_booths": 0},
        StationType.FEMALE: {"male_voters": 0, "female_voters": 1400, "male_booths": 0, "female_booths": 3},
        StationType.COMBINED: {"male_voters": 900, "female_voters": 850, "male_booths": 2, "female_booths": 2},
    }[kind]
    return PollingStationFactory(
        constituency=constituency, number=number, station_type=kind, name=name, name_ur=name_ur, **voters, **extra
    )


@dataclass
class World:
    """NA-60 and PP-90 in Sabzpur district. N1 (male), N2 (female), N3 (combined) in NA-60; P1 (male) and P2
    (female) in PP-90, the same buildings: P1 names N1 as its counterpart, N2 names P2 (both directions).

    ``block`` is split on its male list: serials 1–300 vote at N1, 301 onwards at N3; its female list votes at
    N2. ``pa_block``'s male list votes at P1. ``bare_block`` has no station range."""

    na: Constituency
    pa: Constituency
    n1: PollingStation
    n2: PollingStation
    n3: PollingStation
    p1: PollingStation
    p2: PollingStation
    block: CensusBlock
    pa_block: CensusBlock
    bare_block: CensusBlock


@pytest.fixture
def world(db) -> World:
    punjab = Province.objects.get(code="punjab")
    district = DistrictFactory()
    na = ConstituencyFactory(code="NA-60", house="NA", name="Sabzpur-I", province=punjab, district=district)
    pa = ConstituencyFactory(code="PP-90", house="PA", name="Sabzpur-III", province=punjab, district=district)
    n1 = station(
        na,
        1,
        StationType.MALE,
        "Government Boys High School No. 1, Kot Rahim",
        "گورنمنٹ بوائز ہائی اسکول نمبر ۱، کوٹ رحیم",
    )
    n2 = station(
        na, 2, StationType.FEMALE, "Government Girls School No. 3, Kot Rahim", "گورنمنٹ گرلز اسکول نمبر ۳، کوٹ رحیم"
    )
    n3 = station(na, 3, StationType.COMBINED, "Union Council Office, Chak 12", "یونین کونسل دفتر، چک ۱۲")
    p1 = station(
        pa,
        1,
        StationType.MALE,
        "Government Boys High School No. 1, Kot Rahim",
        "گورنمنٹ بوائز ہائی اسکول نمبر ۱، کوٹ رحیم",
        counterpart=n1,
    )
    p2 = station(
        pa, 2, StationType.FEMALE, "Government Girls School No. 3, Kot Rahim", "گورنمنٹ گرلز اسکول نمبر ۳، کوٹ رحیم"
    )
    n2.counterpart = p2
    n2.save(update_fields=["counterpart"])
    block = CensusBlockFactory(code="310000001", district=district)
    StationRangeFactory(block=block, roll="M", serial_from=1, serial_to=300, station=n1)
    StationRangeFactory(block=block, roll="M", serial_from=301, serial_to=None, station=n3)
    StationRangeFactory(block=block, roll="F", serial_from=1, serial_to=None, station=n2)
    pa_block = CensusBlockFactory(code="310000002", district=district, tehsil=None)
    StationRangeFactory(block=pa_block, roll="M", serial_from=1, serial_to=None, station=p1)
    bare_block = CensusBlockFactory(code="310000003", district=district)
    return World(na, pa, n1, n2, n3, p1, p2, block, pa_block, bare_block)


# CNICs used across the tests (invented). The man is on the male list of the split block at serial 300.
MAN = "3520212345673"
WOMAN = "3520276543218"
NOBODY = "1234512345671"


@pytest.fixture
def man(world) -> Elector:
    return ElectorFactory(
        cnic=int(MAN),
        name="Zeeshan Haider Qureshi",
        address="House 77, Street 12, Mohalla Sharifpura",
        block=world.block,
        serial=300,
        family_number=41,
    )


@pytest.fixture
def woman(world) -> Elector:
    return ElectorFactory(
        cnic=int(WOMAN),
        name="Rukhsana Noreen Qureshi",
        address="House 77, Street 12, Mohalla Sharifpura",
        gender="F",
        relation="husband",
        block=world.block,
        serial=12,
        family_number=41,
    )


# --- roll files ----------------------------------------------------------------------------------------------


def roll_text(rows, header=COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write_roll(path: Path, rows, header=COLUMNS) -> Path:
    path.write_bytes(roll_text(rows, header).encode("utf-8"))
    return path


def report_rows(record) -> list[dict[str, str]]:
    with open(record.report_path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def today() -> datetime.date:
    return timezone.localdate()


# --- SMS -----------------------------------------------------------------------------------------------------


@pytest.fixture
def inbound_sms(settings, memory, committed):
    """Send a text to the signed Twilio inbound webhook, as Twilio would; returns the response."""
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.SMS_INBOUND_PER_SENDER = 1000
    counter = iter(range(1, 10_000))

    def send(body: str, sender: str = "+923001234567"):
        data = {"MessageSid": f"SMevp{next(counter):05d}", "From": sender, "To": "8300", "Body": body}
        signature = RequestValidator(TOKEN).compute_signature(BASE + "/sms/inbound/", data)
        return committed(Client().post, "/sms/inbound/", data, HTTP_X_TWILIO_SIGNATURE=signature)

    return send


# --- staff ---------------------------------------------------------------------------------------------------


def staff_client(username: str, role: str | None) -> Client:
    user = UserFactory(username=username, is_staff=True)
    if role is not None:
        RoleAssignment.objects.create(user=user, role=role)
    client = Client()
    verified_login(client, user)
    client.user = user
    return client


@pytest.fixture
def officer_client(db) -> Client:
    return staff_client("evp-officer", Role.SMS_OFFICER)
