"""manage.py verify_results — prove the published tallies: every contest's hash chain, and its current tally
recomputed from the accepted Form-45s."""

from django.core.management.base import BaseCommand, CommandError

from results.publication import verify_results


class Command(BaseCommand):
    help = (
        "Walk every contest's chain of published tallies and recompute each contest's current tally from its "
        "accepted Form-45s; exit non-zero and name every difference when anything does not match."
    )

    def add_arguments(self, parser):
        parser.add_argument("--election", default="", help="Only this election (its code).")

    def handle(self, *args, election: str = "", **options):
        def progress(done: int, total: int) -> None:
            if options["verbosity"] > 1 and (done % 100 == 0 or done == total):
                self.stdout.write(f"  {done:,} / {total:,} contests")

        report = verify_results(election_code=election, progress=progress)
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(self.style.ERROR(f"  {problem}"))
            raise CommandError(
                f"Published results do NOT verify: {len(report.problems)} problem(s) in {report.contests} contests "
                f"({report.versions} published versions checked)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Published results verified: {report.contests} contests, {report.versions} published versions, "
                "every chain intact and every current tally equal to its accepted Form-45s."
            )
        )
