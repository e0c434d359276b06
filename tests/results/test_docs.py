from pathlib import Path

from results.tally import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "results.md"


def test_every_rule_code_is_documented():
    text = DOC.read_text(encoding="utf-8")
    assert [code for code in RULES if f"`{code}`" not in text] == []
