from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.services_registry import Service


class ResultsConfig(AppConfig):
    name = "results"
    verbose_name = _("Election results")
    default_auto_field = "django.db.models.BigAutoField"
    service = Service(
        title=_("Election results"),
        description=_("Form-45 entry for Returning Officers, Forms 47, 48 and 49, and live results for everyone."),
        icon="chart",
        url_name="results:index",
        order=10,
        available=True,
        staff_roles=("returning_officer", "data_entry_operator"),
    )
