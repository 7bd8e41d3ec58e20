"""Printing a round's awareness surveys (知晓率调查表): one page per village, one PDF per group.

The survey is a described form (``forms.survey``); it carries the same
kind of signed QR ID as the record sheet, with its own form type, so a
returned page is matched to the survey this workspace printed
(``IssuedSheet`` with form ID ``round-village-AW1``).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ducha.db.models import IssuedSheet, Village
from ducha.errors import RoundError
from ducha.rounds import PlannedVillage, round_plan
from ducha.sheets import _safe
from ducha.workspace import Workspace
from forms.errors import ConversionError, FormDefinitionError
from forms.form_spec import FormSpec, form_spec, typed_form_id
from forms.survey import SURVEY_FORM_TYPE
from generator.fast_template import FilledBody
from generator.form_template import FormData, fill_form, join_forms, page_differences
from generator.measure import placements_and_texts
from generator.pdf_convert import convert_to_pdf
from generator.record_sheet import group_label, round_label


@dataclass
class IssuedForm:
    village_id: int
    village: str
    form_id: str
    group: int
    docx: Path
    pdf: Path
    pdf_page: int


@dataclass
class FormsReport:
    round: str
    form_type: str
    forms: list[IssuedForm] = field(default_factory=list)
    group_pdfs: dict[int, Path] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "form_type": self.form_type,
            "forms": [
                {"village_id": f.village_id, "form_id": f.form_id, "group": f.group, "docx": str(f.docx),
                 "pdf": str(f.pdf), "pdf_page": f.pdf_page}
                for f in self.forms
            ],
            "group_pdfs": {str(g): str(p) for g, p in self.group_pdfs.items()},
        }


def _form_data(village: Village, planned: PlannedVillage, round_id: str) -> FormData:
    return FormData(
        round=round_id, village_code=village.code, county=village.county, town=village.town, village=village.name,
        group_label=group_label(planned.group), round_label=round_label(round_id), sponsor_units=tuple(planned.units),
        secretary=village.first_secretary.name if village.first_secretary else None,
        team_leader=village.team.leader if village.team else None,
    )


def _check_pages(pdf: Path, payloads: list[str], spec: FormSpec) -> None:
    """Each page is its own village's form, with every box drawn: a wrong page must never print."""
    pages, texts = placements_and_texts(pdf)
    for index, (payload, page, text) in enumerate(zip(payloads, pages, texts)):
        if payload not in text.replace("\r", "").replace("\n", ""):
            raise ConversionError(f"{pdf.name} 第{index + 1}页不是编号为 {payload} 的{spec.file_label}，页序错乱")
        try:
            moved = page_differences(spec, page)
        except FormDefinitionError as exc:
            raise ConversionError(f"{pdf.name} 第{index + 1}页：{exc}") from exc
        if moved:
            shown = "、".join(f"{k}（{v:.2f} 毫米）" for k, v in sorted(moved.items())[:5])
            raise ConversionError(
                f"{pdf.name} 第{index + 1}页的方框与版式不符：{shown}；请重新测量版式"
                f"（python -m generator.form_template {spec.form_type}）"
            )


def issue_forms(
    workspace: Workspace,
    session: Session,
    round_id: str,
    form_type: str = SURVEY_FORM_TYPE,
    group: int | None = None,
    out_dir: Path | None = None,
) -> FormsReport:
    """Fill, convert and record one form per village of the round (or of one group)."""
    spec = form_spec(form_type)
    if spec is None:
        raise RoundError(f"未知的表式：{form_type}")
    plan = round_plan(session, round_id)
    villages = [v for v in plan.villages if group is None or v.group == group]
    if not villages:
        raise RoundError(f"{round_id} 轮{'第' + str(group) + '组' if group else ''}没有安排督查村，无表可印")
    rows = {
        v.id: v
        for v in session.scalars(
            select(Village).where(Village.id.in_([p.id for p in villages]))
            .options(selectinload(Village.team), selectinload(Village.first_secretary))
        )
    }
    key = workspace.key()
    base = (out_dir or workspace.output_dir("sheets") / round_id).resolve()
    report = FormsReport(round_id, form_type)
    by_group: dict[int, list[tuple[PlannedVillage, Path, str]]] = {}
    bodies: dict[int, FilledBody] = {}
    for planned in villages:
        fid = typed_form_id(round_id, planned.code, form_type)
        folder = base / f"{round_id}-{group_label(planned.group)}-{spec.file_label}"
        docx = folder / f"{planned.visit_order:03d}-{_safe(planned.name)}-{fid}.docx"
        payload, body = fill_form(spec, _form_data(rows[planned.id], planned, round_id), key, docx)
        by_group.setdefault(planned.group, []).append((planned, docx, payload))
        bodies[planned.id] = body
    now = dt.datetime.now()
    with tempfile.TemporaryDirectory(prefix="ducha-forms-") as tmp_name:
        tmp = Path(tmp_name)
        for grp, items in sorted(by_group.items()):
            docs = [docx for _p, docx, _payload in items]
            # One document per group: LibreOffice's start-up is paid once, not once per village.
            merged = join_forms(spec, [bodies[p.id] for p, _d, _payload in items], tmp / f"group-{grp}.docx")
            [joined] = convert_to_pdf([merged], tmp / str(grp), expected_pages={merged: len(docs)})
            group_pdf = base / f"{round_id}-{group_label(grp)}-{spec.file_label}.pdf"
            _check_pages(joined, [payload for _p, _d, payload in items], spec)
            group_pdf.parent.mkdir(parents=True, exist_ok=True)
            joined.replace(group_pdf)
            report.group_pdfs[grp] = group_pdf
            for page_no, (planned, docx, _payload) in enumerate(items, start=1):
                info = IssuedForm(planned.id, planned.name, typed_form_id(round_id, planned.code, form_type), grp,
                                  docx, group_pdf, page_no)
                _record(session, round_id, spec, info, now)
                report.forms.append(info)
    session.flush()
    return report


def _record(session: Session, round_id: str, spec: FormSpec, info: IssuedForm, now: dt.datetime) -> None:
    row = session.get(IssuedSheet, info.form_id)
    if row is None:
        row = IssuedSheet(form_id=info.form_id)
        session.add(row)
    row.round = round_id
    row.village_id = info.village_id
    row.group_no = info.group
    row.layout_version = spec.form_type
    row.pages = 1
    row.rectification_item_ids = []
    row.docx_path = str(info.docx)
    row.pdf_path = str(info.pdf)
    row.pdf_pages = [info.pdf_page]
    row.issued_at = now
