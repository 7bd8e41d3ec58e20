"""Amounts and counts written one digit per comb box, and their checks.

The digit classifier (``ocr.digits``) reads each box; this module cuts
the boxes out, reads all of a page's boxes in one batch, and applies the
rules a number must obey before it is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from forms.geometry import PageLayout, Rect
from forms.record_sheet import (
    NUMERIC_FIELDS,
    NUMERIC_FIELDS_BY_KEY,
    POVERTY_FUND_MIN_10K_YUAN,
    NumericField,
)
from ocr import digits
from ocr.align import Alignment, crop, restore_faded_lines_stack

DIGIT_SAMPLE_PX_PER_MM = 6.0
# How far above and below its box a digit's ink is followed: Chinese
# writers' 7 and 9 drop below the baseline and their 6 rises above the
# others (accounting digit-writing rules), and any digit may cross the line.
DIGIT_REACH_MM = 2.0
# A field is accepted only when every digit passed the digit gate
# (ocr.digits.DIGIT_ACCEPT_MIN_CONFIDENCE); its confidence is the least sure digit's.
PERCENT_MAX = 100.0

# Checks that can only catch a misreading, never correct one: a breach
# sends the fields to review, named so the reviewer knows what to look at.
# A field whose boxes the digit gate or the field gate did not pass; the reason goes on with what was read.
UNCLEAR_DIGITS_REASON = "数字看不清"
CHECK_PERCENT_RANGE = "百分比在 0 到 100 之间"
CHECK_PERCENT_SUM = "走访人数相同时，满意率与不满意率之和不超过 100"
CHECK_POPULATION = "走访人数不超过本村人口"
CHECK_POVERTY_FUND = "扶贫基金“是”时，到位金额不低于 10 万元"
VISITED_COUNT_KEYS = ("visited_satisfied", "visited_dissatisfied")
# A 1-bit scan keeps only what is darker than its threshold, and a light
# pen can fall under it and leave nothing: an empty field there may be a
# written one the scanner dropped. On the benchmark's 1-bit pages, 5 of 58
# fields read empty had been written (every one read empty at certainty 1.0).
BILEVEL_BLANK_REASON = "黑白扫描件上此栏读为空白，浅色笔迹可能没有扫出来，请对照纸质原件"
# A 1-bit copy from a worn copier: its low-ink lines cut the printed comb lines
# clean through (a gray copy keeps some toner there, which is restored), and a
# digit they cross may lose a stroke or vanish, leaving a shorter number that
# reads with full confidence (1-bit copier pages of the benchmark: 93 read 3,
# 158 read 59, 46 read 1). So on such a page a field with an empty box is
# never settled. A box's side lines (or top and bottom lines) both blank over
# the same rows (columns), at least this long, show a line crossing it.
BILEVEL_LIGHT_LINES_REASON = "黑白复印件有缺墨条纹穿过数字格，数字可能缺笔或整个没有扫出来，请对照纸质原件"
# A 1-bit scan of a light pen: where this many of a page's boxes hold ink that is not read as a
# digit at all (a scrap too short for one, or ink the classifier is not shown), the pen is fading
# out on that page, and a digit beside a blank box may be gone altogether (fresh round of the
# eighteenth pass: a "100" whose 1 and last 0 left nothing, on a page with four such scraps,
# read "_0_" at 0.985).
BILEVEL_FADING_PEN_SCRAP_BOXES_MIN = 3
BILEVEL_FADING_PEN_REASON = "黑白扫描件上本页别的数字格只剩残笔，此栏空着的格里可能有没扫出来的数字，请对照纸质原件"
# A scanner's black-and-white mode picks its own threshold (most often by Otsu's method), and on a
# page of black print it can fall under a light pen's level: the thinner digits of a field written
# with that pen vanish whole, while the others read clearly, and nothing on the page shows it. Most
# such losses leave one digit, or an amount without its decimal (151 pages at the scanner's own
# threshold, benchmarks/bench_scan.py --profile bilevel_otsu: 61 of 77 silent misreads, 45 read 5,
# 119 read 1, 43.2 read 0.2, 12.4 read 12). So on a 1-bit page neither is settled, even when the
# number really has one digit (there 39 of 510 numbers read right went to review with them).
BILEVEL_ONE_DIGIT_REASON = "黑白扫描件上此栏只读到一位数字，浅色笔迹写的其他数位可能整个没有扫出来，请对照纸质原件"
BILEVEL_NO_DECIMAL_REASON = "黑白扫描件上金额的小数格读为空白，浅色笔迹写的数位可能整个没有扫出来，请对照纸质原件"
LIGHT_LINE_CUT_MIN_MM = 0.2
LIGHT_LINE_CUT_BOXES_MIN = 2
LIGHT_LINE_PAPER_MIN_LEVEL = 160
# Where the box's lines are looked for: this share of the width at each side,
# and of the box's height next to the top and bottom lines.
LIGHT_LINE_SIDE_BAND_RATIO = 0.15
LIGHT_LINE_END_BAND_RATIO = 0.12
# A copier's dirty drum leaves a straight streak of toner along the paper's
# travel, through the comb from above to below. In an empty box it reads as
# a "1" with full confidence (dirty-drum copies: 426.2 read 1426.2, an empty
# field read 1). A column is streaked when it is ink over this share of the
# rows both above and below the box, within the crop's reach, clear of the
# box's own lines; the box is then read again with the streak taken out, and
# a field where that changes a box's reading goes to review. A digit's own
# stroke does not reach this far both ways (a 7 or 9 drops below, a 6 rises above).
COMB_STREAK_ROWS_MIN_SHARE = 0.8
COMB_STREAK_INK_BELOW_PAPER_LEVELS = 40
COMB_STREAK_PAPER_PERCENTILE = 90
COMB_STREAK_LINE_CLEARANCE_MM = 0.6
# A row mostly ink is a printed rule, not the streak.
COMB_STREAK_PRINT_ROW_MIN_SHARE = 0.5
COMB_STREAK_PAD_PX = 1
COMB_STREAK_REASON = "数字格里有一道上下贯穿的复印机墨迹条纹，会被读成数字或遮住数字，请对照纸质原件"


def _breach(check: str, detail: str) -> str:
    return f"未通过核对规则「{check}」：{detail}"


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
    gray: np.ndarray, alignment: Alignment, layout: PageLayout, specs: Sequence[NumericField] = NUMERIC_FIELDS,
    bilevel: bool = False,
) -> tuple[list[NumberResult], bool]:
    """``specs``: the form's digit fields (default: the record sheet's); ``bilevel``: a 1-bit scan.

    Also whether the page is a 1-bit copy whose low-ink lines cut the comb (``check_bilevel_light_lines``):
    there a light pen's strokes anywhere on the page may be gone."""
    fields = fields_on(layout, specs)
    px = max(DIGIT_SAMPLE_PX_PER_MM, min(alignment.px_per_mm, 10.0))
    reach_px = round(DIGIT_REACH_MM * px)
    flat = [crop(gray, alignment, _reaching(layout.boxes[k], reach_px / px), px)
            for field in fields for k in field.digit_boxes]
    flat = _faded_print_restored(flat, reach_px, px)
    readings = digits.read_digits(flat, reach_px=reach_px, bilevel=bilevel) if flat else []
    streaked = _read_differently_without_streaks(flat, readings, reach_px, px, bilevel)
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
            problem = f"{UNCLEAR_DIGITS_REASON}（识别为 {number.text}{hint}）"
        if streaked & set(range(pos - n_int - n_dec, pos)) and (
                not problem or problem.startswith(UNCLEAR_DIGITS_REASON)):
            problem = f"{COMB_STREAK_REASON}（识别为 {number.text}）"
        results.append(NumberResult(field.key, number.value, confidence, number.blank, number.text, problem))
    specs_by_key = {f.key: f for f in fields}
    check_numbers({r.key: r for r in results}, specs_by_key)
    comb_cut = False
    if bilevel:
        check_bilevel_blanks(results)
        comb_cut = check_bilevel_light_lines(results, flat, reach_px, px)
        check_bilevel_fading_pen(results, readings)
        check_bilevel_short_numbers(results, specs_by_key)
    return results, comb_cut


def _read_differently_without_streaks(boxes: Sequence[np.ndarray], readings: Sequence[digits.DigitReading],
                                      reach_px: int, px_per_mm: float, bilevel: bool) -> set[int]:
    """The boxes read as holding something that a drum streak runs through, and that read otherwise
    with the streak's columns made paper (``COMB_STREAK_*``)."""
    cleaned: dict[int, np.ndarray] = {}
    for i, (box, reading) in enumerate(zip(boxes, readings)):
        if reading.blank or box.ndim != 2:
            continue
        streak = _streak_columns(box, reach_px, px_per_mm)
        if streak is None:
            continue
        columns, paper = streak
        box = box.copy()
        box[:, columns] = paper
        cleaned[i] = box
    if not cleaned:
        return set()
    again = digits.read_digits(list(cleaned.values()), reach_px=reach_px, bilevel=bilevel)
    return {i for i, reading in zip(cleaned, again)
            if (reading.blank, reading.value) != (readings[i].blank, readings[i].value)}


def _streak_columns(box: np.ndarray, reach_px: int, px_per_mm: float) -> tuple[np.ndarray, float] | None:
    """The columns (with a pixel either side) of a streak that runs through the crop from its top
    to its bottom, above and below the box, and the crop's paper level; None when there is none."""
    h, w = box.shape
    clearance = max(1, round(COMB_STREAK_LINE_CLEARANCE_MM * px_per_mm))
    if reach_px - clearance < 2:
        return None
    paper = float(np.percentile(box, COMB_STREAK_PAPER_PERCENTILE))
    ink = box < paper - COMB_STREAK_INK_BELOW_PAPER_LEVELS
    through = np.ones(w, bool)
    for zone in (ink[:reach_px - clearance], ink[h - reach_px + clearance:]):
        zone = zone[zone.mean(axis=1) <= COMB_STREAK_PRINT_ROW_MIN_SHARE]
        if len(zone) < 2:
            return None
        through &= zone.mean(axis=0) >= COMB_STREAK_ROWS_MIN_SHARE
    if not through.any():
        return None
    pad = np.convolve(through, np.ones(2 * COMB_STREAK_PAD_PX + 1), mode="same") > 0
    return np.flatnonzero(pad), paper


def check_bilevel_blanks(results: Sequence[NumberResult]) -> None:
    """On a 1-bit scan an empty field is never settled as empty: it goes to review against the paper."""
    for result in results:
        if result.blank and not result.problem:
            result.problem = BILEVEL_BLANK_REASON


def check_bilevel_short_numbers(results: Sequence[NumberResult], specs: Mapping[str, NumericField]) -> None:
    """On a 1-bit scan a number read with a single digit, or an amount read without its decimal, is never
    settled (``BILEVEL_ONE_DIGIT_REASON``, ``BILEVEL_NO_DECIMAL_REASON``): the shapes a light pen's number
    takes when the scanner's threshold drops some of its digits."""
    for result in results:
        if result.value is None or result.problem:
            continue
        field = specs[result.key]
        decimals = result.text[field.integer_digits + 1:] if field.decimal_digits else ""
        if sum(c.isdigit() for c in result.text) == 1:
            result.problem = BILEVEL_ONE_DIGIT_REASON
        elif field.decimal_digits and not decimals.strip("_"):
            result.problem = BILEVEL_NO_DECIMAL_REASON


def check_bilevel_fading_pen(results: Sequence[NumberResult], readings: Sequence[digits.DigitReading]) -> None:
    """On a 1-bit scan where several boxes hold ink not read as any digit (scraps of lost digits), a number
    read beside a blank box is never settled (``BILEVEL_FADING_PEN_SCRAP_BOXES_MIN``)."""
    scraps = sum(1 for d in readings if not d.blank and d.best is None)
    if scraps < BILEVEL_FADING_PEN_SCRAP_BOXES_MIN:
        return
    for result in results:
        if "_" in result.text and not result.blank and not result.problem:
            result.problem = BILEVEL_FADING_PEN_REASON


def check_bilevel_light_lines(results: Sequence[NumberResult], boxes: Sequence[np.ndarray], reach_px: int,
                              px_per_mm: float) -> bool:
    """On a 1-bit copy whose low-ink lines cut the comb, a field with an empty box is never settled.
    Whether they cut it.

    Where the digits left were also unclear, the lines are named instead: a digit may be missing
    altogether, and only the paper shows it; the guess stays in the field's text."""
    if sum(_cut_by_a_light_line(box, reach_px, px_per_mm) for box in boxes) < LIGHT_LINE_CUT_BOXES_MIN:
        return False
    for result in results:
        if "_" in result.text and (not result.problem or result.problem.startswith(UNCLEAR_DIGITS_REASON)):
            result.problem = BILEVEL_LIGHT_LINES_REASON
    return True


def _cut_by_a_light_line(box: np.ndarray, reach_px: int, px_per_mm: float) -> bool:
    """Whether a 1-bit copy's low-ink line crosses the box: both side lines blank over the same rows,
    or the top and bottom lines blank over the same columns, for at least LIGHT_LINE_CUT_MIN_MM."""
    h, w = box.shape[:2]
    inner = box[reach_px:h - reach_px]
    band = max(2, round(LIGHT_LINE_SIDE_BAND_RATIO * w))
    end = max(2, round(LIGHT_LINE_END_BAND_RATIO * inner.shape[0]))
    if inner.shape[0] <= 2 * end or w <= 2 * band:
        return False
    rows = inner[end:inner.shape[0] - end]
    across = (rows[:, :band].min(axis=1) > LIGHT_LINE_PAPER_MIN_LEVEL) \
        & (rows[:, -band:].min(axis=1) > LIGHT_LINE_PAPER_MIN_LEVEL)
    middle = box[:, band:w - band]
    down = (middle[:reach_px + end].min(axis=0) > LIGHT_LINE_PAPER_MIN_LEVEL) \
        & (middle[h - reach_px - end:].min(axis=0) > LIGHT_LINE_PAPER_MIN_LEVEL)
    least = max(2, round(LIGHT_LINE_CUT_MIN_MM * px_per_mm))
    return bool(across.sum() >= least or down.sum() >= least)


def _faded_print_restored(boxes: list[np.ndarray], reach_px: int, px_per_mm: float) -> list[np.ndarray]:
    """The boxes' crops with print that a worn copier's low-ink lines faded brought back to full ink.

    A light line across a digit breaks its strokes, and the classifier reads the pieces unsure
    (copier pages of the benchmark: 58% of number fields right and accepted, against 80-90% on
    other scans). Rows are restored only inside the box, where the printed side lines are each
    row's darkest print, so only a row a light line crossed is faded; above and below the box the
    darkest ink of a row may be a light pen's own stroke, which must keep its shape. Columns cross
    the top and bottom lines over the whole crop. Only contrast is restored (ocr.align), never a
    shape; on the benchmark's pages other than copies no field read differently. Boxes of one
    size are restored as one stack (a page's boxes mostly share a size).
    """
    out = list(boxes)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, box in enumerate(boxes):
        by_shape.setdefault(box.shape, []).append(i)
    for shape, members in by_shape.items():
        if len(shape) != 2 or shape[0] <= 2 * reach_px:
            continue
        stack = np.stack([boxes[i] for i in members])
        inside = stack[:, reach_px:shape[0] - reach_px]
        rows, changed = restore_faded_lines_stack(inside, px_per_mm, across_rows=True)
        if changed.any():
            stack[:, reach_px:shape[0] - reach_px] = rows
        stack, _changed = restore_faded_lines_stack(stack, px_per_mm, across_rows=False)
        for k, i in enumerate(members):
            out[i] = stack[k]
    return out


def _reaching(rect: Rect, reach_mm: float) -> Rect:
    """The box with ``reach_mm`` more above and below; the crop keeps exactly that many pixels."""
    return Rect(rect.x_mm, rect.y_mm - reach_mm, rect.w_mm, rect.h_mm + 2 * reach_mm)


def check_numbers(
    results: dict[str, NumberResult], specs: Mapping[str, NumericField] = NUMERIC_FIELDS_BY_KEY
) -> None:
    """Rules a sheet's numbers must obey; a breach sends the fields to review."""
    for key, result in results.items():
        field = specs[key]
        if result.value is None or result.problem:
            continue
        if field.kind == "percent" and not 0.0 <= result.value <= PERCENT_MAX:
            result.problem = _breach(CHECK_PERCENT_RANGE, f"读到 {result.value:g}")
        if field.kind == "amount" and round(result.value * 10) != result.value * 10:
            result.problem = f"金额最多一位小数，读到 {result.value:g}"
        integer_part = result.text[: field.integer_digits].strip("_")
        if len(integer_part) > 1 and integer_part.startswith("0"):
            # Nobody writes "03.7": a leading digit was most likely lost (too faint to scan, or
            # read as empty), and the value would be off by a factor of ten or more.
            result.problem = f"整数部分以 0 开头（读到 {result.text.replace('_', '')}），前面的数字可能漏读"
    sat, dis = _settled(results, "satisfaction_pct"), _settled(results, "dissatisfaction_pct")
    counts = [_settled(results, key) for key in VISITED_COUNT_KEYS]
    # The two rates share a base only when the same number of people were
    # asked; with different counts their sum says nothing.
    same_base = all(c is not None for c in counts) and counts[0].value == counts[1].value  # type: ignore[union-attr]
    if sat and dis and same_base and sat.value + dis.value > PERCENT_MAX:  # type: ignore[operator]
        reason = _breach(CHECK_PERCENT_SUM, f"读到 {sat.value:g} + {dis.value:g}")
        sat.problem = dis.problem = reason


def _settled(results: Mapping[str, NumberResult], key: str) -> NumberResult | None:
    """The field's result when it holds a value with nothing to review, else None."""
    result = results.get(key)
    return result if result is not None and result.value is not None and not result.problem else None


def check_poverty_fund(results: Mapping[str, NumberResult], indicator_value: str | None) -> None:
    """Indicator 7 ticked 是 says the fund is at least 10 万元: a smaller reading is a misreading or a wrong tick."""
    fund = _settled(results, "poverty_fund")
    if fund is not None and indicator_value == "yes" and fund.value < POVERTY_FUND_MIN_10K_YUAN:  # type: ignore[operator]
        fund.problem = _breach(CHECK_POVERTY_FUND, f"指标 7 勾选“是”，金额读到 {fund.value:g} 万元")


def population_breaches(visited: Mapping[str, float | None], population: int | None) -> dict[str, str]:
    """Visited counts larger than the village's registered population, with the reason for each.

    Pure, so the caller that knows the village (ducha.scan) applies it.
    """
    if population is None:
        return {}
    return {key: _breach(CHECK_POPULATION, f"读到 {value:g} 人，本村登记人口 {population} 人")
            for key, value in visited.items() if key in VISITED_COUNT_KEYS and value is not None and value > population}
