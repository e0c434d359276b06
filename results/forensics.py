"""Form-45 picture forensics: pure code, no Django.

A Presiding Officer photographs the signed Form-45 and sends it
(``results.photos.photo_upload``). This module does everything that needs
only the bytes and plain figures:

- ``decode_picture``: the safety gate. Size limit, type by content (JPEG or
  PNG, never by file name), a pixel limit checked on the header before any
  pixel is decoded (a decompression bomb is refused), a full decode (a
  truncated or damaged file is refused), and the perceptual hash.
  A refusal raises ``PictureRefused`` with a stable code (``REFUSALS``).
- ``read_exif``: make, model, DateTimeOriginal (with OffsetTimeOriginal when
  the camera wrote it) and the GPS position, read with exifread.
- ``haversine_m``, ``hamming``, ``near_matches``: distance on the Earth and
  between perceptual hashes.
- ``check_picture``: the named rules (``RULES``) over what the service
  gathered. Each finding has a stable code and the data behind it; flags
  inform the Returning Officer, they decide nothing.

Findings are ``results.tally.Finding`` (also pure), so they are stored as
station flags exactly like the Form-45 rules' findings. The English messages
here are fallbacks: ``results.photos`` has a translatable sentence per code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import math
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar

import exifread
import imagehash
from PIL import Image, ImageOps

from .tally import Finding, Severity

# exifread logs a warning for every file without EXIF (every picture a messaging app forwarded): not news here.
logging.getLogger("exifread").setLevel(logging.ERROR)

JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {JPEG: "jpg", PNG: "png"}

# Pillow's format names accepted for each sniffed type. Many phones write MPO (a JPEG with a second,
# multi-picture frame appended); its first frame is an ordinary JPEG.
_FORMATS = {JPEG: {"JPEG", "MPO"}, PNG: {"PNG"}}

# A camera clock a few minutes fast is not a finding; more than this after receipt is.
CLOCK_TOLERANCE = timedelta(minutes=10)
# Enough for a perceptual hash (it looks at 32 x 32); JPEGs are decoded at the nearest smaller scale.
_DRAFT_SIZE = (1024, 1024)
# Flag data lists at most this many matching pictures (the count says how many there were).
MAX_LISTED_MATCHES = 20

# What Pillow and exifread raise on hostile or damaged input. Caught by name, never a bare Exception.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error, zlib.error)
_EXIF_ERRORS = (
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    ZeroDivisionError,
    OverflowError,
    RecursionError,
    UnicodeError,
    EOFError,
    OSError,
    struct.error,
)


# --- refusals -----------------------------------------------------------------------

# Refusal code -> description. A refused file leaves nothing behind (no row, no file).
REFUSALS: dict[str, str] = {
    "photo.empty": "The file is empty.",
    "photo.too_large": "The file is larger than the size limit (RESULTS_PHOTO_MAX_BYTES).",
    "photo.wrong_type": "The content is not a JPEG or PNG picture (whatever the file name says).",
    "photo.too_many_pixels": "The picture declares more pixels than the limit (a decompression bomb is refused).",
    "photo.unreadable": "The picture cannot be decoded to the end: truncated or damaged.",
}


class PictureRefused(Exception):
    """The file is not accepted as a Form-45 picture. ``code`` is a key of ``REFUSALS``."""

    def __init__(self, code: str, message: str, **data: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def sniff_type(data: bytes) -> str | None:
    """The content type from the file's first bytes (its magic number), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class DecodedPicture:
    content_type: str  # JPEG or PNG
    width: int
    height: int
    phash: str  # 64-bit perceptual hash, 16 hex digits


def decode_picture(data: bytes, *, max_bytes: int, max_pixels: int) -> DecodedPicture:
    """Check and decode a picture; raise ``PictureRefused`` for anything that is not a sound JPEG/PNG.

    The pixel count is checked on the header, before decoding. The whole file
    is then decoded (Pillow raises on a truncated file; truncated images are
    never loaded leniently), so a picture accepted here can be shown."""
    if not data:
        raise PictureRefused("photo.empty", REFUSALS["photo.empty"])
    if len(data) > max_bytes:
        raise PictureRefused("photo.too_large", REFUSALS["photo.too_large"], size=len(data), max_bytes=max_bytes)
    content_type = sniff_type(data)
    if content_type is None:
        raise PictureRefused("photo.wrong_type", REFUSALS["photo.wrong_type"])
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # above twice Pillow's own limit: refused while reading the header
        raise PictureRefused("photo.too_many_pixels", REFUSALS["photo.too_many_pixels"], max_pixels=max_pixels) from exc
    except _DECODE_ERRORS as exc:
        raise PictureRefused("photo.unreadable", REFUSALS["photo.unreadable"]) from exc
    with image:
        if image.format not in _FORMATS[content_type]:  # e.g. JPEG magic bytes on something Pillow reads otherwise
            raise PictureRefused("photo.wrong_type", REFUSALS["photo.wrong_type"])
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise PictureRefused(
                "photo.too_many_pixels",
                REFUSALS["photo.too_many_pixels"],
                width=width,
                height=height,
                max_pixels=max_pixels,
            )
        try:
            if content_type == JPEG:
                image.draft("RGB", _DRAFT_SIZE)  # decode at 1/2, 1/4 or 1/8 scale: all the data, a fraction of memory
            image.load()
        except Image.DecompressionBombError as exc:
            raise PictureRefused(
                "photo.too_many_pixels", REFUSALS["photo.too_many_pixels"], max_pixels=max_pixels
            ) from exc
        except _DECODE_ERRORS as exc:
            raise PictureRefused("photo.unreadable", REFUSALS["photo.unreadable"]) from exc
        try:
            upright = ImageOps.exif_transpose(image)  # the same scene turned by an orientation tag hashes the same
        except _EXIF_ERRORS:
            upright = image  # a damaged orientation tag: hash the pixels as stored
        phash = str(imagehash.phash(upright))
    return DecodedPicture(content_type=content_type, width=width, height=height, phash=phash)


# --- EXIF -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exif:
    """What the picture's EXIF says (empty strings / None for what it doesn't)."""

    present: bool = False
    make: str = ""
    model: str = ""
    datetime_original: str = ""  # as written: "YYYY:MM:DD HH:MM:SS"
    offset_time_original: str = ""  # "+05:00" when the camera wrote it
    latitude: float | None = None
    longitude: float | None = None

    @property
    def has_gps(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def taken_at(self, default_tz: tzinfo) -> datetime | None:
        """DateTimeOriginal as an aware time: its own offset if written, else read in ``default_tz``."""
        try:
            naive = datetime.strptime(self.datetime_original.strip(), "%Y:%m:%d %H:%M:%S")
        except ValueError:
            return None
        offset = _parse_offset(self.offset_time_original)
        return naive.replace(tzinfo=offset if offset is not None else default_tz)

    def as_json(self) -> dict[str, Any]:
        return {
            "make": self.make,
            "model": self.model,
            "datetime_original": self.datetime_original,
            "offset_time_original": self.offset_time_original,
            "gps_latitude": self.latitude,
            "gps_longitude": self.longitude,
        }


def _parse_offset(text: str) -> tzinfo | None:
    text = text.strip()
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":" or not (text[1:3] + text[4:]).isdigit():
        return None
    minutes = int(text[1:3]) * 60 + int(text[4:])
    if minutes > 14 * 60:
        return None
    return timezone(timedelta(minutes=minutes if text[0] == "+" else -minutes))


def _text(tags: dict[str, Any], key: str, limit: int = 80) -> str:
    tag = tags.get(key)
    if tag is None:
        return ""
    values = tag.values
    if isinstance(values, bytes):
        values = values.decode("ascii", "replace")
    return str(values).replace("\x00", "").strip()[:limit]


def _ratio(value: Any) -> float:
    numerator = getattr(value, "numerator", value)
    denominator = getattr(value, "denominator", 1)
    return float(numerator) / float(denominator)  # ZeroDivisionError on 0/0: caught as no position


def _coordinate(tags: dict[str, Any], key: str, ref_key: str, limit: float) -> float | None:
    tag = tags.get(key)
    if tag is None or not isinstance(tag.values, list) or len(tag.values) != 3:
        return None
    degrees, minutes, seconds = (_ratio(v) for v in tag.values)
    value = degrees + minutes / 60 + seconds / 3600
    if _text(tags, ref_key).upper()[:1] in ("S", "W"):
        value = -value
    if not math.isfinite(value) or abs(value) > limit:
        return None
    return round(value, 7)


def read_exif(data: bytes) -> Exif:
    """The EXIF of a JPEG or PNG. Missing, damaged or hostile EXIF reads as ``Exif(present=False)``."""
    try:
        tags = exifread.process_file(io.BytesIO(data), details=False, extract_thumbnail=False)
    except _EXIF_ERRORS:
        return Exif()
    wanted = {k: v for k, v in tags.items() if not k.startswith(("Thumbnail", "JPEGThumbnail"))}
    if not wanted:
        return Exif()
    try:
        latitude = _coordinate(wanted, "GPS GPSLatitude", "GPS GPSLatitudeRef", 90)
        longitude = _coordinate(wanted, "GPS GPSLongitude", "GPS GPSLongitudeRef", 180)
    except _EXIF_ERRORS:
        latitude = longitude = None
    if latitude is None or longitude is None:
        latitude = longitude = None
    return Exif(
        present=True,
        make=_text(wanted, "Image Make"),
        model=_text(wanted, "Image Model"),
        datetime_original=_text(wanted, "EXIF DateTimeOriginal", 32),
        offset_time_original=_text(wanted, "EXIF OffsetTimeOriginal", 8),
        latitude=latitude,
        longitude=longitude,
    )


# --- distances --------------------------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def hamming(a: str, b: str) -> int:
    """Bits that differ between two perceptual hashes written in hex."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


K = TypeVar("K")


def near_matches(phash: str, candidates: Iterable[tuple[K, str]], max_distance: int) -> list[tuple[K, int]]:
    """The candidates (key, hash) within ``max_distance`` bits of ``phash``, nearest first."""
    found = [(key, hamming(phash, other)) for key, other in candidates if other]
    return sorted((m for m in found if m[1] <= max_distance), key=lambda m: m[1])


# --- rules --------------------------------------------------------------------------------

# Rule code -> (severity, description). Append new rules; the order is the order findings are reported in.
_RULE_TABLE: dict[str, tuple[Severity, str]] = {
    "photo.no_exif": ("warning", "The picture carries no EXIF at all (messaging apps strip it): no place or time."),
    "photo.no_gps": ("warning", "The picture's EXIF has no GPS position."),
    "photo.no_capture_time": ("warning", "The picture's EXIF has no capture time (DateTimeOriginal)."),
    "photo.station_unlocated": ("info", "The polling station has no coordinates on file: the distance is unchecked."),
    "photo.far_from_station": ("warning", "Taken farther from the polling station than the radius."),
    "photo.taken_before_close": ("warning", "Taken before the close of poll, when the count cannot have ended."),
    "photo.taken_long_before_receipt": ("warning", "Taken long before it was received (more than the hours set)."),
    "photo.taken_after_receipt": ("warning", "The capture time is after the time received (camera clock or edit)."),
    "photo.same_picture": ("warning", "The very same file (SHA-256) was sent for another polling station."),
    "photo.near_duplicate": ("warning", "A near-identical picture (perceptual hash) was sent for another station."),
    "photo.replaced": ("warning", "A different picture had already been sent for this polling station."),
}

RULES: dict[str, str] = {code: description for code, (_, description) in _RULE_TABLE.items()}
RULE_SEVERITY: dict[str, Severity] = {code: severity for code, (severity, _) in _RULE_TABLE.items()}


@dataclass(frozen=True)
class Limits:
    radius_m: float
    max_age_hours: float
    phash_distance: int


@dataclass(frozen=True)
class Match:
    """Another picture this one is compared with."""

    photo: int
    contest_station: int
    station: str  # "NA-46 PS-3", for people
    distance: int = 0  # perceptual-hash bits (0 for identical bytes)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Evidence:
    """Everything a picture is judged on: its EXIF, the station, the clock, and the other pictures."""

    exif: Exif
    taken_at: datetime | None
    received_at: datetime
    poll_close_at: datetime
    station_latitude: float | None = None
    station_longitude: float | None = None
    same_picture: Sequence[Match] = ()  # identical bytes sent for other stations
    near_duplicates: Sequence[Match] = ()  # close perceptual hash, other stations, other bytes
    earlier_here: Sequence[int] = ()  # ids of the different pictures already sent for this station

    @property
    def distance_m(self) -> float | None:
        if not self.exif.has_gps or self.station_latitude is None or self.station_longitude is None:
            return None
        assert self.exif.latitude is not None and self.exif.longitude is not None
        return haversine_m(self.exif.latitude, self.exif.longitude, self.station_latitude, self.station_longitude)


def _finding(rule: str, message: str, **data: Any) -> Finding:
    return Finding(rule, RULE_SEVERITY[rule], message, None, data)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


def matches_finding(rule: str, matches: Sequence[Match], **extra: Any) -> Finding:
    """``photo.same_picture`` / ``photo.near_duplicate`` naming the other stations (at most MAX_LISTED_MATCHES)."""
    listed = list(matches[:MAX_LISTED_MATCHES])
    stations = ", ".join(dict.fromkeys(m.station for m in listed))
    if rule == "photo.same_picture":
        message = f"The same file was sent for {stations}."
    else:
        message = f"A near-identical picture was sent for {stations}."
    listed_data = [m.as_dict() for m in listed]
    return _finding(rule, message, stations=stations, count=len(matches), matches=listed_data, **extra)


def check_picture(evidence: Evidence, limits: Limits) -> list[Finding]:
    """The forensic findings of one picture, in ``RULES`` order."""
    found: list[Finding] = []
    exif = evidence.exif
    if not exif.present:
        found.append(_finding("photo.no_exif", "The picture has no EXIF: no place, time or device to check."))
    else:
        if not exif.has_gps:
            found.append(_finding("photo.no_gps", "The picture's EXIF has no GPS position."))
        if evidence.taken_at is None:
            found.append(_finding("photo.no_capture_time", "The picture's EXIF has no capture time."))
    distance = evidence.distance_m
    if exif.has_gps and distance is None:
        found.append(_finding("photo.station_unlocated", "The polling station has no coordinates on file."))
    if distance is not None and distance > limits.radius_m:
        found.append(
            _finding(
                "photo.far_from_station",
                f"Taken {round(distance)} m from the polling station (more than {round(limits.radius_m)} m).",
                distance_m=round(distance),
                radius_m=round(limits.radius_m),
            )
        )
    taken = evidence.taken_at
    if taken is not None:
        if taken < evidence.poll_close_at:
            found.append(
                _finding(
                    "photo.taken_before_close",
                    f"Taken at {_iso(taken)}, before the close of poll at {_iso(evidence.poll_close_at)}.",
                    taken_at=_iso(taken),
                    poll_close_at=_iso(evidence.poll_close_at),
                    hours_before=_hours(evidence.poll_close_at - taken),
                )
            )
        age = evidence.received_at - taken
        if age > timedelta(hours=limits.max_age_hours):
            found.append(
                _finding(
                    "photo.taken_long_before_receipt",
                    f"Taken {_hours(age)} h before it was received (more than {limits.max_age_hours:g} h).",
                    taken_at=_iso(taken),
                    received_at=_iso(evidence.received_at),
                    hours=_hours(age),
                    max_hours=limits.max_age_hours,
                )
            )
        if taken > evidence.received_at + CLOCK_TOLERANCE:
            found.append(
                _finding(
                    "photo.taken_after_receipt",
                    f"The capture time {_iso(taken)} is after the time received {_iso(evidence.received_at)}.",
                    taken_at=_iso(taken),
                    received_at=_iso(evidence.received_at),
                    hours=_hours(taken - evidence.received_at),
                )
            )
    if evidence.same_picture:
        found.append(matches_finding("photo.same_picture", evidence.same_picture))
    if evidence.near_duplicates:
        found.append(
            matches_finding("photo.near_duplicate", evidence.near_duplicates, max_distance=limits.phash_distance)
        )
    if evidence.earlier_here:
        found.append(
            _finding(
                "photo.replaced",
                f"{len(evidence.earlier_here)} different picture(s) had already been sent for this polling station.",
                count=len(evidence.earlier_here),
                earlier=list(evidence.earlier_here[:MAX_LISTED_MATCHES]),
            )
        )
    return found
