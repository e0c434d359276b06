from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.services_registry import Service


class ScrutinyConfig(AppConfig):
    name = "scrutiny"
    verbose_name = _("Nomination scrutiny")
    default_auto_field = "django.db.models.BigAutoField"
    service = Service(
        title=_("Nomination scrutiny"),
        description=_("Scrutiny of nomination papers with NADRA, FBR, SBP, NAB and FIA."),
        icon="search",
        url_name="scrutiny:index",
        order=80,
        available=False,
        staff_roles=("scrutiny_cell", "agency", "returning_officer"),
    )
