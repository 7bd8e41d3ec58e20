"""Writes the registry, or an empty template of it, as an .xlsx staff can fill in."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ducha.db.models import SponsorUnit, Village
from ducha.registry.sheets import (
    INSTRUCTIONS_TITLE,
    LINKS,
    SECRETARIES,
    SHEETS,
    TEAMS,
    UNITS,
    VILLAGES,
    SheetSpec,
    format_cell,
)

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
COLUMN_WIDTH_CHARS = 22
COMMENT_AUTHOR = "ducha"
# Pre-formatted empty rows in the template; more would slow every later import.
TEMPLATE_TEXT_ROWS = 300
REGISTRY_HEADING = "帮扶村台账填表说明（用 ducha registry import 导入）"


def _sheet(book: openpyxl.Workbook, spec: SheetSpec, rows: Iterable[dict[str, Any]], empty: bool = False) -> Worksheet:
    sheet = book.create_sheet(spec.title)
    for col, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=1, column=col, value=column.header)
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        note = ("必填。" if column.required else "选填。") + column.note
        cell.comment = Comment(note, COMMENT_AUTHOR)
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = COLUMN_WIDTH_CHARS
        if column.kind in ("code", "phone") and empty:
            # Text format keeps leading zeros and stops Excel writing 5.119E+11.
            for row_cells in sheet.iter_rows(min_row=2, max_row=TEMPLATE_TEXT_ROWS, min_col=col, max_col=col):
                for c in row_cells:
                    c.number_format = "@"
    sheet.freeze_panes = "A2"
    for row_no, values in enumerate(rows, start=2):
        for col, column in enumerate(spec.columns, start=1):
            cell = sheet.cell(row=row_no, column=col, value=format_cell(column, values.get(column.key)))
            if column.kind in ("code", "phone"):
                cell.number_format = "@"
    return sheet


def _instructions(book: openpyxl.Workbook, specs: tuple[SheetSpec, ...], heading: str) -> None:
    sheet = book.create_sheet(INSTRUCTIONS_TITLE, 0)
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 100
    lines: list[tuple[str, str]] = [
        (heading, ""),
        ("", "红色表头为必填列，表头单元格的批注说明填法。"),
        ("", "导入时会逐格检查，有任何错误都会列出所在工作表、行和列，并且不导入任何数据；改正后重新导入即可。"),
        ("", "同一文件重复导入不会产生重复数据；修改后再导入，按村代码和单位名称更新。"),
        ("", "请不要修改工作表名称和表头文字；可以增加以“备注”开头的列，导入时忽略。"),
        ("", "也可以把每张工作表另存为 CSV 文件分别导入（UTF-8 或 GBK 编码均可）。"),
    ]
    for spec in specs:
        lines.append((f"工作表“{spec.title}”", spec.note))
        for column in spec.columns:
            lines.append((f"  {column.header}", ("必填。" if column.required else "选填。") + column.note))
    for row_no, (left, right) in enumerate(lines, start=1):
        sheet.cell(row=row_no, column=1, value=left or None)
        sheet.cell(row=row_no, column=2, value=right or None)
    sheet["A1"].font = Font(bold=True, size=14)


def _book(specs: tuple[SheetSpec, ...] = SHEETS, heading: str = REGISTRY_HEADING) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    assert book.active is not None
    book.remove(book.active)
    _instructions(book, specs, heading)
    return book


def write_sheets_xlsx(
    path: Path,
    tables: dict[str, Iterable[dict[str, Any]]],
    specs: tuple[SheetSpec, ...] = SHEETS,
    heading: str = REGISTRY_HEADING,
) -> Path:
    """Write rows (column key -> value) per sheet key, with the instruction sheet first."""
    book = _book(specs, heading)
    for spec in specs:
        _sheet(book, spec, tables.get(spec.key, []))
    book.save(path)
    return path


def write_template_xlsx(path: Path) -> Path:
    book = _book()
    for spec in SHEETS:
        _sheet(book, spec, [], empty=True)
    book.save(path)
    return path


def write_registry_xlsx(session: Session, path: Path) -> Path:
    villages = list(
        session.scalars(
            select(Village)
            .options(selectinload(Village.units), selectinload(Village.team), selectinload(Village.first_secretary))
            .order_by(Village.code)
        )
    )
    units = list(
        session.scalars(select(SponsorUnit).order_by(SponsorUnit.level.desc(), SponsorUnit.county, SponsorUnit.name))
    )
    book = _book()
    _sheet(
        book,
        VILLAGES,
        (
            {
                "county": v.county,
                "town": v.town,
                "name": v.name,
                "code": v.code,
                "population": v.population,
                "poor_population": v.poor_population,
                "income": v.income_last_year_yuan,
            }
            for v in villages
        ),
    )
    _sheet(book, UNITS, ({"name": u.name, "level": u.level, "county": u.county, "sort_order": u.sort_order} for u in units))
    _sheet(
        book,
        LINKS,
        (
            {"code": v.code, "village_name": v.name, "unit": link.unit.name}
            for v in villages
            for link in sorted(v.units, key=lambda link: link.unit.name)
        ),
    )
    _sheet(
        book,
        TEAMS,
        ({"code": v.code, "size": v.team.size, "leader": v.team.leader} for v in villages if v.team is not None),
    )
    _sheet(
        book,
        SECRETARIES,
        (
            {"code": v.code, "name": s.name, "unit": s.unit, "phone": s.phone}
            for v in villages
            if (s := v.first_secretary) is not None
        ),
    )
    book.save(path)
    return path
