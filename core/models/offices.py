"""The office hierarchy (complaint routing, HR postings) and the one
office-hours + public-holiday calendar every SLA counts on.

ECP Secretariat (CEC → Secretary → Special Secretary → Additional
Secretaries) → Provincial Election Commissioners → Regional Election
Commissioners → District Election Commissioners. Escalation climbs
``parent`` links.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .geography import District, Province


class OfficeKind(models.TextChoices):
    CEC = "cec", _("Chief Election Commissioner")
    SECRETARY = "secretary", _("Secretary ECP")
    SPECIAL_SECRETARY = "special_secretary", _("Special Secretary")
    ADDITIONAL_SECRETARY = "additional_secretary", _("Additional Secretary")
    PEC = "pec", _("Provincial Election Commissioner")
    REC = "rec", _("Regional Election Commissioner")
    DEC = "dec", _("District Election Commissioner")


SECRETARIAT_KINDS = frozenset(
    {OfficeKind.CEC, OfficeKind.SECRETARY, OfficeKind.SPECIAL_SECRETARY, OfficeKind.ADDITIONAL_SECRETARY}
)


class Office(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=OfficeKind.choices)
    name = models.CharField(_("name"), max_length=160)
    name_ur = models.CharField(_("name in Urdu"), max_length=160, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    province = models.ForeignKey(Province, on_delete=models.PROTECT, null=True, blank=True, related_name="offices")
    district = models.ForeignKey(District, on_delete=models.PROTECT, null=True, blank=True, related_name="offices")
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("pk")),
                name="office_not_own_parent",
                violation_error_message=_("An office cannot be its own parent."),
            ),
            models.CheckConstraint(
                condition=Q(kind="cec") | Q(parent__isnull=False),
                name="office_has_parent_unless_cec",
                violation_error_message=_("Every office but the CEC's reports to a parent office."),
            ),
        ]
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self) -> str:
        return self.name


class OfficeHours(models.Model):
    """Opening hours for one weekday (0 = Monday). A weekday without a row is closed."""

    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        unique=True,
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")),
                name="office_hours_close_after_open",
                violation_error_message=_("Closing time must be after opening time."),
            ),
            models.CheckConstraint(
                condition=Q(weekday__lte=6), name="office_hours_weekday_range", violation_error_message=_("0–6")
            ),
        ]
        verbose_name = _("office hours")
        verbose_name_plural = _("office hours")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Holiday(models.Model):
    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_ur = models.CharField(_("name in Urdu"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
