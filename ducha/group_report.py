"""Each group's written report, due 2 days after the round ends (seed 六(二)).

Same findings as the notice, restricted to the group's villages, written
into ``templates/group_report.docx`` with the same paragraph styles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ducha.consequences import load_rules
from ducha.counties import short_name
from ducha.errors import RoundError
from ducha.findings import RoundFindings, VillageFinding, compute_findings
from ducha.groups import group_numeral
from ducha.notice import _join, date_cn, date_range_cn, load_results, registry_labels, render
from ducha.results import FormResult
from ducha.rounds import RoundPlan, parse_round_id, round_plan
from ducha.workspace import Workspace
from generator.build_notice_template import GROUP_REPORT_TEMPLATE
from generator.notice_docx import Attachment, Block, OfficialDocument, Table

VillageLabels = dict[tuple[str, str, str], str]



@dataclass(frozen=True)
class GroupReportOutput:
    docx: Path
    pdf: Path
    pages: int
    villages: int


def assemble_group_report(
    plan: RoundPlan, group_no: int, findings: RoundFindings, due: dt.date, labels: VillageLabels | None = None,
) -> OfficialDocument:
    year, month = parse_round_id(plan.round)
    group = next((g for g in plan.roster.groups if g.no == group_no), None)
    if group is None:
        raise RoundError(f"{plan.round} 轮没有第{group_numeral(group_no)}督查组")
    t = findings.total
    counties = _join(list(group.counties))
    body = [
        Block("body", f"根据市委组织部统一安排，第{group_numeral(group_no)}督查组于"
                      f"{date_range_cn(plan.dates.start, plan.dates.end)}对{counties}驻村工作队和第一书记到村履职情况"
                      f"进行了专项督查。现将督查情况报告如下。"),
        Block("h1", "一、督查基本情况"),
        Block("body", f"本组共督查贫困村{t.villages}个，填写督查记实表{t.villages}份，收回{t.returned}份，"
                      f"其中有效督查{t.valid}份，无效督查{t.invalid}份"
                      + (f"，待复核{t.review}份" if t.review else "")
                      + f"；未收回{t.missing}份。"),
        Block("h1", "二、发现的问题"),
    ]
    labels = labels or {}

    def name(x: VillageFinding) -> str:
        v = x.village
        return labels.get((v.county, v.town, v.name)) or f"{short_name(v.county)}{v.town}{v.name}"

    problem_villages = findings.with_problems()
    if not problem_villages:
        body.append(Block("body", "本组督查的村未发现问题。"))
    for n, finding in enumerate(problem_villages, start=1):
        body.append(Block("body", f"{n}. {short_name(finding.village.county)}{finding.village.town}"
                                  f"{finding.village.name}（{_join(finding.village.units)}）："
                                  f"{'；'.join(finding.problems(findings.definition))}。"))
    body.append(Block("h1", "三、整改要求"))
    body.append(Block("body", f"督查组已向以上{len(problem_villages)}个村的驻村工作队、第一书记和帮扶单位反馈问题，"
                              f"提出整改要求，整改情况纳入{month % 12 + 1}月专项督查内容。"))
    # An unreturned or invalid sheet is one of the village's problems, so no
    # column of its own: the problems get the width. Widths fit the content,
    # only the problems wrap, and a row splits only when taller than a page.
    rows = tuple(
        (str(i), name(x), "\n".join(x.village.units), "\n".join(x.short_problems(findings.definition))
         or ("待复核" if x.status == "review" else "无"))
        for i, x in enumerate(findings.villages, start=1)
    )
    table = Table(("序号", "帮扶村", "帮扶单位", "存在问题"), rows, left_columns=frozenset({3}))
    return OfficialDocument(
        fields={"group_name": group_numeral(group_no), "year": year, "month": month,
                "signer": f"第{group_numeral(group_no)}督查组", "date": date_cn(due)},
        title=f"第{group_numeral(group_no)}督查组关于{year}年{month}月专项督查情况的报告",
        author=f"第{group_numeral(group_no)}督查组",
        body=body,
        attachments=[Attachment(1, "督查村情况明细表", (table,))],
    )


def write_group_report(
    session: Session, workspace: Workspace, group_no: int, round_id: str, *,
    out_dir: Path | None = None, results: list[FormResult] | None = None,
) -> GroupReportOutput:
    plan = round_plan(session, round_id)
    villages = plan.villages_of_group(group_no)
    if not villages:
        raise RoundError(f"{round_id} 轮第{group_numeral(group_no)}督查组没有安排督查的村")
    if results is None:
        results = load_results(session, round_id)
    rules = load_rules(workspace.root)
    findings = compute_findings(round_id, villages, results, rules.problem_definition())
    document = assemble_group_report(plan, group_no, findings, plan.dates.group_report_due, registry_labels(session))
    target = out_dir or workspace.output_dir("reports")
    docx, pdf, pages = render(document, target, f"督查报告_{round_id}_第{group_no}组", GROUP_REPORT_TEMPLATE)
    return GroupReportOutput(docx=docx, pdf=pdf, pages=pages, villages=len(villages))
