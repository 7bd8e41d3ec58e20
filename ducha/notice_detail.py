"""The round's per-village detail for the office: a workbook and a PDF, not part of the 通报.

The 通报 carries summary tables only; the office still needs every
village's answers to follow up the rectification, so they go here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ducha.counties import short_name
from ducha.findings import RoundFindings, VillageFinding
from ducha.rounds import parse_round_id
from forms.record_sheet import INDICATORS
from generator.build_notice_template import DETAIL_TEMPLATE
from generator.notice_docx import Attachment, Block, OfficialDocument, Table

if TYPE_CHECKING:
    from ducha.notice import NoticeFacts

STATUS_LABELS = {"valid": "有效督查", "invalid": "无效督查", "review": "待复核", "missing": "未交回"}
DETAIL_SHEET_TITLE = "各村督查情况"
XLSX_COLUMN_WIDTH_MIN_CHARS = 6


def _amount(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _indicator(x: VillageFinding, key: str) -> str:
    if x.status in ("missing", "review"):
        return ""
    return x.indicator(key)


def detail_rows(findings: RoundFindings) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    header = ("序号", "县（区）", "乡镇（街道）", "村", "村代码", "帮扶单位", "督查方式", "督查结果",
              *(f"{'工作队' if i.section == 'team' else '第一书记'}{i.number}" for i in INDICATORS),
              "扶贫基金（万元）", "争取项目资金（万元）", "走访人数", "满意率（%）", "存在问题")
    rows = []
    for n, x in enumerate(findings.villages, start=1):
        v = x.village
        rows.append((
            str(n), v.county, v.town, v.name, v.code, "、".join(v.units), v.reason_label, STATUS_LABELS[x.status],
            *(_indicator(x, i.key) for i in INDICATORS),
            _amount(x.poverty_fund_10k), _amount(x.project_funds_10k),
            "" if x.visited is None else str(x.visited), _amount(x.satisfaction_pct),
            "；".join(x.problems(findings.definition)),
        ))
    return header, rows


def write_detail_xlsx(findings: RoundFindings, path: Path) -> Path:
    header, rows = detail_rows(findings)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = DETAIL_SHEET_TITLE
    sheet.append(list(header))
    for row in rows:
        sheet.append([int(c) if c.isdigit() and k == 0 else c for k, c in enumerate(row)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for col in range(1, len(header) + 1):
        longest = max(len(str(sheet.cell(row=r, column=col).value or "")) for r in range(1, min(len(rows), 200) + 2))
        sheet.column_dimensions[get_column_letter(col)].width = min(60, max(XLSX_COLUMN_WIDTH_MIN_CHARS, longest * 2))
    sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    os.replace(tmp, path)
    return path


def detail_document(findings: RoundFindings, facts: NoticeFacts) -> OfficialDocument:
    year, month = parse_round_id(facts.round)
    rows = tuple(
        (str(n), short_name(x.village.county), f"{x.village.town}\n{x.village.name}", "\n".join(x.village.units),
         STATUS_LABELS[x.status], "；".join(x.short_problems(findings.definition)) or "—")
        for n, x in enumerate(findings.villages, start=1)
    )
    table = Table(("序号", "县（区）", "帮扶村", "帮扶单位", "督查结果", "存在问题"), rows, left_columns=frozenset({5}))
    intro = Block("body", f"共{len(rows)}个村；逐项“是/否”、金额和满意率见同名 Excel 表。")
    return OfficialDocument(
        fields={"year": year, "month": month, "note": f"整改时限{facts.rectification_deadline.month}月"
                f"{facts.rectification_deadline.day}日"},
        body=[intro],
        attachments=[Attachment(1, "各村督查情况明细", (table,))],
        title=f"{year}年{month}月专项督查各村督查情况明细表",
        author="中共巴中市委组织部",
    )


def write_detail(findings: RoundFindings, facts: NoticeFacts, out_dir: Path, stem: str) -> tuple[Path, Path]:
    from ducha.notice import render

    xlsx = write_detail_xlsx(findings, out_dir / f"{stem}.xlsx")
    _docx, pdf, _pages = render(detail_document(findings, facts), out_dir, stem, DETAIL_TEMPLATE)
    return xlsx, pdf
