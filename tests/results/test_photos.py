"""Form-45 pictures through results.photos: forensic flags on generated JPEGs with crafted EXIF,
hostile files refused with nothing written, idempotent retries, scope, the RO's audited decision,
and concurrent uploads on PostgreSQL."""

from __future__ import annotations

import datetime
import hashlib
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from core.audit import verify_chain
from core.exceptions import ConflictError, DomainError, PermissionDeniedError
from core.models import AuditEvent, Role, RoleAssignment, User
from results import photos
from results.models import ContestStation, Election, Flag, Form45Photo
from tests.factories import UserFactory
from tests.results.factories import make_contest
from tests.results.test_forensics import east_of, jpeg, png_bomb, resized_copy, truncated

pytestmark = pytest.mark.django_db


@dataclass
class Setup:
    election: Election
    stations: list[ContestStation]
    po: User
    ro: User
    deo: User
    close: datetime.datetime

    def point(self, station: ContestStation) -> tuple[float, float]:
        ps = station.polling_station
        return (float(ps.latitude), float(ps.longitude))


def make_setup(code: str = "NA-46", election: Election | None = None) -> Setup:
    """A contest whose poll closed two hours ago, its stations 1 km apart with coordinates, a PO, an RO."""
    if election is None:
        close = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=2)
        election = Election.objects.create(
            code="ge-photos",
            name="General Election (pictures)",
            poll_date=close.date(),
            poll_close_at=close,
            provisional_deadline_at=close + datetime.timedelta(hours=9),
            complete_deadline_at=close + datetime.timedelta(hours=17),
        )
    contest = make_contest(code, election=election)
    base = 33.60 if code == "NA-46" else 33.80
    for n, station in enumerate(contest.stations):
        ps = station.polling_station
        ps.latitude, ps.longitude = Decimal(f"{base + 0.01 * n:.6f}"), Decimal("73.050000")
        ps.save(update_fields=["latitude", "longitude"])
    po = UserFactory(username=f"{code.lower()}-po")
    RoleAssignment.objects.create(user=po, role=Role.PRESIDING_OFFICER, constituency=contest.contest.constituency)
    return Setup(election, contest.stations, po, contest.ro, contest.deo1, election.poll_close_at)


@pytest.fixture
def setup() -> Setup:
    return make_setup()


def picture(s: Setup, station: ContestStation, *, seed: int = 1, after_close_min: int = 30, metres: float = 40, **kw):
    """A picture taken at (or ``metres`` east of) the station, ``after_close_min`` after the close of poll."""
    return jpeg(
        seed=seed,
        taken=kw.pop("taken", s.close + datetime.timedelta(minutes=after_close_min)),
        gps=kw.pop("gps", east_of(s.point(station), metres)),
        **kw,
    )


def upload(user, station, data, key=None, device_id="phone-1"):
    return photos.photo_upload(
        actor=user,
        contest_station_id=station.pk,
        idempotency_key=key or uuid.uuid4().hex,
        content=data,
        device=photos.Device(user_agent="pytest-phone/1.0", device_id=device_id, ip="10.1.2.3"),
    )


def stored_files() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def snapshot():
    return (Form45Photo.objects.count(), Flag.objects.count(), AuditEvent.objects.count(), stored_files())


def rules(photo: Form45Photo) -> list[str]:
    return [f["rule"] for f in photo.findings]


def station_flags(station) -> list[str]:
    return sorted(
        Flag.objects.filter(contest_station=station, rule__startswith="photo.").values_list("rule", flat=True)
    )


# --- a picture received -------------------------------------------------------------------------


def test_a_clean_picture_is_stored_byte_for_byte_with_its_facts(setup):
    station = setup.stations[0]
    data = picture(setup, station)
    result = upload(setup.po, station, data)
    photo = result.photo
    assert not result.replayed and rules(photo) == [] and not photo.is_flagged
    assert photo.sha256 == hashlib.sha256(data).hexdigest() and photo.size == len(data)
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 900, 1200)
    assert photo.file.name == f"results/photos/{photo.sha256}.jpg"
    assert (Path(settings.MEDIA_ROOT) / photo.file.name).read_bytes() == data
    assert photo.exif["make"] == "Phonemaker" and photo.exif["gps_latitude"] == pytest.approx(33.60, abs=1e-4)
    assert photo.taken_at == setup.close + datetime.timedelta(minutes=30)
    assert 35 <= photo.distance_m <= 45
    assert len(photo.phash) == 16 and photo.status == Form45Photo.Status.RECEIVED
    assert (photo.uploaded_by, photo.device_id, photo.user_agent, photo.ip) == (
        setup.po,
        "phone-1",
        "pytest-phone/1.0",
        "10.1.2.3",
    )
    assert station_flags(station) == []
    event = AuditEvent.objects.get(action="results.photo_received")
    assert event.data["sha256"] == photo.sha256 and event.data["findings"] == []


def test_far_from_the_station_is_flagged_on_the_picture_and_the_station(setup):
    station = setup.stations[0]
    photo = upload(setup.po, station, picture(setup, station, metres=5000)).photo
    assert rules(photo) == ["photo.far_from_station"] and photo.is_flagged
    assert photo.distance_m == pytest.approx(5000, abs=2)
    assert station_flags(station) == ["photo.far_from_station"]
    flag = Flag.objects.get(contest_station=station, rule="photo.far_from_station")
    assert flag.data["radius_m"] == settings.RESULTS_PHOTO_RADIUS_M and flag.severity == "warning"


def test_the_radius_is_a_setting(setup, settings):
    settings.RESULTS_PHOTO_RADIUS_M = 10_000
    station = setup.stations[0]
    assert rules(upload(setup.po, station, picture(setup, station, metres=5000)).photo) == []


def test_taken_before_the_close_of_poll(setup):
    station = setup.stations[0]
    photo = upload(setup.po, station, picture(setup, station, after_close_min=-45)).photo
    assert rules(photo) == ["photo.taken_before_close"]


def test_taken_long_before_it_was_received(setup):
    early = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=40)
    election = Election.objects.create(
        code="ge-early",
        name="An election that closed 40 hours ago",
        poll_date=early.date(),
        poll_close_at=early,
        provisional_deadline_at=early + datetime.timedelta(hours=9),
        complete_deadline_at=early + datetime.timedelta(hours=17),
    )
    s = make_setup("NA-48", election=election)
    station = s.stations[0]
    photo = upload(s.po, station, picture(s, station, after_close_min=60)).photo  # 39 h before receipt
    assert rules(photo) == ["photo.taken_long_before_receipt"]
    assert photo.findings[0]["data"]["hours"] == pytest.approx(39, abs=0.2)


def test_stripped_exif_and_exif_without_gps(setup):
    first, second = setup.stations[:2]
    assert rules(upload(setup.po, first, picture(setup, first, with_exif=False)).photo) == ["photo.no_exif"]
    photo = upload(setup.po, second, jpeg(seed=2, taken=setup.close + datetime.timedelta(minutes=20))).photo
    assert rules(photo) == ["photo.no_gps"]
    assert station_flags(first) == ["photo.no_exif"] and station_flags(second) == ["photo.no_gps"]


def test_the_same_picture_for_two_stations_is_flagged_on_both(setup):
    first, second = setup.stations[:2]
    data = picture(setup, first)
    one = upload(setup.po, first, data).photo
    two = upload(setup.po, second, data).photo
    assert one.sha256 == two.sha256 and stored_files() == [f"results/photos/{one.sha256}.jpg"]  # kept once
    assert "photo.same_picture" in rules(two)
    finding = next(f for f in two.findings if f["rule"] == "photo.same_picture")
    assert finding["data"]["matches"][0]["photo"] == one.pk and finding["data"]["stations"] == "NA-46 PS-1"
    one.refresh_from_db()
    assert rules(one) == ["photo.same_picture"] and one.is_flagged
    assert one.findings[0]["data"]["stations"] == "NA-46 PS-2"
    assert station_flags(first) == ["photo.same_picture"]
    assert "photo.same_picture" in station_flags(second)


def test_a_resized_recompressed_copy_for_another_station_is_caught_by_the_perceptual_hash(setup):
    first, second = setup.stations[:2]
    original = picture(setup, first, seed=7)
    one = upload(setup.po, first, original).photo
    two = upload(setup.po, second, resized_copy(original)).photo
    assert one.sha256 != two.sha256
    assert set(rules(two)) == {"photo.no_exif", "photo.near_duplicate"}
    match = next(f for f in two.findings if f["rule"] == "photo.near_duplicate")["data"]["matches"][0]
    assert match["photo"] == one.pk and match["distance"] <= settings.RESULTS_PHOTO_PHASH_DISTANCE
    one.refresh_from_db()
    assert rules(one) == ["photo.near_duplicate"]
    assert station_flags(first) == ["photo.near_duplicate"]


def test_different_pictures_of_different_stations_are_not_duplicates(setup):
    for n, station in enumerate(setup.stations, start=1):
        assert rules(upload(setup.po, station, picture(setup, station, seed=20 + n)).photo) == []
    assert not Flag.objects.filter(rule__startswith="photo.").exists()


def test_a_different_picture_for_the_same_station_is_kept_and_flagged_as_a_replacement(setup):
    station = setup.stations[0]
    first = upload(setup.po, station, picture(setup, station, seed=1)).photo
    second = upload(setup.po, station, picture(setup, station, seed=2, metres=3000)).photo
    assert rules(second) == ["photo.far_from_station", "photo.replaced"]
    assert next(f for f in second.findings if f["rule"] == "photo.replaced")["data"]["earlier"] == [first.pk]
    assert photos.station_photos(station=station) == [second, first]  # both kept, the latest first
    assert len(stored_files()) == 2
    # The station's flags are those of its latest picture.
    assert station_flags(station) == ["photo.far_from_station", "photo.replaced"]


# --- idempotency -------------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_picture_and_writes_nothing(setup):
    station = setup.stations[0]
    data = picture(setup, station)
    first = upload(setup.po, station, data, key="retry-key-0001")
    before = snapshot()
    again = upload(setup.po, station, data, key="retry-key-0001")
    assert again.replayed and again.photo.pk == first.photo.pk
    assert snapshot() == before


def test_the_same_file_sent_again_with_a_new_key_is_recognised(setup):
    station = setup.stations[0]
    data = picture(setup, station)
    first = upload(setup.po, station, data)
    before = snapshot()
    again = upload(setup.po, station, data)
    assert again.replayed and again.photo.pk == first.photo.pk and snapshot() == before


def test_a_key_reused_for_another_station_is_a_conflict(setup):
    first, second = setup.stations[:2]
    upload(setup.po, first, picture(setup, first), key="retry-key-0002")
    before = snapshot()
    with pytest.raises(ConflictError) as err:
        upload(setup.po, second, picture(setup, second, seed=3), key="retry-key-0002")
    assert err.value.code == "idempotency_key_reused" and err.value.field == "idempotency_key"
    assert snapshot() == before


# --- refusals ----------------------------------------------------------------------------------------


HOSTILE = {
    "decompression-bomb": (lambda s, st: png_bomb(), "photo.too_many_pixels"),
    "text-named-jpg": (lambda s, st: b"PS-1: 500 300 150\n" * 50, "photo.wrong_type"),
    "truncated-jpeg": (lambda s, st: truncated(picture(s, st)), "photo.unreadable"),
    "empty": (lambda s, st: b"", "photo.empty"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_are_refused_naming_the_field_and_nothing_is_written(setup, name):
    make, code = HOSTILE[name]
    station = setup.stations[0]
    before = snapshot()
    with pytest.raises(DomainError) as err:
        upload(setup.po, station, make(setup, station))
    assert err.value.code == code and list(err.value.fields) == ["photo"] and err.value.status == 400
    assert snapshot() == before and before[3] == []


def test_an_oversized_file_is_refused_without_being_read_whole(setup, settings):
    station = setup.stations[0]
    data = picture(setup, station)
    settings.RESULTS_PHOTO_MAX_BYTES = len(data) - 1
    before = snapshot()
    with pytest.raises(DomainError) as err:
        upload(setup.po, station, data)
    assert err.value.code == "photo.too_large" and "photo" in err.value.fields
    assert snapshot() == before


def test_a_bad_idempotency_key_or_station_is_refused(setup):
    before = snapshot()
    with pytest.raises(DomainError) as err:
        upload(setup.po, setup.stations[0], picture(setup, setup.stations[0]), key="short")
    assert err.value.code == "bad_idempotency_key"
    with pytest.raises(DomainError) as err:
        photos.photo_upload(actor=setup.po, contest_station_id=999_999, idempotency_key="k" * 10, content=b"x")
    assert err.value.code == "station_not_in_contest" and err.value.status == 404
    assert snapshot() == before


# --- scope ---------------------------------------------------------------------------------------------


def test_a_po_of_another_constituency_is_refused(setup):
    other = make_setup("NA-47", election=setup.election)
    station = setup.stations[0]
    before = snapshot()
    with pytest.raises(PermissionDeniedError) as err:
        upload(other.po, station, picture(setup, station))
    assert err.value.code == "out_of_scope" and snapshot() == before


@pytest.mark.parametrize("who", ["ro", "deo"])
def test_only_presiding_officers_send_pictures(setup, who):
    station = setup.stations[0]
    before = snapshot()
    with pytest.raises(PermissionDeniedError):
        upload(getattr(setup, who), station, picture(setup, station))
    assert snapshot() == before


# --- the RO's decision -----------------------------------------------------------------------------------


def test_the_ro_accepts_a_picture_and_it_is_audited(setup):
    photo = upload(setup.po, setup.stations[0], picture(setup, setup.stations[0])).photo
    decided = photos.photo_decide(actor=setup.ro, photo_id=photo.pk, decision="accepted", note="Matches the entry")
    assert (decided.status, decided.decided_by, decided.decision_note) == ("accepted", setup.ro, "Matches the entry")
    assert decided.decided_at is not None
    event = AuditEvent.objects.filter(action="results.photo_decided").get()
    assert event.data["decision"] == "accepted" and event.data["previous"] == "received"
    assert event.target_id == str(photo.pk) and event.actor == setup.ro
    assert verify_chain().ok


def test_a_query_needs_a_note_and_a_queried_picture_may_then_be_accepted(setup):
    photo = upload(setup.po, setup.stations[0], picture(setup, setup.stations[0])).photo
    before = snapshot()
    with pytest.raises(DomainError) as err:
        photos.photo_decide(actor=setup.ro, photo_id=photo.pk, decision="queried", note="  ")
    assert err.value.code == "note_required" and err.value.field == "note" and snapshot() == before
    photos.photo_decide(actor=setup.ro, photo_id=photo.pk, decision="queried", note="Signatures are cut off")
    photo.refresh_from_db()
    assert photo.status == "queried" and photo.decision_note == "Signatures are cut off"
    photos.photo_decide(actor=setup.ro, photo_id=photo.pk, decision="accepted")
    assert Form45Photo.objects.get(pk=photo.pk).status == "accepted"
    assert list(AuditEvent.objects.filter(action="results.photo_decided").values_list("data__decision", flat=True)) == [
        "queried",
        "accepted",
    ]


def test_an_accepted_picture_stays_accepted(setup):
    photo = upload(setup.po, setup.stations[0], picture(setup, setup.stations[0])).photo
    photos.photo_decide(actor=setup.ro, photo_id=photo.pk, decision="accepted")
    before = snapshot()
    with pytest.raises(ConflictError) as err:
        photos.photo_decide(actor=setup.ro, photo_id=photo.pk, decision="queried", note="second thoughts")
    assert err.value.code == "photo_already_decided" and snapshot() == before


@pytest.mark.parametrize("who", ["po", "deo", "other_ro"])
def test_only_the_ro_of_the_constituency_decides(setup, who):
    photo = upload(setup.po, setup.stations[0], picture(setup, setup.stations[0])).photo
    actor = make_setup("NA-47", election=setup.election).ro if who == "other_ro" else getattr(setup, who)
    before = snapshot()
    with pytest.raises(PermissionDeniedError):
        photos.photo_decide(actor=actor, photo_id=photo.pk, decision="accepted")
    assert snapshot() == before and Form45Photo.objects.get(pk=photo.pk).status == "received"


def test_a_bad_decision_is_refused(setup):
    photo = upload(setup.po, setup.stations[0], picture(setup, setup.stations[0])).photo
    with pytest.raises(DomainError) as err:
        photos.photo_decide(actor=setup.ro, photo_id=photo.pk, decision="received")
    assert err.value.code == "bad_decision" and err.value.field == "decision"


# --- selectors ------------------------------------------------------------------------------------------


def test_the_ro_list_filters_and_counts(setup, django_assert_num_queries):
    a, b, c = setup.stations[:3]
    clean = upload(setup.po, a, picture(setup, a, seed=31)).photo
    far = upload(setup.po, b, picture(setup, b, seed=32, metres=4000)).photo
    queried = upload(setup.po, c, picture(setup, c, seed=33)).photo
    photos.photo_decide(actor=setup.ro, photo_id=queried.pk, decision="queried", note="Blurred")
    contest = a.contest
    assert list(photos.photo_list(contest=contest, show="flagged")) == [far]
    assert list(photos.photo_list(contest=contest, show="queried")) == [queried]
    assert set(photos.photo_list(contest=contest, show="all")) == {clean, far, queried}
    assert photos.photo_counts(contest=contest) == {"all": 3, "flagged": 1, "received": 2, "queried": 1, "accepted": 0}
    with django_assert_num_queries(1):
        rows = [
            (p.contest_station.polling_station.name, p.uploaded_by.username) for p in photos.photo_list(contest=contest)
        ]
    assert len(rows) == 3


# --- concurrency (PostgreSQL) ------------------------------------------------------------------------------


def _run_together(targets):
    barrier = threading.Barrier(len(targets))
    outcomes: list = []

    def run(target):
        try:
            barrier.wait()
            outcomes.append(target())
        except Exception as exc:  # recorded, then asserted on
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_store_one_picture():
    s = make_setup()
    station = s.stations[0]
    data = picture(s, station)
    outcomes = _run_together([lambda: upload(s.po, station, data, key="same-key-000001")] * 8)
    assert all(isinstance(o, photos.UploadResult) for o in outcomes), outcomes
    assert Form45Photo.objects.count() == 1
    assert {o.photo.pk for o in outcomes} == {Form45Photo.objects.get().pk}
    assert sum(not o.replayed for o in outcomes) == 1
    assert AuditEvent.objects.filter(action="results.photo_received").count() == 1
    assert len(stored_files()) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_different_pictures_of_one_station_are_all_kept():
    s = make_setup()
    station = s.stations[0]
    pictures = [picture(s, station, seed=50 + n) for n in range(8)]
    outcomes = _run_together([lambda d=d: upload(s.po, station, d) for d in pictures])
    assert all(isinstance(o, photos.UploadResult) and not o.replayed for o in outcomes), outcomes
    stored = list(Form45Photo.objects.filter(contest_station=station).order_by("pk"))
    assert len(stored) == 8 and len(stored_files()) == 8
    # One after another under the locks: each later one sees all the earlier ones.
    assert [
        len(next((f["data"]["earlier"] for f in p.findings if f["rule"] == "photo.replaced"), [])) for p in stored
    ] == list(range(8))
    assert station_flags(station) == ["photo.replaced"]
    assert verify_chain().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_file_sent_for_two_stations_at_the_same_moment_flags_both():
    s = make_setup()
    first, second = s.stations[:2]
    data = picture(s, first)
    outcomes = _run_together([lambda: upload(s.po, first, data), lambda: upload(s.po, second, data)])
    assert all(isinstance(o, photos.UploadResult) for o in outcomes), outcomes
    for photo in Form45Photo.objects.all():
        assert "photo.same_picture" in rules(photo)  # (PS-2 is also 1.1 km from where PS-1's picture was taken)
    assert "photo.same_picture" in station_flags(first) and "photo.same_picture" in station_flags(second)
    assert len(stored_files()) == 1
