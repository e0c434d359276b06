"""manage.py results_keygen --out ro-na46.key

Writes a new Ed25519 private key (PEM, readable by its owner only) for
signing offline results bundles, and prints the public key to register at the
centre (``manage.py register_signing_key``). Never overwrites a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from results import signing


class Command(BaseCommand):
    help = "Create the RO office's key for signing offline results bundles; print the public key to register."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="where to write the private key (a new file)")

    def handle(self, *args, out: str, **options):
        path = Path(out)
        key = signing.generate_private_key()
        try:
            # O_EXCL: refuse an existing file (a key in use must never be replaced by accident); 0600 from birth.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError(f"{out} already exists; choose another file (a key is never overwritten).") from None
        except OSError as exc:
            raise CommandError(f"{out}: {exc.strerror}.") from None
        with os.fdopen(fd, "wb") as stream:
            stream.write(signing.private_key_to_pem(key))
        os.chmod(path, 0o600)  # in case the umask or the file system widened it
        public = signing.public_key_b64(key)
        self.stderr.write(f"Private key written to {path} (mode 0600). Keep it on this laptop and back it up offline.")
        self.stderr.write("Register this public key at the centre (register_signing_key --public-key …):")
        self.stdout.write(public)
