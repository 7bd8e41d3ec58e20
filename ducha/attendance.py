"""Attendance (考勤) and the two-thirds rule (seed 三（二）).

A first secretary must be in the village on at least two-thirds of the
month's working days, rounded up (``ducha.workdays``). The office imports
each secretary's days from the 考勤表, as a monthly summary or one row per
day; the record sheet then prints the figure next to 第一书记 indicator 1,
and a shortfall is a finding whether or not the inspectors ticked the box.

The import reuses the registry's reader and its all-or-nothing rule: every
bad cell is named, and a file with any error imports nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ducha.db.models import AttendanceRecord, Village
from ducha.errors import CalendarError, DuchaError, RegistryImportError
from ducha.registry.export import write_sheets_xlsx
from ducha.registry.reader import RawTable, read_tables
from ducha.registry.sheets import CellError, ColumnSpec, SheetSpec, parse_cell
from ducha.rounds import parse_round_id, round_plan
from ducha.workdays import MonthWorkdays, holidays_path, month_workdays

TEMPLATE_COMMAND = "ducha attendance template"
TEMPLATE_HEADING = "第一书记考勤填表说明（用 ducha attendance import 文件 --round 轮次 导入）"
PRESENT_WORDS = frozenset({"在村", "在", "是", "√", "✓"})
ABSENT_WORDS = frozenset({"不在村", "不在", "否", "×", "✗", "离村"})
SOURCE_SUMMARY = "summary"
SOURCE_DAILY = "daily"
SOURCE_LABELS = {SOURCE_SUMMARY: "月汇总", SOURCE_DAILY: "逐日考勤"}

SUMMARY = SheetSpec(
    "summary",
    "考勤汇总",
    "每位第一书记一行：本月在村的工作日天数。与“逐日考勤”二选一，同一个村只能在一处填写。",
    (
        ColumnSpec("code", "村代码", "code", True, "12 位数字，须在台账中"),
        ColumnSpec("village", "村名", "text", False, "可不填；填了则须与村代码一致"),
        ColumnSpec("secretary", "第一书记", "name", False, "可不填；填了则须与台账一致"),
        ColumnSpec("days", "本月在村工作日天数", "int", True, "天，不能多于本月工作日总数（见 ducha calendar）"),
    ),
)

DAILY = SheetSpec(
    "daily",
    "逐日考勤",
    "每位第一书记每个工作日一行，填“在村”或“不在村”。只统计工作日；未填的工作日按不在村计。",
    (
        ColumnSpec("code", "村代码", "code", True, "12 位数字，须在台账中"),
        ColumnSpec("secretary", "第一书记", "name", False, "可不填；填了则须与台账一致"),
        ColumnSpec("date", "日期", "text", True, "本月的日期，例如 2015-08-03"),
        ColumnSpec("presence", "在村情况", "text", True, "“在村”或“不在村”"),
    ),
)

SPECS: tuple[SheetSpec, ...] = (SUMMARY, DAILY)


class AttendanceImportError(RegistryImportError):
    """An attendance file has bad cells; carries every problem, and nothing was imported."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        head = f"考勤导入失败，共 {len(problems)} 处错误，未导入任何数据：\n"
        DuchaError.__init__(self, head + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class ImportedAttendance:
    village_id: int
    code: str
    secretary: str | None
    days: int
    source: str


@dataclass
class AttendanceImportReport:
    round: str
    workdays: int
    required: int
    records: list[ImportedAttendance] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def short(self) -> list[ImportedAttendance]:
        return [r for r in self.records if r.days < self.required]


def round_workdays(root: Path, round_id: str) -> MonthWorkdays:
    year, month = parse_round_id(round_id)
    return month_workdays(year, month, holidays_path(root))


def required_days_or_none(root: Path, round_id: str) -> int | None:
    """The two-thirds minimum, or None when the calendar lacks the year (the sheet then prints a blank)."""
    try:
        return round_workdays(root, round_id).two_thirds
    except CalendarError:
        return None


def write_template(path: Path, session: Session | None = None, round_id: str | None = None) -> Path:
    """An empty attendance workbook; with a planned round, the summary lists its villages to fill in."""
    rows: list[dict[str, Any]] = []
    if session is not None and round_id is not None:
        plan = round_plan(session, round_id)
        secretaries = _secretaries(session, [v.id for v in plan.villages])
        rows = [
            {"code": v.code, "village": f"{v.county}{v.town}{v.name}", "secretary": secretaries.get(v.id)}
            for v in plan.villages
        ]
    return write_sheets_xlsx(path, {SUMMARY.key: rows}, SPECS, TEMPLATE_HEADING)


def _secretaries(session: Session, village_ids: list[int]) -> dict[int, str | None]:
    villages = session.scalars(
        select(Village).where(Village.id.in_(village_ids)).options(selectinload(Village.first_secretary))
    )
    return {v.id: (v.first_secretary.name if v.first_secretary else None) for v in villages}


def _cell(table: RawTable, row_no: int, column: ColumnSpec, raw: Any, problems: list[str]) -> Any:
    try:
        return parse_cell(column, raw)
    except CellError as error:
        shown = "" if raw is None else f"，实际为“{raw}”"
        problems.append(f"{table.where(row_no, column.key)}：{error}{shown}")
        return None


def _parse_date(raw: Any, year: int, month: int) -> dt.date:
    if isinstance(raw, dt.datetime):
        day = raw.date()
    elif isinstance(raw, dt.date):
        day = raw
    else:
        text = str(raw).strip().replace("/", "-").replace(".", "-")
        text = text.replace("年", "-").replace("月", "-").replace("日", "")
        try:
            parts = [int(p) for p in text.split("-")]
        except ValueError as exc:
            raise CellError("应为日期，例如 2015-08-03") from exc
        if len(parts) != 3:
            raise CellError("应为日期，例如 2015-08-03")
        try:
            day = dt.date(parts[0], parts[1], parts[2])
        except ValueError as exc:
            raise CellError("不是有效的日期") from exc
    if (day.year, day.month) != (year, month):
        raise CellError(f"不在 {year} 年 {month} 月内")
    return day


def _parse_presence(raw: Any) -> bool:
    text = str(raw).strip()
    if text in PRESENT_WORDS:
        return True
    if text in ABSENT_WORDS:
        return False
    raise CellError("应为“在村”或“不在村”")


@dataclass
class _Village:
    id: int
    name: str
    full_name: str
    secretary: str | None


def _check_village(
    table: RawTable,
    row_no: int,
    values: dict[str, Any],
    villages: dict[str, _Village],
    problems: list[str],
) -> _Village | None:
    code = values.get("code")
    if code is None:
        return None
    village = villages.get(code)
    if village is None:
        problems.append(f"{table.where(row_no, 'code')}：村代码“{code}”不在台账中")
        return None
    name = values.get("village")
    if name and name not in (village.name, village.full_name):
        problems.append(f"{table.where(row_no, 'village')}：村代码 {code} 是“{village.full_name}”，不是“{name}”")
    secretary = values.get("secretary")
    if village.secretary is None:
        problems.append(f"{table.where(row_no, 'code')}：台账中 {village.full_name} 没有第一书记，请先在台账中补充")
    elif secretary and secretary != village.secretary:
        problems.append(
            f"{table.where(row_no, 'secretary')}：台账中 {village.full_name} 的第一书记是“{village.secretary}”，"
            f"不是“{secretary}”"
        )
    return village


def read_attendance(
    session: Session, paths: list[Path], round_id: str, workdays: MonthWorkdays
) -> list[ImportedAttendance]:
    """Every first secretary's days in the file(s); raises AttendanceImportError naming every bad cell."""
    year, month = parse_round_id(round_id)
    try:
        tables, problems = read_tables(paths, SPECS, TEMPLATE_COMMAND)
    except RegistryImportError as error:
        raise AttendanceImportError(error.problems) from error
    villages = {
        v.code: _Village(v.id, v.name, f"{v.county}{v.town}{v.name}", v.first_secretary.name if v.first_secretary else None)
        for v in session.scalars(select(Village).options(selectinload(Village.first_secretary)))
    }
    working = set(workdays.days)
    summary: dict[str, tuple[str, int]] = {}  # code -> (where, days)
    daily: dict[str, dict[dt.date, tuple[str, bool]]] = {}
    first_daily_row: dict[str, str] = {}
    for table in tables:
        for raw in table.rows:
            before = len(problems)
            values = {
                c.key: _cell(table, raw.row_no, c, raw.cells.get(c.key), problems)
                for c in table.spec.columns
                if c.key in table.positions
            }
            village = _check_village(table, raw.row_no, values, villages, problems)
            where = f"{table.label}第 {raw.row_no} 行"
            if table.spec is SUMMARY:
                days = values.get("days")
                if days is not None and days > workdays.count:
                    problems.append(
                        f"{table.where(raw.row_no, 'days')}：{days} 天多于 {year} 年 {month} 月的工作日总数 {workdays.count} 天"
                    )
                if village is None or days is None or len(problems) > before:
                    continue
                code = values["code"]
                if code in summary:
                    problems.append(f"{table.where(raw.row_no, 'code')}：村代码 {code} 与{summary[code][0]}重复")
                    continue
                summary[code] = (where, int(days))
                continue
            day: dt.date | None = None
            present: bool | None = None
            if values.get("date") is not None:
                try:
                    day = _parse_date(raw.cells.get("date"), year, month)
                except CellError as error:
                    problems.append(f"{table.where(raw.row_no, 'date')}：{error}，实际为“{raw.cells.get('date')}”")
            if values.get("presence") is not None:
                try:
                    present = _parse_presence(raw.cells.get("presence"))
                except CellError as error:
                    problems.append(
                        f"{table.where(raw.row_no, 'presence')}：{error}，实际为“{raw.cells.get('presence')}”"
                    )
            if village is None or day is None or present is None or len(problems) > before:
                continue
            code = values["code"]
            by_day = daily.setdefault(code, {})
            first_daily_row.setdefault(code, where)
            if day in by_day:
                problems.append(f"{table.where(raw.row_no, 'date')}：{day.isoformat()} 与{by_day[day][0]}重复")
                continue
            by_day[day] = (where, present)
    for code in sorted(set(summary) & set(daily)):
        problems.append(f"{summary[code][0]}：村代码 {code} 同时出现在“逐日考勤”（{first_daily_row[code]}），只能填写一处")
    if not tables and not problems:
        problems.append("文件中没有可导入的考勤表（工作表应为“考勤汇总”或“逐日考勤”）")
    if problems:
        raise AttendanceImportError(problems)
    out = [
        ImportedAttendance(villages[code].id, code, villages[code].secretary, days, SOURCE_SUMMARY)
        for code, (_where, days) in summary.items()
    ]
    for code, by_day in daily.items():
        # Only working days count toward the rule; a weekend day in the village is not one of them.
        days = sum(1 for d, (_w, present) in by_day.items() if present and d in working)
        out.append(ImportedAttendance(villages[code].id, code, villages[code].secretary, days, SOURCE_DAILY))
    if not out:
        raise AttendanceImportError(["文件中没有任何考勤记录"])
    return out


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def import_attendance(
    session: Session, root: Path, paths: list[Path], round_id: str, now: dt.datetime | None = None
) -> AttendanceImportReport:
    """Check, then store every secretary's days for the round; a village imported again is updated in place."""
    workdays = round_workdays(root, round_id)
    records = read_attendance(session, paths, round_id, workdays)
    report = AttendanceImportReport(round_id, workdays.count, workdays.two_thirds, records)
    stamp = now or dt.datetime.now()
    sha = _sha256(paths)
    names = "、".join(p.name for p in paths)
    existing = {
        r.village_id: r for r in session.scalars(select(AttendanceRecord).where(AttendanceRecord.round == round_id))
    }
    for rec in records:
        row = existing.get(rec.village_id)
        if row is None:
            session.add(
                AttendanceRecord(
                    round=round_id, village_id=rec.village_id, secretary=rec.secretary, days_present=rec.days,
                    source=rec.source, file_name=names, file_sha256=sha, imported_at=stamp,
                )
            )
            report.created += 1
        elif (row.days_present, row.secretary, row.source) == (rec.days, rec.secretary, rec.source):
            report.unchanged += 1
        else:
            row.days_present, row.secretary, row.source = rec.days, rec.secretary, rec.source
            row.file_name, row.file_sha256, row.imported_at = names, sha, stamp
            report.updated += 1
    session.flush()
    return report


def attendance_days(session: Session, round_id: str) -> dict[int, int]:
    """Imported days in the village, by village id."""
    rows = session.execute(
        select(AttendanceRecord.village_id, AttendanceRecord.days_present).where(AttendanceRecord.round == round_id)
    )
    return {village_id: days for village_id, days in rows}


@dataclass(frozen=True)
class AttendanceShortfall:
    village_id: int
    county: str
    town: str
    village: str
    units: tuple[str, ...]
    secretary: str | None
    days: int
    required: int

    @property
    def place(self) -> str:
        return f"{self.county}{self.town}{self.village}"


@dataclass
class AttendanceFindings:
    """The two-thirds rule over a round's villages: who fell short, and where the 考勤 is missing."""

    round: str
    workdays: int
    required: int
    checked: int  # villages of the round with imported attendance
    short: list[AttendanceShortfall] = field(default_factory=list)
    missing: list[AttendanceShortfall] = field(default_factory=list)  # days = 0, not provided

    @property
    def provided(self) -> bool:
        return self.checked > 0

    def to_json(self) -> dict[str, Any]:
        def one(s: AttendanceShortfall) -> dict[str, Any]:
            return {"village": s.place, "secretary": s.secretary, "days": s.days, "units": list(s.units)}

        return {
            "round": self.round, "workdays": self.workdays, "required": self.required, "checked": self.checked,
            "short": [one(s) for s in self.short], "missing": [s.place for s in self.missing],
        }


def attendance_findings(session: Session, root: Path, round_id: str) -> AttendanceFindings:
    """The round's shortfalls against two-thirds of the working days, for the notice and the CLI."""
    plan = round_plan(session, round_id)
    workdays = round_workdays(root, round_id)
    days = attendance_days(session, round_id)
    secretaries = _secretaries(session, [v.id for v in plan.villages])
    result = AttendanceFindings(round_id, workdays.count, workdays.two_thirds, checked=0)
    for v in plan.villages:
        entry = AttendanceShortfall(
            v.id, v.county, v.town, v.name, tuple(v.units), secretaries.get(v.id), days.get(v.id, 0),
            workdays.two_thirds,
        )
        if v.id not in days:
            result.missing.append(entry)
            continue
        result.checked += 1
        if days[v.id] < workdays.two_thirds:
            result.short.append(entry)
    return result
