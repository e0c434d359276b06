"""Findings in the reader's language.

``results.tally`` is pure and speaks English; every finding carries its rule
code and the figures behind it. Here each rule code has a translatable
sentence filled from those figures, so a finding (or a stored flag) reads in
Urdu on an Urdu page and in the Urdu PDF. A rule without a sentence here,
or figures that don't fit it, fall back to tally's English message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

MESSAGES = {
    "form45.negative": _("A figure cannot be below zero (%(value)s)."),
    "form45.gender_sum": _(
        "Male (%(polled_male)s) + female (%(polled_female)s) votes polled differ from the total polled "
        "(%(polled_total)s) by %(difference)s."
    ),
    "form45.sum_mismatch": _(
        "Candidates' votes (%(votes_sum)s) + excluded ballots (%(excluded)s) differ from the total polled "
        "(%(polled_total)s) by %(difference)s."
    ),
    "form45.polled_above_registered": _(
        "Votes polled (%(polled_total)s) are more than the registered voters (%(registered)s): turnout "
        "%(turnout_percent)s %%."
    ),
    "form45.male_above_registered": _(
        "Male votes polled (%(polled_male)s) are more than the registered male voters (%(registered_male)s)."
    ),
    "form45.female_above_registered": _(
        "Female votes polled (%(polled_female)s) are more than the registered female voters (%(registered_female)s)."
    ),
    "form45.male_station_female_votes": _("A male polling station reports %(polled_female)s female votes."),
    "form45.female_station_male_votes": _("A female polling station reports %(polled_male)s male votes."),
    "form45.turnout_high": _(
        "Turnout is %(turnout_percent)s %% (%(polled_total)s of %(registered)s), above %(warning_percent)s %%."
    ),
    "form45.no_votes": _("No votes were polled at this polling station (%(registered)s registered)."),
    "form46.negative": _("A figure cannot be below zero (%(value)s)."),
    "form46.issued_mismatch": _(
        "Ballots issued (%(issued)s) should be received − unissued − spoilt = %(expected)s; the difference is "
        "%(difference)s."
    ),
    "form46.box_mismatch": _(
        "Ballots taken out of the box (%(taken_out)s) differ from the votes polled on Form-45 (%(polled_total)s)."
    ),
    "form46.issued_below_polled": _(
        "Fewer ballots were issued (%(issued)s) than votes polled on Form-45 (%(polled_total)s)."
    ),
    "contest.recount_eligible": _(
        "The margin of victory (%(margin)s) is below the recount threshold (%(threshold)s: the lesser of "
        "%(percent)s %% of the votes polled and %(absolute)s votes)."
    ),
    "contest.excluded_ge_margin": _(
        "Ballots excluded from the count (%(excluded)s) are at least the margin of victory (%(margin)s)."
    ),
    "contest.tie": _("Candidates %(candidates)s share the highest votes (%(votes)s): the Commission's rule applies."),
    "contest.women_turnout_low": _(
        "Women's votes (%(polled_female)s) are %(share_percent)s %% of the votes polled (%(polled_total)s), below "
        "%(min_percent)s %%: the Commission may void the poll (s.9(1))."
    ),
    "contest.incomplete": _("%(reported)s of %(total)s polling stations have reported; %(awaited)s awaited."),
    "contest.provisional_deadline_missed": _(
        "The provisional results were due at %(due)s; %(awaited)s of %(total)s polling stations are still awaited."
    ),
    "contest.complete_deadline_missed": _(
        "The complete results were due at %(due)s; %(awaited)s of %(total)s polling stations are still awaited."
    ),
    "contest.deadline_approaching": _(
        "The %(deadline_name)s results are due at %(due)s (in %(minutes_left)s min); %(awaited)s polling stations "
        "are still awaited."
    ),
}

DEADLINE_NAMES = {
    "provisional": pgettext_lazy("results deadline", "provisional"),
    "complete": pgettext_lazy("results deadline", "complete"),
}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def finding_text(rule: str, data: Mapping[str, Any], fallback: str) -> str:
    """The finding's sentence in the active language (``fallback`` when no sentence fits)."""
    template = MESSAGES.get(rule)
    if template is None:
        return fallback
    values = {key: _shown(value) for key, value in data.items()}
    if isinstance(data.get("difference"), int):
        values["difference"] = _shown(abs(data["difference"]))  # "differ … by 9", whichever side is larger
    if "due_at" in data:
        due = datetime.fromisoformat(str(data["due_at"]))
        values["due"] = formats.date_format(timezone.localtime(due), "H:i, j M")
    if "deadline" in data:
        values["deadline_name"] = str(DEADLINE_NAMES.get(str(data["deadline"]), data["deadline"]))
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return fallback


def finding_text_ur(rule: str, data: Mapping[str, Any], fallback: str) -> str:
    with translation.override("ur"):
        return finding_text(rule, data, fallback)
