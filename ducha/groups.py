"""Inspection groups (督查组) per round: roster and the counties each covers.

Members change from round to round (动态调整), so a roster belongs to a
round. A round without its own roster takes the latest earlier one; the
copy is stored when the round is planned, so later edits to another
round's roster do not change a round already planned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ducha.counties import COUNTIES, canonical_county, county_order, short_name
from ducha.db.models import GroupCoverage, GroupMember
from ducha.errors import RegistryImportError, RoundError
from ducha.registry.reader import RawTable, read_tables
from ducha.registry.sheets import CellError, ColumnSpec, SheetSpec, parse_cell

ROLE_WORDS = {"组长": "leader", "成员": "member", "联络人": "liaison"}
ROLE_LABELS = {"leader": "组长", "member": "成员", "liaison": "联络人"}
ROLE_ORDER = {"leader": 0, "member": 1, "liaison": 2}
CHINESE_NUMERALS = "〇一二三四五六七八九十"
COUNTY_SEPARATORS = re.compile(r"[、，,；;/\s]+")

ROSTER = SheetSpec(
    "roster",
    "督查组名单",
    "每人一行。“督查县（区）”可只在每组第一行填写，多个县区用顿号分隔。联络人须填联系电话。",
    (
        ColumnSpec("group", "组别", "text", True, "第一组 或 1"),
        ColumnSpec("counties", "督查县（区）", "text", False, "例如：恩阳区、经开区"),
        ColumnSpec("role", "职务", "text", True, "组长、成员 或 联络人"),
        ColumnSpec("name", "姓名", "name", True, ""),
        ColumnSpec("title", "单位及职务", "unit", False, "例如：市委组织部组织一科副科长"),
        ColumnSpec("phone", "联系电话", "phone", False, "联络人必填"),
    ),
)


@dataclass(frozen=True)
class Member:
    role: str
    name: str
    title: str | None
    phone: str | None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


@dataclass
class Group:
    no: int
    counties: list[str]
    members: list[Member] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"第{group_numeral(self.no)}组"

    @property
    def counties_label(self) -> str:
        return "、".join(short_name(c) for c in self.counties)

    @property
    def leader(self) -> Member | None:
        return next((m for m in self.members if m.role == "leader"), None)

    @property
    def liaison(self) -> Member | None:
        return next((m for m in self.members if m.role == "liaison"), None)


@dataclass
class Roster:
    round: str
    source_round: str  # the round whose roster this is (itself, or an earlier one)
    groups: list[Group]

    def group_for_county(self, county: str) -> Group:
        for group in self.groups:
            if county in group.counties:
                return group
        raise RoundError(f"{self.source_round} 轮的督查组名单中没有哪个组负责“{county}”，请修改名单后重新导入")


def group_numeral(no: int) -> str:
    if 0 <= no <= 10:
        return CHINESE_NUMERALS[no]
    return str(no)


def _parse_group_no(text: str) -> int:
    raw = text.strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    match = re.fullmatch(r"第?([一二三四五六七八九十])组?", raw)
    if match:
        return CHINESE_NUMERALS.index(match.group(1))
    raise CellError("应为组号，例如“第一组”或“1”")


def _parse_counties(text: str) -> list[str]:
    counties = []
    for part in COUNTY_SEPARATORS.split(text.strip()):
        if not part:
            continue
        county = canonical_county(part)
        if county is None:
            raise CellError(f"“{part}”不是县（区），应为 " + "、".join(COUNTIES) + "（或“经开区”）")
        counties.append(county)
    return counties


def _parse_table(table: RawTable, problems: list[str], groups: dict[int, Group], where_group: dict[int, str]) -> None:
    for raw in table.rows:
        values: dict[str, Any] = {}
        ok = True
        for column in ROSTER.columns:
            if column.key not in table.positions:
                values[column.key] = None
                continue
            try:
                value = parse_cell(column, raw.cells.get(column.key))
                if value is not None and column.key == "group":
                    value = _parse_group_no(value)
                elif value is not None and column.key == "counties":
                    value = _parse_counties(value)
                elif value is not None and column.key == "role":
                    role = ROLE_WORDS.get(value.replace("（", "").replace("）", "").strip())
                    if role is None:
                        raise CellError("应为“组长”“成员”或“联络人”")
                    value = role
                values[column.key] = value
            except CellError as error:
                problems.append(f"{table.where(raw.row_no, column.key)}：{error}，实际为“{raw.cells.get(column.key)}”")
                ok = False
        if not ok:
            continue
        if values["role"] == "liaison" and not values["phone"]:
            problems.append(f"{table.where(raw.row_no, 'name')}：联络人“{values['name']}”必须填写联系电话")
        group = groups.setdefault(values["group"], Group(no=values["group"], counties=[]))
        where_group.setdefault(values["group"], f"{table.label}第 {raw.row_no} 行")
        if values["counties"]:
            if group.counties and group.counties != values["counties"]:
                problems.append(f"{table.where(raw.row_no, 'counties')}：与本组前面行填写的督查县（区）不一致")
            group.counties = values["counties"]
        if any(m.name == values["name"] for m in group.members):
            problems.append(f"{table.where(raw.row_no, 'name')}：“{values['name']}”在{group.label}中重复")
            continue
        group.members.append(Member(values["role"], values["name"], values["title"], values["phone"]))


def read_roster_files(paths: list[Path]) -> list[Group]:
    tables, problems = read_tables(paths, (ROSTER,))
    groups: dict[int, Group] = {}
    where_group: dict[int, str] = {}
    for table in tables:
        _parse_table(table, problems, groups, where_group)
    covered: dict[str, int] = {}
    for no in sorted(groups):
        group = groups[no]
        if not group.counties:
            problems.append(f"{where_group[no]}起的{group.label}：没有填写督查县（区）")
        if sum(m.role == "leader" for m in group.members) != 1:
            problems.append(f"{group.label}：应有且只有一名组长")
        if not any(m.role == "liaison" for m in group.members):
            problems.append(f"{group.label}：没有联络人")
        for county in group.counties:
            if county in covered:
                problems.append(f"{group.label}：{county}已由第{group_numeral(covered[county])}组负责")
            covered[county] = no
    if groups:
        missing = [c for c in COUNTIES if c not in covered]
        if missing:
            problems.append("以下县（区）没有督查组负责：" + "、".join(missing))
    elif not problems:
        problems.append("名单中没有任何人员")
    if problems:
        raise RegistryImportError(problems)
    return [groups[no] for no in sorted(groups)]


def _store(session: Session, round_id: str, groups: list[Group]) -> None:
    session.execute(delete(GroupMember).where(GroupMember.round == round_id))
    session.execute(delete(GroupCoverage).where(GroupCoverage.round == round_id))
    session.flush()
    for group in groups:
        for county in group.counties:
            session.add(GroupCoverage(round=round_id, county=county, group_no=group.no))
        ordered = sorted(group.members, key=lambda m: ROLE_ORDER[m.role])
        for position, member in enumerate(ordered):
            session.add(
                GroupMember(
                    round=round_id,
                    group_no=group.no,
                    role=member.role,
                    name=member.name,
                    title=member.title,
                    phone=member.phone,
                    position=position,
                )
            )
    session.flush()


def import_roster(session: Session, round_id: str, paths: list[Path]) -> Roster:
    """Replace the round's roster with the file's; all-or-nothing like the registry."""
    groups = read_roster_files(paths)
    _store(session, round_id, groups)
    found = roster_of(session, round_id)
    assert found is not None
    return found


def roster_of(session: Session, round_id: str) -> Roster | None:
    """The round's own roster, or None."""
    coverage = list(session.scalars(select(GroupCoverage).where(GroupCoverage.round == round_id)))
    if not coverage:
        return None
    groups: dict[int, Group] = {}
    for row in sorted(coverage, key=lambda c: county_order(c.county)):
        groups.setdefault(row.group_no, Group(no=row.group_no, counties=[])).counties.append(row.county)
    members = session.scalars(
        select(GroupMember).where(GroupMember.round == round_id).order_by(GroupMember.group_no, GroupMember.position)
    )
    for m in members:
        groups.setdefault(m.group_no, Group(no=m.group_no, counties=[])).members.append(
            Member(m.role, m.name, m.title, m.phone)
        )
    return Roster(round=round_id, source_round=round_id, groups=[groups[no] for no in sorted(groups)])


def effective_roster(session: Session, round_id: str) -> Roster:
    """The round's roster, else the latest earlier round's."""
    own = roster_of(session, round_id)
    if own is not None:
        return own
    earlier = session.scalars(
        select(GroupCoverage.round).where(GroupCoverage.round < round_id).order_by(GroupCoverage.round.desc()).limit(1)
    ).first()
    if earlier is None:
        raise RoundError(
            f"{round_id} 轮及以前都没有督查组名单，请先运行：ducha groups import 名单.xlsx --round {round_id}"
        )
    previous = roster_of(session, earlier)
    assert previous is not None
    return Roster(round=round_id, source_round=earlier, groups=previous.groups)


def ensure_roster(session: Session, round_id: str) -> Roster:
    """The effective roster, stored under the round so the plan keeps it."""
    roster = effective_roster(session, round_id)
    if roster.source_round != round_id:
        _store(session, round_id, roster.groups)
    return roster
