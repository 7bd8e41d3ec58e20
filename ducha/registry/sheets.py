"""What each registry sheet holds: titles, headers, and how each cell is read.

The same specs drive the import, the empty template and the export, so a
file written by ``ducha registry export`` imports back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from ducha.counties import COUNTIES, canonical_county

VILLAGE_CODE_DIGITS = 12
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_PATTERN = re.compile(r"^0\d{2,3}-?\d{7,8}$")
NAME_MAX_CHARS = 50
UNIT_NAME_MAX_CHARS = 100
IGNORED_HEADER_PREFIX = "备注"

LEVEL_WORDS = {"市级": "city", "县级": "county", "city": "city", "county": "county", "市": "city", "县": "county"}
LEVEL_LABELS = {"city": "市级", "county": "县级"}

Kind = Literal["text", "name", "unit", "code", "int", "money", "county", "level", "phone"]


class CellError(ValueError):
    """One bad cell; the message says what is expected, in Chinese."""


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    header: str
    kind: Kind
    required: bool
    note: str


@dataclass(frozen=True)
class SheetSpec:
    key: str
    title: str
    note: str
    columns: tuple[ColumnSpec, ...]

    def column(self, key: str) -> ColumnSpec:
        return next(c for c in self.columns if c.key == key)


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _parse_code(raw: Any) -> str:
    text = _text(raw)
    if not (text.isdigit() and len(text) == VILLAGE_CODE_DIGITS):
        raise CellError(f"应为 {VILLAGE_CODE_DIGITS} 位数字的村代码")
    return text


def _parse_int(raw: Any) -> int:
    text = _text(raw).replace(",", "")
    if not text.isdigit():
        raise CellError("应为不小于 0 的整数")
    return int(text)


def _parse_money(raw: Any) -> float:
    text = _text(raw).replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise CellError("应为金额（元），例如 2650 或 2650.5") from exc
    if not value.is_finite() or value < 0:
        raise CellError("应为不小于 0 的金额（元）")
    return float(value)


def _parse_county(raw: Any) -> str:
    county = canonical_county(_text(raw))
    if county is None:
        raise CellError("应为以下之一：" + "、".join(COUNTIES) + "（或“经开区”）")
    return county


def _parse_level(raw: Any) -> str:
    level = LEVEL_WORDS.get(_text(raw))
    if level is None:
        raise CellError("应为“市级”或“县级”")
    return level


def _parse_phone(raw: Any) -> str:
    text = _text(raw).replace(" ", "")
    if not (MOBILE_PATTERN.match(text) or LANDLINE_PATTERN.match(text)):
        raise CellError("应为 11 位手机号或带区号的固定电话，例如 0827-5261234")
    return text


def _limited(limit: int) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        text = _text(raw)
        if len(text) > limit:
            raise CellError(f"不能超过 {limit} 个字")
        return text

    return parse


PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": _limited(NAME_MAX_CHARS),
    "name": _limited(NAME_MAX_CHARS),
    "unit": _limited(UNIT_NAME_MAX_CHARS),
    "code": _parse_code,
    "int": _parse_int,
    "money": _parse_money,
    "county": _parse_county,
    "level": _parse_level,
    "phone": _parse_phone,
}


def parse_cell(column: ColumnSpec, raw: Any) -> Any:
    """The typed value of a cell, None for an empty optional cell; raises CellError."""
    if _text(raw) == "":
        if column.required:
            raise CellError("不能为空")
        return None
    return PARSERS[column.kind](raw)


def format_cell(column: ColumnSpec, value: Any) -> Any:
    """The cell value written on export; the inverse of ``parse_cell``."""
    if value is None:
        return None
    if column.kind == "level":
        return LEVEL_LABELS[value]
    if column.kind == "money":
        return int(value) if float(value).is_integer() else value
    return value


VILLAGES = SheetSpec(
    "villages",
    "贫困村",
    "每个帮扶村一行。村代码为 12 位统计用区划代码，是村的唯一标识：再次导入时按村代码更新。",
    (
        ColumnSpec(
            "county",
            "县（区）",
            "county",
            True,
            "巴州区、恩阳区、南江县、通江县、平昌县或巴中经济开发区（可写“经开区”）",
        ),
        ColumnSpec("town", "乡镇（街道）", "text", True, "例如：曾口镇"),
        ColumnSpec("name", "村名", "text", True, "例如：白庙村"),
        ColumnSpec("code", "村代码", "code", True, "12 位数字，请把单元格设为“文本”格式以免丢失前导零"),
        ColumnSpec("population", "总人口", "int", True, "人"),
        ColumnSpec("poor_population", "贫困人数", "int", True, "人，不能多于总人口"),
        ColumnSpec("income", "上年人均纯收入（元）", "money", True, "元"),
    ),
)

UNITS = SheetSpec(
    "units",
    "帮扶单位",
    "每个帮扶单位一行。单位名称是唯一标识：再次导入时按名称更新。",
    (
        ColumnSpec("name", "单位名称", "unit", True, "全称，例如：市财政局、巴州区教育局"),
        ColumnSpec("level", "级别", "level", True, "“市级”或“县级”"),
        ColumnSpec("county", "所属县（区）", "county", False, "县级单位必填；市级单位不填"),
        ColumnSpec(
            "sort_order", "排序号", "int", False,
            "通报中列名的顺序（机构序列）：市委办、市人大办、市政府办、市政协办……各部门，中央、省驻巴单位在后；"
            "县级单位在本县（区）内排序。不填的排在有排序号的之后",
        ),
    ),
)

LINKS = SheetSpec(
    "links",
    "帮扶关系",
    "哪个单位帮扶哪个村，每对一行；一个村有几个帮扶单位就写几行。导入时以本表为准替换该村的帮扶单位。",
    (
        ColumnSpec("code", "村代码", "code", True, "须在“贫困村”表或已有台账中"),
        ColumnSpec("village_name", "村名", "text", False, "可不填；填了则须与村代码一致"),
        ColumnSpec("unit", "帮扶单位", "unit", True, "须在“帮扶单位”表或已有台账中"),
    ),
)

TEAMS = SheetSpec(
    "teams",
    "驻村工作队",
    "每村一行。",
    (
        ColumnSpec("code", "村代码", "code", True, "须在“贫困村”表或已有台账中"),
        ColumnSpec("size", "工作队人数", "int", True, "人"),
        ColumnSpec("leader", "驻村队长", "name", True, "姓名"),
    ),
)

SECRETARIES = SheetSpec(
    "secretaries",
    "第一书记",
    "每村一行。",
    (
        ColumnSpec("code", "村代码", "code", True, "须在“贫困村”表或已有台账中"),
        ColumnSpec("name", "姓名", "name", True, ""),
        ColumnSpec("unit", "选派单位", "unit", True, "第一书记所在单位"),
        ColumnSpec("phone", "联系电话", "phone", True, "11 位手机号"),
    ),
)

SHEETS: tuple[SheetSpec, ...] = (VILLAGES, UNITS, LINKS, TEAMS, SECRETARIES)
INSTRUCTIONS_TITLE = "填表说明"
