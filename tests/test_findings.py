"""Findings add up per village, unit and county; the rules file is checked key by key."""

from __future__ import annotations

import json

import pytest

from ducha.consequences import load_rules
from ducha.errors import ConfigError
from ducha.findings import compute_findings
from ducha.results import FormResult
from ducha.rounds import PlannedVillage


def _village(id_: int, county: str, units: list[str]) -> PlannedVillage:
    return PlannedVillage(id=id_, code=f"V{id_}", name=f"村{id_}", county=county, town="镇", group=1,
                          reason="full", units=units, visit_order=id_)


def _result(village_id: int, status: str, no=(), fund=None, round_="2015-08") -> FormResult:
    indicators = {"team_1": "yes"} | {key: "no" for key in no}
    return FormResult(round=round_, village_id=village_id, form_id=f"F{village_id}", status=status,
                      indicators=indicators, numbers={"poverty_fund": fund})


def test_tallies_per_unit_and_county():
    villages = [_village(1, "巴州区", ["甲局"]), _village(2, "巴州区", ["甲局", "乙局"]), _village(3, "南江县", ["丙局"])]
    results = [
        _result(1, "valid", fund=10.0),
        _result(2, "invalid", ("sec_1",), fund=9.9),
        _result(2, "missing"),  # a duplicate that says less never wins
        _result(3, "valid", round_="2015-07"),  # another round's result does not count
    ]
    f = compute_findings("2015-08", villages, results)
    assert [x.status for x in f.villages] == ["valid", "invalid", "missing"]
    assert f.villages[0].fund_at_least_min and f.villages[1].fund_below_min
    assert f.villages[1].indicator("sec_1") == "否" and f.villages[0].indicator("sec_1") == "是"
    assert (f.by_unit["甲局"].villages, f.by_unit["甲局"].invalid, f.by_unit["甲局"].no_answers) == (2, 1, 1)
    assert f.by_unit["乙局"].problem_villages == 1
    assert (f.by_county["巴州区"].valid, f.by_county["南江县"].missing) == (1, 1)
    assert f.units_without_problems() == []
    # All eight aspects in the seed's order. sec_1 is aspect 2; the fund below
    # 10万元 is aspect 3 (help for the village) although team_7 was not ticked 否.
    assert [a.number for a in f.aspects] == list(range(1, 9))
    assert [a.number for a in f.aspects if a.items] == [2, 3]
    assert [a.number for a in f.aspects if not a.measured] == [5, 6, 7, 8]
    assert f.aspects[1].measured_villages == 2 and f.aspects[1].passed_villages == 1


def test_workspace_rules_override_and_every_error_is_reported(tmp_path):
    (tmp_path / "consequences.json").write_text(json.dumps({"criticism": {"min_no_answers": 2}}), encoding="utf-8")
    assert load_rules(tmp_path).criticism.min_no_answers == 2
    assert load_rules(tmp_path).deductions.points_per_admonition == 1.0  # default kept
    bad = {"criticism": {"min_no_answers": 0}, "admonition": {"indicators": ["team_9"]},
           "deductions": {"points_per_admonition": "一分"}, "typo": 1}
    (tmp_path / "consequences.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rules(tmp_path)
    keys = [p.split("：")[0] for p in caught.value.problems]
    assert sorted(keys) == sorted(["criticism.min_no_answers", "admonition.indicators",
                                   "deductions.points_per_admonition", "typo"])
