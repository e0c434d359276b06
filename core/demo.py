"""Demo data registry. Each app adds its own demo data with

    from core.demo import register

    @register(order=20)
    def seed_complaints(out): ...

in its ``demo.py`` (discovered at start-up). ``manage.py seed_demo`` runs the
seeders in order, each idempotent; ``out`` is a callable that prints a line
for the person running it (logins, CNICs to try, pages to open).

This module also holds core's own seeder: a small country (provinces,
districts, constituencies with stations, offices, the calendar) and one demo
user per role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Printer = Callable[[str], None]


@dataclass(frozen=True)
class Seeder:
    name: str
    order: int
    func: Callable[[Printer], None]


_SEEDERS: dict[str, Seeder] = {}


def register(*, order: int = 100, name: str | None = None):
    def decorator(func: Callable[[Printer], None]):
        key = name or f"{func.__module__}.{func.__name__}"
        _SEEDERS[key] = Seeder(key, order, func)
        return func

    return decorator


def seeders() -> list[Seeder]:
    return sorted(_SEEDERS.values(), key=lambda s: (s.order, s.name))


# core's own demo data lives in core/demo_country.py; importing it registers it.
from . import demo_country  # noqa: E402,F401
