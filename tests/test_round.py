"""Round planning: dates, scope, lottery share, rectification, groups and order."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

import pytest
from conftest import SAMPLE_ROUND, SAMPLE_SEED, CliRunner, fill_workspace, session_of
from sqlalchemy import select

from ducha.config import Config, load_config
from ducha.counties import COUNTIES
from ducha.db.models import RectificationItem, SponsorUnit, Village, VillageUnit
from ducha.errors import ConfigError, LotteryError, RoundError
from ducha.groups import roster_of
from ducha.lottery import draw, lottery_population
from ducha.rounds import plan_round, round_dates, round_plan
from ducha.workspace import Workspace

NEXT_ROUND = "2015-09"
NEXT_SEED = "2015-09-24 福彩3D 第2015260期 开奖号 1 9 4"


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_first_round_dates_follow_the_notice() -> None:
    dates = round_dates("2015-08", Config().rounds)
    assert (dates.start, dates.end) == (d("2015-08-17"), d("2015-08-28"))
    assert dates.group_report_due == d("2015-08-30")
    assert dates.self_inspection_due == d("2015-09-05")


@pytest.mark.parametrize(
    ("round_id", "start", "end", "report", "self_check"),
    [
        ("2016-02", "2016-02-25", "2016-02-29", "2016-03-02", "2016-03-05"),  # leap February
        ("2017-02", "2017-02-25", "2017-02-28", "2017-03-02", "2017-03-05"),  # ends on the last day
        ("2015-10", "2015-10-25", "2015-10-30", "2015-11-01", "2015-11-05"),  # 31 days: still the 30th
        ("2015-12", "2015-12-25", "2015-12-30", "2016-01-01", "2016-01-05"),  # into the next year
        ("2015-09", "2015-09-25", "2015-09-30", "2015-10-02", "2015-10-05"),
    ],
)
def test_later_rounds_run_from_the_25th_to_the_30th(
    round_id: str, start: str, end: str, report: str, self_check: str
) -> None:
    dates = round_dates(round_id, Config().rounds)
    assert (dates.start, dates.end, dates.group_report_due, dates.self_inspection_due) == (
        d(start),
        d(end),
        d(report),
        d(self_check),
    )


def test_rounds_before_the_first_are_refused() -> None:
    with pytest.raises(RoundError):
        round_dates("2015-07", Config().rounds)


def test_dates_come_from_the_config_file_and_bad_keys_are_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "rounds": {
                    "start_day": 24,
                    "group_report_days_after_end": 3,
                    "overrides": {"2015-11": {"start": "2015-11-20", "end": "2015-11-27"}},
                },
            }
        )
    )
    rounds = load_config(tmp_path).rounds
    assert round_dates("2015-10", rounds).start == d("2015-10-24")
    assert round_dates("2015-10", rounds).group_report_due == d("2015-11-02")
    assert (round_dates("2015-11", rounds).start, round_dates("2015-11", rounds).end) == (
        d("2015-11-20"),
        d("2015-11-27"),
    )
    # Overriding other rounds keeps the first round's dates from the notice.
    assert (round_dates("2015-08", rounds).start, round_dates("2015-08", rounds).end) == (
        d("2015-08-17"),
        d("2015-08-28"),
    )

    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "rounds": {"start_day": "25号", "end_dya": 30},
                "lottery": {"min_ratio": 0},
            }
        )
    )
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    keys = sorted(p.split("：")[0] for p in info.value.problems)
    assert keys == ["lottery.min_ratio", "rounds.end_dya", "rounds.start_day"]


def test_plan_scope_groups_order_and_rectification(workspace: Workspace) -> None:
    fill_workspace(workspace)
    with session_of(workspace) as s:
        plan = round_plan(s, SAMPLE_ROUND)
        units_of: dict[int, set[str]] = {}
        for vid, level in s.execute(select(VillageUnit.village_id, SponsorUnit.level).join(SponsorUnit)):
            units_of.setdefault(vid, set()).add(level)
        county_of = {vid: county for vid, county in s.execute(select(Village.id, Village.county))}
        code_of = {vid: code for vid, code in s.execute(select(Village.id, Village.code))}

    # Every village a city unit helps is in, as "full": 98 of them.
    city = {vid for vid, levels in units_of.items() if "city" in levels}
    assert len(city) == 98
    assert {v.id for v in plan.villages if v.reason == "full"} == city

    # Per county, at least 10% of the county-only villages, rounded up, by lottery.
    county_only = {vid for vid, levels in units_of.items() if levels == {"county"}}
    lottery = [v for v in plan.villages if v.reason == "lottery"]
    assert {v.id for v in lottery} <= county_only
    for county in COUNTIES:
        population = sum(1 for vid in county_only if county_of[vid] == county)
        drawn = sum(1 for v in lottery if v.county == county)
        assert drawn == math.ceil(population / 10) and drawn * 10 >= population > 0
        assert plan.lottery.per_county[county].population == population

    # Each village goes to the group covering its county, in order of town then village.
    for group in plan.roster.groups:
        mine = plan.villages_of_group(group.no)
        assert mine and all(v.county in group.counties for v in mine)
        assert [v.visit_order for v in mine] == list(range(1, len(mine) + 1))
        assert [v.code for v in mine] == sorted(v.code for v in mine)
    group2 = {v.county for v in plan.villages_of_group(2)}
    assert group2 == {"恩阳区", "巴中经济开发区"}

    # An open rectification item brings its village back next round; a closed one does not.
    with session_of(workspace) as s, s.begin():
        next_drawn = {c for codes in draw(NEXT_SEED, lottery_population(s), Decimal("0.10")).values() for c in codes}
        spare = sorted(vid for vid in county_only if code_of[vid] not in next_drawn)
        s.add(
            RectificationItem(
                village_id=spare[0],
                origin_round=SAMPLE_ROUND,
                indicator_key="sec_1",
                description="第一书记驻村天数不足",
                status="open",
            )
        )
        s.add(
            RectificationItem(
                village_id=spare[1],
                origin_round=SAMPLE_ROUND,
                indicator_key="team_3",
                description="未制定帮扶规划",
                status="closed",
                closed_round=SAMPLE_ROUND,
            )
        )
    with session_of(workspace) as s, s.begin():
        assert roster_of(s, NEXT_ROUND) is None
        nxt = plan_round(s, NEXT_ROUND, NEXT_SEED)
    reasons = {v.id: v.reason for v in nxt.villages}
    assert reasons[spare[0]] == "rectification"
    assert spare[1] not in reasons
    assert nxt.dates.start == d("2015-09-25")
    # No roster imported for 2015-09: it took 2015-08's and keeps its own copy.
    assert [g.members for g in nxt.roster.groups] == [g.members for g in plan.roster.groups]
    with session_of(workspace) as s:
        stored = roster_of(s, NEXT_ROUND)
        assert stored is not None and stored.source_round == NEXT_ROUND


def test_round_show_json_has_the_agreed_shape(planned_workspace: Workspace, run_cli: CliRunner) -> None:
    code, out, err = run_cli(planned_workspace, "round", "show", SAMPLE_ROUND, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["round"], data["start"], data["end"]) == (SAMPLE_ROUND, "2015-08-17", "2015-08-28")
    village = data["villages"][0]
    assert {"id", "name", "county", "town", "group", "reason", "units"} <= set(village)
    assert data["lottery"]["seed"] == SAMPLE_SEED
    assert len(data["lottery"]["population_sha256"]) == 64
    assert set(data["lottery"]["per_county"]) == set(COUNTIES)
    assert all({"population", "drawn"} <= set(v) for v in data["lottery"]["per_county"].values())

    code, out, _ = run_cli(planned_workspace, "round", "show", SAMPLE_ROUND)
    assert code == 0
    assert "第一组" in out and "全面督查" in out and "摇号抽查" in out and "2015年08月17日" in out


def test_seed_is_required_and_a_planned_round_is_not_redrawn_silently(
    copy_planned_workspace: Workspace, run_cli: CliRunner
) -> None:
    ws = copy_planned_workspace
    code, _, err = run_cli(ws, "round", "plan", "2015-09")
    assert code == 1 and "缺少必填参数：--seed" in err
    with session_of(ws) as s, pytest.raises(LotteryError):
        plan_round(s, "2015-09", "  ")
    code, _, err = run_cli(ws, "round", "plan", SAMPLE_ROUND, "--seed", "另一个种子 123")
    assert code == 1 and "已经安排过" in err
    before = json.loads(run_cli(ws, "round", "show", SAMPLE_ROUND, "--json")[1])
    code, out, err = run_cli(ws, "round", "plan", SAMPLE_ROUND, "--seed", "另一个种子 123", "--replace", "--json")
    assert code == 0, err
    after = json.loads(out)
    assert after["lottery"]["seed"] == "另一个种子 123"
    assert after["lottery"]["per_county"] != before["lottery"]["per_county"]
    assert sorted(v["id"] for v in after["villages"] if v["reason"] == "full") == sorted(
        v["id"] for v in before["villages"] if v["reason"] == "full"
    )
