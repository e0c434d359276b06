"""manage.py verify_audit — walk the audit chain and report the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; exit non-zero at the first broken link."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain BROKEN at event #{report.broken_seq}: {report.reason}. "
                f"{report.checked} events before it verified."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events, head {report.head_hash}."))
