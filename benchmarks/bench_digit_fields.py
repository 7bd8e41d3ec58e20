"""Field replay: whole number fields written into comb boxes, read by the digit reader.

Each field is one of the record sheet's number fields (3-box counts and
percentages, 4+1-box amounts), holding a random value written the way
people write it: right-aligned, left-aligned or centred; Chinese writers'
7 and 9 dropping below the baseline and 6 rising above. Every box is
drawn, scanned (150, 200 or 300 dpi; gray, JPEG or 1-bit) and cut as the
reader cuts it, reaching past the box. A field's boxes share one pen and
one scan, as on paper; ``--per-box`` gives each box its own (harder than
paper: a light pen on a 1-bit scan can then lose one digit of a field and
keep the next). Then the field gate is applied:

- ``digit``: every written digit's least sure member at or above the gate;
- ``field``: the product over the field's boxes (digits and blanks) at or
  above the gate.

Prints, for each gate, the share of fields right and accepted, sent to
review, and silently wrong. Digits come from the held-back bank (what the
figures are reported on), or with ``--validation NPZ`` from the
validation slice that ``scripts/digit_data.py`` extracts (what gates are
chosen on; it is not shipped).

    .venv/bin/python benchmarks/bench_digit_fields.py [--fields 1000] [--validation /tmp/digits/allowed.npz] [--per-box]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from forms.record_sheet import NUMERIC_FIELDS, NumericField
from generator.digit_data import held_back_digits
from generator.handwriting import Pen, digit_box_specimen, random_pen
from ocr import digits as reader
from ocr.numbers import DIGIT_REACH_MM, DIGIT_SAMPLE_PX_PER_MM, NumberResult, check_bilevel_blanks, check_numbers

SEED = 1602
SCAN_DPIS = (150.0, 200.0, 300.0)
PLACEMENTS = ("right", "left", "centre")
BOX_MM = (5.5, 7.5)
DROP_MAX_MM = 1.2
DROP_PROBABILITY = 0.5
BLANK_FIELD_SHARE = 0.05
SAMPLE_PX_PER_MM_MAX = 10.0
SHOWN_GATE = reader.FIELD_ACCEPT_MIN_PROBABILITY
SHOWN_WRONG_MAX = 20
GATES = (0.5, 0.7, 0.8, 0.9, 0.93, 0.95, 0.96, 0.97, 0.975, 0.98, 0.983, 0.985, 0.988, 0.99, 0.993, 0.995, 0.996, 0.997, 0.998)


def field_value(field: NumericField, rng: np.random.Generator) -> str:
    """The digits a writer puts down, as text: '27', '506.7', '0.5'."""
    length = int(rng.integers(1, field.integer_digits + 1))
    if field.kind == "percent":
        value = int(rng.integers(0, 101))
        return str(value)
    first = str(rng.integers(1, 10)) if length > 1 else str(rng.integers(0, 10))
    integer = first + "".join(str(d) for d in rng.integers(0, 10, size=length - 1))
    if field.decimal_digits and rng.random() < 0.7:
        return f"{integer}.{rng.integers(0, 10)}"
    return integer


def box_digits(field: NumericField, text: str, placement: str) -> list[int | None]:
    """What each box holds, most significant first, for the placement."""
    integer, _, decimal = text.partition(".")
    free = field.integer_digits - len(integer)
    start = {"right": free, "left": 0, "centre": free // 2}[placement]
    boxes: list[int | None] = [None] * (field.integer_digits + field.decimal_digits)
    for k, ch in enumerate(integer):
        boxes[start + k] = int(ch)
    for k, ch in enumerate(decimal):
        boxes[field.integer_digits + k] = int(ch)
    return boxes


def crop_for(image: np.ndarray | None, digit: int | None, rng: np.random.Generator, dpi: float,
             pen: Pen | None = None, scan_seed: int | None = None) -> tuple[np.ndarray, bool]:
    """The box as the reader cuts it, and whether it was scanned 1-bit."""
    shift = 0.0
    if digit in (7, 9) and rng.random() < DROP_PROBABILITY:
        shift = float(rng.uniform(0.3, DROP_MAX_MM))
    elif digit == 6 and rng.random() < DROP_PROBABILITY:
        shift = -float(rng.uniform(0.3, DROP_MAX_MM))
    scan_rng = None if scan_seed is None else np.random.default_rng(scan_seed)
    crop = digit_box_specimen(image, rng, box_mm=BOX_MM, reach_mm=DIGIT_REACH_MM, shift_mm=shift, dpi=dpi,
                              pen=pen, scan_rng=scan_rng)
    bilevel = set(np.unique(crop).tolist()) <= {0, 255}
    # The reader samples a page at its own rate, between 6 and 10 px/mm.
    scan_px = dpi / 25.4
    px = max(DIGIT_SAMPLE_PX_PER_MM, min(scan_px, SAMPLE_PX_PER_MM_MAX))
    if abs(px - scan_px) > 1e-6:
        size = (max(1, round(crop.shape[1] * px / scan_px)), max(1, round(crop.shape[0] * px / scan_px)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if px < scan_px else cv2.INTER_LINEAR)
    return crop, bilevel


def outcome(field: NumericField, truth: str | None, readings: list[reader.DigitReading], bilevel: bool = False) -> str:
    # The gate was applied by ``gated``: the reader's own field gate must not cut in again.
    number = reader.combine_digits(readings[:field.integer_digits], readings[field.integer_digits:],
                                   field_min_probability=0.0)
    result = NumberResult(field.key, number.value, number.confidence, number.blank, number.text,
                          None if not number.uncertain else "review")
    check_numbers({field.key: result})
    if bilevel:
        check_bilevel_blanks([result])
    if result.problem:
        return "review"
    if truth is None:
        return "right" if result.blank else "wrong"
    if result.value is None:
        return "wrong"  # read blank although written
    return "right" if abs(result.value - float(truth)) < 1e-6 else "wrong"


def gated(readings: list[reader.DigitReading], rule: str, gate: float) -> list[reader.DigitReading]:
    if rule == "field":
        written = [r for r in readings if not r.blank]
        product = float(np.prod([r.confidence for r in readings])) if readings else 0.0
        accept = all(r.best is not None for r in written) and product >= gate
        return [reader.DigitReading(r.best if (accept and not r.blank) else None, r.confidence, r.blank,
                                    r.probabilities, r.best, r.ink_ratio) for r in readings]
    return [reader.DigitReading(r.best if (not r.blank and r.confidence >= gate) else None, r.confidence,
                                r.blank, r.probabilities, r.best, r.ink_ratio) for r in readings]


def review_cause(field: NumericField, truth: str | None, readings: list[reader.DigitReading], gate: float,
                 bilevel: bool) -> str:
    """Why a field went to review: the first of a box not read, the field's rules, or its probability."""
    if any(not r.blank and r.best is None for r in readings):
        scrap = any(not r.blank and r.best is None and r.confidence > 0 for r in readings)
        return "a box not read (" + ("a scrap too short for a digit" if scrap else
                                     "unreadable: too little ink, a smudge, side-line ink, too wide") + ")"
    if bilevel and all(r.blank for r in readings):
        return "an empty field on a 1-bit scan" + (" (it was empty)" if truth is None else " (it was written)")
    if outcome(field, truth, gated(readings, "field", 0.0)) == "review":
        return "every box read, but a gap between digits or a check failed"
    would_be = outcome(field, truth, gated(readings, "field", 0.0))
    blanks = float(np.prod([r.confidence for r in readings if r.blank]))
    written = float(np.prod([r.confidence for r in readings if not r.blank]))
    under = ("the digits' product" if blanks >= gate else
             "the blank boxes' product" if written >= gate else "both digits and blank boxes")
    return f"every box read, field probability under the gate ({under}); accepted it would be {would_be}"


def main() -> int:
    parser = argparse.ArgumentParser(description="数字栏回放：整栏书写、扫描、识别，统计正确、待核对与静默错误")
    parser.add_argument("--fields", type=int, default=1000)
    parser.add_argument("--validation", type=Path, help="scripts/digit_data.py 写出的 .npz：改用其验证集数字")
    parser.add_argument("--model", type=Path, default=reader.MODEL_PATH)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--per-box", action="store_true",
                        help="每个格子各用一支笔、各扫描一次（比纸面更难：一栏的数字可能只丢一部分）")
    args = parser.parse_args()
    if args.validation:
        with np.load(args.validation) as data:
            images, labels = data["validation_x"], data["validation_y"]
    else:
        images, labels, _ = held_back_digits()
    model = reader.load_model(args.model)
    rng = np.random.default_rng(args.seed)
    by_digit = [np.flatnonzero(labels == d) for d in range(10)]
    started = time.perf_counter()
    drawn = []
    for _ in range(args.fields):
        field = NUMERIC_FIELDS[int(rng.integers(0, len(NUMERIC_FIELDS)))]
        dpi = SCAN_DPIS[int(rng.integers(0, len(SCAN_DPIS)))]
        placement = PLACEMENTS[int(rng.integers(0, len(PLACEMENTS)))]
        truth = None if rng.random() < BLANK_FIELD_SHARE else field_value(field, rng)
        boxes = box_digits(field, truth, placement) if truth else [None] * len(field.digit_boxes)
        # On paper a field is written with one pen and scanned once; --per-box draws each box apart.
        pen = None if args.per_box else random_pen(rng)
        scan_seed = None if args.per_box else int(rng.integers(2**32))
        cut = [crop_for(None if d is None else images[int(rng.choice(by_digit[d]))], d, rng, dpi, pen, scan_seed)
               for d in boxes]
        crops = [crop for crop, _bilevel in cut]
        # A page is 1-bit or not; with --per-box only a field scanned 1-bit throughout counts as one.
        drawn.append((field, truth, placement, boxes, crops, dpi, all(bilevel for _crop, bilevel in cut)))
    # One batch per scan resolution and kind (1-bit or not), as a page's boxes are read together.
    read: dict[int, list[reader.DigitReading]] = {}
    for dpi, bilevel in [(dpi, bilevel) for dpi in SCAN_DPIS for bilevel in (False, True)]:
        reach_px = round(DIGIT_REACH_MM * max(DIGIT_SAMPLE_PX_PER_MM, min(dpi / 25.4, SAMPLE_PX_PER_MM_MAX)))
        mine = [k for k, case in enumerate(drawn) if case[5] == dpi and case[6] == bilevel]
        flat = reader.read_digits([crop for k in mine for crop in drawn[k][4]], model,
                                  accept_min_confidence=0.0, reach_px=reach_px, bilevel=bilevel)
        for k in mine:
            read[k], flat = flat[:len(drawn[k][4])], flat[len(drawn[k][4]):]
    cases = [(field, truth, placement, boxes, read[k], dpi, bilevel)
             for k, (field, truth, placement, boxes, _crops, dpi, bilevel) in enumerate(drawn)]
    print(f"{len(cases)} fields read in {time.perf_counter() - started:.0f} s "
          f"({'validation slice' if args.validation else 'held-back bank'})")
    written = [(r, d, dpi) for _f, _t, _p, boxes, rs, dpi, _b in cases for r, d in zip(rs, boxes) if d is not None]
    top1 = np.mean([r.best == d for r, d, _dpi in written])
    print(f"per written digit: top-1 {top1:.4f} over {len(written)} boxes; "
          f"read blank {np.mean([r.blank for r, _d, _dpi in written]):.4f}; "
          + "; ".join(f"{dpi:.0f} dpi top-1 {np.mean([r.best == d for r, d, at in written if at == dpi]):.4f}"
                      for dpi in SCAN_DPIS))
    empty = [r for _f, _t, _p, boxes, rs, _dpi, _b in cases for r, d in zip(rs, boxes) if d is None]
    print(f"per empty box: read blank {np.mean([r.blank for r in empty]):.4f} over {len(empty)} boxes")
    for rule in ("digit", "field"):
        for gate in GATES:
            tally = {"right": 0, "review": 0, "wrong": 0}
            by_place = {p: {"right": 0, "review": 0, "wrong": 0} for p in PLACEMENTS}
            by_dpi = {d: {"right": 0, "review": 0, "wrong": 0} for d in SCAN_DPIS}
            for field, truth, placement, _boxes, readings, dpi, bilevel in cases:
                result = outcome(field, truth, gated(readings, rule, gate), bilevel)
                tally[result] += 1
                by_place[placement][result] += 1
                by_dpi[dpi][result] += 1
            n = len(cases)
            places = " ".join(f"{p} {v['right'] / max(1, sum(v.values())):.3f}" for p, v in by_place.items())
            dpis = " ".join(f"{d:.0f} {v['right'] / max(1, sum(v.values())):.3f}/{v['wrong'] / max(1, sum(v.values())):.3f}"
                            for d, v in by_dpi.items())
            print(f"{rule:5s} gate {gate:.3f}: right {tally['right'] / n:.4f}  review {tally['review'] / n:.4f}  "
                  f"wrong {tally['wrong'] / n:.4f}   right by placement: {places}   right/wrong by dpi: {dpis}")
    print(f"fields sent to review at the shipped field gate {SHOWN_GATE}, by cause:")
    causes: dict[str, int] = {}
    for field, truth, _placement, _boxes, readings, _dpi, bilevel in cases:
        if outcome(field, truth, gated(readings, "field", SHOWN_GATE), bilevel) == "review":
            cause = review_cause(field, truth, readings, SHOWN_GATE, bilevel)
            causes[cause] = causes.get(cause, 0) + 1
    for cause, count in sorted(causes.items(), key=lambda item: -item[1]):
        print(f"  {count / len(cases):.4f} ({count}) {cause}")
    shown = 0
    for field, truth, placement, boxes, readings, _dpi, bilevel in cases:
        if outcome(field, truth, gated(readings, "field", SHOWN_GATE), bilevel) == "wrong" and shown < SHOWN_WRONG_MAX:
            shown += 1
            marks = "".join("_" if r.blank else str(r.best) for r in readings)
            confidences = " ".join(f"{r.confidence:.3f}" for r in readings)
            print(f"  wrong: {field.key} {placement} truth {truth} boxes {boxes} read {marks} ({confidences})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
