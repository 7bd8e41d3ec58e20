"""Attendance (考勤) import and the two-thirds rule, through the CLI as office staff use it."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from conftest import SAMPLES_DIR, CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ducha.attendance import attendance_findings
from ducha.db.models import AttendanceRecord, RoundVillage, Village
from ducha.workspace import Workspace

ROUND = "2015-08"


def _round_villages(ws: Workspace) -> list[tuple[str, str | None]]:
    """(code, first secretary) of the planned round's villages, in visiting order."""
    with Session(ws.engine()) as session:
        rows = session.scalars(
            select(Village).join(RoundVillage, RoundVillage.village_id == Village.id)
            .where(RoundVillage.round == ROUND).order_by(RoundVillage.group_no, RoundVillage.visit_order)
        ).all()
        return [(v.code, v.first_secretary.name if v.first_secretary else None) for v in rows]


def _records(ws: Workspace) -> int:
    with Session(ws.engine()) as session:
        return session.scalar(select(func.count()).select_from(AttendanceRecord)) or 0


def _book(path: Path, summary: list[list[object]], daily: list[list[object]] | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "考勤汇总"
    sheet.append(["村代码", "村名", "第一书记", "本月在村工作日天数"])
    for row in summary:
        sheet.append(row)
    if daily is not None:
        days = book.create_sheet("逐日考勤")
        days.append(["村代码", "第一书记", "日期", "在村情况"])
        for row in daily:
            days.append(row)
    book.save(path)
    return path


def test_template_lists_the_rounds_villages(copy_planned_workspace: Workspace, run_cli: CliRunner, tmp_path: Path) -> None:
    ws = copy_planned_workspace
    code, _out, err = run_cli(ws, "attendance", "template", str(tmp_path / "t.xlsx"), "--round", ROUND)
    assert code == 0, err
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["填表说明", "考勤汇总", "逐日考勤"]
    summary = [[c.value for c in row] for row in book["考勤汇总"].iter_rows()]
    assert summary[0] == ["村代码", "村名", "第一书记", "本月在村工作日天数"]
    villages = _round_villages(ws)
    assert [(r[0], r[2]) for r in summary[1:]] == villages
    assert all(r[3] is None for r in summary[1:])
    assert [c.value for c in book["逐日考勤"][1]] == ["村代码", "第一书记", "日期", "在村情况"]


def test_an_import_with_errors_imports_nothing_and_names_each_cell(
    copy_planned_workspace: Workspace, run_cli: CliRunner, tmp_path: Path
) -> None:
    ws = copy_planned_workspace
    (a, sec_a), (b, sec_b), (c, _sec_c), (d, sec_d) = _round_villages(ws)[:4]
    path = _book(
        tmp_path / "bad.xlsx",
        [
            [a, None, sec_a, 18],  # fine
            [b, None, sec_b, "十八"],  # C: not a number -> D3
            ["511999999999", None, None, 15],  # not in the registry -> A4
            [c, None, "王某某", 16],  # another person -> C5
            [d, None, sec_d, 25],  # more than August's 21 working days -> D6
            [a, None, sec_a, 17],  # the same village twice -> A7
        ],
        [
            [d, sec_d, "2015-09-01", "在村"],  # outside the month -> C2
            [d, sec_d, "2015-08-03", "出差"],  # neither 在村 nor 不在村 -> D3
        ],
    )
    code, _out, err = run_cli(ws, "attendance", "import", str(path), "--round", ROUND)
    assert code == 1
    assert "考勤导入失败，共 7 处错误，未导入任何数据" in err
    sheet, daily = "bad.xlsx 工作表“考勤汇总”", "bad.xlsx 工作表“逐日考勤”"
    for where in (
        f"{sheet}第 3 行“本月在村工作日天数”列（D 列）",
        f"{sheet}第 4 行“村代码”列（A 列）",
        f"{sheet}第 5 行“第一书记”列（C 列）",
        f"{sheet}第 6 行“本月在村工作日天数”列（D 列）：25 天多于 2015 年 8 月的工作日总数 21 天",
        f"{sheet}第 7 行“村代码”列（A 列）",
        f"{daily}第 2 行“日期”列（C 列）：不在 2015 年 8 月内",
        f"{daily}第 3 行“在村情况”列（D 列）：应为“在村”或“不在村”",
    ):
        assert where in err, where
    assert _records(ws) == 0


def test_a_secretary_with_12_of_21_days_is_a_finding(
    copy_planned_workspace: Workspace, run_cli: CliRunner, tmp_path: Path
) -> None:
    ws = copy_planned_workspace
    villages = _round_villages(ws)
    (short, sec_short), (enough, sec_enough), (daily, sec_daily) = villages[:3]
    # The daily form: 13 working days 在村 plus two weekend days, which do not count.
    august = [f"2015-08-{day:02d}" for day in range(1, 32)]
    workdays = [d for d in august if int(d[-2:]) not in (1, 2, 8, 9, 15, 16, 22, 23, 29, 30)]
    assert len(workdays) == 21
    rows = [[daily, sec_daily, day, "在村" if i < 13 else "不在村"] for i, day in enumerate(workdays)]
    rows += [[daily, sec_daily, "2015-08-01", "在村"], [daily, sec_daily, "2015-08-02", "在村"]]
    path = _book(tmp_path / "att.xlsx", [[short, None, sec_short, 12], [enough, None, sec_enough, 14]], rows)
    code, out, err = run_cli(ws, "attendance", "import", str(path), "--round", ROUND, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["workdays"], report["required"], report["created"]) == (21, 14, 3)
    assert {r["code"]: r["days"] for r in report["records"]} == {short: 12, enough: 14, daily: 13}

    code, out, err = run_cli(ws, "attendance", "import", str(path), "--round", ROUND, "--json")
    assert json.loads(out)["unchanged"] == 3 and _records(ws) == 3  # a rerun adds nothing

    with Session(ws.engine()) as session:
        found = attendance_findings(session, ws.root, ROUND)
    assert (found.workdays, found.required, found.checked) == (21, 14, 3)
    assert sorted((s.secretary, s.days) for s in found.short) == sorted([(sec_short, 12), (sec_daily, 13)])
    assert len(found.missing) == len(villages) - 3

    code, out, err = run_cli(ws, "attendance", "check", ROUND)
    assert code == 0 and sec_short in out and "不足 2 人" in out


def test_the_sample_attendance_imports(copy_planned_workspace: Workspace, run_cli: CliRunner) -> None:
    code, out, err = run_cli(
        copy_planned_workspace, "attendance", "import", str(SAMPLES_DIR / "attendance_2015-08.xlsx"), "--round", ROUND
    )
    assert code == 0, err
    assert "应在村不少于 14 天" in out
