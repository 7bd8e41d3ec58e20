"""The duties beyond the record sheet, end to end on the sample round.

Surveys are printed for the smallest group (real template, LibreOffice),
the simulator fills and scans some of them, ``ducha scan`` reads them; the
知晓率 per village must be what the simulator wrote. Then the notice names
a village under 60%, a first secretary short of two-thirds and a late county.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import CliRunner, smallest_group
from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.awareness import awareness_findings
from ducha.county_reports import receive_report
from ducha.db.models import IssuedSheet, Village
from ducha.notice import body_text, prepare
from ducha.review import resolve
from ducha.scan import scan
from ducha.simulate import simulate_round
from ducha.surveys import issue_forms
from ducha.workspace import Workspace, copy_workspace
from forms.survey import AWARENESS_COLUMNS, SURVEY, SURVEY_FORM_TYPE

ROUND = "2015-08"
SIMULATED_SURVEYS = 8


def _expected_rate(fields: dict[str, Any]) -> tuple[int, int]:
    """(respondents, aware) as the simulator wrote them."""
    respondents = aware = 0
    for row in range(1, SURVEY.rows + 1):
        answers = {g.column.key: fields.get(g.key) for g in SURVEY.choice_groups if g.row == row}
        if all(a in (None, "blank") for a in answers.values()):
            continue
        respondents += 1
        aware += all(answers[k] == "yes" for k in AWARENESS_COLUMNS)
    return respondents, aware


@pytest.fixture(scope="module")
def surveyed(planned_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("duties")
    ws = copy_workspace(planned_workspace, tmp / "ducha-data")
    group = smallest_group(ws, ROUND)
    with Session(ws.engine(), expire_on_commit=False) as session, session.begin():
        report = issue_forms(ws, session, ROUND, group=group)
    with Session(ws.engine()) as session:
        truth_path = simulate_round(session, ROUND, tmp / "returned", seed=4, limit_sheets=SIMULATED_SURVEYS, workers=1)
    files = sorted((tmp / "returned").glob("returned-*"))
    scanned = scan(ws, files, ROUND, workers=1)
    return {"ws": ws, "group": group, "report": report, "truth": json.loads(truth_path.read_text()), "scan": scanned}


def test_printed_surveys_carry_their_own_form_type(surveyed: dict[str, Any]) -> None:
    ws: Workspace = surveyed["ws"]
    forms = surveyed["report"].forms
    with Session(ws.engine()) as session:
        rows = session.scalars(select(IssuedSheet).where(IssuedSheet.layout_version == SURVEY_FORM_TYPE)).all()
        codes = {v.id: v.code for v in session.scalars(select(Village))}
    assert len(rows) == len(forms) > SIMULATED_SURVEYS
    for row in rows:
        assert row.form_id == f"{ROUND}-{codes[row.village_id]}-AW1" and row.pages == 1
    assert [f.pdf_page for f in forms] == list(range(1, len(forms) + 1))


def test_a_survey_read_back_gives_the_right_awareness_per_village(surveyed: dict[str, Any]) -> None:
    ws: Workspace = surveyed["ws"]
    truth = {p["village_id"]: p for f in surveyed["truth"]["files"] for p in f["pages"]}
    assert len(truth) == SIMULATED_SURVEYS and all(p["form_id"].endswith("-AW1") for p in truth.values())
    with Session(ws.engine()) as session:
        found = awareness_findings(session, ROUND)
    by_village = {v.village_id: v for v in found.villages}
    measured = 0
    for village_id, page in truth.items():
        entry = by_village[village_id]
        assert entry.status in ("measured", "review"), entry
        if entry.status == "review":
            continue  # a doubt on q1/q2: no rate until a person settles it
        measured += 1
        assert (entry.respondents, entry.aware) == _expected_rate(page["fields"]), entry.place
    assert measured >= SIMULATED_SURVEYS - 1
    # Villages of the round whose survey did not come back are listed as such, never guessed.
    assert len(found.of_status("missing")) == len(found.villages) - SIMULATED_SURVEYS


def test_the_notice_names_low_awareness_short_attendance_and_late_counties(
    surveyed: dict[str, Any], run_cli: CliRunner, tmp_path: Path
) -> None:
    ws = copy_workspace(surveyed["ws"], tmp_path / "ducha-data")
    with Session(ws.engine()) as session:
        found = awareness_findings(session, ROUND)
    target = next(v for v in found.villages if v.status == "measured" and v.respondents >= 3)
    with Session(ws.engine()) as session, session.begin():
        # A person settles every respondent's q1 as 否 (rows are filled from the top): the village falls to 0%.
        assert target.form_id is not None
        for row in range(1, target.respondents + 1):
            resolve(session, target.form_id, f"r{row:02d}_q1", "否", "测试员")
        village = session.get(Village, target.village_id)
        assert village is not None and village.first_secretary is not None
        secretary, code = village.first_secretary.name, village.code
    attendance = tmp_path / "att.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "考勤汇总"
    sheet.append(["村代码", "村名", "第一书记", "本月在村工作日天数"])
    sheet.append([code, None, secretary, 12])
    book.save(attendance)
    assert run_cli(ws, "attendance", "import", str(attendance), "--round", ROUND)[0] == 0
    report = tmp_path / "nanjiang.pdf"
    report.write_bytes(b"fictional report")
    with Session(ws.engine()) as session, session.begin():
        receive_report(session, ws.root, ROUND, "南江县", report, dt.date(2015, 9, 8), dt.datetime(2015, 9, 9))
        receive_report(session, ws.root, ROUND, "巴州区", report, dt.date(2015, 9, 3), dt.datetime(2015, 9, 9))
        document, _findings, _c, _f = prepare(
            session, ws, ROUND, [], number=126, date=dt.date(2015, 9, 10), joint=False, draft=True
        )
    text = body_text(document)
    assert "驻村工作队和第一书记到村工作知晓情况" in text
    low = next(line for line in text.splitlines() if "知晓率低于60%" in line)
    assert f"{target.place}（{'、'.join(target.units)}）0.0%" in low
    assert f"第一书记{secretary}在村12天" in text and "应不少于14天" in text
    assert "南江县逾期报送" in text and "恩阳区、通江县、平昌县、经开区未报送" in text
    summary = next(a for a in document.attachments if a.number == 1)
    table = summary.content[-1]
    assert getattr(table, "header", ())[:4] == ("县（区）", "调查村数", "调查人数", "知晓率")



def test_survey_answers_in_doubt_are_reviewed_as_choices_with_their_own_keys(
    surveyed: dict[str, Any], tmp_path: Path
) -> None:
    """A survey answer with two boxes ticked is a 调查表选项 item the desk settles with a key, not a whole page."""
    import cv2
    import numpy as np

    from ducha.desk.routes_review import value_keys
    from ducha.review import ReviewScope, review_queue, settle
    from ducha.simulate import _render
    from forms.form_spec import described_group
    from forms.geometry import load_layout
    from generator import form_simulate, handwriting
    from generator import simulate as sim
    from ocr.align import align

    ws = copy_workspace(surveyed["ws"], tmp_path / "ducha-data")
    returned = {p["form_id"] for f in surveyed["truth"]["files"] for p in f["pages"]}
    with Session(ws.engine()) as session:
        sheet = next(s for s in session.scalars(select(IssuedSheet).where(IssuedSheet.layout_version == SURVEY_FORM_TYPE)
                                                .order_by(IssuedSheet.form_id)) if s.form_id not in returned)
    layout = load_layout(SURVEY_FORM_TYPE, 1)
    page = _render(sheet.pdf_path or "", sheet.pdf_pages[0])
    homography = align(cv2.cvtColor(page, cv2.COLOR_RGB2GRAY), layout).homography
    rng = np.random.default_rng(11)
    plan = form_simulate.plan_form_page(SURVEY, layout, sheet.form_id, rng)
    doubtful = next(g for g in SURVEY.choice_groups if g.row == 1 and g.column.key == "satisfaction")
    plan.fields[doubtful.key] = "satisfied"
    form_simulate.fill_form_page(page, homography, layout, SURVEY, plan, rng)
    # The respondent's first answer, and a second, plain tick in the next box: two marks, a doubt.
    second = sim._rect_px(homography, layout.boxes[doubtful.box_keys[1]])
    handwriting.draw_tick(page, second, "check", rng, sim.PRINT_PX_PER_MM, handwriting.random_pen(rng))
    scan_file = tmp_path / "survey-two-marks.png"
    cv2.imwrite(str(scan_file), cv2.cvtColor(page, cv2.COLOR_RGB2BGR))
    scan(ws, [scan_file], ROUND, workers=1)

    with Session(ws.engine()) as session:
        items = [i for i in review_queue(session, ReviewScope(ROUND)) if i.form_id == sheet.form_id]
        item = next(i for i in items if i.field_key == doubtful.key)
        assert item.kind == "choice"
        labels = [c.label for c in described_group(item.field_key)[1].column.choices]
        assert labels[:2] == ["满意", "基本满意"]
        assert value_keys(item) == {**{str(n): label for n, label in enumerate(labels, start=1)}, "0": "未填"}
        assert item.guess is None  # two marks: the reader does not pick one for the clerk
        settle(session, item.id, value_keys(item)["1"], "复核员甲", ReviewScope(ROUND))
        session.commit()
        assert item.id not in {i.id for i in review_queue(session, ReviewScope(ROUND))}
