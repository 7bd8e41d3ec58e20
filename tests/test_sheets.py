"""Record sheets printed for a real planned round, read back as a user would.

One module-wide run prints the smallest group of the sample round through
the CLI (real docxtpl, LibreOffice, SQLite); the tests then read its group
PDF with pdfplumber, pypdfium2 and zxing-cpp.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pdfplumber
import pypdfium2
import pytest
import zxingcpp
from conftest import smallest_group
from docx import Document
from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.cli import main as cli_main
from ducha.db.models import AttendanceRecord, IssuedSheet, RectificationItem, RoundVillage, Village
from ducha.workspace import Workspace, copy_workspace
from forms.errors import PayloadError
from forms.geometry import LAYOUT_TOLERANCE_MM, load_layout
from forms.qr_payload import decode
from forms.record_sheet import LAYOUT_VERSION, SHEET_TITLE
from generator.measure import MM_PER_PT, measure_layout, sheet_differences
from generator.sheet_design import INDICATOR_ROW_MM

QR_RENDER_DPI = 200
AMP_LEADER = "张&<三>"
AMP_UNIT_SUFFIX = "&<联合>"


@pytest.fixture(scope="module")
def printed(planned_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ws = copy_workspace(planned_workspace, tmp_path_factory.mktemp("sheets") / "ducha-data")
    group = smallest_group(ws, "2015-08")
    with Session(ws.engine()) as session, session.begin():
        rows = list(session.scalars(
            select(RoundVillage).where(RoundVillage.round == "2015-08", RoundVillage.group_no == group)
            .order_by(RoundVillage.visit_order)
        ))
        assert len(rows) <= 30
        first, second, third = (r.village for r in rows[:3])
        # Open follow-up items from last month: three for one village, one for another.
        items = [
            RectificationItem(village_id=first.id, origin_round="2015-07", indicator_key=key, description=text,
                              deadline=dt.date(2015, 8, 20), status="open")
            for key, text in (("team_3", "未制定帮扶减贫计划"), ("sec_1", "驻村天数不足"), ("team_7", "扶贫基金未到位"))
        ] + [RectificationItem(village_id=second.id, origin_round="2015-07", indicator_key="team_2",
                               description="工作队员未食宿在村", status="open")]
        session.add_all(items)
        # Names with XML's special characters, and a gap in the registry.
        assert first.team is not None
        first.team.leader = AMP_LEADER
        first.units[0].unit.name = first.units[0].unit.name + AMP_UNIT_SUFFIX
        third.population = None
        # The first secretary's imported 考勤: 12 of August's 21 working days.
        session.add(AttendanceRecord(round="2015-08", village_id=first.id, secretary=None, days_present=12,
                                     source="summary", file_name="考勤.xlsx", file_sha256="0" * 64,
                                     imported_at=dt.datetime(2015, 8, 20)))
        session.flush()
        item_ids = {first.id: [i.id for i in items[:3]], second.id: [items[3].id]}
        ids = (first.id, second.id, third.id)
    out_dir = ws.root / "print"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli_main(["--workspace", str(ws.root), "--db", ws.db_url, "sheets", "2015-08", "--group", str(group),
                         "--out", str(out_dir), "--json"])
    return {"ws": ws, "group": group, "code": code, "item_ids": item_ids, "ids": ids, "out_dir": out_dir,
            "report": json.loads(stdout.getvalue()), "stderr": stderr.getvalue()}


@pytest.fixture(scope="module")
def issued(printed: dict[str, Any]) -> list[IssuedSheet]:
    ws: Workspace = printed["ws"]
    with Session(ws.engine()) as session:
        return list(session.scalars(
            select(IssuedSheet).where(IssuedSheet.round == "2015-08").order_by(IssuedSheet.group_no)
        ))


@pytest.fixture(scope="module")
def villages(printed: dict[str, Any]) -> dict[int, Village]:
    ws: Workspace = printed["ws"]
    with Session(ws.engine(), expire_on_commit=False) as session:
        rows = session.scalars(select(Village)).all()
        for v in rows:
            _ = (v.team, v.first_secretary, [u.unit.name for u in v.units])
        return {v.id: v for v in rows}


@pytest.fixture(scope="module")
def group_pdf(issued: list[IssuedSheet]) -> Path:
    paths = {row.pdf_path for row in issued}
    assert len(paths) == 1
    return Path(paths.pop())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def page_texts(group_pdf: Path) -> list[str]:
    with pdfplumber.open(str(group_pdf)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


@pytest.fixture(scope="module")
def unit_cells(group_pdf: Path, issued: list[IssuedSheet]) -> dict[str, str]:
    """The text inside each sheet's 帮扶单位 cell, which wraps over lines."""
    out = {}
    with pdfplumber.open(str(group_pdf)) as pdf:
        for row in issued:
            page = pdf.pages[row.pdf_pages[0] - 1]
            label = page.search("帮扶单位")[0]
            right = min(h["x0"] for h in page.search("工作队")
                        if h["x0"] > label["x1"] and abs(h["top"] - label["top"]) < 20)
            cell = page.crop((label["x1"] + 2, label["top"] - 14, right - 2, label["bottom"] + 14))
            out[row.form_id] = (cell.extract_text() or "").replace("\n", "")
    return out


def test_cli_succeeds_and_records_every_village(printed: dict[str, Any], issued: list[IssuedSheet]) -> None:
    assert printed["code"] == 0
    ws: Workspace = printed["ws"]
    with Session(ws.engine()) as session:
        planned = session.scalars(
            select(RoundVillage.village_id).where(RoundVillage.round == "2015-08",
                                                  RoundVillage.group_no == printed["group"])
        ).all()
    assert sorted(row.village_id for row in issued) == sorted(planned)
    for row in issued:
        assert Path(row.docx_path).is_file()
        assert row.layout_version == LAYOUT_VERSION


def test_page_count_is_cover_plus_sheets_plus_blank_pads(group_pdf: Path, issued: list[IssuedSheet]) -> None:
    sheet_pages = {p for row in issued for p in row.pdf_pages}
    with pdfplumber.open(str(group_pdf)) as pdf:
        total = len(pdf.pages)
        blank = {i + 1 for i, page in enumerate(pdf.pages) if not page.chars and not page.images and not page.rects}
    cover_pages = set(range(1, min(sheet_pages)))  # the cover and its pad come first
    cover_printed = cover_pages - blank
    assert cover_printed and min(cover_printed) == 1
    assert total == len(sheet_pages) + len(cover_printed) + len(blank)
    assert sheet_pages.isdisjoint(blank)
    for row in issued:
        # Every sheet starts on an odd page (a fresh sheet of paper in duplex).
        assert row.pdf_pages[0] % 2 == 1
        assert row.pdf_pages == list(range(row.pdf_pages[0], row.pdf_pages[0] + row.pages))
    # A pad is needed exactly after every part with an odd number of pages.
    assert len(blank) >= sum(1 for row in issued if row.pages % 2 == 1) - 1


def _decode_page_qr(pdf: pypdfium2.PdfDocument, page_no: int) -> list[str]:
    bitmap = pdf[page_no - 1].render(scale=QR_RENDER_DPI / 72, grayscale=True)
    image = np.asarray(bitmap.to_pil().convert("L"))
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def test_every_page_qr_verifies_and_names_its_village(
    group_pdf: Path, issued: list[IssuedSheet], villages: dict[int, Village], printed: dict[str, Any]
) -> None:
    key = printed["ws"].key()
    other_key = b"another workspace's key........."
    pdf = pypdfium2.PdfDocument(str(group_pdf))
    try:
        for row in issued:
            for sheet_page, page_no in enumerate(row.pdf_pages, start=1):
                texts = _decode_page_qr(pdf, page_no)
                assert len(texts) == 1, f"{row.form_id} 第{sheet_page}页"
                sheet = decode(texts[0], key)
                assert sheet.village_code == villages[row.village_id].code
                assert sheet.form_id == row.form_id
                assert sheet.page == sheet_page and sheet.layout == LAYOUT_VERSION
                with pytest.raises(PayloadError):
                    decode(texts[0], other_key)
    finally:
        pdf.close()


def test_each_page_shows_its_own_village_values(
    page_texts: list[str], issued: list[IssuedSheet], villages: dict[int, Village], unit_cells: dict[str, str]
) -> None:
    for row in issued:
        v = villages[row.village_id]
        first = page_texts[row.pdf_pages[0] - 1]
        assert SHEET_TITLE in first
        for value in (v.county, v.town + v.name, "2015年8月"):
            assert value in first, (row.form_id, value)
        if v.team and v.team.leader:
            assert v.team.leader in first
        if v.first_secretary and v.first_secretary.name:
            assert v.first_secretary.name in first
        if v.population is not None:
            assert str(v.population) in first
        for link in v.units:
            assert link.unit.name in unit_cells[row.form_id], (row.form_id, link.unit.name)
        assert f"DC1-201508-{v.code}-P1-RS1-" in first
        for page_no in row.pdf_pages[1:]:
            assert f"DC1-201508-{v.code}-P2-RS1-" in page_texts[page_no - 1]
            assert "上月整改事项复查" in page_texts[page_no - 1]


def test_names_with_markup_characters_render(
    page_texts: list[str], issued: list[IssuedSheet], printed: dict[str, Any], unit_cells: dict[str, str]
) -> None:
    first_id = printed["ids"][0]
    row = next(r for r in issued if r.village_id == first_id)
    assert AMP_LEADER in page_texts[row.pdf_pages[0] - 1]
    assert AMP_UNIT_SUFFIX in unit_cells[row.form_id]
    # And the editable .docx holds the same characters, not escapes.
    words = "".join(p.text for t in Document(row.docx_path).tables for c in t._cells for p in c.paragraphs)
    assert AMP_LEADER in words and "&amp;" not in words


def test_rectification_items_listed_in_page_order(
    page_texts: list[str], issued: list[IssuedSheet], printed: dict[str, Any]
) -> None:
    by_village = {row.village_id: row for row in issued}
    first_id, second_id, third_id = printed["ids"]
    first, second, third = by_village[first_id], by_village[second_id], by_village[third_id]
    assert first.pages == 2 and first.rectification_item_ids == printed["item_ids"][first_id]
    assert second.pages == 2 and second.rectification_item_ids == printed["item_ids"][second_id]
    assert third.pages == 1 and third.rectification_item_ids == []
    page2 = page_texts[first.pdf_pages[1] - 1]
    positions = [page2.find(text) for text in ("未制定帮扶减贫计划", "驻村天数不足", "扶贫基金未到位")]
    assert -1 not in positions and positions == sorted(positions)


def test_box_geometry_matches_stored_layout(group_pdf: Path, issued: list[IssuedSheet]) -> None:
    two_page = next(row for row in issued if row.pages == 2)
    checked = [issued[0], two_page]
    for row in checked:
        for kind, page_no in enumerate(row.pdf_pages, start=1):
            measured = measure_layout(group_pdf, page_no - 1, kind)
            stored = load_layout(LAYOUT_VERSION, kind)
            if kind == 2:
                stored.boxes = {k: v for k, v in stored.boxes.items() if k in measured.boxes}
                assert len(measured.boxes) == 2 * len(row.rectification_item_ids)
            assert stored.differences_mm(measured) == {}
            assert abs(stored.qr.x_mm - measured.qr.x_mm) <= LAYOUT_TOLERANCE_MM
            assert abs(stored.qr.y_mm - measured.qr.y_mm) <= LAYOUT_TOLERANCE_MM


def test_stored_layout_is_what_the_markers_and_boxes_need() -> None:
    layout = load_layout(LAYOUT_VERSION, 1)
    assert layout.marker_size_mm >= 8.0
    width, _height = layout.page_size_mm
    tl_x = layout.markers["top_left"][0]
    # The marker centre is 16 mm from the paper edge: the marker is >= 8 mm inside.
    xs = [x for x, _ in layout.markers.values()]
    assert max(xs) - min(xs) == pytest.approx(width - 32.0, abs=0.2) and tl_x == 0.0
    assert layout.qr.w_mm >= 16.0
    for key in ("team_1.yes", "team_1.no", "sec_8.no"):
        assert min(layout.boxes[key].w_mm, layout.boxes[key].h_mm) >= 5.0
    for key in ("village_head", "first_secretary", "group_member"):
        assert layout.boxes[key].w_mm >= 45.0 and layout.boxes[key].h_mm >= 12.0
    assert {"poverty_fund.d0", "poverty_fund.d3", "poverty_fund.f0", "dissatisfaction_pct.d2"} <= set(layout.boxes)
    assert "rect_12.not_done" in load_layout(LAYOUT_VERSION, 2).boxes


def test_signature_areas_are_empty_and_decimal_point_between_boxes(group_pdf: Path, issued: list[IssuedSheet]) -> None:
    layout = load_layout(LAYOUT_VERSION, 1)
    with pdfplumber.open(str(group_pdf)) as pdf:
        page = pdf.pages[issued[0].pdf_pages[0] - 1]
        marker = min(page.images, key=lambda im: im["x0"] + im["top"])
        ox = (marker["x0"] + marker["x1"]) / 2 * MM_PER_PT
        oy = (marker["top"] + marker["bottom"]) / 2 * MM_PER_PT
        for key in ("village_head", "first_secretary", "group_member"):
            r = layout.boxes[key]
            inside = [c for c in page.chars
                      if r.x_mm < c["x0"] * MM_PER_PT - ox < r.x_mm + r.w_mm
                      and r.y_mm < c["top"] * MM_PER_PT - oy < r.y_mm + r.h_mm]
            assert inside == [], key
        d3, f0 = layout.boxes["poverty_fund.d3"], layout.boxes["poverty_fund.f0"]
        points = [c for c in page.chars if c["text"] == "."
                  and d3.x_mm + d3.w_mm < c["x0"] * MM_PER_PT - ox < f0.x_mm
                  and d3.y_mm < c["top"] * MM_PER_PT - oy < d3.y_mm + d3.h_mm]
        assert len(points) == 1


def test_chinese_is_embedded_in_real_cjk_fonts(group_pdf: Path, issued: list[IssuedSheet]) -> None:
    with pdfplumber.open(str(group_pdf)) as pdf:
        page = pdf.pages[issued[0].pdf_pages[0] - 1]
        cjk = [c for c in page.chars if "\u4e00" <= c["text"] <= "\u9fff"]
        fonts = {c["fontname"].split("+")[-1] for c in cjk}
        ids = {c["fontname"].split("+")[-1] for c in page.chars if c["text"] == "D"}
    assert cjk and all("NotoSerifCJK" in name for name in fonts), fonts
    assert any("Mono" in name for name in ids), ids
    pdf_doc = pypdfium2.PdfDocument(str(group_pdf))
    try:
        text = pdf_doc[issued[0].pdf_pages[0] - 1].get_textpage().get_text_range()
    finally:
        pdf_doc.close()
    # No tofu: every glyph maps back to its character.
    assert SHEET_TITLE in text and "\ufffd" not in text


def test_missing_registry_value_is_blank_and_warned(
    printed: dict[str, Any], issued: list[IssuedSheet], villages: dict[int, Village], page_texts: list[str]
) -> None:
    third_id = printed["ids"][2]
    row = next(r for r in issued if r.village_id == third_id)
    text = page_texts[row.pdf_pages[0] - 1]
    assert "总人口" in text
    warned = [w for w in printed["report"]["warnings"] if villages[third_id].name in w]
    assert warned and "总人口" in warned[0]
    # The run ends with the same warning for the user, in Chinese.
    assert "总人口" in printed["stderr"] and villages[third_id].name in printed["stderr"]


def test_json_lists_pages_per_sheet(printed: dict[str, Any], issued: list[IssuedSheet]) -> None:
    report = printed["report"]
    assert [g["group"] for g in report["group_pdfs"]] == [printed["group"]]
    by_form = {s["form_id"]: s for s in report["sheets"]}
    for row in issued:
        entry = by_form[row.form_id]
        assert entry["pdf_pages"] == row.pdf_pages and entry["village_id"] == row.village_id
        assert Path(entry["docx"]).is_file() and Path(entry["pdf"]).is_file()


def test_layout_drift_is_detected(group_pdf: Path, issued: list[IssuedSheet], tmp_path: Path) -> None:
    row = issued[0]
    single = tmp_path / "one.pdf"
    src = pypdfium2.PdfDocument(str(group_pdf))
    out = pypdfium2.PdfDocument.new()
    out.import_pages(src, [p - 1 for p in row.pdf_pages])
    out.save(str(single))
    src.close()
    out.close()
    assert sheet_differences(single, len(row.rectification_item_ids)) == {}
    shifted = load_layout(LAYOUT_VERSION, 1)
    key = "team_4.no"
    r = shifted.boxes[key]
    shifted.boxes[key] = type(r)(r.x_mm, r.y_mm + 0.8, r.w_mm, r.h_mm)
    from forms.geometry import save_layout

    save_layout(shifted, tmp_path)
    save_layout(load_layout(LAYOUT_VERSION, 2), tmp_path)
    differences = sheet_differences(single, len(row.rectification_item_ids), layouts_dir=tmp_path)
    assert list(differences) == [f"第1页 {key}"]


def test_very_long_unit_names_keep_the_boxes_in_place_and_are_warned(tmp_path: Path) -> None:
    from generator.pdf_convert import convert_to_pdf
    from generator.record_sheet import SheetData, render_sheet

    units = tuple(f"巴中市某某某某某某某某管理局第{i}分局（派驻工作队）" for i in range(8))
    data = SheetData(round="2015-08", village_code="511902999901", village="虚构村", county="巴州区", town="虚构镇",
                     group_no=1, sponsor_units=units, team_size=2, team_leader="甲", secretary="乙",
                     population=10, poor_population=1, income_yuan=1.0)
    rendered = render_sheet(data, b"test-key", tmp_path / "long.docx")
    assert any("名称过长" in gap for gap in rendered.gaps)
    [pdf] = convert_to_pdf([rendered.docx], tmp_path / "pdf", expected_pages={rendered.docx: 1})
    assert sheet_differences(pdf, 0) == {}


def test_cover_lists_roster_and_villages_in_visiting_order(
    printed: dict[str, Any], page_texts: list[str], villages: dict[int, Village]
) -> None:
    from ducha.groups import roster_of

    ws: Workspace = printed["ws"]
    with Session(ws.engine()) as session:
        roster = roster_of(session, "2015-08")
        order = session.scalars(
            select(RoundVillage.village_id).where(RoundVillage.round == "2015-08",
                                                  RoundVillage.group_no == printed["group"])
            .order_by(RoundVillage.visit_order)
        ).all()
    assert roster is not None
    group = next(g for g in roster.groups if g.no == printed["group"])
    cover = "".join(page_texts[:1])
    assert group.label in cover
    for member in group.members:
        assert member.name in cover
    liaison = group.liaison
    assert liaison is not None and liaison.phone and liaison.phone in cover
    positions = [cover.find(villages[vid].name) for vid in order]
    assert -1 not in positions
    # Same-named villages in different towns can repeat; the first hits must still run in order.
    rows = [line for line in cover.split("\n") if line.split(" ")[0].isdigit()]
    assert [int(line.split(" ")[0]) for line in rows] == list(range(1, len(order) + 1))


def test_attendance_is_printed_under_first_secretary_indicator_1(
    group_pdf: Path, issued: list[IssuedSheet], printed: dict[str, Any]
) -> None:
    """The imported days where they were imported, a blank to fill in elsewhere; both inside the row of 第一书记 1."""
    layout = load_layout(LAYOUT_VERSION, 1)
    first_id = printed["ids"][0]
    with pdfplumber.open(str(group_pdf)) as pdf:
        for row in issued[:3]:
            page = pdf.pages[row.pdf_pages[0] - 1]
            text = page.extract_text() or ""
            if row.village_id == first_id:
                expected = "考勤：本月在村 12 天，应不少于 14 天"
            else:
                expected = "考勤：本月在村______天，应不少于 14 天"
            assert expected in text, row.form_id
            [hit] = page.search("考勤：本月在村")
            marker = min(page.images, key=lambda im: im["x0"] + im["top"])
            ox = (marker["x0"] + marker["x1"]) / 2 * MM_PER_PT
            oy = (marker["top"] + marker["bottom"]) / 2 * MM_PER_PT
            # sec_1's row is where its 是 box is: the line sits left of the box, within the row's fixed height.
            box = layout.boxes["sec_1.yes"]
            row_top = box.y_mm + box.h_mm / 2 - INDICATOR_ROW_MM / 2
            top_mm, bottom_mm = hit["top"] * MM_PER_PT - oy, hit["bottom"] * MM_PER_PT - oy
            assert row_top <= top_mm and bottom_mm <= row_top + INDICATOR_ROW_MM, (top_mm, bottom_mm, row_top)
            assert hit["x1"] * MM_PER_PT - ox < box.x_mm
