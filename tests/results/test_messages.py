"""Every rule's finding reads in Urdu on Urdu pages, filled with its own figures."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from results import tally
from results.messages import MESSAGES, finding_text

EXAMPLES = [
    tally.check_form45(tally.Form45Figures("combined", 500, 500, 600, 400, 1001, 10, {1: 900, 2: 90})),
    tally.check_form45(tally.Form45Figures("male", 500, 0, 450, 30, 480, 0, {1: 480})),
    tally.check_form46(
        tally.Form46Figures(1000, 100, 800, 10, 0, 0, 700),
        tally.Form45Figures("combined", 500, 500, 400, 400, 800, 0, {1: 800}),
    ),
    tally.check_contest(tally.ContestTotals({1: 100, 2: 100}, 210, 15, 10, 3, 2)),
    tally.deadline_findings(
        now=datetime(2026, 2, 9, 3, tzinfo=UTC),
        provisional_at=datetime(2026, 2, 8, 21, tzinfo=UTC),
        complete_at=datetime(2026, 2, 9, 3, 30, tzinfo=UTC),
        stations_total=10,
        stations_reported=4,
    ),
]


def test_every_rule_has_a_sentence():
    assert sorted(set(tally.RULES) - set(MESSAGES)) == []


@pytest.mark.parametrize("findings", EXAMPLES)
def test_findings_are_filled_in_both_languages(findings):
    assert findings
    for f in findings:
        english = finding_text(f.rule, f.data, "FALLBACK")
        assert english != "FALLBACK", f.rule
        with translation.override("ur"):
            urdu = finding_text(f.rule, f.data, "FALLBACK")
        assert urdu != "FALLBACK" and urdu != english, f.rule
        assert any("\u0600" <= ch <= "\u06ff" for ch in urdu), f.rule


def test_figures_that_do_not_fit_fall_back_to_the_english_message():
    assert finding_text("contest.tie", {}, "the original") == "the original"
    assert finding_text("no.such.rule", {"x": 1}, "the original") == "the original"
