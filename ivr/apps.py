from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.services_registry import Service


class IvrConfig(AppConfig):
    name = "ivr"
    verbose_name = _("Phone helpline")
    default_auto_field = "django.db.models.BigAutoField"
    service = Service(
        title=_("Phone helpline"),
        description=_(
            "A bilingual phone helpline: choose a service from the menu or speak to an officer in office hours."
        ),
        icon="phone",
        url_name="ivr:index",
        order=70,
        available=False,
        staff_roles=("desk_officer",),
    )
