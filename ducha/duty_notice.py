"""The notice's text on the duties beyond the record sheet (issue 18).

Three facts the record sheet cannot give, each from its own service:
知晓率 from the surveys (``ducha.awareness``, seed 三（八）), the two-thirds
rule from the imported attendance (``ducha.attendance``, 三（二）), and
which counties sent their self-inspection report late or not at all
(``ducha.county_reports``, 六（一）). ``duty_notice_facts`` hands them to the
notice: 知晓率 as the figures of aspect (八), attendance as a note under
aspect (二), late or missing reports as a paragraph, and ``duty_table`` as a
summary table in attachment 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ducha.attendance import AttendanceFindings, attendance_findings
from ducha.awareness import AwarenessFindings, awareness_findings
from ducha.counties import COUNTIES, county_order, short_name
from ducha.county_reports import CountyReportsStatus, county_reports_sentence, county_reports_status
from ducha.errors import CalendarError
from ducha.findings import AspectFigures
from generator.notice_docx import Block, Table

INLINE_NAMES_MAX = 10


@dataclass(frozen=True)
class DutyFacts:
    awareness: AwarenessFindings
    attendance: AttendanceFindings | None  # None: no calendar for the month
    counties: CountyReportsStatus


def load_duty_facts(session: Session, root: Path, round_id: str, as_of: dt.date) -> DutyFacts:
    try:
        attendance: AttendanceFindings | None = attendance_findings(session, root, round_id)
    except CalendarError:
        attendance = None
    return DutyFacts(
        awareness=awareness_findings(session, round_id),
        attendance=attendance,
        counties=county_reports_status(session, root, round_id, as_of),
    )


def _names(items: list[str], measure: str) -> str:
    if len(items) <= INLINE_NAMES_MAX:
        return "、".join(items)
    return "、".join(items[:INLINE_NAMES_MAX]) + f"等{len(items)}{measure}"


def _ref(place: str, units: tuple[str, ...]) -> str:
    return f"{place}（{'、'.join(units)}）" if units else place


def awareness_text(a: AwarenessFindings) -> str:
    if a.overall_pct is None:
        return "本次督查未收回知晓率调查表，知晓率未能测算。"
    text = (
        f"督查组在{len(a.measured)}个村入户调查党员群众{a.respondents}人，"
        f"知道本村第一书记和驻村工作队的{a.aware}人，知晓率为{a.overall_pct:.1f}%"
    )
    below = a.below
    if below:
        refs = [_ref(v.place, v.units) + f"{v.rate_pct:.1f}%" for v in below]
        text += f"。{len(below)}个村知晓率低于{a.min_pct:g}%：{_names(refs, '个村')}。"
    else:
        text += f"，各村知晓率均不低于{a.min_pct:g}%。"
    pending = a.of_status("review")
    missing = a.of_status("missing")
    if pending:
        text += f"另有{len(pending)}个村的调查表待复核，未计入。"
    if missing:
        text += f"{len(missing)}个村未交回知晓率调查表：{_names([v.place for v in missing], '个村')}。"
    return text


def attendance_text(t: AttendanceFindings | None) -> str:
    if t is None:
        return "本月工作日数据缺失，第一书记驻村天数未能核对。"
    if not t.provided:
        return "各村未提供第一书记考勤，第一书记驻村天数未能核对。"
    text = f"本月工作日{t.workdays}天，第一书记驻村工作日应不少于{t.required}天。据考勤，督查的{t.checked}个村中，"
    if t.short:
        refs = [_ref(s.place, s.units) + f"第一书记{s.secretary or ''}在村{s.days}天" for s in t.short]
        text += f"{len(t.short)}名第一书记驻村天数不足：{_names(refs, '名')}。"
    else:
        text += "第一书记驻村天数均达到要求。"
    if t.missing:
        text += f"{len(t.missing)}个村未提供第一书记考勤：{_names([m.place for m in t.missing], '个村')}。"
    return text


def duty_table(facts: DutyFacts) -> tuple[Block | Table, ...]:
    """Per county: surveys, 知晓率, villages below 60%, secretaries short of 2/3, and the self-inspection report."""
    rows = []
    a, t = facts.awareness, facts.attendance
    report_state = {c.county: c.label for c in facts.counties.counties}
    for county in sorted(COUNTIES, key=county_order):
        mine = [v for v in a.measured if v.county == county]
        respondents = sum(v.respondents for v in mine)
        aware = sum(v.aware for v in mine)
        rate = f"{100.0 * aware / respondents:.1f}%" if respondents else "—"
        short = "—" if t is None or not t.provided else str(sum(1 for s in t.short if s.county == county))
        rows.append((short_name(county), str(len(mine)), str(respondents), rate,
                     str(sum(1 for v in mine if v.below_min)), short, report_state.get(county, "")))
    overall = "—" if a.overall_pct is None else f"{a.overall_pct:.1f}%"
    short_total = "—" if t is None or not t.provided else str(len(t.short))
    rows.append(("合计", str(len(a.measured)), str(a.respondents), overall, str(len(a.below)), short_total, ""))
    header = ("县（区）", "调查村数", "调查人数", "知晓率", "知晓率未达标村数", "驻村天数不足人数", "自查报告")
    return (Block("h1", "三、知晓率、第一书记驻村天数和自查报告情况"), Table(header, tuple(rows)))


AWARENESS_ASPECT = 8  # seed 三（八）
ATTENDANCE_ASPECT = 2  # seed 三（二）


def duty_notice_facts(facts: DutyFacts) -> dict[str, Any]:
    """The notice's fields for these duties: (八) from the surveys, a note under (二), the counties' reports.

    An aspect with no survey back stays "not measured" in the notice (no figures given)."""
    a = facts.awareness
    figures = {}
    if a.overall_pct is not None:
        figures[AWARENESS_ASPECT] = AspectFigures(
            passed=len(a.measured) - len(a.below), total=len(a.measured), detail=awareness_text(a)
        )
    return {
        "aspect_figures": figures,
        "aspect_notes": {ATTENDANCE_ASPECT: "第一书记驻村工作日：" + attendance_text(facts.attendance)},
        "counties_note": county_reports_sentence(facts.counties) or None,
        "extra_summary": duty_table(facts),
    }
