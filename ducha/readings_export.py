"""Every village's readings of a round as an .xlsx workbook, for Excel users.

One row per planned village: where it is, its group, whether its sheet came
back and was validly signed, and each tick, figure and signature as a person
would read it (resolved review values in place of machine values). A value an
open review item still holds back is shown as 待复核, never as the machine's
guess: an Excel user cannot see which cells a person has yet to check. The
validity column is filled as soon as the signatures are settled, even while
amounts wait (ducha.review.blocks_validity).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from ducha.results import FormResult, load_form_results
from ducha.review import blocks_field
from ducha.rounds import round_plan
from forms.record_sheet import INDICATORS, NUMERIC_FIELDS, SIGNATURE_SLOTS, field_label
from forms.values import display_value

STATUS_LABELS = {"valid": "有效督查", "invalid": "无效（缺签名）", "review": "待复核", "missing": "未交回"}
VALIDITY_LABELS = {"valid": "有效", "invalid": "无效（缺签名）"}
VALIDITY_UNDECIDED = "待定"
PENDING_LABEL = "待复核"
HEADER_COLUMNS = ("县（区）", "乡镇", "村", "村代码", "督查组", "纪实表编号", "状态", "督查有效性")
COLUMN_WIDTH_CHARS = 14


def write_readings_xlsx(session: Session, round_id: str, path: Path) -> Path:
    plan = round_plan(session, round_id)
    results: dict[int, FormResult] = {r.village_id: r for r in load_form_results(session, round_id)}
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{round_id} 读表结果"
    headers = [*HEADER_COLUMNS, *(field_label(i.key) for i in INDICATORS), *(field_label(f.key) for f in NUMERIC_FIELDS),
               *(field_label(s.key) for s in SIGNATURE_SLOTS)]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for village in plan.villages:
        result = results.get(village.id)
        row: list[object] = [village.county, village.town, village.name, village.code, f"第{village.group}组",
                             result.form_id if result else "", STATUS_LABELS[result.status] if result else "未印发"]
        if result is None or result.status == "missing":
            row += [""] * (1 + len(INDICATORS) + len(NUMERIC_FIELDS) + len(SIGNATURE_SLOTS))
            sheet.append(row)
            continue
        row.append(VALIDITY_LABELS.get(result.validity or "", VALIDITY_UNDECIDED))
        for indicator in INDICATORS:
            row.append(_pending(result, indicator.key) or display_value(result.indicators.get(indicator.key)))
        for spec in NUMERIC_FIELDS:
            value = result.numbers.get(spec.key)
            row.append(_pending(result, spec.key) or (value if value is not None else display_value(None)))
        for slot in SIGNATURE_SLOTS:
            row.append(_pending(result, slot.key) or display_value(result.signatures.get(slot.key)))
        sheet.append(row)
    for column in sheet.columns:
        letter = column[0].column_letter
        sheet.column_dimensions[letter].width = COLUMN_WIDTH_CHARS
    sheet.freeze_panes = "D2"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _pending(result: FormResult, key: str) -> str:
    """待复核 when an open item holds this value back, else empty."""
    return PENDING_LABEL if any(blocks_field(open_key, key) for open_key in result.open_fields) else ""
