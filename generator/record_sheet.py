"""Fills the record sheet template for one village (docxtpl).

Pure: plain dataclasses in, a .docx out. The application gathers the data
from the database (``ducha.sheets``); tests and benchmarks can call this
directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docxtpl import RichText

from forms.qr_payload import SheetId, encode
from forms.record_sheet import INDICATORS_BY_KEY, LAYOUT_VERSION, RECTIFICATION_MAX_ITEMS_PER_PAGE, SHEET_TITLE
from generator import sheet_design as d
from generator.build_templates import RECORD_SHEET_TEMPLATE
from generator.fast_template import CompiledTemplate, FilledBody, Picture, compiled_template
from generator.images import qr_png

RECT_TEXT_MAX_CHARS = 96
CN_DIGITS = "零一二三四五六七八九十"
MM_PER_PT = 25.4 / 72
# A CJK glyph is about one em wide; cell padding eats 2 mm.
UNIT_CELL_TEXT_W_MM = d.UNIT_CELL_W_MM - 2.5
UNIT_CELL_TEXT_H_MM = d.HEADER_ROW_MM - 1.0
LINE_HEIGHT_EM = 1.45  # Noto Serif CJK's single line spacing, with margin
UNIT_FONT_STEP_PT = 0.5


@dataclass(frozen=True)
class RectificationLine:
    item_id: int
    indicator_key: str
    description: str
    origin_round: str
    deadline: dt.date | None = None


@dataclass(frozen=True)
class SheetData:
    """Everything printed on one village's sheet. None = unknown, left blank."""

    round: str  # "2015-08"
    village_code: str
    village: str
    county: str
    town: str
    group_no: int
    sponsor_units: tuple[str, ...] = ()
    team_size: int | None = None
    team_leader: str | None = None
    secretary: str | None = None
    population: int | None = None
    poor_population: int | None = None
    income_yuan: float | None = None
    rectification: tuple[RectificationLine, ...] = ()
    # The first secretary's imported days in the village, and the two-thirds minimum; None prints a blank.
    attendance_days: int | None = None
    attendance_required: int | None = None


@dataclass
class RenderedSheet:
    data: SheetData
    docx: Path
    pages: int
    payloads: list[str]
    rectification_item_ids: list[int]
    # Chinese names of fields left blank because the registry lacks them.
    gaps: list[str] = field(default_factory=list)
    # Open items that did not fit on page 2 (listed in the run's warning).
    overflow_item_ids: list[int] = field(default_factory=list)
    fields: SheetFields | None = None

    @property
    def form_id(self) -> str:
        return f"{self.data.round}-{self.data.village_code}"


def group_label(group_no: int) -> str:
    if 1 <= group_no <= 10:
        return f"第{CN_DIGITS[group_no]}组"
    return f"第{group_no}组"


def round_label(round_: str) -> str:
    year, month = round_.split("-")
    return f"{int(year)}年{int(month)}月专项督查"


def month_label(round_: str) -> str:
    year, month = round_.split("-")
    return f"{int(year)}年{int(month)}月"


def _unit_capacity(size_pt: float) -> int:
    per_line = int(UNIT_CELL_TEXT_W_MM // (size_pt * MM_PER_PT))
    lines = int(UNIT_CELL_TEXT_H_MM // (size_pt * LINE_HEIGHT_EM * MM_PER_PT))
    return per_line * lines


def unit_font_pt(text: str) -> float:
    """Largest size at which the units fit their fixed cell, never below the minimum."""
    size = d.BODY_SIZE_PT
    while size > d.UNIT_FONT_MIN_PT and _unit_capacity(size) < len(text):
        size -= UNIT_FONT_STEP_PT
    return size


def units_fit(text: str) -> bool:
    return _unit_capacity(unit_font_pt(text)) >= len(text)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rect_text(line: RectificationLine) -> str:
    indicator = INDICATORS_BY_KEY.get(line.indicator_key)
    head = f"{indicator.section == 'team' and '工作队' or '第一书记'}第{indicator.number}项" if indicator else ""
    deadline = f"，限{line.deadline.month}月{line.deadline.day}日前整改" if line.deadline else ""
    text = f"{head}（{month_label(line.origin_round)}）：{line.description}{deadline}"
    if len(text) > RECT_TEXT_MAX_CHARS:
        text = text[: RECT_TEXT_MAX_CHARS - 1] + "…"
    return text


def attendance_line(days: int | None, required: int | None) -> str:
    """The line printed under 第一书记 indicator 1; a blank for the inspectors where a figure is unknown."""
    shown_days = f" {days} " if days is not None else "______"
    shown_required = f" {required} " if required is not None else "____"
    return f"考勤：本月在村{shown_days}天，应不少于{shown_required}天"


def gaps_of(data: SheetData) -> list[str]:
    checks = [
        ("帮扶单位", bool(data.sponsor_units)),
        ("帮扶单位（名称过长，表上显示不全）", not data.sponsor_units or units_fit("、".join(data.sponsor_units))),
        ("工作队人数", data.team_size is not None),
        ("驻村队长", bool(data.team_leader)),
        ("第一书记", bool(data.secretary)),
        ("总人口", data.population is not None),
        ("贫困人数", data.poor_population is not None),
        ("上年人均纯收入", data.income_yuan is not None),
    ]
    return [name for name, present in checks if not present]


QR_SHAPE_ID_BASE = 900


def sheet_template(path: Path) -> CompiledTemplate:
    return compiled_template(path, path.stat().st_mtime_ns)


def payload_for(data: SheetData, page: int, key: bytes) -> str:
    return encode(SheetId(round=data.round, village_code=data.village_code, page=page, layout=LAYOUT_VERSION), key)


def render_sheet(
    data: SheetData, key: bytes, out_path: Path, template: Path = RECORD_SHEET_TEMPLATE
) -> RenderedSheet:
    """Write one village's filled sheet (.docx); page 2 only with open items."""
    return fill_sheet(data, key, out_path, template)[0]


@dataclass(frozen=True)
class SheetShape:
    """What decides a filled sheet's structure: the rest is plain text and the QR pictures."""

    items: int
    unit_half_pt: int


@dataclass(frozen=True)
class SheetFields:
    """One sheet's printed values, before they go into a document."""

    shape: SheetShape
    # Template variable -> text; rectification lines as "rect_text_<no>".
    values: dict[str, str]
    payloads: list[str]
    qr_pngs: list[bytes]


def rect_value_name(no: int) -> str:
    return f"rect_text_{no}"


# The template variables that are plain text on every sheet (``sheet_fields``).
BASE_VALUE_NAMES = (
    "county", "town", "village", "group_label", "round_label", "year", "month", "sponsor_units",
    "team_size", "team_leader", "secretary", "population", "poor_population", "income",
    "attendance",
)


def value_names(shape: SheetShape) -> list[str]:
    pages = 2 if shape.items else 1
    rect = [rect_value_name(no) for no in range(1, shape.items + 1)]
    return [*BASE_VALUE_NAMES, *rect, *(f"id_p{page}" for page in range(1, pages + 1))]


def shape_of(data: SheetData) -> SheetShape:
    items = min(len(data.rectification), RECTIFICATION_MAX_ITEMS_PER_PAGE)
    return SheetShape(items=items, unit_half_pt=round(unit_font_pt("、".join(data.sponsor_units)) * 2))


def sheet_fields(data: SheetData, key: bytes) -> SheetFields:
    year, month = data.round.split("-")
    items = data.rectification[:RECTIFICATION_MAX_ITEMS_PER_PAGE]
    pages = 2 if items else 1
    payloads = [payload_for(data, page, key) for page in range(1, pages + 1)]
    units = "、".join(data.sponsor_units)
    values = {
        "county": data.county,
        "town": data.town,
        "village": data.village,
        "group_label": group_label(data.group_no),
        "round_label": round_label(data.round),
        "year": str(int(year)),
        "month": str(int(month)),
        "sponsor_units": units,
        "team_size": _number(data.team_size),
        "team_leader": data.team_leader or "",
        "secretary": data.secretary or "",
        "population": _number(data.population),
        "poor_population": _number(data.poor_population),
        "income": "" if data.income_yuan is None else f"{_number(data.income_yuan)}元",
        "attendance": attendance_line(data.attendance_days, data.attendance_required),
    }
    for no, line in enumerate(items, start=1):
        values[rect_value_name(no)] = _rect_text(line)
    for page, payload in enumerate(payloads, start=1):
        values[f"id_p{page}"] = payload
    return SheetFields(shape_of(data), values, payloads, [qr_png(p) for p in payloads])


def qr_picture(round_: str, village_code: str, page: int, png: bytes) -> Picture:
    return Picture(
        rid=f"rIdQr{village_code}p{page}",
        filename=f"qr-{round_}-{village_code}-p{page}.png",
        png=png,
        width_mm=d.QR_SIZE_MM,
        height_mm=d.QR_SIZE_MM,
        shape_id=QR_SHAPE_ID_BASE + page,
    )


def docx_context(fields: SheetFields, pictures: Sequence[Picture]) -> dict[str, object]:
    """The template's Jinja context for ``fields``; pictures in page order."""
    values = fields.values
    context: dict[str, object] = {"sheet_title": SHEET_TITLE, **values}
    context["sponsor_units"] = RichText(values["sponsor_units"], size=fields.shape.unit_half_pt)
    context["rect_items"] = [
        {"no": no, "text": values[rect_value_name(no)]} for no in range(1, fields.shape.items + 1)
    ]
    for page, picture in enumerate(pictures, start=1):
        context[f"qr_p{page}"] = picture
    return context


def fill_sheet(
    data: SheetData, key: bytes, out_path: Path, template: Path = RECORD_SHEET_TEMPLATE
) -> tuple[RenderedSheet, FilledBody]:
    """``render_sheet``, also returning the filled body, to join sheets without re-reading them.

    Picture ids carry the village code, so bodies of one round's sheets can
    share a document.
    """
    tpl = sheet_template(template)
    fields = sheet_fields(data, key)
    items = data.rectification[:RECTIFICATION_MAX_ITEMS_PER_PAGE]
    overflow = [line.item_id for line in data.rectification[RECTIFICATION_MAX_ITEMS_PER_PAGE:]]
    pictures = tuple(
        qr_picture(data.round, data.village_code, page, png) for page, png in enumerate(fields.qr_pngs, start=1)
    )
    filled = tpl.render(docx_context(fields, pictures), pictures)
    tpl.write(filled.xml, filled.pictures, out_path)
    rendered = RenderedSheet(
        data=data,
        docx=out_path,
        pages=len(fields.payloads),
        payloads=fields.payloads,
        rectification_item_ids=[line.item_id for line in items],
        gaps=gaps_of(data),
        overflow_item_ids=overflow,
        fields=fields,
    )
    return rendered, filled
