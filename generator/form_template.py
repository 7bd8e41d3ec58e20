"""Builds, fills and measures any form described in ``forms.form_spec``.

The template is a docxtpl .docx that office staff can open in Word; its
wording comes from the form's description. It has what the reader needs,
exactly as the record sheet does: the four corner markers, the QR code and
printed ID in the body, and real drawn boxes (paragraph borders). Its
geometry is read back from the PDF LibreOffice renders (``measure_form``)
and stored in ``forms/layouts/<type>-p1.json``.

    .venv/bin/python -m generator.form_template aw1     # rebuild the template and re-measure
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from docx.table import Table

from forms.errors import FormDefinitionError
from forms.form_spec import FormSpec, form_spec
from forms.geometry import LAYOUTS_DIR, PageLayout, Rect, load_layout, save_layout
from forms.qr_payload import SheetId, encode
from generator import docx_build as b
from generator import sheet_design as d
from generator.build_templates import (
    CELL_PADDING_MM,
    TEMPLATES_DIR,
    _comb,
    _style_document,
    _tick_box,
    _title,
    _top_block,
)
from generator.fast_template import FilledBody, Picture, compiled_template
from generator.images import qr_png
from generator.measure import (
    MM_PER_PT,
    PAYLOAD_WORD_RE,
    PageObjects,
    Placement,
    _near,
    _plumber_segments,
    _rect,
    _rows,
    boxes_from_segments,
    classify,
)
from generator.merge import merge_bodies
from generator.pdf_convert import convert_to_pdf

ROW_NO_COL_MM = 12.0
GRID_HEAD_ROW_MM = 7.0
GRID_LABEL_ROW_MM = 6.0
GRID_ROW_MM = 10.0
CHOICE_LABEL_PT = 8.0
LEGEND_PT = 10.0
NOTE_PT = 9.0
HEADER_LINE_PT = 10.0
NUMBER_LABEL_W_MM = 40.0
QR_SHAPE_ID = 901
# What the header says about the village; every form printed for a village gets these values.
HEADER_LINES = (
    "{{ county }}{{ town }}{{ village }}　　{{ group_label }}　　{{ round_label }}",
    "帮扶单位：{{ sponsor_units }}",
    "第一书记：{{ secretary }}　驻村队长：{{ team_leader }}　调查时间：{{ year }}年{{ month }}月____日",
)


def template_path(spec: FormSpec, directory: Path = TEMPLATES_DIR) -> Path:
    return directory / f"form_{spec.form_type}.docx"


def _grid(doc: DocumentObject, spec: FormSpec) -> None:
    choices = [(column, choice) for column in spec.columns for choice in column.choices]
    cell_w = (d.CONTENT_WIDTH_MM - ROW_NO_COL_MM) / len(choices)
    widths = [ROW_NO_COL_MM] + [cell_w] * len(choices)
    table = doc.add_table(rows=2 + spec.rows, cols=len(widths))
    b.fixed_table(table, widths, borders=True)
    number_head = table.cell(0, 0).merge(table.cell(1, 0))
    b.cell_text(number_head, spec.row_heading, d.BODY_FONT, d.BODY_SIZE_PT, bold=True)
    col = 1
    for column in spec.columns:
        head = table.cell(0, col).merge(table.cell(0, col + len(column.choices) - 1))
        b.cell_text(head, column.heading, d.BODY_FONT, d.BODY_SIZE_PT, bold=True)
        for offset, choice in enumerate(column.choices):
            b.cell_text(table.cell(1, col + offset), choice.label, d.BODY_FONT, CHOICE_LABEL_PT)
        col += len(column.choices)
    b.exact_row(table, 0, GRID_HEAD_ROW_MM)
    b.exact_row(table, 1, GRID_LABEL_ROW_MM)
    for row in range(1, spec.rows + 1):
        r = row + 1
        b.cell_text(table.cell(r, 0), str(row), d.BODY_FONT, d.BODY_SIZE_PT)
        for c in range(1, len(widths)):
            _tick_box(table.cell(r, c), widths[c])
        b.exact_row(table, r, GRID_ROW_MM)


def _numbers(doc: DocumentObject, spec: FormSpec) -> None:
    if not spec.numeric_fields:
        return
    widths = [NUMBER_LABEL_W_MM, d.CONTENT_WIDTH_MM - NUMBER_LABEL_W_MM]
    table: Table = doc.add_table(rows=len(spec.numeric_fields), cols=2)
    b.fixed_table(table, widths, borders=True)
    for i, field in enumerate(spec.numeric_fields):
        b.cell_text(table.cell(i, 0), field.label, d.BODY_FONT, d.BODY_SIZE_PT)
        _comb(table, i, 1, field)
        b.exact_row(table, i, d.NUMBER_COMB_ROW_MM)


def _lines(doc: DocumentObject, lines: Sequence[str], size_pt: float, space_before_pt: float = 0.0) -> None:
    for i, line in enumerate(lines):
        paragraph = doc.add_paragraph()
        b.format_paragraph(paragraph, WD_ALIGN_PARAGRAPH.LEFT)
        paragraph.paragraph_format.space_after = Pt(2)
        if i == 0:
            paragraph.paragraph_format.space_before = Pt(space_before_pt)
        b.add_text(paragraph, line, d.BODY_FONT, size_pt)


def _signatures(doc: DocumentObject, spec: FormSpec) -> None:
    if not spec.signature_slots:
        return
    spacer = doc.add_paragraph()
    b.format_paragraph(spacer, exact_line_pt=6)
    slots = spec.signature_slots
    widths = [d.SIGNATURE_W_MM["group_member"] + 4.0 for _ in slots]
    widths[-1] += d.CONTENT_WIDTH_MM - sum(widths)
    table = doc.add_table(rows=2, cols=len(slots))
    b.fixed_table(table, widths, borders=False)
    for i, slot in enumerate(slots):
        b.cell_text(table.cell(0, i), slot.label + "（签字）：", d.BODY_FONT, 11.0, WD_ALIGN_PARAGRAPH.LEFT)
        paragraph = b.cell_text(table.cell(1, i), "", d.BODY_FONT, d.BODY_SIZE_PT, WD_ALIGN_PARAGRAPH.LEFT)
        b.box_paragraph(
            paragraph, widths[i] - CELL_PADDING_MM, d.SIGNATURE_W_MM["group_member"], d.SIGNATURE_H_MM, d.BOX_LINE_MM,
            0.0,
        )
    b.exact_row(table, 0, 6.0)
    b.exact_row(table, 1, d.SIGNATURE_H_MM + 2.0)


def build_form_template(spec: FormSpec, path: Path | None = None) -> Path:
    path = path or template_path(spec)
    doc = Document()
    _style_document(doc)
    body = doc.element.body
    for paragraph in list(doc.paragraphs):
        body.remove(paragraph._p)
    _title(doc, spec.title, page=1, new_page=False)
    _top_block(doc, 1, list(HEADER_LINES))
    _lines(doc, spec.legend, LEGEND_PT)
    _grid(doc, spec)
    _numbers(doc, spec)
    _lines(doc, spec.notes, NOTE_PT, space_before_pt=3.0)
    _signatures(doc, spec)
    doc.core_properties.title = spec.title
    doc.core_properties.author = "中共巴中市委组织部"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


@dataclass(frozen=True)
class FormData:
    """What is printed in a form's header for one village. None prints a blank."""

    round: str
    village_code: str
    county: str
    town: str
    village: str
    group_label: str
    round_label: str
    sponsor_units: tuple[str, ...] = ()
    secretary: str | None = None
    team_leader: str | None = None


def form_payload(spec: FormSpec, data: FormData, key: bytes) -> str:
    return encode(SheetId(round=data.round, village_code=data.village_code, page=1, layout=spec.form_type), key)


def fill_form(
    spec: FormSpec, data: FormData, key: bytes, out_path: Path, template: Path | None = None
) -> tuple[str, FilledBody]:
    """Write one village's filled form (.docx); returns its QR payload and the filled body (to join forms)."""
    path = template or template_path(spec)
    tpl = compiled_template(path, path.stat().st_mtime_ns)
    payload = form_payload(spec, data, key)
    year, month = data.round.split("-")
    picture = Picture(
        rid=f"rIdQr{data.village_code}{spec.form_type}", filename=f"qr-{data.round}-{data.village_code}-{spec.form_type}.png",
        png=qr_png(payload), width_mm=d.QR_SIZE_MM, height_mm=d.QR_SIZE_MM, shape_id=QR_SHAPE_ID,
    )
    context = {
        "county": data.county, "town": data.town, "village": data.village, "group_label": data.group_label,
        "round_label": data.round_label, "sponsor_units": "、".join(data.sponsor_units),
        "secretary": data.secretary or "", "team_leader": data.team_leader or "",
        "year": str(int(year)), "month": str(int(month)), "id_p1": payload, "qr_p1": picture,
    }
    filled = tpl.render(context, (picture,))
    tpl.write(filled.xml, filled.pictures, out_path)
    return payload, filled


def render_form(spec: FormSpec, data: FormData, key: bytes, out_path: Path, template: Path | None = None) -> str:
    """Write one village's filled form (.docx); returns its QR payload."""
    return fill_form(spec, data, key, out_path, template)[0]


def join_forms(spec: FormSpec, bodies: Sequence[FilledBody], out_path: Path, template: Path | None = None) -> Path:
    """One document of many villages' forms, each on its own page (LibreOffice's input only)."""
    path = template or template_path(spec)
    return merge_bodies(compiled_template(path, path.stat().st_mtime_ns), bodies, out_path)


def _name_boxes(spec: FormSpec, drawn: Sequence[Placement], origin: tuple[float, float]) -> dict[str, Rect]:
    """Drawn boxes named in the description's reading order (``forms.form_spec``)."""
    ticks = [p for p in drawn if _near(p.w, d.TICK_BOX_MM) and _near(p.h, d.TICK_BOX_MM)]
    digits = [p for p in drawn if _near(p.w, d.DIGIT_BOX_W_MM) and _near(p.h, d.DIGIT_BOX_H_MM)]
    signatures = sorted((p for p in drawn if _near(p.h, d.SIGNATURE_H_MM) and p.w >= 40.0), key=lambda p: p.x)
    found = [
        ([p for row in _rows(ticks) for p in row], spec.tick_box_keys, "勾选框"),
        ([p for row in _rows(digits) for p in row], spec.digit_box_keys, "数字格"),
        (signatures, tuple(s.key for s in spec.signature_slots), "签字区"),
    ]
    boxes: dict[str, Rect] = {}
    for placed, keys, what in found:
        if len(placed) != len(keys):
            raise FormDefinitionError(f"表式 {spec.form_type} 应有 {len(keys)} 个{what}，PDF 中找到 {len(placed)} 个")
        boxes.update({key: _rect(p, origin) for key, p in zip(keys, placed)})
    return boxes


def measure_form(spec: FormSpec, pdf_path: Path, page_index: int = 0) -> PageLayout:
    """The layout of a rendered form page, read with pdfplumber; raises if a box is missing."""
    with pdfplumber.open(str(pdf_path)) as pdf:
        page = pdf.pages[page_index]
        size = (float(page.width) * MM_PER_PT, float(page.height) * MM_PER_PT)
        images = [
            Placement(float(im["x0"]) * MM_PER_PT, float(im["top"]) * MM_PER_PT,
                      float(im["x1"] - im["x0"]) * MM_PER_PT, float(im["bottom"] - im["top"]) * MM_PER_PT)
            for im in page.images
        ]
        drawn = boxes_from_segments(_plumber_segments(page))
        # The markers and the QR code are found as on the record sheet; its tick rules do not apply here.
        found = classify(images, [], 2, size)
        if found.qr is None:
            raise FormDefinitionError(f"表式 {spec.form_type} 没有找到二维码")
        marker = next(p for p in images if _near(p.w, d.MARKER_IMAGE_MM) and p.cx < size[0] / 2 and p.cy < size[1] / 2)
        origin = (marker.cx, marker.cy)
        words = [w for w in page.extract_words() if PAYLOAD_WORD_RE.match(w["text"])]
        if len(words) != 1:
            raise FormDefinitionError(f"表式 {spec.form_type} 应印有一行编码，实际找到 {len(words)} 处")
        w = words[0]
        printed = Rect(
            round(float(w["x0"]) * MM_PER_PT - origin[0], 3), round(float(w["top"]) * MM_PER_PT - origin[1], 3),
            round(float(w["x1"] - w["x0"]) * MM_PER_PT, 3), round(float(w["bottom"] - w["top"]) * MM_PER_PT, 3),
        )
        boxes = _name_boxes(spec, drawn, origin)
    return PageLayout(
        version=spec.form_type, page=1, page_size_mm=(round(size[0], 3), round(size[1], 3)), markers=found.markers,
        marker_size_mm=found.marker_size_mm, qr=found.qr, printed_id=printed, boxes=boxes,
    )


def page_differences(spec: FormSpec, page: PageObjects, layouts_dir: Path = LAYOUTS_DIR) -> dict[str, float]:
    """Where one printed page departs from the form's stored layout (mm; empty = fits)."""
    found = classify(page.images, [], 2, page.size_mm)
    marker = next(
        p for p in page.images
        if _near(p.w, d.MARKER_IMAGE_MM) and p.cx < page.size_mm[0] / 2 and p.cy < page.size_mm[1] / 2
    )
    measured = PageLayout(
        version=spec.form_type, page=1, page_size_mm=page.size_mm, markers=found.markers,
        marker_size_mm=found.marker_size_mm, qr=found.qr or Rect(0.0, 0.0, 0.0, 0.0), printed_id=Rect(0.0, 0.0, 0.0, 0.0),
        boxes=_name_boxes(spec, page.boxes, (marker.cx, marker.cy)),
    )
    return load_layout(spec.form_type, 1, layouts_dir).differences_mm(measured)


REFERENCE_KEY = b"ducha-layout-reference"


def reference_data(spec: FormSpec) -> FormData:
    """A fictional village with every header value set, for measuring."""
    return FormData(
        round="2015-08", village_code="000000000000", county="巴州区", town="参考镇", village="参考村",
        group_label="第一组", round_label="2015年8月专项督查", sponsor_units=("巴中市参考局",), secretary="书记乙",
        team_leader="队长甲",
    )


def measure_reference(spec: FormSpec, template: Path | None = None) -> PageLayout:
    with tempfile.TemporaryDirectory(prefix="ducha-form-layout-") as tmp:
        docx = Path(tmp) / f"{spec.form_type}.docx"
        render_form(spec, reference_data(spec), REFERENCE_KEY, docx, template)
        [pdf] = convert_to_pdf([docx], Path(tmp), expected_pages={docx: 1})
        return measure_form(spec, pdf)


def main() -> None:
    parser = argparse.ArgumentParser(description="生成表式模板并测量版式")
    parser.add_argument("form_type", help="表式代号，例如 aw1")
    parser.add_argument("--layouts", type=Path, default=LAYOUTS_DIR)
    args = parser.parse_args()
    spec = form_spec(args.form_type)
    if spec is None:
        raise SystemExit(f"未知的表式：{args.form_type}")
    print(build_form_template(spec))
    print(save_layout(measure_reference(spec), args.layouts))


if __name__ == "__main__":
    main()
