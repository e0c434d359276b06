from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.services_registry import Service


class RecruitmentConfig(AppConfig):
    name = "recruitment"
    verbose_name = _("Jobs and recruitment")
    default_auto_field = "django.db.models.BigAutoField"
    service = Service(
        title=_("Jobs and recruitment"),
        description=_(
            "Apply for ECP vacancies, pay the fee by challan, download your roll-number slip and see merit lists."
        ),
        icon="briefcase",
        url_name="recruitment:index",
        order=30,
        available=False,
        staff_roles=("hr",),
    )
