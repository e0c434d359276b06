from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.services_registry import Service


class OmrConfig(AppConfig):
    name = "omr"
    verbose_name = _("OMR exam grading")
    default_auto_field = "django.db.models.BigAutoField"
    service = Service(
        title=_("OMR exam grading"),
        description=_("Printable answer sheets, scanning, automatic grading and merit lists."),
        icon="check",
        url_name="omr:index",
        order=50,
        available=True,
        staff_roles=("omr_operator",),
        staff_url_name="omr:index",
    )
