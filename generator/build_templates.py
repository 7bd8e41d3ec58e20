"""Builds ``templates/record_sheet.docx`` (Annex 2) reproducibly.

Run ``python -m generator.build_templates``; the result is checked in, and
office staff may adjust it in Word. The wording comes from
``forms.record_sheet`` so the paper and the reader share one definition.
The Jinja tags are filled per village by ``generator.record_sheet``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from forms.geometry import MARKER_IDS
from forms.record_sheet import (
    ATTENDANCE_INDICATOR_KEY,
    NUMERIC_FIELDS_BY_KEY,
    RECTIFICATION_MAX_ITEMS_PER_PAGE,
    SECRETARY_INDICATORS,
    SHEET_TITLE,
    SIGNATURE_SLOTS,
    TEAM_INDICATORS,
    Indicator,
    NumericField,
)
from generator import docx_build as b
from generator import sheet_design as d
from generator.images import marker_png

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
RECORD_SHEET_TEMPLATE = TEMPLATES_DIR / "record_sheet.docx"
GROUP_COVER_TEMPLATE = TEMPLATES_DIR / "group_cover.docx"
COVER_ROSTER_GRID_MM = [22.0, 34.0, 118.0]
COVER_VILLAGE_GRID_MM = [12.0, 22.0, 28.0, 28.0, 64.0, 20.0]
RECTIFICATION_TITLE = "上月整改事项复查"

# Column grid of the main table, mm; see the row builders for the spans.
MAIN_GRID_MM = [18.0, 48.0, 16.0, 14.0, 16.0, 18.0, 16.0, 14.0, 14.0]
TOP_GRID_MM = [d.CONTENT_WIDTH_MM - d.QR_SIZE_MM - 4.0, d.QR_SIZE_MM + 4.0]
RECT_GRID_MM = [12.0, 122.0, 20.0, 20.0]
MARKER_CORNERS = {
    "top_left": (d.MARKER_CENTRE_INSET_MM, d.MARKER_CENTRE_INSET_MM),
    "top_right": (d.PAGE_WIDTH_MM - d.MARKER_CENTRE_INSET_MM, d.MARKER_CENTRE_INSET_MM),
    "bottom_right": (d.PAGE_WIDTH_MM - d.MARKER_CENTRE_INSET_MM, d.PAGE_HEIGHT_MM - d.MARKER_CENTRE_INSET_MM),
    "bottom_left": (d.MARKER_CENTRE_INSET_MM, d.PAGE_HEIGHT_MM - d.MARKER_CENTRE_INSET_MM),
}
PAGE_PICTURE_PREFIX = "ducha"
TITLE_LINE_PT = 30.0
# Between the comb's boxes, and the cell holding the decimal point (mm).
DIGIT_GAP_MM = 1.66
DECIMAL_POINT_CELL_MM = 4.1
DECIMAL_POINT_PT = 14.0
CELL_PADDING_MM = 2.0  # fixed_table's 1 mm left and right cell margins
# The attendance line shares the indicator's fixed-height row: two exact lines fit in it.
ATTENDANCE_INDICATOR_LINE_PT = 11.0
ATTENDANCE_LINE_PT = 9.0
ATTENDANCE_SIZE_PT = 8.0


def _style_document(doc: DocumentObject) -> None:
    b.set_page(
        doc.sections[0], d.PAGE_WIDTH_MM, d.PAGE_HEIGHT_MM, d.MARGIN_TOP_MM, d.MARGIN_BOTTOM_MM, d.MARGIN_SIDE_MM
    )
    normal = doc.styles["Normal"]
    normal.font.name = d.BODY_FONT
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), d.BODY_FONT)
    normal.font.size = Pt(d.BODY_SIZE_PT)
    pf = normal.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)


def _markers(paragraph: Paragraph, page: int) -> None:
    for corner, (cx, cy) in MARKER_CORNERS.items():
        half = d.MARKER_IMAGE_MM / 2
        b.add_page_anchored_picture(
            paragraph,
            marker_png(MARKER_IDS[corner]),
            d.MARKER_IMAGE_MM,
            cx - half,
            cy - half,
            f"{PAGE_PICTURE_PREFIX}-marker-{corner}-p{page}",
        )


def _title(doc: DocumentObject, text: str, page: int, new_page: bool) -> Paragraph:
    paragraph = doc.add_paragraph()
    # An exact line height keeps the block below clear of the top markers.
    b.format_paragraph(paragraph, WD_ALIGN_PARAGRAPH.CENTER, exact_line_pt=TITLE_LINE_PT)
    paragraph.paragraph_format.space_after = Pt(2)
    paragraph.paragraph_format.page_break_before = new_page
    _markers(paragraph, page)
    b.add_text(paragraph, text, d.TITLE_FONT, d.TITLE_SIZE_PT, bold=True)
    return paragraph


def _top_block(doc: DocumentObject, page: int, lines: list[str]) -> None:
    """Who and when on the left; the page's QR code on the right."""
    table = doc.add_table(rows=1, cols=2)
    b.fixed_table(table, TOP_GRID_MM, borders=False)
    b.exact_row(table, 0, d.TOP_BLOCK_ROW_MM)
    left, right = table.rows[0].cells
    first = b.cell_text(left, lines[0], d.BODY_FONT, 11.0, WD_ALIGN_PARAGRAPH.LEFT)
    first.paragraph_format.space_after = Pt(3)
    for line in lines[1:]:
        paragraph = left.add_paragraph()
        b.format_paragraph(paragraph, WD_ALIGN_PARAGRAPH.LEFT)
        paragraph.paragraph_format.space_after = Pt(3)
        b.add_text(paragraph, line, d.BODY_FONT, 11.0)
    qr = b.cell_text(right, "", d.BODY_FONT, d.BODY_SIZE_PT, WD_ALIGN_PARAGRAPH.RIGHT)
    b.add_text(qr, f"{{{{ qr_p{page} }}}}", d.BODY_FONT, d.BODY_SIZE_PT)
    printed = doc.add_paragraph()
    b.format_paragraph(printed, WD_ALIGN_PARAGRAPH.RIGHT)
    printed.paragraph_format.space_after = Pt(3)
    b.add_text(printed, f"{{{{ id_p{page} }}}}", d.PRINTED_ID_FONT, d.PRINTED_ID_SIZE_PT)


def _indicator_text(indicator: Indicator) -> str:
    return f"{indicator.number}." + indicator.text.replace("{year}", "{{ year }}")


def _tick_box(cell: _Cell, cell_w_mm: float) -> None:
    """A tick box drawn as the border of the cell's only paragraph, centred."""
    paragraph = b.cell_text(cell, "", d.BODY_FONT, d.BODY_SIZE_PT)
    b.box_paragraph(paragraph, cell_w_mm - CELL_PADDING_MM, d.TICK_BOX_MM, d.TICK_BOX_MM, d.BOX_LINE_MM, None)


def _tick_boxes(table: Table, row: int, yes_col: int, key: str) -> None:
    del key  # boxes are named by their order (generator.measure)
    for offset in (0, 1):
        _tick_box(table.cell(row, yes_col + offset), MAIN_GRID_MM[yes_col + offset])


def _comb(table: Table, row: int, col: int, field: NumericField) -> None:
    """One box per digit (a nested one-row table); the decimal point in a borderless cell."""
    cell = table.cell(row, col)
    b.cell_text(cell, "", d.BODY_FONT, d.BODY_SIZE_PT)
    widths: list[float] = []
    boxed: list[bool] = []
    texts: list[str] = []
    for i in range(len(field.digit_boxes)):
        if i == field.integer_digits:
            widths.append(DECIMAL_POINT_CELL_MM)
            boxed.append(False)
            texts.append(".")
        elif i > 0:
            widths.append(DIGIT_GAP_MM)
            boxed.append(False)
            texts.append("")
        widths.append(d.DIGIT_BOX_W_MM)
        boxed.append(True)
        texts.append("")
    b.comb_table(cell, widths, boxed, d.DIGIT_BOX_H_MM, d.BOX_LINE_MM, texts, d.BODY_FONT, DECIMAL_POINT_PT)


def _header_rows(table: Table) -> None:
    row1 = [
        ("帮扶单位", "{{r sponsor_units }}"),
        ("工作队\n人数", "{{ team_size }}"),
        ("驻村\n队长", "{{ team_leader }}"),
        ("第一书记", "{{ secretary }}"),
    ]
    row2 = [
        ("帮扶村", "{{ town }}{{ village }}"),
        ("总人口", "{{ population }}"),
        ("贫困\n人数", "{{ poor_population }}"),
        ("上年人均\n纯收入", "{{ income }}"),
    ]
    for r, pairs in enumerate((row1, row2)):
        table.cell(r, 7).merge(table.cell(r, 8))
        for i, (label, value) in enumerate(pairs):
            label_cell, value_cell = table.cell(r, 2 * i), table.cell(r, 2 * i + 1)
            paragraph = b.cell_text(label_cell, "", d.BODY_FONT, d.SMALL_SIZE_PT)
            for j, part in enumerate(label.split("\n")):
                if j:
                    paragraph.add_run().add_break()
                b.add_text(paragraph, part, d.BODY_FONT, d.SMALL_SIZE_PT)
            # The units' line height follows their (shrunk) size, so more lines fit.
            exact = None if "sponsor_units" in value else 12.0
            b.cell_text(value_cell, value, d.BODY_FONT, d.BODY_SIZE_PT, exact_line_pt=exact)
        b.exact_row(table, r, d.HEADER_ROW_MM)


def _section_label(table: Table, first_row: int, last_row: int, text: str) -> None:
    """Label of a section, broken at word boundaries ("\n") to fit the narrow column."""
    merged = table.cell(first_row, 0).merge(table.cell(last_row, 0))
    paragraph = b.cell_text(merged, "", d.BODY_FONT, d.BODY_SIZE_PT, exact_line_pt=14.0)
    for i, part in enumerate(text.split("\n")):
        if i:
            paragraph.add_run().add_break()
        b.add_text(paragraph, part, d.BODY_FONT, d.BODY_SIZE_PT, bold=True)


def _indicator_rows(table: Table, start: int, indicators: tuple[Indicator, ...]) -> None:
    for i, indicator in enumerate(indicators):
        r = start + i
        text_cell = table.cell(r, 1).merge(table.cell(r, 6))
        attendance = indicator.key == ATTENDANCE_INDICATOR_KEY
        b.cell_text(
            text_cell, _indicator_text(indicator), d.BODY_FONT, d.BODY_SIZE_PT, WD_ALIGN_PARAGRAPH.LEFT,
            exact_line_pt=ATTENDANCE_INDICATOR_LINE_PT if attendance else 12,
        )
        if attendance:
            line = text_cell.add_paragraph()
            b.format_paragraph(line, WD_ALIGN_PARAGRAPH.LEFT, exact_line_pt=ATTENDANCE_LINE_PT)
            b.add_text(line, "{{ attendance }}", d.BODY_FONT, ATTENDANCE_SIZE_PT)
        _tick_boxes(table, r, 7, indicator.key)
        b.exact_row(table, r, d.INDICATOR_ROW_MM)


def _number_rows(table: Table, row: int, spans: list[tuple[int, int, str]]) -> None:
    for first, last, key in spans:
        field = NUMERIC_FIELDS_BY_KEY[key]
        label = table.cell(row, first).merge(table.cell(row, last))
        b.cell_text(label, field.label, d.BODY_FONT, d.BODY_SIZE_PT)
        comb = table.cell(row + 1, first).merge(table.cell(row + 1, last))
        del comb
        _comb(table, row + 1, first, field)
    b.exact_row(table, row, d.NUMBER_LABEL_ROW_MM)
    b.exact_row(table, row + 1, d.NUMBER_COMB_ROW_MM)


def _main_table(doc: DocumentObject) -> None:
    n_team, n_sec = len(TEAM_INDICATORS), len(SECRETARY_INDICATORS)
    team_head = 2
    team_first = team_head + 1
    amounts = team_first + n_team
    sec_first = amounts + 2
    satisfaction = sec_first + n_sec
    rows = satisfaction + 2
    table = doc.add_table(rows=rows, cols=len(MAIN_GRID_MM))
    b.fixed_table(table, MAIN_GRID_MM, borders=True)
    _header_rows(table)

    head = table.cell(team_head, 1).merge(table.cell(team_head, 6))
    b.cell_text(head, "督查指标", d.BODY_FONT, d.BODY_SIZE_PT, bold=True)
    b.cell_text(table.cell(team_head, 7), "是", d.BODY_FONT, d.BODY_SIZE_PT, bold=True)
    b.cell_text(table.cell(team_head, 8), "否", d.BODY_FONT, d.BODY_SIZE_PT, bold=True)
    b.exact_row(table, team_head, d.SECTION_HEAD_ROW_MM)
    _indicator_rows(table, team_first, TEAM_INDICATORS)
    _number_rows(table, amounts, [(1, 3, "poverty_fund"), (4, 8, "project_funds")])
    _section_label(table, team_head, amounts + 1, "驻村\n工作队\n履职情况")

    _indicator_rows(table, sec_first, SECRETARY_INDICATORS)
    _section_label(table, sec_first, sec_first + n_sec - 1, "第一书记\n履职情况")

    _number_rows(
        table,
        satisfaction,
        [(1, 1, "visited_satisfied"), (2, 3, "satisfaction_pct"), (4, 5, "visited_dissatisfied"),
         (6, 8, "dissatisfaction_pct")],
    )
    _section_label(table, satisfaction, satisfaction + 1, "帮扶村\n满意度\n评价")


def _signatures(doc: DocumentObject) -> None:
    spacer = doc.add_paragraph()
    b.format_paragraph(spacer, exact_line_pt=8)
    widths = [d.SIGNATURE_W_MM[s.key] + 4.0 for s in SIGNATURE_SLOTS]
    widths[-1] += d.CONTENT_WIDTH_MM - sum(widths)
    table = doc.add_table(rows=2, cols=len(SIGNATURE_SLOTS))
    b.fixed_table(table, widths, borders=False)
    for i, slot in enumerate(SIGNATURE_SLOTS):
        label = slot.label + "（签字）："
        b.cell_text(table.cell(0, i), label, d.BODY_FONT, 11.0, WD_ALIGN_PARAGRAPH.LEFT)
        paragraph = b.cell_text(table.cell(1, i), "", d.BODY_FONT, d.BODY_SIZE_PT, WD_ALIGN_PARAGRAPH.LEFT)
        width = d.SIGNATURE_W_MM[slot.key]
        b.box_paragraph(paragraph, widths[i] - CELL_PADDING_MM, width, d.SIGNATURE_H_MM, d.BOX_LINE_MM, 0.0)
    b.exact_row(table, 0, 6.0)
    b.exact_row(table, 1, d.SIGNATURE_H_MM + 2.0)


def _plain_paragraph(doc: DocumentObject, text: str, exact_line_pt: float = 1.0) -> Paragraph:
    paragraph = doc.add_paragraph()
    b.format_paragraph(paragraph, exact_line_pt=exact_line_pt)
    if text:
        b.add_text(paragraph, text, d.BODY_FONT, 1.0)
    return paragraph


def _rectification_page(doc: DocumentObject) -> None:
    _plain_paragraph(doc, "{%p if rect_items %}")
    _title(doc, RECTIFICATION_TITLE, page=2, new_page=True)
    _top_block(
        doc,
        2,
        [
            "{{ county }}{{ town }}{{ village }}　　{{ group_label }}",
            "{{ round_label }}　　（督查记实表第2页）",
            "已整改的打“√”于“已整改”框，未整改的打“√”于“未整改”框。",
        ],
    )
    table = doc.add_table(rows=4, cols=len(RECT_GRID_MM))
    b.fixed_table(table, RECT_GRID_MM, borders=True)
    for col, text in enumerate(("序号", "整改事项（上月督查提出）", "已整改", "未整改")):
        b.cell_text(table.cell(0, col), text, d.BODY_FONT, d.BODY_SIZE_PT, bold=True)
    b.exact_row(table, 0, d.SECTION_HEAD_ROW_MM + 1.0)
    b.cell_text(table.cell(1, 0), "{%tr for item in rect_items %}", d.BODY_FONT, 1.0)
    b.cell_text(table.cell(2, 0), "{{ item.no }}", d.BODY_FONT, d.BODY_SIZE_PT)
    b.cell_text(
        table.cell(2, 1), "{{ item.text }}", d.BODY_FONT, d.SMALL_SIZE_PT, WD_ALIGN_PARAGRAPH.LEFT, exact_line_pt=12
    )
    for col in (2, 3):
        _tick_box(table.cell(2, col), RECT_GRID_MM[col])
    b.exact_row(table, 2, d.RECT_ROW_MM)
    b.cell_text(table.cell(3, 0), "{%tr endfor %}", d.BODY_FONT, 1.0)
    _plain_paragraph(doc, "{%p endif %}")


def build_record_sheet(path: Path = RECORD_SHEET_TEMPLATE) -> Path:
    doc = Document()
    _style_document(doc)
    body = doc.element.body
    for paragraph in list(doc.paragraphs):
        body.remove(paragraph._p)
    _title(doc, SHEET_TITLE, page=1, new_page=False)
    _top_block(
        doc,
        1,
        [
            "{{ county }}{{ town }}{{ village }}",
            "{{ group_label }}　　{{ round_label }}",
            "时间：{{ year }}年{{ month }}月______日",
        ],
    )
    _main_table(doc)
    _signatures(doc)
    _rectification_page(doc)
    _plain_paragraph(doc, "")
    doc.core_properties.title = SHEET_TITLE
    doc.core_properties.author = "中共巴中市委组织部"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


assert RECTIFICATION_MAX_ITEMS_PER_PAGE >= 1


def _cover_heading(doc: DocumentObject, text: str, size_pt: float, space_after_pt: float) -> None:
    paragraph = doc.add_paragraph()
    b.format_paragraph(paragraph, WD_ALIGN_PARAGRAPH.CENTER)
    paragraph.paragraph_format.space_after = Pt(space_after_pt)
    b.add_text(paragraph, text, d.TITLE_FONT, size_pt, bold=True)


def build_group_cover(path: Path = GROUP_COVER_TEMPLATE) -> Path:
    """The group's cover: its roster in the style of Annex 1, then its villages."""
    doc = Document()
    _style_document(doc)
    section = doc.sections[0]
    b.set_page(section, d.PAGE_WIDTH_MM, d.PAGE_HEIGHT_MM, 25.0, 20.0, d.MARGIN_SIDE_MM)
    body = doc.element.body
    for paragraph in list(doc.paragraphs):
        body.remove(paragraph._p)
    _cover_heading(doc, "驻村工作队和第一书记到村履职情况{{ round_label }}", 15.0, 6)
    _cover_heading(doc, "{{ group_label }}：{{ counties }}", 18.0, 4)
    dates = doc.add_paragraph()
    b.format_paragraph(dates, WD_ALIGN_PARAGRAPH.CENTER)
    dates.paragraph_format.space_after = Pt(10)
    b.add_text(dates, "督查时间：{{ dates }}", "仿宋", 12.0)

    roster = doc.add_table(rows=3, cols=3)
    b.fixed_table(roster, COVER_ROSTER_GRID_MM, borders=False)
    b.cell_text(roster.cell(0, 0), "{%tr for m in members %}", d.BODY_FONT, 1.0)
    b.cell_text(roster.cell(1, 0), "{{ m.role }}：", "仿宋", 14.0, WD_ALIGN_PARAGRAPH.LEFT)
    b.cell_text(roster.cell(1, 1), "{{ m.name }}", "仿宋", 14.0, WD_ALIGN_PARAGRAPH.LEFT)
    b.cell_text(roster.cell(1, 2), "{{ m.title }}", "仿宋", 14.0, WD_ALIGN_PARAGRAPH.LEFT)
    b.cell_text(roster.cell(2, 0), "{%tr endfor %}", d.BODY_FONT, 1.0)

    heading = doc.add_paragraph()
    b.format_paragraph(heading, WD_ALIGN_PARAGRAPH.LEFT)
    heading.paragraph_format.space_before = Pt(12)
    heading.paragraph_format.space_after = Pt(6)
    b.add_text(heading, "督查村（按走访顺序，共 {{ villages|length }} 个）", "黑体", 14.0)

    table = doc.add_table(rows=4, cols=len(COVER_VILLAGE_GRID_MM))
    b.fixed_table(table, COVER_VILLAGE_GRID_MM, borders=True)
    for col, text in enumerate(("顺序", "县（区）", "乡镇", "村", "帮扶单位", "方式")):
        b.cell_text(table.cell(0, col), text, d.BODY_FONT, d.BODY_SIZE_PT, bold=True)
    b.cell_text(table.cell(1, 0), "{%tr for v in villages %}", d.BODY_FONT, 1.0)
    for col, key in enumerate(("order", "county", "town", "name", "units", "reason")):
        align = WD_ALIGN_PARAGRAPH.LEFT if key == "units" else WD_ALIGN_PARAGRAPH.CENTER
        b.cell_text(table.cell(2, col), f"{{{{ v.{key} }}}}", d.BODY_FONT, d.SMALL_SIZE_PT, align)
    b.cell_text(table.cell(3, 0), "{%tr endfor %}", d.BODY_FONT, 1.0)
    # The header row repeats on every page of a long village list.
    header_pr = table.rows[0]._tr.get_or_add_trPr()
    header_pr.append(OxmlElement("w:tblHeader"))

    note = doc.add_paragraph()
    b.format_paragraph(note, WD_ALIGN_PARAGRAPH.LEFT)
    note.paragraph_format.space_before = Pt(10)
    b.add_text(
        note,
        "每村一张督查记实表，经村党组织负责人、第一书记、督查组成员签字后方视为有效督查。"
        "请勿折叠、涂改表上的二维码和四角定位标记。",
        "仿宋",
        11.0,
    )
    doc.core_properties.title = "督查组名单及督查村"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="生成纪实表模板")
    parser.add_argument("--out", type=Path, default=RECORD_SHEET_TEMPLATE)
    args = parser.parse_args()
    print(build_record_sheet(args.out))
    print(build_group_cover(args.out.with_name(GROUP_COVER_TEMPLATE.name)))


if __name__ == "__main__":
    main()
