from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.services_registry import Service


class HrmsConfig(AppConfig):
    name = "hrms"
    verbose_name = _("Human resources")
    default_auto_field = "django.db.models.BigAutoField"
    service = Service(
        title=_("Human resources"),
        description=_("Employees, service history, leave and biometric attendance for ECP staff."),
        icon="users",
        url_name="hrms:index",
        order=90,
        available=False,
        staff_roles=("hr",),
    )
