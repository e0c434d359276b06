"""results.tally: the RMS arithmetic and rules (pure code, no database)."""

import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.calendar import KARACHI
from results.tally import (
    RULE_SEVERITY,
    RULES,
    ContestTotals,
    Finding,
    Form45Figures,
    Form46Figures,
    RecountRule,
    Standing,
    add_postal,
    check_contest,
    check_form45,
    check_form46,
    deadline_findings,
    entry_differences,
    has_errors,
    margin,
    recount_threshold,
    standings,
    sum_forms,
    turnout,
)

ROOT = Path(__file__).resolve().parents[2]

# A clean combined station: 500 of 1,000 registered, 490 valid votes + 10 excluded.
CLEAN45 = Form45Figures(
    station_type="combined",
    registered_male=600,
    registered_female=400,
    polled_male=300,
    polled_female=200,
    polled_total=500,
    excluded=10,
    votes={1: 250, 2: 200, 3: 40},
)
CLEAN46 = Form46Figures(received=1000, unissued=480, issued=500, spoilt=20, tendered=2, challenged=1, taken_out=500)


def f45(**changes) -> Form45Figures:
    return dataclasses.replace(CLEAN45, **changes)


def f46(**changes) -> Form46Figures:
    return dataclasses.replace(CLEAN46, **changes)


def contest(**changes) -> ContestTotals:
    base = ContestTotals(
        votes={1: 60_000, 2: 40_000, 3: 5_000},
        polled_total=106_000,
        polled_female=40_000,
        excluded=1_000,
        stations_total=200,
        stations_reported=200,
    )
    return dataclasses.replace(base, **changes)


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def only(findings: list[Finding], rule: str) -> Finding:
    matching = [f for f in findings if f.rule == rule]
    assert len(matching) == 1, rules(findings)
    return matching[0]


# --- the rule table ---------------------------------------------------------------------------------------------


def test_every_rule_has_a_description_and_a_severity():
    assert set(RULES) == set(RULE_SEVERITY)
    assert all(description.strip() for description in RULES.values())
    assert set(RULE_SEVERITY.values()) <= {"error", "warning", "info"}
    assert all(code.split(".")[0] in {"form45", "form46", "contest"} for code in RULES)


def test_every_rule_code_fires_somewhere_with_its_registered_severity():
    k = KARACHI
    findings = [
        *check_form45(f45(polled_male=-1, polled_total=5, polled_female=0, votes={1: 0}, excluded=0)),
        *check_form45(f45(polled_total=501)),
        *check_form45(f45(registered_male=10, registered_female=10)),
        *check_form45(f45(station_type="male", registered_female=0)),
        *check_form45(f45(station_type="female", registered_male=0)),
        *check_form45(f45(registered_male=300, registered_female=300)),
        *check_form45(f45(polled_male=0, polled_female=0, polled_total=0, excluded=0, votes={1: 0, 2: 0})),
        *check_form46(f46(spoilt=-1, taken_out=499, issued=499), CLEAN45),
        *check_contest(contest(votes={1: 50_000, 2: 50_000}, polled_female=1, stations_reported=199)),
        *deadline_findings(
            now=datetime(2024, 2, 9, 9, 30, tzinfo=k),
            provisional_at=datetime(2024, 2, 9, 2, tzinfo=k),
            complete_at=datetime(2024, 2, 9, 10, tzinfo=k),
            stations_total=10,
            stations_reported=9,
        ),
        *deadline_findings(
            now=datetime(2024, 2, 9, 11, tzinfo=k),
            provisional_at=datetime(2024, 2, 9, 2, tzinfo=k),
            complete_at=datetime(2024, 2, 9, 10, tzinfo=k),
            stations_total=10,
            stations_reported=9,
        ),
    ]
    assert {f.rule for f in findings} == set(RULES)
    assert all(f.severity == RULE_SEVERITY[f.rule] for f in findings)
    assert all(f.message.endswith(".") for f in findings)
    json.dumps([f.as_dict() for f in findings])  # data is JSON-safe


# --- Form-45 ----------------------------------------------------------------------------------------------------


def test_a_clean_form45_has_no_findings():
    assert check_form45(CLEAN45) == []


@pytest.mark.parametrize(
    "field", ["registered_male", "registered_female", "polled_male", "polled_female", "polled_total", "excluded"]
)
def test_a_negative_figure_is_refused_naming_the_field(field):
    finding = only(check_form45(f45(**{field: -3})), "form45.negative")
    assert (finding.severity, finding.field, finding.data["value"]) == ("error", field, -3)
    assert "-3" in finding.message


def test_negative_votes_for_a_candidate_are_refused():
    findings = check_form45(f45(votes={1: 250, 2: 242, 3: -2}))  # the sum still matches
    finding = only(findings, "form45.negative")
    assert (finding.field, finding.data["candidate"], finding.data["value"]) == ("votes", 3, -2)
    assert rules(findings) == ["form45.negative"]


def test_zero_is_not_negative():
    assert check_form45(f45(votes={1: 250, 2: 240, 3: 0})) == []


def test_male_plus_female_must_equal_total_polled():
    finding = only(check_form45(f45(polled_male=301, registered_male=700)), "form45.gender_sum")
    assert (finding.severity, finding.field) == ("error", "polled_total")
    assert finding.data == {"polled_male": 301, "polled_female": 200, "polled_total": 500, "difference": 1}
    assert "301" in finding.message and "500" in finding.message


def test_votes_plus_excluded_must_equal_total_polled():
    finding = only(check_form45(f45(excluded=11)), "form45.sum_mismatch")
    assert (finding.severity, finding.field) == ("error", "votes")
    assert finding.data == {"votes_sum": 490, "excluded": 11, "polled_total": 500, "difference": 1}
    assert check_form45(f45(excluded=9))[0].rule == "form45.sum_mismatch"


def test_polled_equal_to_registered_is_not_an_error_but_one_more_is():
    full = f45(registered_male=300, registered_female=200)  # 100 % turnout
    assert not has_errors(check_form45(full))
    assert rules(check_form45(full)) == ["form45.turnout_high"]
    over = f45(registered_male=300, registered_female=199)
    finding = only(check_form45(over), "form45.polled_above_registered")
    assert (finding.severity, finding.field, finding.data["registered"]) == ("error", "polled_total", 499)
    assert "form45.turnout_high" not in rules(check_form45(over))  # above 100 % is refused, not warned


def test_polled_above_registered_per_gender():
    assert not has_errors(check_form45(f45(registered_male=300, registered_female=700)))
    assert not has_errors(check_form45(f45(registered_male=800, registered_female=200)))
    male = check_form45(f45(registered_male=299, registered_female=701))
    assert rules(male) == ["form45.male_above_registered"]
    assert male[0].field == "polled_male"
    female = check_form45(f45(registered_male=801, registered_female=199))
    assert rules(female) == ["form45.female_above_registered"]
    assert female[0].field == "polled_female"


def _turnout_form(polled: int, registered: int) -> Form45Figures:
    return f45(
        registered_male=registered,
        registered_female=0,
        station_type="male",
        polled_male=polled,
        polled_female=0,
        polled_total=polled,
        excluded=0,
        votes={1: polled},
    )


def test_turnout_warning_is_strictly_above_80_percent():
    assert check_form45(_turnout_form(8_000, 10_000)) == []  # exactly 80 %
    finding = only(check_form45(_turnout_form(8_001, 10_000)), "form45.turnout_high")  # 80.01 %
    assert (finding.severity, finding.field) == ("warning", "polled_total")
    assert finding.data["turnout_percent"] == 80.01
    assert "80.01 %" in finding.message


def test_turnout_warning_level_is_configurable_and_exact():
    assert check_form45(_turnout_form(8_001, 10_000), turnout_warning=0.9) == []
    assert rules(check_form45(_turnout_form(9_001, 10_000), turnout_warning=0.9)) == ["form45.turnout_high"]
    # 0.7 as a float is a hair below 7/10; read exactly, 70 % is not above it.
    assert check_form45(_turnout_form(7, 10), turnout_warning=0.7) == []


@pytest.mark.parametrize("bad", [80, 1.5, -0.1, float("nan")])
def test_turnout_warning_must_be_a_share(bad):
    with pytest.raises(ValueError, match="turnout_warning|finite"):
        check_form45(CLEAN45, turnout_warning=bad)


def test_zero_registered_and_zero_polled_is_only_a_no_votes_warning():
    empty = Form45Figures("combined", 0, 0, 0, 0, 0, 0, {1: 0, 2: 0})
    assert rules(check_form45(empty)) == ["form45.no_votes"]


def test_votes_with_zero_registered_are_above_registered():
    found = rules(check_form45(Form45Figures("male", 0, 0, 5, 0, 5, 0, {1: 5})))
    assert found == ["form45.polled_above_registered", "form45.male_above_registered"]


def test_a_male_station_has_no_female_votes():
    male = f45(station_type="male", registered_female=0)
    finding = only(check_form45(male), "form45.male_station_female_votes")
    assert (finding.severity, finding.field, finding.data["polled_female"]) == ("error", "polled_female", 200)
    ok = f45(station_type="male", polled_male=500, polled_female=0, registered_male=1000, registered_female=0)
    assert check_form45(ok) == []


def test_a_female_station_has_no_male_votes():
    female = f45(station_type="female", registered_male=0)
    finding = only(check_form45(female), "form45.female_station_male_votes")
    assert (finding.severity, finding.field) == ("error", "polled_male")
    ok = f45(station_type="female", polled_male=0, polled_female=500, registered_male=0, registered_female=1000)
    assert check_form45(ok) == []


def test_nothing_polled_is_a_warning_and_one_vote_is_not():
    nothing = f45(polled_male=0, polled_female=0, polled_total=0, excluded=0, votes={1: 0, 2: 0, 3: 0})
    finding = only(check_form45(nothing), "form45.no_votes")
    assert finding.severity == "warning"
    one = f45(polled_male=1, polled_female=0, polled_total=1, excluded=0, votes={1: 1, 2: 0, 3: 0})
    assert check_form45(one) == []


def test_every_finding_is_reported_errors_first_in_a_fixed_order():
    bad = f45(
        registered_male=1,
        registered_female=0,
        station_type="male",
        polled_male=-1,
        polled_total=0,
        excluded=-2,
        votes={2: 5, 1: -1},
    )
    found = check_form45(bad)
    assert rules(found) == [
        "form45.negative",  # polled_male
        "form45.negative",  # excluded
        "form45.negative",  # candidate 1
        "form45.gender_sum",
        "form45.sum_mismatch",
        "form45.female_above_registered",
        "form45.male_station_female_votes",
        "form45.no_votes",
    ]
    assert [f.field for f in found[:3]] == ["polled_male", "excluded", "votes"]
    assert check_form45(bad) == found


def test_an_unknown_station_type_is_a_programming_error():
    with pytest.raises(ValueError, match="station_type"):
        f45(station_type="mixed")


def test_turnout_is_exact():
    assert turnout(8, 10) == Fraction(4, 5)
    assert turnout(0, 0) is None
    assert turnout(3, 0) is None


# --- Form-46 ----------------------------------------------------------------------------------------------------


def test_a_clean_ballot_account_has_no_findings():
    assert check_form46(CLEAN46) == []
    assert check_form46(CLEAN46, CLEAN45) == []


@pytest.mark.parametrize("field", ["received", "unissued", "issued", "spoilt", "tendered", "challenged", "taken_out"])
def test_a_negative_form46_figure_is_an_error(field):
    finding = only(check_form46(f46(**{field: -1})), "form46.negative")
    assert (finding.severity, finding.field) == ("error", field)


def test_issued_must_be_received_less_unissued_less_spoilt():
    finding = only(check_form46(f46(issued=501)), "form46.issued_mismatch")
    assert finding.severity == "warning"
    assert finding.data["expected"] == 500 and finding.data["difference"] == 1
    assert check_form46(f46(issued=499, unissued=481)) == []


def test_ballots_taken_out_of_the_box_must_match_form45_polled():
    assert check_form46(f46(taken_out=499)) == []  # nothing to compare without the Form-45
    finding = only(check_form46(f46(taken_out=499), CLEAN45), "form46.box_mismatch")
    assert finding.severity == "warning"
    assert finding.data == {"taken_out": 499, "polled_total": 500, "difference": -1}


def test_fewer_ballots_issued_than_polled_is_flagged():
    short = f46(issued=499, unissued=481)  # the account itself balances
    assert check_form46(short) == []
    assert rules(check_form46(short, CLEAN45)) == ["form46.issued_below_polled"]
    assert check_form46(f46(issued=500), CLEAN45) == []


# --- double entry -----------------------------------------------------------------------------------------------


def test_identical_entries_have_no_differences():
    assert entry_differences(CLEAN45, f45()) == []


def test_entry_differences_name_fields_and_candidates_sorted():
    other = f45(polled_male=301, excluded=11, votes={1: 250, 2: 201, 4: 0})
    assert entry_differences(CLEAN45, other) == ["excluded", "polled_male", "votes.2", "votes.3", "votes.4"]
    assert entry_differences(other, CLEAN45) == entry_differences(CLEAN45, other)
    assert entry_differences(CLEAN45, f45(station_type="male")) == ["station_type"]


# --- totals -----------------------------------------------------------------------------------------------------


def test_sum_forms_and_add_postal():
    station = sum_forms([{1: 10, 2: 5}, {1: 3, 3: 0}, {2: 7}])
    assert station == {1: 13, 2: 12, 3: 0}
    assert sum_forms([]) == {}
    assert add_postal(station, {1: 2, 4: 1}) == {1: 15, 2: 12, 3: 0, 4: 1}
    assert station == {1: 13, 2: 12, 3: 0}  # not modified


# --- standings, margin, recount ---------------------------------------------------------------------------------


def test_standings_share_a_rank_on_equal_votes():
    assert standings({1: 100, 2: 300, 3: 300, 4: 50}) == [
        Standing(2, 300, 1),
        Standing(3, 300, 1),
        Standing(1, 100, 3),
        Standing(4, 50, 4),
    ]
    assert standings({}) == []


def test_margin_is_leader_minus_runner_up():
    assert margin({1: 100, 2: 300, 3: 250}) == 50
    assert margin({1: 7, 2: 7}) == 0
    assert margin({1: 7}) is None
    assert margin({}) is None


@pytest.mark.parametrize(
    ("polled", "threshold"),
    [
        (300_000, 10_000),  # 5 % is 15,000: 10,000 is less
        (200_000, 10_000),  # both 10,000
        (100_000, 5_000),  # 5 % is less
        (100_001, 5_001),  # 5,000.05: a margin of 5,000 is below it, 5,001 is not
        (0, 0),
    ],
)
def test_recount_threshold_is_the_lesser_of_percent_and_absolute(polled, threshold):
    assert recount_threshold(polled, RecountRule()) == threshold


def test_recount_threshold_has_no_float_rounding_surprises():
    # 1000 * 1.1 / 100 is 11.000000000000002 in floats; exactly it is 11.
    assert recount_threshold(1_000, RecountRule(percent=1.1, absolute=10**9)) == 11
    assert recount_threshold(1_000, RecountRule(percent=0.1, absolute=10**9)) == 1
    assert recount_threshold(300_000, RecountRule(percent=2.0, absolute=20_000)) == 6_000  # per-house figures


def test_a_recount_rule_is_not_negative():
    with pytest.raises(ValueError, match="negative"):
        RecountRule(percent=-1)


def _two_way(polled: int, lead: int, **changes) -> ContestTotals:
    loser = (polled - lead) // 2
    return contest(votes={1: loser + lead, 2: loser}, polled_total=polled, excluded=0, polled_female=polled // 2)


@pytest.mark.parametrize(("polled", "threshold"), [(300_000, 10_000), (100_000, 5_000)])
def test_recount_eligible_strictly_below_threshold(polled, threshold):
    assert check_contest(_two_way(polled, threshold)) == []
    finding = only(check_contest(_two_way(polled, threshold - 1)), "contest.recount_eligible")
    assert finding.severity == "warning"
    assert finding.data == {
        "margin": threshold - 1,
        "threshold": threshold,
        "percent": 5.0,
        "absolute": 10_000,
        "polled_total": polled,
    }


def test_recount_rule_is_configurable_per_house():
    totals = _two_way(300_000, 12_000)
    assert check_contest(totals) == []
    assert rules(check_contest(totals, recount=RecountRule(percent=5, absolute=15_000))) == ["contest.recount_eligible"]


def test_excluded_at_least_the_margin_is_flagged():
    totals = _two_way(300_000, 20_000)
    assert rules(check_contest(dataclasses.replace(totals, excluded=20_000))) == ["contest.excluded_ge_margin"]
    assert check_contest(dataclasses.replace(totals, excluded=19_999)) == []


def test_a_tie_at_the_top_is_flagged_not_decided():
    totals = contest(votes={3: 50_000, 1: 50_000, 2: 6_000}, excluded=0)
    finding = only(check_contest(totals), "contest.tie")
    assert finding.data == {"candidates": [1, 3], "votes": 50_000}
    assert "contest.recount_eligible" in rules(check_contest(totals))  # a margin of 0 is below any threshold
    assert "contest.tie" not in rules(check_contest(contest(votes={1: 50_000, 2: 49_999, 3: 49_999})))
    assert "contest.tie" not in rules(check_contest(contest(votes={1: 0, 2: 0}, polled_total=0, excluded=0)))


def test_women_share_below_ten_percent_is_flagged_exactly():
    na10 = contest(polled_total=100_000, polled_female=9_870)  # NA-10 (2018): 9.87 %
    finding = only(check_contest(na10), "contest.women_turnout_low")
    assert (finding.severity, finding.field) == ("warning", "polled_female")
    assert finding.data["share_percent"] == 9.87 and finding.data["min_percent"] == 10.0
    assert "9.87 %" in finding.message
    assert check_contest(contest(polled_total=100_000, polled_female=10_000)) == []  # exactly 10.00 %
    assert rules(check_contest(contest(polled_total=100_000, polled_female=9_999))) == ["contest.women_turnout_low"]
    pk23 = contest(polled_total=100_000, polled_female=5_010)  # PK-23: 5.01 %
    assert rules(check_contest(pk23)) == ["contest.women_turnout_low"]


def test_incomplete_count_is_info_and_other_rules_wait_for_a_first_station():
    nothing_in = contest(votes={1: 0, 2: 0}, polled_total=0, polled_female=0, excluded=0, stations_reported=0)
    finding = only(check_contest(nothing_in), "contest.incomplete")
    assert rules(check_contest(nothing_in)) == ["contest.incomplete"]
    assert finding.severity == "info"
    assert finding.data == {"reported": 0, "total": 200, "awaited": 200}
    partial = contest(votes={1: 10, 2: 10}, polled_total=20, polled_female=0, excluded=0, stations_reported=1)
    assert rules(check_contest(partial)) == [
        "contest.recount_eligible",
        "contest.tie",
        "contest.women_turnout_low",
        "contest.incomplete",
    ]


def test_a_tie_with_nothing_excluded_is_not_also_an_excluded_ge_margin_finding():
    tied = contest(votes={1: 10, 2: 10}, polled_total=20, polled_female=5, excluded=0, stations_reported=1)
    assert "contest.excluded_ge_margin" not in rules(check_contest(tied))
    with_excluded = dataclasses.replace(tied, excluded=1, polled_total=21)
    assert "contest.excluded_ge_margin" in rules(check_contest(with_excluded))


def test_a_single_candidate_has_no_margin_findings():
    assert check_contest(contest(votes={1: 100_000}, excluded=0)) == []


# --- deadlines --------------------------------------------------------------------------------------------------

PROVISIONAL = datetime(2024, 2, 9, 2, 0, tzinfo=KARACHI)
COMPLETE = datetime(2024, 2, 9, 10, 0, tzinfo=KARACHI)


def _deadlines(now: datetime, reported: int = 190) -> list[Finding]:
    return deadline_findings(
        now=now, provisional_at=PROVISIONAL, complete_at=COMPLETE, stations_total=200, stations_reported=reported
    )


def test_a_deadline_is_approaching_from_one_hour_before():
    assert _deadlines(PROVISIONAL - timedelta(hours=1, seconds=1)) == []
    finding = only(_deadlines(PROVISIONAL - timedelta(hours=1)), "contest.deadline_approaching")
    assert finding.severity == "info"
    assert finding.data["deadline"] == "provisional" and finding.data["minutes_left"] == 60
    assert finding.data["awaited"] == 10
    assert (
        only(_deadlines(PROVISIONAL - timedelta(seconds=30)), "contest.deadline_approaching").data["minutes_left"] == 1
    )


def test_provisional_deadline_missed_at_0200_with_stations_awaited():
    finding = only(_deadlines(PROVISIONAL), "contest.provisional_deadline_missed")
    assert finding.severity == "warning"
    assert finding.data["awaited"] == 10 and finding.data["due_at"] == PROVISIONAL.isoformat()
    assert rules(_deadlines(PROVISIONAL)) == ["contest.provisional_deadline_missed"]


def test_complete_deadline_approaching_then_missed():
    assert rules(_deadlines(COMPLETE - timedelta(minutes=30))) == [
        "contest.provisional_deadline_missed",
        "contest.deadline_approaching",
    ]
    assert rules(_deadlines(COMPLETE)) == ["contest.provisional_deadline_missed", "contest.complete_deadline_missed"]


def test_no_deadline_findings_once_every_station_reported():
    assert _deadlines(COMPLETE + timedelta(hours=5), reported=200) == []
    assert _deadlines(PROVISIONAL - timedelta(minutes=5), reported=200) == []


def test_deadlines_compare_instants_across_zones():
    assert rules(_deadlines(datetime(2024, 2, 8, 21, 0, tzinfo=UTC))) == ["contest.provisional_deadline_missed"]


def test_deadlines_need_aware_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        _deadlines(datetime(2024, 2, 9, 3, 0))


# --- properties -------------------------------------------------------------------------------------------------

vote_maps = st.dictionaries(st.integers(1, 30), st.integers(0, 5_000), min_size=1, max_size=12)


@st.composite
def consistent_forms(draw) -> Form45Figures:
    station_type = draw(st.sampled_from(["male", "female", "combined"]))
    votes = draw(vote_maps)
    excluded = draw(st.integers(0, 500))
    total = sum(votes.values()) + excluded
    if station_type == "male":
        male = total
    elif station_type == "female":
        male = 0
    else:
        male = draw(st.integers(0, total))
    female = total - male
    return Form45Figures(
        station_type=station_type,
        registered_male=male + draw(st.integers(0, 3_000)),
        registered_female=female + draw(st.integers(0, 3_000)),
        polled_male=male,
        polled_female=female,
        polled_total=total,
        excluded=excluded,
        votes=votes,
    )


@given(consistent_forms())
def test_a_consistent_form_has_no_errors(form):
    assert not has_errors(check_form45(form))


@given(consistent_forms(), st.data(), st.sampled_from([1, -1]))
def test_changing_any_polled_figure_by_one_is_refused(form, data, delta):
    target = data.draw(st.sampled_from(["polled_male", "polled_female", "polled_total", "excluded", "votes"]))
    if target == "votes":
        key = data.draw(st.sampled_from(sorted(form.votes)))
        changed = dataclasses.replace(form, votes={**form.votes, key: form.votes[key] + delta})
        expected = [f"votes.{key}"]
    else:
        changed = dataclasses.replace(form, **{target: getattr(form, target) + delta})
        expected = [target]
    found = check_form45(changed)
    assert {"form45.sum_mismatch", "form45.gender_sum", "form45.negative"} & set(rules(found))
    assert has_errors(found)
    assert entry_differences(form, changed) == expected


figure = st.integers(-3, 60)
any_forms = st.builds(
    Form45Figures,
    station_type=st.sampled_from(["male", "female", "combined"]),
    registered_male=figure,
    registered_female=figure,
    polled_male=figure,
    polled_female=figure,
    polled_total=figure,
    excluded=figure,
    votes=st.dictionaries(st.integers(1, 5), figure, max_size=5),
)


@given(any_forms)
def test_findings_on_any_form_are_known_ordered_and_json_safe(form):
    found = check_form45(form)
    order = {"error": 0, "warning": 1, "info": 2}
    assert [order[f.severity] for f in found] == sorted(order[f.severity] for f in found)
    assert all(f.rule in RULES and f.severity == RULE_SEVERITY[f.rule] for f in found)
    assert check_form45(form) == found
    json.dumps([f.as_dict() for f in found])


@given(any_forms, any_forms)
def test_entry_differences_are_symmetric_and_empty_for_the_same_form(a, b):
    assert entry_differences(a, a) == []
    assert entry_differences(a, b) == entry_differences(b, a)
    assert (entry_differences(a, b) == []) == (a == b)


@given(st.lists(st.dictionaries(st.integers(1, 8), st.integers(0, 10_000), max_size=8), max_size=10), st.randoms())
def test_sum_forms_is_the_per_key_sum_in_any_order(forms, rnd):
    keys = {key for form in forms for key in form}
    expected = {key: sum(form.get(key, 0) for form in forms) for key in keys}
    shuffled = list(forms)
    rnd.shuffle(shuffled)
    assert sum_forms(forms) == expected == sum_forms(shuffled)


@given(vote_maps, st.dictionaries(st.integers(1, 30), st.integers(0, 500), max_size=5))
def test_add_postal_adds_per_candidate(station, postal):
    assert add_postal(station, {}) == station
    assert add_postal(station, postal) == sum_forms([station, postal])


@given(st.dictionaries(st.integers(1, 20), st.integers(0, 50), max_size=12))
def test_standings_ranks_are_consistent(votes):
    table = standings(votes)
    assert sorted(s.key for s in table) == sorted(votes)
    assert [(s.key, s.votes) for s in table] == sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
    for a in table:
        for b in table:
            if a.votes > b.votes:
                assert a.rank < b.rank
            elif a.votes == b.votes:
                assert a.rank == b.rank
    if table:
        assert table[0].rank == 1
    lead = margin(votes)
    if len(votes) < 2:
        assert lead is None
    else:
        assert lead is not None and lead >= 0
        assert lead == table[0].votes - table[1].votes


@given(
    st.integers(0, 2_000_000),
    st.integers(0, 2_000).map(lambda hundredths: hundredths / 100),
    st.integers(0, 50_000),
    st.integers(0, 60_000),
)
def test_recount_threshold_decides_exactly(polled, percent, absolute, lead):
    rule = RecountRule(percent=percent, absolute=absolute)
    exact_limit = min(Fraction(str(percent)) * polled / 100, absolute)
    assert (lead < recount_threshold(polled, rule)) == (lead < exact_limit)


def test_module_imports_no_django():
    code = "import sys, results.tally; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
