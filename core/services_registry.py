"""Each initiative app describes itself for the home page and the staff
landing page with a ``service = Service(...)`` attribute on its AppConfig;
core reads them from the app registry and never imports the apps."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps


@dataclass(frozen=True)
class Service:
    title: str
    description: str
    icon: str
    url_name: str
    order: int = 100
    available: bool = False  # False: the card says "coming soon"
    staff_roles: tuple[str, ...] = ()  # roles whose staff landing page lists this service
    staff_url_name: str = ""  # where the staff landing page's card leads (default: url_name)


def services() -> list[tuple[str, Service]]:
    found = [
        (cfg.label, cfg.service) for cfg in apps.get_app_configs() if isinstance(getattr(cfg, "service", None), Service)
    ]
    return sorted(found, key=lambda item: (item[1].order, item[0]))
