"""Electoral geography: province → division → district → tehsil → census block,
constituencies (NA and PA) and their polling stations.

The polling scheme lists the stations of each constituency; a station's
number is unique within its constituency. The NA and the PA scheme list the
same building under their own numbers: ``PollingStation.counterpart`` links
the two where that is known.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Province(models.Model):
    code = models.SlugField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=80, unique=True)
    name_ur = models.CharField(_("name in Urdu"), max_length=80, blank=True)
    # Prefix of this province's Provincial Assembly seats (PP, PS, PK, PB); empty for ICT.
    pa_prefix = models.CharField(_("PA seat prefix"), max_length=4, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name


class Division(models.Model):
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="divisions")
    name = models.CharField(_("name"), max_length=80)
    name_ur = models.CharField(_("name in Urdu"), max_length=80, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "name"],
                name="division_unique_name_per_province",
                violation_error_message=_("This province already has a division of that name."),
            )
        ]
        verbose_name = _("division")
        verbose_name_plural = _("divisions")

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="districts")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, null=True, blank=True, related_name="districts")
    name = models.CharField(_("name"), max_length=80)
    name_ur = models.CharField(_("name in Urdu"), max_length=80, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "name"],
                name="district_unique_name_per_province",
                violation_error_message=_("This province already has a district of that name."),
            )
        ]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class Tehsil(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="tehsils")
    name = models.CharField(_("name"), max_length=80)
    name_ur = models.CharField(_("name in Urdu"), max_length=80, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "name"],
                name="tehsil_unique_name_per_district",
                violation_error_message=_("This district already has a tehsil of that name."),
            )
        ]
        verbose_name = _("tehsil")
        verbose_name_plural = _("tehsils")

    def __str__(self) -> str:
        return self.name


class House(models.TextChoices):
    NA = "NA", _("National Assembly")
    PA = "PA", _("Provincial Assembly")


class Constituency(models.Model):
    house = models.CharField(_("house"), max_length=2, choices=House.choices)
    code = models.CharField(
        _("code"),
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^(NA|PP|PS|PK|PB)-[1-9][0-9]{0,2}$", _("Use a code like NA-44 or PP-120."))],
    )
    name = models.CharField(_("name"), max_length=160)
    name_ur = models.CharField(_("name in Urdu"), max_length=160, blank=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="constituencies")
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="constituencies"
    )

    class Meta:
        ordering = ["house", "code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(house="NA") & Q(code__startswith="NA-")) | (Q(house="PA") & ~Q(code__startswith="NA-")),
                name="constituency_code_matches_house",
                violation_error_message=_("An NA code belongs to the National Assembly, a PP/PS/PK/PB code to a PA."),
            )
        ]
        verbose_name = _("constituency")
        verbose_name_plural = _("constituencies")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CensusBlock(models.Model):
    code = models.CharField(
        _("census block code"),
        max_length=9,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{9}$", _("A census block code has exactly 9 digits."))],
    )
    electoral_area = models.CharField(_("electoral area"), max_length=160)
    electoral_area_ur = models.CharField(_("electoral area in Urdu"), max_length=160, blank=True)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="census_blocks")
    tehsil = models.ForeignKey(Tehsil, on_delete=models.PROTECT, null=True, blank=True, related_name="census_blocks")
    male_voters = models.PositiveIntegerField(_("male voters"), default=0)
    female_voters = models.PositiveIntegerField(_("female voters"), default=0)

    class Meta:
        ordering = ["code"]
        verbose_name = _("census block")
        verbose_name_plural = _("census blocks")

    def __str__(self) -> str:
        return f"{self.code} {self.electoral_area}"


class StationType(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    COMBINED = "combined", _("Combined")


class PollingStation(models.Model):
    constituency = models.ForeignKey(Constituency, on_delete=models.PROTECT, related_name="polling_stations")
    number = models.PositiveIntegerField(_("polling station number"), validators=[MinValueValidator(1)])
    name = models.CharField(_("name"), max_length=255)
    name_ur = models.CharField(_("name in Urdu"), max_length=255, blank=True)
    station_type = models.CharField(_("type"), max_length=8, choices=StationType.choices)
    male_booths = models.PositiveSmallIntegerField(_("male booths"), default=0)
    female_booths = models.PositiveSmallIntegerField(_("female booths"), default=0)
    male_voters = models.PositiveIntegerField(_("male voters"), default=0)
    female_voters = models.PositiveIntegerField(_("female voters"), default=0)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    # The same building in the other house's scheme (NA ↔ PA), where known.
    counterpart = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("counterpart")
    )

    class Meta:
        ordering = ["constituency", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["constituency", "number"],
                name="station_unique_number_per_constituency",
                violation_error_message=_("This constituency already has a polling station with that number."),
            ),
            models.CheckConstraint(
                condition=~Q(station_type="male") | (Q(female_voters=0) & Q(female_booths=0)),
                name="station_male_has_no_female_voters",
                violation_error_message=_("A male polling station has no female voters or booths."),
            ),
            models.CheckConstraint(
                condition=~Q(station_type="female") | (Q(male_voters=0) & Q(male_booths=0)),
                name="station_female_has_no_male_voters",
                violation_error_message=_("A female polling station has no male voters or booths."),
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (Q(latitude__isnull=False) & Q(longitude__isnull=False)),
                name="station_lat_lon_together",
                violation_error_message=_("Give both latitude and longitude, or neither."),
            ),
            models.CheckConstraint(
                condition=~Q(counterpart=F("pk")),
                name="station_not_own_counterpart",
                violation_error_message=_("A polling station cannot be its own counterpart."),
            ),
        ]
        verbose_name = _("polling station")
        verbose_name_plural = _("polling stations")

    def __str__(self) -> str:
        return f"{self.constituency.code} PS-{self.number} {self.name}"

    @property
    def registered_voters(self) -> int:
        return self.male_voters + self.female_voters

    @property
    def booths(self) -> int:
        return self.male_booths + self.female_booths
