from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.services_registry import Service


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")
    default_auto_field = "django.db.models.BigAutoField"
    service = Service(
        title=_("Complaints"),
        description=_("File a complaint to any ECP office and follow it desk by desk until it is resolved."),
        icon="inbox",
        url_name="complaints:index",
        order=20,
        available=True,
        staff_roles=("desk_officer", "complaints_supervisor"),
        staff_url_name="complaints:inbox",
    )
