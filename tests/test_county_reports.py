"""The counties' self-inspection reports: received, on time, late, missing."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ducha.county_reports import county_reports_sentence, county_reports_status
from ducha.db.models import CountyReport
from ducha.workspace import Workspace

ROUND = "2015-08"


def test_a_late_county_appears_in_counties_status(
    copy_planned_workspace: Workspace, run_cli: CliRunner, tmp_path: Path
) -> None:
    ws = copy_planned_workspace
    report = tmp_path / "巴州区2015年8月自查情况.docx"
    report.write_bytes(b"bazhou self-inspection, fictional")
    late = tmp_path / "nanjiang.pdf"
    late.write_bytes(b"nanjiang self-inspection, fictional")
    code, out, err = run_cli(ws, "counties", "receive", ROUND, "巴州区", str(report), "--date", "2015-09-04", "--json")
    assert code == 0, err
    got = json.loads(out)
    copied = Path(got["path"])
    assert copied.is_file() and copied.read_bytes() == report.read_bytes() and ws.root in copied.parents
    assert len(got["sha256"]) == 64 and got["received_on"] == "2015-09-04"
    # The same file again is not a second report; 经开区 is accepted for 巴中经济开发区.
    code, out, err = run_cli(ws, "counties", "receive", ROUND, "巴州区", str(report), "--date", "2015-09-06", "--json")
    assert code == 0 and json.loads(out)["duplicate"] is True
    assert run_cli(ws, "counties", "receive", ROUND, "南江县", str(late), "--date", "2015-09-08")[0] == 0
    assert run_cli(ws, "counties", "receive", ROUND, "经开区", str(report), "--date", "2015-09-05")[0] == 0
    with Session(ws.engine()) as session:
        assert session.scalar(select(func.count()).select_from(CountyReport)) == 3

    code, out, err = run_cli(ws, "counties", "status", ROUND, "--as-of", "2015-09-10", "--json")
    assert code == 0, err
    status = {c["county"]: c["state"] for c in json.loads(out)["counties"]}
    assert status == {
        "巴州区": "on_time", "恩阳区": "missing", "南江县": "late", "通江县": "missing", "平昌县": "missing",
        "巴中经济开发区": "on_time",
    }
    code, out, err = run_cli(ws, "counties", "status", ROUND, "--as-of", "2015-09-10")
    assert code == 0 and "南江县" in out and "逾期报送" in out and "2015-09-05" in out

    with Session(ws.engine()) as session:
        found = county_reports_status(session, ws.root, ROUND)
    assert found.late == ["南江县"] and found.missing == ["恩阳区", "通江县", "平昌县"]
    sentence = county_reports_sentence(found)
    assert sentence == "按要求各县（区）应于9月5日前报送本月自查自纠督查情况，南江县逾期报送，恩阳区、通江县、平昌县未报送。"


def test_before_the_due_day_nothing_is_missing_yet(copy_planned_workspace: Workspace, run_cli: CliRunner) -> None:
    code, out, err = run_cli(copy_planned_workspace, "counties", "status", ROUND, "--as-of", "2015-09-03", "--json")
    assert code == 0, err
    assert {c["state"] for c in json.loads(out)["counties"]} == {"not_due"}


def test_bad_county_and_missing_file_are_user_errors(
    copy_planned_workspace: Workspace, run_cli: CliRunner, tmp_path: Path
) -> None:
    ws = copy_planned_workspace
    code, _out, err = run_cli(ws, "counties", "receive", ROUND, "朝阳区", str(tmp_path / "x.pdf"))
    assert code == 1 and "不是县（区）" in err
    code, _out, err = run_cli(ws, "counties", "receive", ROUND, "巴州区", str(tmp_path / "x.pdf"))
    assert code == 1 and "找不到文件" in err
    code, _out, err = run_cli(ws, "counties", "status", ROUND, "--as-of", "9月5日")
    assert code == 1 and "日期应为" in err
