from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.services_registry import Service


class EvpConfig(AppConfig):
    name = "evp"
    verbose_name = _("Check your vote")
    default_auto_field = "django.db.models.BigAutoField"
    service = Service(
        title=_("Check your vote"),
        description=_("Find your polling station by CNIC and verify your entry on the electoral roll."),
        icon="id",
        url_name="evp:index",
        order=5,
        available=True,
        staff_roles=("facilitation_operator", "sms_officer"),
        staff_url_name="evp:dashboard",
    )

    def ready(self) -> None:
        from . import sms_handler  # noqa: F401  (registers the 8300 handler with sms's inbound router)
