"""The workspace configuration file (``config.json``), checked key by key.

Office staff edit this file by hand, so every problem is reported with the
key path that holds it, all at once, in Chinese.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ducha.errors import ConfigError
from ducha.workspace import write_private_text

CONFIG_FILE_NAME = "config.json"
ROUND_ID_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoundDatesOverride(_Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> RoundDatesOverride:
        if self.end < self.start:
            raise ValueError("结束日期早于开始日期")
        return self


class RoundsConfig(_Strict):
    # The notice: the first round is 2015-08-17..28, later ones the 25th to the 30th.
    first_round: str = Field(default="2015-08", pattern=ROUND_ID_PATTERN)
    first_round_start: dt.date = dt.date(2015, 8, 17)
    first_round_end: dt.date = dt.date(2015, 8, 28)
    # Other rounds whose dates depart from the rule, e.g. around a holiday.
    overrides: dict[str, RoundDatesOverride] = Field(default_factory=dict)
    start_day: int = Field(default=25, ge=1, le=28)
    end_day: int = Field(default=30, ge=1, le=31)
    group_report_days_after_end: int = Field(default=2, ge=0, le=31)
    self_inspection_due_day: int = Field(default=5, ge=1, le=28)

    @model_validator(mode="after")
    def _check(self) -> RoundsConfig:
        if self.end_day < self.start_day:
            raise ValueError("end_day 不能小于 start_day")
        if self.first_round_end < self.first_round_start:
            raise ValueError("first_round_end 早于 first_round_start")
        for key in self.overrides:
            if not _is_round_id(key):
                raise ValueError(f"overrides 的键“{key}”不是 YYYY-MM 格式的轮次")
        return self


class LotteryConfig(_Strict):
    # A decimal string so that 10% is exactly 1/10 when rounding up.
    min_ratio: Decimal = Field(default=Decimal("0.10"), gt=0, le=1)


class Config(_Strict):
    rounds: RoundsConfig = Field(default_factory=RoundsConfig)
    lottery: LotteryConfig = Field(default_factory=LotteryConfig)


def _is_round_id(text: str) -> bool:
    import re

    return re.match(ROUND_ID_PATTERN, text) is not None


def format_validation_error(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "（根）"
        problems.append(f"{key}：{_chinese_message(item)}")
    return problems


_MESSAGES = {
    "extra_forbidden": "未知的配置项（拼写错误？）",
    "missing": "缺少此项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "date_from_datetime_parsing": "应为日期，格式 YYYY-MM-DD",
    "date_parsing": "应为日期，格式 YYYY-MM-DD",
    "date_type": "应为日期，格式 YYYY-MM-DD",
    "decimal_parsing": "应为小数",
    "string_pattern_mismatch": "格式不对，应为 YYYY-MM",
    "dict_type": "应为对象（{...}）",
    "model_type": "应为对象（{...}）",
    "list_type": "应为列表（[...]）",
}


def _chinese_message(item: Any) -> str:
    kind = item["type"]
    ctx = item.get("ctx") or {}
    if kind in _MESSAGES:
        return f"{_MESSAGES[kind]}（实际为 {item.get('input')!r}）" if kind != "missing" else _MESSAGES[kind]
    bounds = {
        "greater_than_equal": ("应不小于", "ge"),
        "greater_than": ("应大于", "gt"),
        "less_than_equal": ("应不大于", "le"),
        "less_than": ("应小于", "lt"),
    }
    if kind in bounds:
        words, bound = bounds[kind]
        return f"{words} {ctx.get(bound)}（实际为 {item.get('input')!r}）"
    if kind == "value_error":
        return str(ctx.get("error", item["msg"]))
    return f"取值无效（{item['msg']}）"


def load_config(root: Path) -> Config:
    """The workspace config; defaults when the file does not exist."""
    path = root / CONFIG_FILE_NAME
    if not path.exists():
        return Config()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), [f"第 {exc.lineno} 行第 {exc.colno} 列：不是合法的 JSON（检查引号、逗号和括号是否成对）"]) from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), format_validation_error(exc)) from exc


def write_default_config(root: Path) -> Path:
    """Write the defaults so staff can see and edit every key; keeps an existing file."""
    path = root / CONFIG_FILE_NAME
    if not path.exists():
        write_private_text(path, Config().model_dump_json(indent=2) + "\n")
    return path
