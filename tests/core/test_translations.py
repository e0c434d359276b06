"""The Urdu catalogue is complete, and the compiled .mo matches the .po that is reviewed."""

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "ur" / "LC_MESSAGES"
pytestmark = pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext (msgfmt)")


@pytest.mark.parametrize("domain", [p.stem for p in sorted(LOCALE.glob("*.po"))])
def test_catalogue_is_complete_and_compiled(domain, tmp_path):
    compiled = tmp_path / f"{domain}.mo"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(compiled), str(LOCALE / f"{domain}.po")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr

    with compiled.open("rb") as fresh, (LOCALE / f"{domain}.mo").open("rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(fresh)._catalog, (
            "locale/ur/LC_MESSAGES/*.mo is stale: run `make messages`"
        )
