"""Working days of a month, for the two-thirds rule (驻村工作日不少于2/3).

Years the ``chinesecalendar`` package covers come from it. Later years come
from ``holidays.json`` in the workspace, which office staff fill in from the
State Council's yearly notice: the holidays, and the weekend days that are
working days (调休). A year in neither is an error that names the file;
counting only weekends would silently give a wrong number.

File format::

    {"2027": {"holidays": ["2027-01-01", ...], "workdays": ["2027-02-20", ...]}}
"""

from __future__ import annotations

import calendar as std_calendar
import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, model_validator

from ducha.config import format_validation_error
from ducha.errors import CalendarError, ConfigError

HOLIDAYS_FILE_NAME = "holidays.json"
TWO_THIRDS = (2, 3)
SATURDAY = 5


class YearHolidays(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holidays: list[dt.date] = Field(default_factory=list)
    workdays: list[dt.date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> YearHolidays:
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError("同一天既是假日又是调休工作日：" + "、".join(d.isoformat() for d in both))
        weekday_workdays = [d for d in self.workdays if d.weekday() < SATURDAY]
        if weekday_workdays:
            raise ValueError(
                "workdays 只列周末调休上班的日子，以下日期本来就是工作日："
                + "、".join(d.isoformat() for d in weekday_workdays)
            )
        return self


class HolidaysFile(RootModel[dict[str, YearHolidays]]):
    @model_validator(mode="after")
    def _years(self) -> HolidaysFile:
        for key, year in self.root.items():
            if not (key.isdigit() and len(key) == 4):
                raise ValueError(f'键“{key}”应为四位年份，例如 "2027"')
            wrong = [d for d in year.holidays + year.workdays if d.year != int(key)]
            if wrong:
                raise ValueError(f"{key} 年下列有其他年份的日期：" + "、".join(d.isoformat() for d in wrong))
        return self


@dataclass(frozen=True)
class MonthWorkdays:
    year: int
    month: int
    days: tuple[dt.date, ...]
    source: str

    @property
    def count(self) -> int:
        return len(self.days)

    @property
    def two_thirds(self) -> int:
        """At least 2/3 of the working days, rounded up (a first secretary's minimum)."""
        num, den = TWO_THIRDS
        return math.ceil(self.count * num / den)


def load_holidays(path: Path) -> dict[int, YearHolidays]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), [f"第 {exc.lineno} 行第 {exc.colno} 列：不是合法的 JSON（{exc.msg}）"]) from exc
    try:
        parsed = HolidaysFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), format_validation_error(exc)) from exc
    return {int(key): value for key, value in parsed.root.items()}


def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def month_workdays(year: int, month: int, holidays_path: Path) -> MonthWorkdays:
    """The working days of a month; the holidays file wins over the package for a year it lists."""
    last = std_calendar.monthrange(year, month)[1]
    dates = [dt.date(year, month, day) for day in range(1, last + 1)]
    file_years = load_holidays(holidays_path)
    if year in file_years:
        entry = file_years[year]
        off, on = set(entry.holidays), set(entry.workdays)
        days = [d for d in dates if d in on or (d.weekday() < SATURDAY and d not in off)]
        return MonthWorkdays(year, month, tuple(days), str(holidays_path))
    if _package_covers(year):
        days = [d for d in dates if chinese_calendar.is_workday(d)]
        return MonthWorkdays(year, month, tuple(days), "chinesecalendar")
    raise CalendarError(
        f"没有 {year} 年的节假日数据。请按国务院办公厅公布的 {year} 年部分节假日安排，"
        f'在 {holidays_path} 中填写 "{year}": {{"holidays": [放假日期…], "workdays": [调休上班日期…]}}，'
        "然后重新运行。"
    )


def holidays_path(root: Path) -> Path:
    return root / HOLIDAYS_FILE_NAME
