"""A 否 in round N becomes an item that round N+1 re-inspects and can close.

Coordinated through the database: items from round N's results, the real
planner for N+1, the real sheet renderer for the village's N+1 sheet.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from sqlalchemy import select

from ducha.db.models import RectificationItem, RoundVillage
from ducha.findings import compute_findings
from ducha.groups import import_roster
from ducha.rectification import close_items, create_items, open_items
from ducha.registry.importer import import_files
from ducha.results import FormResult
from ducha.rounds import plan_round
from ducha.sheets import _sheet_data
from ducha.workspace import create
from generator.record_sheet import render_sheet

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
DEADLINE = dt.date(2015, 9, 24)


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    workspace = create(tmp_path_factory.mktemp("ws"))
    session = workspace.sessionmaker()()
    import_files(session, [SAMPLES / "registry.xlsx"])
    import_roster(session, "2015-08", [SAMPLES / "groups_2015-08.xlsx"])
    plan = plan_round(session, "2015-08", seed="test-rectification")
    session.commit()
    yield workspace, session, plan
    session.close()


def _result(round_id: str, village_id: int, status: str, no: tuple[str, ...] = (),
            rectification: dict[int, str] | None = None) -> FormResult:
    indicators = {f"team_{i}": "yes" for i in range(1, 9)} | {f"sec_{i}": "yes" for i in range(1, 9)}
    indicators.update({key: "no" for key in no})
    return FormResult(round=round_id, village_id=village_id, form_id=f"{round_id}-{village_id}",
                      status=status, indicators=indicators, rectification=rectification or {})  # type: ignore[arg-type]


def test_item_travels_to_next_round_and_closes(planned, tmp_path):
    workspace, session, plan = planned
    # A county-unit village that was drawn: without its open item it would
    # only come back if the next lottery drew it again.
    lottery_villages = [v for v in plan.villages if v.reason == "lottery"]
    target = lottery_villages[0]
    results = [_result("2015-08", target.id, "valid", ("team_2", "sec_1"))]
    findings = compute_findings("2015-08", plan.villages, results)
    assert create_items(session, findings, DEADLINE) == (2, 0)
    assert create_items(session, findings, DEADLINE) == (0, 2)  # idempotent
    session.commit()

    import_roster(session, "2015-09", [SAMPLES / "groups_2015-09.xlsx"])
    next_plan = plan_round(session, "2015-09", seed="test-rectification-next")
    session.commit()
    row = session.get(RoundVillage, ("2015-09", target.id))
    assert row is not None
    drawn_again = target.code in {c for d in next_plan.lottery.per_county.values() for c in d.drawn}
    assert row.reason == ("lottery" if drawn_again else "rectification")
    assert target.id in next_plan.open_rectification_village_ids

    items = open_items(session, village_id=target.id, before_round="2015-09")
    assert [i.indicator_key for i in items] == ["team_2", "sec_1"]
    # The sheets code builds the village's N+1 sheet data, open items included.
    planned_next = next(v for v in next_plan.villages if v.id == target.id)
    data = _sheet_data(session, "2015-09", planned_next)
    assert [line.item_id for line in data.rectification] == [i.id for i in items]
    sheet = render_sheet(data, workspace.key(), tmp_path / "sheet.docx")
    assert sheet.pages == 2
    assert sheet.rectification_item_ids == [i.id for i in items]
    sheet_text = "\n".join(p.text for p in Document(str(sheet.docx)).paragraphs)
    sheet_text += "\n".join(c.text for t in Document(str(sheet.docx)).tables for r in t.rows for c in r.cells)
    assert items[0].description in sheet_text

    # Unsigned sheets prove nothing; a valid one marking 已整改 closes the item.
    first, second = items
    assert close_items(session, [_result("2015-09", target.id, "invalid", rectification={first.id: "done"})]) == 0
    closing = _result("2015-09", target.id, "valid", rectification={first.id: "done", second.id: "not_done"})
    assert close_items(session, [closing]) == 1
    session.commit()
    stored = {i.id: i for i in session.scalars(select(RectificationItem).where(RectificationItem.village_id == target.id))}
    assert stored[first.id].status == "closed" and stored[first.id].closed_round == "2015-09"
    assert stored[first.id].closed_form_id == closing.form_id
    assert stored[second.id].status == "open"


def test_notice_and_group_report_from_the_database(planned, tmp_path):
    """The application path: plan and results in the database, documents out."""
    from ducha.group_report import write_group_report
    from ducha.notice import write_notice

    workspace, session, plan = planned
    first, second = plan.villages[0], plan.villages[1]
    results = [_result("2015-08", v.id, "valid") for v in plan.villages[2:]]
    results.append(_result("2015-08", first.id, "invalid", ("team_1",)))
    out = write_notice(session, workspace, "2015-08", number=126, date=dt.date(2015, 9, 5), joint=True,
                       out_dir=tmp_path, results=results)
    session.commit()
    assert out.pdf.is_file() and out.pages >= 4
    assert out.invalid == [f"{first.county}{first.name}"]
    assert set(first.units) <= set(out.criticised)
    text = "\n".join(p.text for p in Document(str(out.docx)).paragraphs)
    assert "巴中市扶贫和移民工作局" in text
    # A village without problems is not in the 通报; every village is in the office's detail.
    detail = [row for row in openpyxl.load_workbook(out.detail_xlsx).active.iter_rows(values_only=True)]
    assert (second.county, second.town, second.name) in {row[1:4] for row in detail}
    item = session.scalars(select(RectificationItem).where(
        RectificationItem.village_id == first.id, RectificationItem.origin_round == "2015-08",
        RectificationItem.indicator_key == "team_1")).one()
    assert item.deadline == dt.date(2015, 9, 24)

    report = write_group_report(session, workspace, first.group, "2015-08", out_dir=tmp_path, results=results)
    report_text = "\n".join(p.text for p in Document(str(report.docx)).paragraphs)
    assert "无效督查1份；未收回" in report_text and first.name in report_text
    assert report.pdf.is_file()


def test_notice_command_reports_an_unplanned_round(planned, capsys):
    from ducha.cli import main

    workspace, _session, _plan = planned
    code = main(["--workspace", str(workspace.root), "notice", "2015-11", "--number", "130", "--json"])
    assert code == 1
    assert "2015-11 轮还没有安排" in capsys.readouterr().err
