"""Printing a round's record sheets: one .docx per village, one PDF per group.

Gathers each village's data from the database, has ``generator`` fill the
templates and convert them, checks every sheet's geometry against the
stored layout, and records what was issued (``IssuedSheet``), so that a
returned scan can be matched to a sheet this workspace printed.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ducha.attendance import attendance_days, required_days_or_none
from ducha.counties import short_name
from ducha.db.models import IssuedSheet, Village
from ducha.errors import RoundError
from ducha.groups import Group
from ducha.rectification import open_items
from ducha.rounds import PlannedVillage, RoundPlan, round_plan
from ducha.workspace import Workspace
from forms.qr_payload import form_id as make_form_id
from forms.record_sheet import LAYOUT_VERSION
from generator.batch import render_and_convert
from generator.group_cover import CoverData, CoverMember, CoverVillage, render_cover
from generator.group_pdf import Part, assemble
from generator.record_sheet import RectificationLine, RenderedSheet, SheetData, group_label, round_label

SAFE_NAME_RE = re.compile(r"[\\/:*?\"<>|\s]+")


@dataclass
class IssuedInfo:
    village_id: int
    village: str
    form_id: str
    docx: Path
    group: int
    pdf: Path
    pdf_pages: list[int]


@dataclass
class GroupPdf:
    group: int
    pdf: Path
    pages: int


@dataclass
class SheetsReport:
    round: str
    sheets: list[IssuedInfo] = field(default_factory=list)
    group_pdfs: list[GroupPdf] = field(default_factory=list)
    # Chinese lines: a village and what its sheet lacks.
    warnings: list[str] = field(default_factory=list)
    # Chinese lines about how the run went (e.g. a slower fallback), not about the data.
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "sheets": [
                {
                    "village_id": s.village_id, "form_id": s.form_id, "docx": str(s.docx), "group": s.group,
                    "pdf": str(s.pdf), "pdf_pages": s.pdf_pages,
                }
                for s in self.sheets
            ],
            "group_pdfs": [{"group": g.group, "pdf": str(g.pdf), "pages": g.pages} for g in self.group_pdfs],
            "warnings": self.warnings,
            "notes": self.notes,
        }


def _safe(text: str) -> str:
    return SAFE_NAME_RE.sub("_", text).strip("_") or "_"


def _sheet_data(
    session: Session,
    round_id: str,
    planned: PlannedVillage,
    attendance: dict[int, int] | None = None,
    attendance_required: int | None = None,
) -> SheetData:
    village = session.scalars(
        select(Village)
        .where(Village.id == planned.id)
        .options(selectinload(Village.team), selectinload(Village.first_secretary))
    ).one()
    items = open_items(session, village_id=village.id, before_round=round_id)
    team, secretary = village.team, village.first_secretary
    return SheetData(
        round=round_id,
        village_code=village.code,
        village=village.name,
        county=village.county,
        town=village.town,
        group_no=planned.group,
        sponsor_units=tuple(planned.units),
        team_size=team.size if team else None,
        team_leader=team.leader if team else None,
        secretary=secretary.name if secretary else None,
        population=village.population,
        poor_population=village.poor_population,
        income_yuan=village.income_last_year_yuan,
        attendance_days=(attendance or {}).get(village.id),
        attendance_required=attendance_required,
        rectification=tuple(
            RectificationLine(
                item_id=item.id, indicator_key=item.indicator_key, description=item.description,
                origin_round=item.origin_round, deadline=item.deadline,
            )
            for item in items
        ),
    )


def _cover(plan: RoundPlan, group: Group, villages: Sequence[PlannedVillage]) -> CoverData:
    d = plan.dates
    return CoverData(
        round_label=round_label(plan.round),
        group_label=group.label,
        counties=group.counties_label,
        dates=f"{d.start.year}年{d.start.month}月{d.start.day}日至{d.end.month}月{d.end.day}日",
        members=[CoverMember(m.role_label, m.name, m.title or "", m.phone or "") for m in group.members],
        villages=[
            CoverVillage(v.visit_order, short_name(v.county), v.town, v.name, "、".join(v.units), v.reason_label)
            for v in villages
        ],
    )


def _warnings(rendered: Sequence[RenderedSheet]) -> list[str]:
    lines = []
    for sheet in rendered:
        where = f"{sheet.data.county}{sheet.data.town}{sheet.data.village}（{sheet.form_id}）"
        if sheet.gaps:
            lines.append(f"{where}：台账缺少 {'、'.join(sheet.gaps)}，表上留空")
        if sheet.overflow_item_ids:
            lines.append(
                f"{where}：待复查整改事项过多，第2页只列出前 {len(sheet.rectification_item_ids)} 项，"
                f"其余 {len(sheet.overflow_item_ids)} 项（编号 {'、'.join(map(str, sheet.overflow_item_ids))}）请另行复查"
            )
    return lines


def _upsert(session: Session, round_id: str, sheet: RenderedSheet, info: IssuedInfo, now: dt.datetime) -> None:
    row = session.get(IssuedSheet, info.form_id)
    if row is None:
        row = IssuedSheet(form_id=info.form_id)
        session.add(row)
    row.round = round_id
    row.village_id = info.village_id
    row.group_no = info.group
    row.layout_version = LAYOUT_VERSION
    row.pages = sheet.pages
    row.rectification_item_ids = list(sheet.rectification_item_ids)
    row.docx_path = str(info.docx)
    row.pdf_path = str(info.pdf)
    row.pdf_pages = list(info.pdf_pages)
    row.issued_at = now


def issue_sheets(
    workspace: Workspace,
    session: Session,
    round_id: str,
    group: int | None = None,
    out_dir: Path | None = None,
    workers: int | None = None,
) -> SheetsReport:
    plan = round_plan(session, round_id)
    groups = [g for g in plan.roster.groups if group is None or g.no == group]
    if group is not None and not groups:
        raise RoundError(f"{round_id} 轮没有第{group}组，现有：{'、'.join(g.label for g in plan.roster.groups)}")
    key = workspace.key()
    base = (out_dir or workspace.output_dir("sheets") / round_id).resolve()
    report = SheetsReport(round=round_id)
    todo: list[tuple[Group, list[PlannedVillage]]] = [(g, plan.villages_of_group(g.no)) for g in groups]
    todo = [(g, vs) for g, vs in todo if vs]
    if not todo:
        raise RoundError(f"{round_id} 轮{'第' + str(group) + '组' if group else ''}没有安排督查村，无表可印")

    covers: dict[int, Path] = {}
    names: dict[str, Path] = {}
    attendance, attendance_required = attendance_days(session, round_id), required_days_or_none(workspace.root, round_id)
    sheet_data: list[SheetData] = []
    with tempfile.TemporaryDirectory(prefix="ducha-sheets-") as tmp_name:
        tmp = Path(tmp_name)
        for grp, villages in todo:
            folder = base / f"{round_id}-{group_label(grp.no)}"
            for planned in villages:
                data = _sheet_data(session, round_id, planned, attendance, attendance_required)
                fid = make_form_id(round_id, planned.code)
                names[fid] = folder / f"{planned.visit_order:03d}-{_safe(planned.name)}-{fid}.docx"
                sheet_data.append(data)
            covers[grp.no] = render_cover(_cover(plan, grp, villages), tmp / f"cover-{grp.no}.docx")

        outputs, cover_pdfs = render_and_convert(
            sheet_data, key, lambda d: names[make_form_id(d.round, d.village_code)], tmp / "pdf",
            extra_docs=list(covers.values()), workers=workers, notes=report.notes,
        )
        rendered = [o.rendered for o in outputs]

        now = dt.datetime.now()
        for grp, villages in todo:
            mine = [o for o in outputs if o.rendered.data.group_no == grp.no]
            group_pdf = base / f"{round_id}-{group_label(grp.no)}-督查记实表.pdf"
            parts: list[Part] = [cover_pdfs[covers[grp.no]]]
            parts += [(o.pdf, o.page_indices) for o in mine]
            placed, total = assemble(parts, group_pdf)
            report.group_pdfs.append(GroupPdf(grp.no, group_pdf, total))
            for out, pages, planned in zip(mine, placed[1:], villages):
                sheet = out.rendered
                info = IssuedInfo(
                    village_id=planned.id, village=planned.name, form_id=sheet.form_id, docx=sheet.docx,
                    group=grp.no, pdf=group_pdf, pdf_pages=pages,
                )
                _upsert(session, round_id, sheet, info, now)
                report.sheets.append(info)
    session.flush()
    report.warnings = _warnings(rendered)
    return report
