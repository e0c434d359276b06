"""manage.py seed_demo — demo data from every app's registered seeder (core.demo).

Idempotent: running it again adds nothing that is already there and prints
the demo logins again. Refused in production.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import audit
from core.context import acting
from core.demo import seeders
from core.models import AuditEvent


class Command(BaseCommand):
    help = "Create a small demo country, demo users (one per role) and each app's demo data."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo is for development and demonstrations; it is refused in production.")
        with acting(label="command:seed_demo"):
            for seeder in seeders():
                self.stdout.write(self.style.MIGRATE_HEADING(f"· {seeder.name}"))
                seeder.func(self.stdout.write)
            if not AuditEvent.objects.filter(action="demo.seeded").exists():
                audit.record(action="demo.seeded", data={"seeders": [s.name for s in seeders()]})
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
