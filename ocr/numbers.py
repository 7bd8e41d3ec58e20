"""Amounts and counts written one digit per comb box, and their checks.

The digit classifier (``ocr.digits``) reads each box; this module cuts
the boxes out, reads all of a page's boxes in one batch, and applies the
rules a number must obey before it is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from forms.geometry import PageLayout
from forms.record_sheet import NUMERIC_FIELDS, NUMERIC_FIELDS_BY_KEY, NumericField
from ocr import digits
from ocr.align import Alignment, crop

DIGIT_SAMPLE_PX_PER_MM = 6.0
# A field is accepted only when every digit passed the digit gate
# (ocr.digits.DIGIT_ACCEPT_MIN_CONFIDENCE); its confidence is the least sure digit's.
PERCENT_MAX = 100.0


@dataclass
class NumberResult:
    key: str
    value: float | None
    confidence: float
    blank: bool
    text: str  # what the boxes hold: digits, '_' blank, '?' unreadable
    problem: str | None  # Chinese; set when the field must be reviewed

    def as_dict(self) -> dict[str, object]:
        return {"value": self.value, "confidence": round(self.confidence, 3), "blank": self.blank,
                "text": self.text, "problem": self.problem}


def fields_on(layout: PageLayout, fields: Sequence[NumericField] = NUMERIC_FIELDS) -> list[NumericField]:
    return [f for f in fields if all(k in layout.boxes for k in f.digit_boxes)]


def read_numbers(
    gray: np.ndarray, alignment: Alignment, layout: PageLayout, specs: Sequence[NumericField] = NUMERIC_FIELDS
) -> tuple[list[NumberResult], dict[str, list[np.ndarray]]]:
    """``specs``: the form's digit fields (default: the record sheet's)."""
    fields = fields_on(layout, specs)
    px = max(DIGIT_SAMPLE_PX_PER_MM, min(alignment.px_per_mm, 10.0))
    crops: dict[str, list[np.ndarray]] = {}
    flat: list[np.ndarray] = []
    for field in fields:
        crops[field.key] = [crop(gray, alignment, layout.boxes[k], px) for k in field.digit_boxes]
        flat += crops[field.key]
    readings = digits.read_digits(flat) if flat else []
    results: list[NumberResult] = []
    pos = 0
    for field in fields:
        n_int, n_dec = field.integer_digits, field.decimal_digits
        part = readings[pos : pos + n_int + n_dec]
        pos += n_int + n_dec
        number = digits.combine_digits(part[:n_int], part[n_int:])
        read = [d for d in number.digits if not d.blank]
        confidence = min((d.confidence for d in read), default=1.0 if number.blank else 0.0)
        problem = None
        if number.uncertain:
            guess = digits.best_guess_text(number, n_int)
            # The machine's best guess helps a reviewer read the crop; it is never stored as the value.
            hint = f"，最像 {guess}" if guess != number.text and "?" not in guess else ""
            problem = f"数字看不清（识别为 {number.text}{hint}）"
        results.append(NumberResult(field.key, number.value, confidence, number.blank, number.text, problem))
    check_numbers({r.key: r for r in results}, {f.key: f for f in fields})
    return results, crops


def check_numbers(
    results: dict[str, NumberResult], specs: Mapping[str, NumericField] = NUMERIC_FIELDS_BY_KEY
) -> None:
    """Rules a sheet's numbers must obey; a breach sends the fields to review."""
    for key, result in results.items():
        field = specs[key]
        if result.value is None or result.problem:
            continue
        if field.kind == "percent" and not 0.0 <= result.value <= PERCENT_MAX:
            result.problem = f"百分比应在 0 到 100 之间，读到 {result.value:g}"
        if field.kind == "amount" and round(result.value * 10) != result.value * 10:
            result.problem = f"金额最多一位小数，读到 {result.value:g}"
        integer_part = result.text[: field.integer_digits].lstrip("_")
        if len(integer_part) > 1 and integer_part.startswith("0"):
            # Nobody writes "03.7": a leading digit was most likely lost (too faint to scan, or
            # read as empty), and the value would be off by a factor of ten or more.
            result.problem = f"整数部分以 0 开头（读到 {result.text.replace('_', '')}），前面的数字可能漏读"
    sat, dis = results.get("satisfaction_pct"), results.get("dissatisfaction_pct")
    both = sat and dis and sat.value is not None and dis.value is not None and not sat.problem and not dis.problem
    if both and sat.value + dis.value > PERCENT_MAX:  # type: ignore[union-attr,operator]
        reason = f"满意率与不满意率之和超过 100（{sat.value:g} + {dis.value:g}）"  # type: ignore[union-attr]
        sat.problem = reason  # type: ignore[union-attr]
        dis.problem = reason  # type: ignore[union-attr]
