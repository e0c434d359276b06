"""One custom user with roles, each role optionally scoped to an office or a
constituency. Selectors narrow querysets with ``core.selectors.scope_*``."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .geography import Constituency
from .offices import Office


class User(AbstractUser):
    name_ur = models.CharField(_("name in Urdu"), max_length=150, blank=True)
    phone = models.CharField(_("mobile (E.164)"), max_length=16, blank=True)
    # Set only by seed_demo; such accounts may skip the second factor while DEBUG is on.
    is_demo_account = models.BooleanField(_("demo account"), default=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]

    @property
    def may_skip_second_factor(self) -> bool:
        return self.is_demo_account and settings.OTP_DEMO_SKIP


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    DESK_OFFICER = "desk_officer", _("Desk officer")
    COMPLAINTS_SUPERVISOR = "complaints_supervisor", _("Complaints supervisor")
    RETURNING_OFFICER = "returning_officer", _("Returning Officer")
    DATA_ENTRY_OPERATOR = "data_entry_operator", _("Data-entry operator")
    PRESIDING_OFFICER = "presiding_officer", _("Presiding Officer")
    HR = "hr", _("HR officer")
    OMR_OPERATOR = "omr_operator", _("OMR operator")
    SMS_OFFICER = "sms_officer", _("SMS officer")
    SCRUTINY_CELL = "scrutiny_cell", _("Scrutiny cell")
    AGENCY = "agency", _("Outside agency")
    FACILITATION_OPERATOR = "facilitation_operator", _("Facilitation-centre operator")
    ADMIN = "admin", _("Administrator")


# Which scope each role carries: an office, a constituency, or none.
ROLE_SCOPE = {
    Role.CITIZEN: None,
    Role.DESK_OFFICER: "office",  # the complaints of that office
    Role.COMPLAINTS_SUPERVISOR: "office",  # the complaints of that office and of every office below it
    Role.RETURNING_OFFICER: "constituency",
    Role.DATA_ENTRY_OPERATOR: "constituency",
    Role.PRESIDING_OFFICER: "constituency",  # sends Form-45 pictures for the stations of its constituency
    Role.HR: "office",
    Role.OMR_OPERATOR: None,
    Role.SMS_OFFICER: None,  # makes and approves (another's) SMS campaigns
    Role.SCRUTINY_CELL: None,
    Role.AGENCY: None,
    Role.FACILITATION_OPERATOR: "office",
    Role.ADMIN: None,
}


class RoleAssignment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    constituency = models.ForeignKey(Constituency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "role"]
        constraints = [
            models.CheckConstraint(
                condition=Q(office__isnull=True) | Q(constituency__isnull=True),
                name="role_one_scope_at_most",
                violation_error_message=_("A role is scoped to an office or to a constituency, not both."),
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(office__isnull=True, constituency__isnull=True),
                name="role_unique_unscoped",
                violation_error_message=_("This user already has this role."),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "office"],
                condition=Q(office__isnull=False),
                name="role_unique_per_office",
                violation_error_message=_("This user already has this role in this office."),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "constituency"],
                condition=Q(constituency__isnull=False),
                name="role_unique_per_constituency",
                violation_error_message=_("This user already has this role in this constituency."),
            ),
        ]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")

    def __str__(self) -> str:
        scope = self.office or self.constituency
        return f"{self.user} — {self.get_role_display()}" + (f" ({scope})" if scope else "")
