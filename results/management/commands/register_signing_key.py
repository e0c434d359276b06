"""manage.py register_signing_key --constituency NA-46 --label "RO NA-46 laptop" --public-key BASE64
manage.py register_signing_key --deactivate --public-key BASE64

At the centre: trust an RO office's public key (printed by ``results_keygen``)
for offline results bundles of one constituency, or stop trusting one (a
lost or replaced laptop). Both are recorded in the audit trail.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core import context
from core.exceptions import DomainError
from results.offline import signing_key_deactivate, signing_key_register


class Command(BaseCommand):
    help = "Register (or with --deactivate, revoke) an RO office's public key for offline results bundles."

    def add_arguments(self, parser):
        parser.add_argument("--public-key", required=True, help="base64 of the raw 32-byte Ed25519 public key")
        parser.add_argument("--constituency", default="", help="the constituency code, e.g. NA-46")
        parser.add_argument("--label", default="", help='who holds the key, e.g. "RO NA-46 laptop"')
        parser.add_argument(
            "--deactivate", action="store_true", help="stop trusting this key; bundles signed with it are refused"
        )

    def handle(self, *args, public_key: str, constituency: str, label: str, deactivate: bool, **options):
        try:
            with context.acting(label="command:register_signing_key"):
                if deactivate:
                    key = signing_key_deactivate(actor=None, public_key=public_key)
                    self.stdout.write(self.style.SUCCESS(f"Deactivated {key}."))
                    return
                if not constituency or not label:
                    raise CommandError("Give --constituency and --label to register a key.")
                key = signing_key_register(
                    actor=None, constituency_code=constituency, label=label, public_key=public_key
                )
        except DomainError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        self.stdout.write(
            self.style.SUCCESS(f"Registered {key}: bundles of {key.constituency.code} signed with it will be accepted.")
        )
