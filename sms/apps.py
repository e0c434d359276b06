from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.services_registry import Service


class SmsConfig(AppConfig):
    name = "sms"
    verbose_name = _("SMS services")
    default_auto_field = "django.db.models.BigAutoField"
    service = Service(
        title=_("SMS services"),
        description=_("Bulk SMS campaigns to officers, media and candidates, with delivery reports and opt-outs."),
        icon="message",
        url_name="sms:index",
        order=60,
        available=True,
        staff_roles=("sms_officer",),
    )
