"""Reads .xlsx and .csv files into tables of raw cells with their positions.

A worksheet is matched to a registry sheet by its title, else by its header
row; a .csv file holds one table and is matched by its header row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from ducha.errors import RegistryImportError
from ducha.registry.sheets import IGNORED_HEADER_PREFIX, INSTRUCTIONS_TITLE, SheetSpec

# Excel on Chinese Windows saves CSV in GBK; gb18030 is its superset.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
# Named in the message for a table that matches no spec; other imports built on this reader pass their own.
REGISTRY_TEMPLATE_COMMAND = "ducha registry template"


@dataclass
class RawRow:
    row_no: int
    cells: dict[str, Any]  # column key -> raw value


@dataclass
class RawTable:
    label: str  # what the user calls it in messages, e.g. 工作表“贫困村”
    spec: SheetSpec
    # column key -> (letter, header) for messages
    positions: dict[str, tuple[str, str]]
    rows: list[RawRow] = field(default_factory=list)

    def where(self, row_no: int, key: str) -> str:
        letter, header = self.positions[key]
        return f"{self.label}第 {row_no} 行“{header}”列（{letter} 列）"


def _match_spec(title: str, headers: list[str], specs: tuple[SheetSpec, ...]) -> SheetSpec | None:
    for spec in specs:
        if spec.title == title.strip():
            return spec
    present = {h for h in headers if h}
    best: SheetSpec | None = None
    for spec in specs:
        required = {c.header for c in spec.columns if c.required}
        if required <= present and (best is None or len(spec.columns) > len(best.columns)):
            best = spec
    return best


def _table(
    label: str,
    title: str,
    grid: list[list[Any]],
    specs: tuple[SheetSpec, ...],
    problems: list[str],
    template_command: str = REGISTRY_TEMPLATE_COMMAND,
) -> RawTable | None:
    header_index = next((i for i, row in enumerate(grid) if any(_blank(v) is False for v in row)), None)
    if header_index is None:
        return None
    headers = [str(v).strip() if v is not None else "" for v in grid[header_index]]
    spec = _match_spec(title, headers, specs)
    if spec is None:
        problems.append(f"{label}：无法识别这张表，表头应与 {template_command} 生成的模板一致")
        return None
    by_header = {c.header: c for c in spec.columns}
    positions: dict[str, tuple[str, str]] = {}
    index_of: dict[str, int] = {}
    for col, header in enumerate(headers):
        letter = get_column_letter(col + 1)
        if not header or header.startswith(IGNORED_HEADER_PREFIX):
            continue
        column = by_header.get(header)
        if column is None:
            problems.append(f"{label}第 {header_index + 1} 行 {letter} 列：未知的列“{header}”")
            continue
        if column.key in positions:
            problems.append(f"{label}第 {header_index + 1} 行 {letter} 列：列“{header}”重复")
            continue
        positions[column.key] = (letter, header)
        index_of[column.key] = col
    missing = [c.header for c in spec.columns if c.required and c.key not in positions]
    if missing:
        problems.append(f"{label}：缺少必填的列 " + "、".join(f"“{h}”" for h in missing))
        return None
    table = RawTable(label=label, spec=spec, positions=positions)
    for offset, row in enumerate(grid[header_index + 1 :], start=header_index + 2):
        if all(_blank(v) for v in row):
            continue
        cells = {key: (row[i] if i < len(row) else None) for key, i in index_of.items()}
        table.rows.append(RawRow(row_no=offset, cells=cells))
    return table


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _read_xlsx(
    path: Path, specs: tuple[SheetSpec, ...], problems: list[str], template_command: str = REGISTRY_TEMPLATE_COMMAND
) -> list[RawTable]:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise RegistryImportError([f"{path.name}：不是可读的 .xlsx 文件（{exc}）"]) from exc
    tables = []
    try:
        for sheet in book.worksheets:
            if sheet.title == INSTRUCTIONS_TITLE:
                continue
            grid = [list(row) for row in sheet.iter_rows(values_only=True)]
            table = _table(f"{path.name} 工作表“{sheet.title}”", sheet.title, grid, specs, problems, template_command)
            if table is not None:
                tables.append(table)
    finally:
        book.close()
    return tables


def _read_csv(
    path: Path, specs: tuple[SheetSpec, ...], problems: list[str], template_command: str = REGISTRY_TEMPLATE_COMMAND
) -> list[RawTable]:
    data = path.read_bytes()
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RegistryImportError([f"{path.name}：无法识别文件编码，请另存为 UTF-8 的 CSV"])
    grid: list[list[Any]] = [list(row) for row in csv.reader(io.StringIO(text))]
    table = _table(f"{path.name} ", path.stem, grid, specs, problems, template_command)
    return [table] if table is not None else []


def read_tables(
    paths: list[Path], specs: tuple[SheetSpec, ...], template_command: str = REGISTRY_TEMPLATE_COMMAND
) -> tuple[list[RawTable], list[str]]:
    """All tables in the files, and the structural problems found while reading."""
    problems: list[str] = []
    tables: list[RawTable] = []
    for path in paths:
        if not path.exists():
            raise RegistryImportError([f"找不到文件 {path}"])
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            tables.extend(_read_xlsx(path, specs, problems, template_command))
        elif suffix == ".csv":
            tables.extend(_read_csv(path, specs, problems, template_command))
        else:
            problems.append(f"{path.name}：只支持 .xlsx 和 .csv 文件")
    return tables, problems
