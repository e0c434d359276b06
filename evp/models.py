"""The electoral roll: electors on the census blocks' male and female lists, the serial ranges that send a
block's list to a polling station, the history of changes, roll imports, lookup counts and abuse blocks.
Workflows live in services.py and importer.py; the 8300 read lives in selectors.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import CensusBlock, PollingStation

CNIC_MIN = 1_000_000_000_000  # 13 digits, not starting with 0 (core.cnic refuses a leading zero)
CNIC_MAX = 9_999_999_999_999


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    TRANSGENDER = "X", _("Transgender")


class RollList(models.TextChoices):
    """A census block's roll is printed as two lists, each numbered from 1. Transgender electors are on the
    male list (an assumption to confirm with ECP: docs/evp.md)."""

    MALE = "M", _("Male list")
    FEMALE = "F", _("Female list")


class Relation(models.TextChoices):
    FATHER = "father", _("Father")
    HUSBAND = "husband", _("Husband")


class ElectorStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SHIFTED = "shifted", _("Shifted")
    DECEASED = "deceased", _("Deceased")
    DELETED = "deleted", _("Deleted")


class Elector(models.Model):
    # The 13 digits as a number (half the size of text at 128 million rows), and the primary key: a CNIC is the
    # person's for life, and a second index on a surrogate id would cost every import a third of its time.
    cnic = models.BigIntegerField(_("CNIC"), primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    name_ur = models.CharField(_("name in Urdu"), max_length=100, blank=True)
    relation = models.CharField(_("relation"), max_length=8, choices=Relation.choices)
    relation_name = models.CharField(_("father's or husband's name"), max_length=100)
    relation_name_ur = models.CharField(_("father's or husband's name in Urdu"), max_length=100, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    date_of_birth = models.DateField(_("date of birth"))
    address = models.CharField(_("address"), max_length=200)
    address_ur = models.CharField(_("address in Urdu"), max_length=200, blank=True)
    block = models.ForeignKey(
        CensusBlock, on_delete=models.PROTECT, related_name="electors", db_index=False, verbose_name=_("census block")
    )
    roll = models.CharField(_("list"), max_length=1, choices=RollList.choices)
    serial = models.PositiveIntegerField(_("serial number"))
    family_number = models.PositiveIntegerField(_("family number"))
    status = models.CharField(_("status"), max_length=8, choices=ElectorStatus.choices, default=ElectorStatus.ACTIVE)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["block", "roll", "serial"]
        constraints = [
            # Deferred: one import may swap two electors' serial numbers.
            models.UniqueConstraint(
                fields=["block", "roll", "serial"],
                name="elector_unique_serial_per_list",
                deferrable=models.Deferrable.DEFERRED,
                violation_error_message=_("Another elector already has this serial number on this list."),
            ),
            models.CheckConstraint(
                condition=Q(cnic__gte=CNIC_MIN, cnic__lte=CNIC_MAX),
                name="elector_cnic_13_digits",
                violation_error_message=_("A CNIC has 13 digits and does not start with 0."),
            ),
            models.CheckConstraint(
                condition=Q(serial__gte=1) & Q(family_number__gte=1),
                name="elector_serial_and_family_from_1",
                violation_error_message=_("Serial and family numbers start at 1."),
            ),
            models.CheckConstraint(
                condition=(Q(gender="F") & Q(roll="F")) | (~Q(gender="F") & Q(roll="M")),
                name="elector_list_matches_gender",
                violation_error_message=_("Women are on the female list, everyone else on the male list."),
            ),
        ]
        verbose_name = _("elector")
        verbose_name_plural = _("electors")

    def __str__(self) -> str:
        return f"{self.block_id}/{self.roll}/{self.serial}"


class ElectorChange(models.Model):
    """What an import or a verification changed on an elector: the old and new values of the changed fields.
    Append-only."""

    elector = models.ForeignKey(Elector, on_delete=models.PROTECT, related_name="changes", verbose_name=_("elector"))
    changed_at = models.DateTimeField(_("changed at"))
    source = models.CharField(_("source"), max_length=40)  # "import:<id>", later "verification:<id>"
    before = models.JSONField(_("before"))
    after = models.JSONField(_("after"))

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("elector change")
        verbose_name_plural = _("elector changes")

    def __str__(self) -> str:
        return f"{self.source} {self.changed_at:%Y-%m-%d %H:%M}"


class StationRange(models.Model):
    """Part of a census block's list that votes at a polling station: serials from ``serial_from`` to
    ``serial_to`` (to the end of the list when empty). A block can be split across stations by serial range."""

    block = models.ForeignKey(
        CensusBlock, on_delete=models.PROTECT, related_name="station_ranges", verbose_name=_("census block")
    )
    roll = models.CharField(_("list"), max_length=1, choices=RollList.choices)
    serial_from = models.PositiveIntegerField(_("from serial"))
    serial_to = models.PositiveIntegerField(_("to serial"), null=True, blank=True)
    station = models.ForeignKey(
        PollingStation, on_delete=models.PROTECT, related_name="roll_ranges", verbose_name=_("polling station")
    )

    class Meta:
        ordering = ["block", "roll", "serial_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["block", "roll", "serial_from"],
                name="station_range_unique_start",
                violation_error_message=_("A range of this list already starts at this serial."),
            ),
            models.CheckConstraint(
                condition=Q(serial_from__gte=1)
                & (Q(serial_to__isnull=True) | Q(serial_to__gte=models.F("serial_from"))),
                name="station_range_ordered",
                violation_error_message=_("A range starts at 1 or later and does not end before it starts."),
            ),
        ]
        verbose_name = _("station range")
        verbose_name_plural = _("station ranges")

    def __str__(self) -> str:
        end = self.serial_to or "…"
        return f"{self.block_id}/{self.roll} {self.serial_from}–{end}"


class ImportStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RollImport(models.Model):
    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    status = models.CharField(_("status"), max_length=8, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    rows = models.PositiveBigIntegerField(_("rows"), default=0)
    created = models.PositiveBigIntegerField(_("created"), default=0)
    updated = models.PositiveBigIntegerField(_("updated"), default=0)
    unchanged = models.PositiveBigIntegerField(_("unchanged"), default=0)
    bad = models.PositiveBigIntegerField(_("bad rows"), default=0)
    report_path = models.CharField(_("bad-row report"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("by")
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("roll import")
        verbose_name_plural = _("roll imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WEB = "web", _("Web")
    API = "api", _("Mobile app (API)")


class Outcome(models.TextChoices):
    FOUND = "found", _("Found")
    NOT_FOUND = "not_found", _("Not found")
    NOT_ACTIVE = "not_active", _("Not on the current roll")
    INVALID = "invalid", _("Invalid CNIC")
    REFUSED = "refused", _("Rate-limited or blocked")


class LookupCount(models.Model):
    """Lookups per channel, outcome and hour. Counted in the cache and written here by a task (a row per hit
    would be a hot spot at thousands of lookups a second)."""

    hour = models.DateTimeField(_("hour"))
    channel = models.CharField(_("channel"), max_length=3, choices=Channel.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    count = models.PositiveBigIntegerField(_("lookups"), default=0)

    class Meta:
        ordering = ["-hour", "channel", "outcome"]
        constraints = [models.UniqueConstraint(fields=["hour", "channel", "outcome"], name="lookup_count_unique")]
        verbose_name = _("lookup count")
        verbose_name_plural = _("lookup counts")

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.channel} {self.outcome}: {self.count}"


class AbuseBlock(models.Model):
    """A sender (phone number or IP address, kept as a keyed hash and a masked form) that asked for too many
    different CNICs. Lookups from it are refused until ``until`` or until an officer lifts the block."""

    channel = models.CharField(_("channel"), max_length=3, choices=Channel.choices)
    sender_hash = models.CharField(_("sender (hash)"), max_length=40)
    sender_shown = models.CharField(_("sender"), max_length=40)
    distinct_cnics = models.PositiveIntegerField(_("different CNICs"))
    blocked_at = models.DateTimeField(_("blocked at"))
    until = models.DateTimeField(_("until"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("lifted by")
    )

    class Meta:
        ordering = ["-blocked_at"]
        indexes = [models.Index(fields=["sender_hash", "until"], name="evp_abuse_sender_until")]
        verbose_name = _("abuse block")
        verbose_name_plural = _("abuse blocks")

    def __str__(self) -> str:
        return f"{self.channel} {self.sender_shown}"
