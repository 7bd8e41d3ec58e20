"""Registry import: check every cell first, then write everything or nothing.

Rows are matched to the database by natural key (village code, unit name),
so importing the same file twice changes nothing and a changed file updates
in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ducha.db.models import FirstSecretary, SponsorUnit, Village, VillageUnit, WorkTeam
from ducha.errors import RegistryImportError
from ducha.registry.reader import RawTable, read_tables
from ducha.registry.sheets import LINKS, SECRETARIES, SHEETS, TEAMS, UNITS, VILLAGES, CellError, parse_cell

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class SheetCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    counts: dict[str, SheetCounts] = field(default_factory=dict)

    def sheet(self, title: str) -> SheetCounts:
        return self.counts.setdefault(title, SheetCounts())

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in self.counts.values())


@dataclass
class _Row:
    where: str  # the row's place, for messages about the row as a whole
    values: dict[str, Any]
    table: RawTable
    row_no: int


@dataclass
class _Parsed:
    villages: dict[str, _Row] = field(default_factory=dict)
    units: dict[str, _Row] = field(default_factory=dict)
    links: dict[str, list[_Row]] = field(default_factory=dict)
    teams: dict[str, _Row] = field(default_factory=dict)
    secretaries: dict[str, _Row] = field(default_factory=dict)
    # Keys of rows that were themselves wrong: rows pointing at them are not
    # reported again, so the user sees each mistake once.
    broken_keys: set[str] = field(default_factory=set)


def _parse_rows(table: RawTable, problems: list[str], broken_keys: set[str]) -> list[_Row]:
    rows = []
    for raw in table.rows:
        values: dict[str, Any] = {}
        ok = True
        for column in table.spec.columns:
            if column.key not in table.positions:
                values[column.key] = None
                continue
            try:
                values[column.key] = parse_cell(column, raw.cells.get(column.key))
            except CellError as error:
                raw_text = raw.cells.get(column.key)
                shown = "" if raw_text is None else f"，实际为“{raw_text}”"
                problems.append(f"{table.where(raw.row_no, column.key)}：{error}{shown}")
                ok = False
        if ok:
            rows.append(_Row(f"{table.label}第 {raw.row_no} 行", values, table, raw.row_no))
        elif table.spec in (VILLAGES, UNITS):
            key = values.get("code" if table.spec is VILLAGES else "name")
            if key:
                broken_keys.add(key)
    return rows


def _check_row_rules(row: _Row, problems: list[str]) -> None:
    spec, v = row.table.spec, row.values
    if spec is VILLAGES and v["poor_population"] > v["population"]:
        problems.append(
            f"{row.table.where(row.row_no, 'poor_population')}：贫困人数 {v['poor_population']} 多于总人口 {v['population']}"
        )
    if spec is UNITS:
        if v["level"] == "county" and v["county"] is None:
            problems.append(f"{row.table.where(row.row_no, 'county')}：县级单位必须填写所属县（区）")
        if v["level"] == "city" and v["county"] is not None:
            problems.append(f"{row.table.where(row.row_no, 'county')}：市级单位不填所属县（区）")


def _collect(tables: list[RawTable], problems: list[str]) -> _Parsed:
    parsed = _Parsed()
    keyed = {
        VILLAGES.key: parsed.villages,
        UNITS.key: parsed.units,
        TEAMS.key: parsed.teams,
        SECRETARIES.key: parsed.secretaries,
    }
    key_column = {VILLAGES.key: "code", UNITS.key: "name", TEAMS.key: "code", SECRETARIES.key: "code"}
    seen_links: dict[tuple[str, str], _Row] = {}
    for table in tables:
        for row in _parse_rows(table, problems, parsed.broken_keys):
            _check_row_rules(row, problems)
            spec = table.spec
            if spec is LINKS:
                pair = (row.values["code"], row.values["unit"])
                if pair in seen_links:
                    problems.append(f"{row.where}：与{seen_links[pair].where}重复（同一村、同一帮扶单位）")
                    continue
                seen_links[pair] = row
                parsed.links.setdefault(row.values["code"], []).append(row)
                continue
            target = keyed[spec.key]
            column = key_column[spec.key]
            key = row.values[column]
            if key in target:
                problems.append(f"{row.table.where(row.row_no, column)}：“{key}”与{target[key].where}重复")
                continue
            target[key] = row
    return parsed


def _check_references(session: Session, parsed: _Parsed, problems: list[str]) -> None:
    db_villages = {code: name for code, name in session.execute(select(Village.code, Village.name))}
    db_units = set(session.scalars(select(SponsorUnit.name)))
    village_names = {**db_villages, **{code: r.values["name"] for code, r in parsed.villages.items()}}
    unit_names = db_units | set(parsed.units)
    village_names.update({key: "" for key in parsed.broken_keys if key not in village_names})
    unit_names |= parsed.broken_keys
    for rows in parsed.links.values():
        for row in rows:
            code, unit = row.values["code"], row.values["unit"]
            if code not in village_names:
                problems.append(f"{row.table.where(row.row_no, 'code')}：村代码“{code}”不在“贫困村”表或已有台账中")
            elif (
                row.values["village_name"] and village_names[code] and row.values["village_name"] != village_names[code]
            ):
                problems.append(
                    f"{row.table.where(row.row_no, 'village_name')}：村代码 {code} 是“{village_names[code]}”，"
                    f"不是“{row.values['village_name']}”"
                )
            if unit not in unit_names:
                problems.append(f"{row.table.where(row.row_no, 'unit')}：帮扶单位“{unit}”不在“帮扶单位”表或已有台账中")
    for table_rows in (parsed.teams, parsed.secretaries):
        for code, row in table_rows.items():
            if code not in village_names:
                problems.append(f"{row.table.where(row.row_no, 'code')}：村代码“{code}”不在“贫困村”表或已有台账中")


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for attr, value in values.items():
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)
            changed = True
    return changed


def _upsert(
    session: Session,
    report: ImportReport,
    title: str,
    existing: Any,
    factory: Callable[[], Any],
    values: dict[str, Any],
) -> Any:
    counts = report.sheet(title)
    if existing is None:
        obj = factory()
        _assign(obj, values)
        session.add(obj)
        counts.created += 1
        return obj
    if _assign(existing, values):
        counts.updated += 1
    else:
        counts.unchanged += 1
    return existing


def _new_village() -> Village:
    # Set the relationships now, so that reading them after a flush does not
    # lazy-load once per village (thousands of round trips on PostgreSQL).
    return Village(units=[], team=None, first_secretary=None)


def _apply(session: Session, parsed: _Parsed, progress: ProgressCallback | None) -> ImportReport:
    report = ImportReport()
    villages = {
        v.code: v
        for v in session.scalars(
            select(Village).options(
                selectinload(Village.units), selectinload(Village.team), selectinload(Village.first_secretary)
            )
        )
    }
    units = {u.name: u for u in session.scalars(select(SponsorUnit))}
    total = len(parsed.villages) + len(parsed.units) + len(parsed.links) + len(parsed.teams) + len(parsed.secretaries)
    done = 0

    def tick(title: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(title, done, total)

    for code, row in parsed.villages.items():
        v = row.values
        villages[code] = _upsert(
            session,
            report,
            VILLAGES.title,
            villages.get(code),
            _new_village,
            {
                "code": code,
                "county": v["county"],
                "town": v["town"],
                "name": v["name"],
                "population": v["population"],
                "poor_population": v["poor_population"],
                "income_last_year_yuan": v["income"],
            },
        )
        tick(VILLAGES.title)
    for name, row in parsed.units.items():
        v = row.values
        units[name] = _upsert(
            session,
            report,
            UNITS.title,
            units.get(name),
            SponsorUnit,
            {
                "name": name,
                "level": v["level"],
                "county": v["county"],
                "sort_order": v.get("sort_order"),
            },
        )
        tick(UNITS.title)
    session.flush()
    for code, rows in parsed.links.items():
        village = villages[code]
        wanted = [units[row.values["unit"]] for row in rows]
        have = {link.unit.name for link in village.units}
        counts = report.sheet(LINKS.title)
        if have == {u.name for u in wanted}:
            counts.unchanged += 1
        else:
            counts.updated += 1 if have else 0
            counts.created += 0 if have else 1
            wanted_names = {u.name for u in wanted}
            for link in [link for link in village.units if link.unit.name not in wanted_names]:
                village.units.remove(link)
            village.units.extend(VillageUnit(unit=u) for u in wanted if u.name not in have)
        tick(LINKS.title)
    for code, row in parsed.teams.items():
        village = villages[code]
        v = row.values
        village.team = _upsert(
            session, report, TEAMS.title, village.team, WorkTeam, {"size": v["size"], "leader": v["leader"]}
        )
        tick(TEAMS.title)
    for code, row in parsed.secretaries.items():
        village = villages[code]
        v = row.values
        village.first_secretary = _upsert(
            session,
            report,
            SECRETARIES.title,
            village.first_secretary,
            FirstSecretary,
            {
                "name": v["name"],
                "unit": v["unit"],
                "phone": v["phone"],
            },
        )
        tick(SECRETARIES.title)
    session.flush()
    return report


def import_files(session: Session, paths: list[Path], progress: ProgressCallback | None = None) -> ImportReport:
    """Check then write. Raises RegistryImportError listing every problem; the caller's
    transaction is then rolled back, so nothing is imported."""
    tables, problems = read_tables(paths, SHEETS)
    parsed = _collect(tables, problems)
    _check_references(session, parsed, problems)
    if not tables and not problems:
        problems.append("文件中没有可导入的表")
    if problems:
        raise RegistryImportError(problems)
    return _apply(session, parsed, progress)
