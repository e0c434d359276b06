"""manage.py export_results --contest NA-46 [--election CODE] --key ro-na46.key --out bundle.json

On the RO's laptop: write the contest's accepted Form-45s and Form 47/48/49
versions as a signed bundle for the centre (docs/results-offline.md). The
export is recorded in the laptop's audit trail with the bundle's SHA-256.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import context
from core.exceptions import DomainError
from results import signing
from results.offline import bundle_contest_get, bundle_export


class Command(BaseCommand):
    help = "Export one contest's results as a signed bundle for the centre (import_results)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--contest", required=True, metavar="CONSTITUENCY", help="the constituency code, e.g. NA-46"
        )
        parser.add_argument("--election", default="", help="the election code, when the constituency has several")
        parser.add_argument("--key", required=True, help="the private key file written by results_keygen")
        parser.add_argument("--out", required=True, help="the bundle file to write (e.g. on the USB stick)")
        parser.add_argument(
            "--no-form-versions",
            action="store_true",
            help="leave the Form 47/48/49 versions out (when a PDF is missing or damaged)",
        )

    def handle(self, *args, contest: str, election: str, key: str, out: str, no_form_versions: bool, **options):
        key_path = Path(key)
        try:
            pem = key_path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{key}: {exc.strerror}.") from None
        try:
            private_key = signing.private_key_from_pem(pem)
        except signing.BadKey as exc:
            raise CommandError(f"{key}: {exc}.") from None
        if key_path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            self.stderr.write(self.style.WARNING(f"{key} can be read by other users; chmod 600 it."))
        out_path = Path(out)
        try:
            with context.acting(label="command:export_results"):
                found = bundle_contest_get(constituency_code=contest, election_code=election)
                bundle = bundle_export(
                    actor=None, contest=found, private_key=private_key, with_form_versions=not no_form_versions
                )
        except DomainError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        # Written beside the target, then renamed over it: a pulled USB stick leaves the old file or the new one.
        partial = out_path.with_name(out_path.name + ".part")
        try:
            partial.write_bytes(bundle.data)
            os.replace(partial, out_path)
        except OSError as exc:
            raise CommandError(f"{out}: {exc.strerror}.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {bundle.contest} to {out_path}: {bundle.forms:,} accepted Form-45s of "
                f"{bundle.stations:,} stations, {bundle.form_versions:,} form versions."
            )
        )
        self.stdout.write(f"  signed with public key {bundle.public_key}")
        self.stdout.write(f"  bundle sha256: {bundle.sha256}")
