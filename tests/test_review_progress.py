"""What is settled while amounts still wait, the population check, and one review line per conflict.

Sheets are printed by the real service, filled by the simulator's pen on a
clean page and read by ``scan``; the registry's population is the only thing
set by hand (the check compares the sheet with it).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pytest
from conftest import EVERY_INDICATOR_YES, smallest_group
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ducha.cli import main as cli_main
from ducha.dashboard import round_status
from ducha.db.models import IssuedSheet, ReviewItem, ScanPage, Village
from ducha.readings_export import write_readings_xlsx
from ducha.results import FormResult, load_form_results
from ducha.review import undo_last
from ducha.scan import scan
from ducha.sheets import issue_sheets
from ducha.workspace import Workspace, copy_workspace
from forms.geometry import load_layout
from forms.record_sheet import INDICATORS, SIGNATURE_SLOTS, field_label
from generator import simulate as sim
from ocr.align import align
from ocr.numbers import CHECK_POPULATION

ROUND = "2015-08"
VISITED = 40
POPULATION = 5  # registered population below what the sheet says was visited
FILL_SEED = 11


def _cli(ws: Workspace, *args: str) -> int:
    return cli_main(["--workspace", str(ws.root), "--db", ws.db_url, *args])


@pytest.fixture(scope="module")
def printed(planned_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = copy_workspace(planned_workspace, tmp_path_factory.mktemp("progress") / "ducha-data")
    group = smallest_group(ws, ROUND)
    with Session(ws.engine(), expire_on_commit=False) as session, session.begin():
        issue_sheets(ws, session, ROUND, group=group, workers=1)
    return ws


def _first_sheet(ws: Workspace) -> IssuedSheet:
    with Session(ws.engine(), expire_on_commit=False) as session:
        sheet = session.scalars(select(IssuedSheet).where(IssuedSheet.round == ROUND).order_by(IssuedSheet.form_id)).first()
        assert sheet is not None
        return sheet


def _filled(sheet: IssuedSheet, path: Path, fields: dict[str, object], seed: int, half: bool = False) -> Path:
    from ducha.simulate import _render

    layout = load_layout("rs1", 1)
    page = _render(sheet.pdf_path or "", sheet.pdf_pages[0])
    homography = align(cv2.cvtColor(page, cv2.COLOR_RGB2GRAY), layout).homography
    plan = sim.PagePlan(form_id=sheet.form_id, sheet_page=1, fields=fields,
                        signatures={slot.key: "signed" for slot in SIGNATURE_SLOTS})
    sim.fill_page(page, homography, layout, plan, np.random.default_rng(seed), seal_probability=0.0)
    gray = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    cv2.imwrite(str(path), gray[::2, ::2] if half else gray)
    return path


def _result(ws: Workspace, form_id: str) -> FormResult:
    with Session(ws.engine()) as session:
        return next(r for r in load_form_results(session, ROUND) if r.form_id == form_id)


def test_a_visited_count_above_the_population_goes_to_review_and_validity_is_settled_meanwhile(
    printed: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = copy_workspace(printed, tmp_path / "ducha-data")
    sheet = _first_sheet(ws)
    with Session(ws.engine()) as session, session.begin():
        village = session.get(Village, sheet.village_id)
        assert village is not None
        village.population = POPULATION
    ticks = {i.key: "yes" for i in INDICATORS}
    page = _filled(sheet, tmp_path / "filled.png", {**ticks, "visited_satisfied": VISITED}, FILL_SEED)
    report = scan(ws, [page], round_id=ROUND, workers=1)
    (entry,) = report.pages
    assert entry["status"] == "review"
    field = entry["fields"]["visited_satisfied"]
    assert field["status"] == "review" and CHECK_POPULATION in field["reason"]
    assert f"本村登记人口 {POPULATION} 人" in field["reason"]
    with Session(ws.engine()) as session:
        items = session.scalars(select(ReviewItem).where(ReviewItem.form_id == sheet.form_id,
                                                         ReviewItem.status == "open")).all()
    population_item = next(i for i in items if i.field_key == "visited_satisfied")
    # Never corrected silently: the value read stays on the item for the reviewer.
    assert CHECK_POPULATION in population_item.reason and float(population_item.machine_value or "nan") == VISITED
    assert population_item.crop_path and (ws.root / population_item.crop_path).is_file()

    # The page's only open items are amounts: its ticks, signatures and validity are settled and shown.
    assert {i.field_key for i in items} <= {"visited_satisfied", "satisfaction_pct", "visited_dissatisfied",
                                             "dissatisfaction_pct", "poverty_fund", "project_funds"}, \
        [(i.field_key, i.reason) for i in items]
    assert entry["valid"] is True
    result = _result(ws, sheet.form_id)
    assert result.status == "review" and result.validity == "valid" and result.only_amounts_open
    assert result.decided_indicators() == ticks
    # The Excel export shows the same: validity settled, the doubtful count 待复核 (not the machine's 40).
    with Session(ws.engine()) as session:
        workbook = write_readings_xlsx(session, ROUND, tmp_path / "readings.xlsx")
    rows = list(openpyxl.load_workbook(workbook, read_only=True).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    header, row_of_sheet = rows[0], next(r for r in rows[1:] if r[5] == sheet.form_id)
    cells = dict(zip(header, row_of_sheet, strict=True))
    assert cells["状态"] == "待复核" and cells["督查有效性"] == "有效"
    assert cells[field_label("visited_satisfied")] == "待复核"
    assert all(cells[field_label(i.key)] == "是" for i in INDICATORS)
    assert all(cells[field_label(s.key)] == "已签" for s in SIGNATURE_SLOTS)
    with Session(ws.engine()) as session:
        status = round_status(session, ROUND, ws.root)
    group = next(g for g in status.groups if g.group_no == sheet.group_no)
    assert (group.valid, group.invalid, group.validity_open, group.only_amounts_open) == (1, 0, 0, 1)
    capsys.readouterr()
    assert _cli(ws, "review", "--round", ROUND, "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    (row,) = listed["sheets"]
    assert row["form_id"] == sheet.form_id and row["validity"] == "valid" and row["only_amounts_open"]
    assert row["decided_ticks"] == ticks
    assert _cli(ws, "review", "--round", ROUND) == 0
    assert "1 份的签字已确定（有效 1 份，无效 0 份）" in capsys.readouterr().out

    # A person says a slot is empty: the sheet is invalid at once. Undone, the open slot holds validity back.
    assert _cli(ws, "review", "set", sheet.form_id, "group_member", "未签", "--by", "王小明") == 0
    assert _result(ws, sheet.form_id).validity == "invalid"
    with Session(ws.engine()) as session, session.begin():
        undo_last(session, "王小明")
    result = _result(ws, sheet.form_id)
    assert result.validity is None and not result.only_amounts_open
    assert result.decided_indicators() == ticks  # an open signature holds back validity, not the ticks
    # Every amount settled and the slot confirmed: the sheet is recorded and valid.
    assert _cli(ws, "review", "set", sheet.form_id, "group_member", "已签", "--by", "王小明") == 0
    for key in list(_result(ws, sheet.form_id).open_fields):
        assert _cli(ws, "review", "set", sheet.form_id, key, "4", "--by", "王小明") == 0
    result = _result(ws, sheet.form_id)
    assert result.status == "valid" and result.validity == "valid" and not result.open_fields


def test_an_open_whole_page_item_holds_ticks_and_validity_back(printed: Workspace, tmp_path: Path) -> None:
    ws = copy_workspace(printed, tmp_path / "ducha-data")
    sheet = _first_sheet(ws)
    ticks = {i.key: "no" for i in INDICATORS}
    scan(ws, [_filled(sheet, tmp_path / "filled.png", ticks, FILL_SEED)], round_id=ROUND, workers=1)
    assert _result(ws, sheet.form_id).decided_indicators() == ticks
    # A whole-page doubt (here a person's correction of the page, reopened by undo) holds everything back.
    assert _cli(ws, "review", "set", sheet.form_id, "page", "已核对", "--by", "李红") == 0
    with Session(ws.engine()) as session, session.begin():
        undo_last(session, "李红")
    result = _result(ws, sheet.form_id)
    assert result.open_fields.get("page") == "page"
    assert result.validity is None and result.decided_indicators() == {}


def test_review_lists_a_conflict_once(printed: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = copy_workspace(printed, tmp_path / "ducha-data")
    sheet = _first_sheet(ws)
    files = [_filled(sheet, tmp_path / f"copy{n}.jpg", {**EVERY_INDICATOR_YES, "team_1": answer}, n, half=True)
             for n, answer in enumerate(("yes", "no"))]
    scan(ws, files, round_id=ROUND, workers=1)
    with Session(ws.engine()) as session:
        copies = session.scalars(select(ReviewItem).where(ReviewItem.field_key == "team_1",
                                                          ReviewItem.status == "open")).all()
        pages = session.scalar(select(func.count()).select_from(ScanPage).where(ScanPage.form_id == sheet.form_id))
    assert pages == 2 and len(copies) == 2 and all("两次" in c.reason for c in copies)
    capsys.readouterr()
    assert _cli(ws, "review", "--round", ROUND, "--json") == 0
    items = json.loads(capsys.readouterr().out)["items"]
    conflict = [i for i in items if i["field"] == "team_1"]
    assert len(conflict) == 1 and conflict[0]["kind"] == "conflict"
    assert _cli(ws, "review", "--round", ROUND) == 0
    assert "待复核项目（1 项，涉及 1 份纪实表）" in capsys.readouterr().out
