from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from . import audit  # noqa: F401  (registers core's audit actions)

        # Each app may add demo data (demo.py) through core.demo.register.
        autodiscover_modules("demo")
