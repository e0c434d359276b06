"""results.forensics, without a database: the safety gate for uploaded pictures, EXIF reading,
distances, perceptual hashes and every forensic rule. Pictures are generated here (Pillow draws a
form-like page; EXIF with GPS and DateTimeOriginal is written with Pillow's Image.Exif).

The generators (``form_image``, ``jpeg``, ``png_bomb``…) are shared with test_photos.py and
test_photo_views.py."""

from __future__ import annotations

import datetime
import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageDraw

from results import forensics
from results.forensics import Evidence, Exif, Limits, Match

PKT = datetime.timezone(datetime.timedelta(hours=5))
STATION = (33.6844, 73.0479)  # a point in Islamabad
LIMITS = Limits(radius_m=1000, max_age_hours=12, phash_distance=4)
CLOSE = datetime.datetime(2026, 2, 8, 17, 0, tzinfo=PKT)


# --- generators (shared) -----------------------------------------------------------------


def form_image(seed: int = 1, size: tuple[int, int] = (900, 1200)) -> Image.Image:
    """A photographed Form-45: the one printed template, different figures and signatures for each seed,
    held by hand over a table (smaller than the frame, turned a little, lit unevenly)."""
    rng = random.Random(seed)
    w, h = size
    page = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(page)
    draw.rectangle((20, 20, w - 20, h - 20), outline="black", width=3)
    draw.text((40, 40), "FORM-45 RESULT OF THE COUNT", fill="black")
    for row in range(12):
        y = 130 + row * 80
        draw.line((40, y, w - 40, y), fill="black", width=2)
        draw.text((60, y + 20), f"Candidate {row + 1}", fill="black")
        draw.text((w - 230, y + 20), str(rng.randint(0, 900)), fill=(20, 20, 120))
    for _ in range(40):
        x, y = rng.randint(40, w - 40), rng.randint(130, h - 40)
        draw.line((x, y, x + rng.randint(-60, 60), y + rng.randint(-30, 30)), fill=(30, 30, 140), width=3)
    scale = rng.uniform(0.75, 0.95)
    page = page.resize((int(w * scale), int(h * scale))).rotate(rng.uniform(-6, 6), expand=True)
    table = Image.new("RGB", size, tuple(rng.randint(60, 140) for _ in range(3)))
    table.paste(page, (rng.randint(0, max(0, w - page.width)), rng.randint(0, max(0, h - page.height))))
    shade = Image.linear_gradient("L").resize(size).rotate(rng.randint(0, 359))
    return Image.composite(table, Image.new("RGB", size, (60, 60, 55)), shade.point(lambda v: 150 + v // 3))


def dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 3)
    return (float(degrees), float(minutes), seconds)


def exif_for(
    *,
    taken: datetime.datetime | str | None = None,
    offset: str | None = None,
    gps: tuple[float, float] | None = None,
    make: str = "Phonemaker",
    model: str = "X1",
) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = model
    if taken is not None:
        text = taken if isinstance(taken, str) else taken.astimezone(PKT).strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = text
        if offset:
            exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = offset
    if gps is not None:
        lat, lon = gps
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        info[ExifTags.GPS.GPSLatitude] = dms(lat)
        info[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        info[ExifTags.GPS.GPSLongitude] = dms(lon)
    return exif


def jpeg(
    image: Image.Image | None = None,
    *,
    seed: int = 1,
    taken: datetime.datetime | str | None = None,
    offset: str | None = None,
    gps: tuple[float, float] | None = None,
    with_exif: bool = True,
    quality: int = 88,
) -> bytes:
    """A JPEG of a generated form; EXIF as asked (``with_exif=False``: stripped, as messaging apps do)."""
    image = image if image is not None else form_image(seed)
    out = io.BytesIO()
    if with_exif:
        image.save(out, "JPEG", quality=quality, exif=exif_for(taken=taken, offset=offset, gps=gps))
    else:
        image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def resized_copy(data: bytes, factor: float = 0.5, quality: int = 60) -> bytes:
    """What a messaging app makes of a picture: smaller, recompressed, EXIF gone."""
    image = Image.open(io.BytesIO(data))
    small = image.resize((int(image.width * factor), int(image.height * factor)))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png_bytes(image: Image.Image | None = None) -> bytes:
    out = io.BytesIO()
    (image or form_image(3, (300, 400))).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG of a few hundred bytes declaring a huge picture (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def east_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    """The point ``metres`` east of ``point`` (small distances)."""
    import math

    lat, lon = point
    metres_per_degree = math.radians(1) * forensics.EARTH_RADIUS_M
    return (lat, lon + metres / (metres_per_degree * math.cos(math.radians(lat))))


# --- the safety gate ------------------------------------------------------------------------------

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000


def decode(data: bytes, **limits) -> forensics.DecodedPicture:
    return forensics.decode_picture(
        data, max_bytes=limits.get("max_bytes", MAX_BYTES), max_pixels=limits.get("max_pixels", MAX_PIXELS)
    )


def test_a_jpeg_and_a_png_are_decoded_with_size_and_perceptual_hash():
    picture = decode(jpeg())
    assert (picture.content_type, picture.width, picture.height) == ("image/jpeg", 900, 1200)
    assert len(picture.phash) == 16 and int(picture.phash, 16) >= 0
    png = decode(png_bytes())
    assert (png.content_type, png.width, png.height) == ("image/png", 300, 400)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "photo.empty"),
        (b"Form-45: PTI 500, PML-N 300\n" * 20, "photo.wrong_type"),  # a text file, whatever its name
        (b"GIF89a" + b"\x00" * 200, "photo.wrong_type"),
        (png_bomb(), "photo.too_many_pixels"),  # above Pillow's own bomb limit
        (png_bomb(9000, 9000), "photo.too_many_pixels"),  # 81 MP: above ours, below Pillow's
        (truncated(jpeg()), "photo.unreadable"),
        (truncated(png_bytes()), "photo.unreadable"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "photo.unreadable"),  # JPEG magic, garbage after
    ],
    ids=["empty", "text", "gif", "png-bomb", "png-81mp", "truncated-jpeg", "truncated-png", "jpeg-garbage"],
)
def test_hostile_files_are_refused_with_a_code(data, code):
    with pytest.raises(forensics.PictureRefused) as err:
        decode(data)
    assert err.value.code == code and code in forensics.REFUSALS


def test_the_size_limit_is_checked_before_anything_else():
    data = jpeg()
    with pytest.raises(forensics.PictureRefused) as err:
        decode(data, max_bytes=len(data) - 1)
    assert err.value.code == "photo.too_large" and err.value.data["size"] == len(data)
    assert decode(data, max_bytes=len(data)).width == 900


def test_the_pixel_limit_is_checked_on_the_header():
    with pytest.raises(forensics.PictureRefused) as err:
        decode(jpeg(), max_pixels=900 * 1200 - 1)
    assert err.value.code == "photo.too_many_pixels"


def test_type_is_read_from_the_content_not_the_name():
    assert forensics.sniff_type(jpeg()) == "image/jpeg"
    assert forensics.sniff_type(png_bytes()) == "image/png"
    assert forensics.sniff_type(b"<html><script>alert(1)</script>") is None


# --- EXIF -----------------------------------------------------------------------------------------


def test_exif_gives_camera_time_and_position():
    exif = forensics.read_exif(jpeg(taken="2026:02:08 18:30:05", gps=(33.6844, 73.0479)))
    assert exif.present and (exif.make, exif.model) == ("Phonemaker", "X1")
    assert exif.datetime_original == "2026:02:08 18:30:05"
    assert exif.latitude == pytest.approx(33.6844, abs=1e-5) and exif.longitude == pytest.approx(73.0479, abs=1e-5)
    assert exif.taken_at(PKT) == datetime.datetime(2026, 2, 8, 18, 30, 5, tzinfo=PKT)


def test_southern_and_western_positions_are_negative():
    exif = forensics.read_exif(jpeg(gps=(-33.9, -70.6)))
    assert exif.latitude == pytest.approx(-33.9, abs=1e-5) and exif.longitude == pytest.approx(-70.6, abs=1e-5)


def test_the_cameras_own_offset_wins_over_the_default_zone():
    exif = forensics.read_exif(jpeg(taken="2026:02:08 13:30:05", offset="+00:00"))
    assert exif.taken_at(PKT) == datetime.datetime(2026, 2, 8, 18, 30, 5, tzinfo=PKT)


def test_stripped_exif_reads_as_absent():
    exif = forensics.read_exif(jpeg(with_exif=False))
    assert exif == Exif() and not exif.present and exif.taken_at(PKT) is None


def test_png_exif_is_read_too():
    image = form_image(2, (300, 400))
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif_for(gps=STATION))
    assert forensics.read_exif(out.getvalue()).has_gps


@pytest.mark.parametrize("text", ["", "yesterday", "2026:13:45 99:00:00", "0000:00:00 00:00:00"])
def test_a_bad_capture_time_reads_as_none(text):
    assert Exif(present=True, datetime_original=text).taken_at(PKT) is None


# --- distances ------------------------------------------------------------------------------------


def test_haversine_matches_known_distances():
    assert forensics.haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-3)  # one degree of latitude
    assert forensics.haversine_m(*STATION, *east_of(STATION, 1000)) == pytest.approx(1000, rel=1e-3)
    # Islamabad to Lahore, about 270 km.
    assert forensics.haversine_m(33.6844, 73.0479, 31.5204, 74.3587) == pytest.approx(270_000, rel=0.03)


coordinates = st.tuples(st.floats(-90, 90), st.floats(-180, 180))


@given(coordinates, coordinates)
def test_haversine_is_symmetric_and_bounded(a, b):
    d = forensics.haversine_m(*a, *b)
    assert d == pytest.approx(forensics.haversine_m(*b, *a), abs=1e-6)
    assert 0 <= d <= 3.1416 * forensics.EARTH_RADIUS_M
    assert forensics.haversine_m(*a, *a) == 0


hashes = st.integers(0, 2**64 - 1).map(lambda n: f"{n:016x}")


@given(hashes, hashes, hashes)
def test_hamming_is_a_distance(a, b, c):
    assert forensics.hamming(a, a) == 0
    assert forensics.hamming(a, b) == forensics.hamming(b, a) <= 64
    assert forensics.hamming(a, c) <= forensics.hamming(a, b) + forensics.hamming(b, c)


def test_near_matches_keeps_the_close_ones_nearest_first():
    found = forensics.near_matches(
        "ff00ff00ff00ff00", [("a", "ff00ff00ff00ff01"), ("b", "00ff00ff00ff00ff"), ("c", "ff00ff00ff00ff00")], 3
    )
    assert found == [("c", 0), ("a", 1)]


def test_a_resized_recompressed_copy_keeps_its_perceptual_hash_and_other_forms_do_not():
    original = jpeg(seed=11)
    copy = resized_copy(original)
    assert forensics.sha256_hex(copy) != forensics.sha256_hex(original)
    distance = forensics.hamming(decode(original).phash, decode(copy).phash)
    assert distance <= LIMITS.phash_distance
    others = [decode(jpeg(seed=s)).phash for s in (12, 13, 14)]
    assert all(forensics.hamming(decode(original).phash, other) > LIMITS.phash_distance for other in others)


def test_an_orientation_tag_does_not_change_the_perceptual_hash():
    upright = form_image(5)
    turned = upright.rotate(90, expand=True)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "turn 90° clockwise to view": undoes the 90° counter-clockwise turn
    out = io.BytesIO()
    turned.save(out, "JPEG", quality=92, exif=exif)
    assert forensics.hamming(decode(jpeg(upright, quality=92)).phash, decode(out.getvalue()).phash) <= 2


# --- rules ------------------------------------------------------------------------------------------


def evidence(**changes) -> Evidence:
    base = {
        "exif": Exif(
            present=True,
            make="Phonemaker",
            datetime_original="2026:02:08 18:30:00",
            latitude=STATION[0],
            longitude=STATION[1],
        ),
        "taken_at": datetime.datetime(2026, 2, 8, 18, 30, tzinfo=PKT),
        "received_at": datetime.datetime(2026, 2, 8, 18, 45, tzinfo=PKT),
        "poll_close_at": CLOSE,
        "station_latitude": STATION[0],
        "station_longitude": STATION[1],
    }
    return Evidence(**{**base, **changes})


def rules(ev: Evidence) -> list[str]:
    return [f.rule for f in forensics.check_picture(ev, LIMITS)]


def test_a_picture_taken_at_the_station_after_the_close_has_no_findings():
    assert rules(evidence()) == []


def test_no_exif_is_one_finding_not_three():
    assert rules(evidence(exif=Exif(), taken_at=None)) == ["photo.no_exif"]


def test_exif_without_position_or_time():
    exif = Exif(present=True, make="Phonemaker")
    assert rules(evidence(exif=exif, taken_at=None)) == ["photo.no_gps", "photo.no_capture_time"]


def test_far_from_the_station_beyond_the_radius_only():
    lat, lon = east_of(STATION, 999)
    assert rules(evidence(exif=Exif(present=True, latitude=lat, longitude=lon))) == []
    lat, lon = east_of(STATION, 5000)
    [finding] = forensics.check_picture(evidence(exif=Exif(present=True, latitude=lat, longitude=lon)), LIMITS)
    assert finding.rule == "photo.far_from_station" and finding.severity == "warning"
    assert finding.data["distance_m"] == pytest.approx(5000, abs=2) and finding.data["radius_m"] == 1000


def test_a_station_without_coordinates_is_said_not_guessed():
    assert rules(evidence(station_latitude=None, station_longitude=None)) == ["photo.station_unlocated"]


def test_taken_before_the_close_of_poll():
    found = forensics.check_picture(evidence(taken_at=CLOSE - datetime.timedelta(hours=2)), LIMITS)
    assert [f.rule for f in found] == ["photo.taken_before_close"]
    assert found[0].data["hours_before"] == 2.0


def test_taken_long_before_receipt():
    received = CLOSE + datetime.timedelta(hours=20)
    assert rules(evidence(taken_at=CLOSE + datetime.timedelta(hours=9), received_at=received)) == []
    assert rules(evidence(taken_at=CLOSE + datetime.timedelta(hours=1), received_at=received)) == [
        "photo.taken_long_before_receipt"
    ]


def test_a_capture_time_after_receipt_beyond_clock_drift():
    received = CLOSE + datetime.timedelta(hours=2)
    assert rules(evidence(taken_at=received + datetime.timedelta(minutes=5), received_at=received)) == []
    assert rules(evidence(taken_at=received + datetime.timedelta(hours=3), received_at=received)) == [
        "photo.taken_after_receipt"
    ]


def test_the_same_and_near_identical_pictures_name_the_other_stations():
    same = [Match(photo=7, contest_station=70, station="NA-46 PS-7")]
    near = [Match(photo=8, contest_station=80, station="NA-47 PS-2", distance=3)]
    found = {f.rule: f for f in forensics.check_picture(evidence(same_picture=same, near_duplicates=near), LIMITS)}
    assert set(found) == {"photo.same_picture", "photo.near_duplicate"}
    assert found["photo.same_picture"].data["stations"] == "NA-46 PS-7"
    assert found["photo.near_duplicate"].data["matches"][0]["distance"] == 3
    assert found["photo.near_duplicate"].data["max_distance"] == 4


def test_a_different_picture_for_the_same_station_is_a_replacement():
    [finding] = forensics.check_picture(evidence(earlier_here=[3, 5]), LIMITS)
    assert finding.rule == "photo.replaced" and finding.data == {"count": 2, "earlier": [3, 5]}


def test_findings_are_json_ready_and_every_rule_is_documented():
    import json

    ev = evidence(exif=Exif(), taken_at=CLOSE - datetime.timedelta(days=2), earlier_here=[1])
    json.dumps([f.as_dict() for f in forensics.check_picture(ev, LIMITS)])
    doc = (Path(__file__).resolve().parents[2] / "docs" / "results-photos.md").read_text(encoding="utf-8")
    missing = [code for code in [*forensics.RULES, *forensics.REFUSALS] if f"`{code}`" not in doc]
    assert missing == []
