"""Number fields read on whole simulated pages, kept so that digit models can be compared on them.

``harvest`` renders a printed workspace's record sheets (round 2015-08),
fills each page with the validation slice's digits (``scripts/digit_data.py``'s
``validation_x``: never trained on) or with the held-back bank (what the
benchmark and ``ducha simulate`` write with), scans it with a random profile
as ``ducha simulate`` does, reads it with ``ocr.reader.read_page``, and keeps
for every number field what was written, the reader's decision and each
box's prepared crop (``ocr.digits.prepare_crops``).

``compare MODEL...`` reads the kept boxes again with each model
(``ocr.digits.read_prepared``, then ``combine_digits`` at each field gate) and
prints right and accepted / silently wrong of all fields. A field the reader
sent to review for another reason than its digits (a check, a 1-bit rule, a
page in review) stays there whatever the model. With the model that
harvested them, the gate 0.98 gives the reader's own outcome.

Usage (ducha's venv; a printed workspace of round 2015-08, e.g. a copy of the benchmark's):
    .venv/bin/python scripts/page_field_replay.py harvest --workspace WS --digits validation \\
        --data /tmp/digits/allowed.npz --pages 1200 --seed 990 --part 0/2 &
    .venv/bin/python scripts/page_field_replay.py harvest ... --part 1/2; wait
    .venv/bin/python scripts/page_field_replay.py compare ocr/models/digits.npz /tmp/new.npz --seed 990

Writes /tmp/digits/fields_<digits>_<seed>_<part>.pkl (this script's own files; a pickle is read back only
from there).
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harvest_page_digits import WORK_DIR, TrainingDigits, page_items, read_simulated_pages, written_value

import ocr.digits
from ducha.simulate import SimItem
from ducha.workspace import KEY_FILE_NAME, read_key
from generator.handwriting import simulation_digit
from ocr.numbers import UNCLEAR_DIGITS_REASON

GATES = (0.97, 0.975, 0.98, 0.985, 0.99)


def harvest(items: Sequence[SimItem], digit_image: Any, key: bytes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in read_simulated_pages(items, digit_image, key):
        page_review = any(kind == "page" for kind, _reason in page.reading.review)
        boxes = iter(page.boxes)
        for field in page.fields:
            decided = page.reading.fields.get(field.key) or {}
            rows.append({
                "profile": page.profile, "bilevel": page.bilevel, "key": field.key,
                "integer_digits": field.integer_digits,
                "written": written_value(page.plan.fields, field.key),
                "page_review": page_review, "problem": decided.get("problem"),
                "boxes": [next(boxes) for _ in field.digit_boxes],
            })
    return rows


def outcomes(rows: Sequence[dict[str, Any]], model: ocr.digits.DigitModel, gates: Sequence[float]) -> dict[float, Counter[str]]:
    readings = [ocr.digits.read_prepared(row["boxes"], model, bilevel=row["bilevel"]) for row in rows]
    out: dict[float, Counter[str]] = {}
    for gate in gates:
        tally: Counter[str] = Counter()
        for row, boxes in zip(rows, readings):
            if row["page_review"]:
                tally["page"] += 1
                continue
            if row["problem"] and not row["problem"].startswith(UNCLEAR_DIGITS_REASON):
                tally["other"] += 1
                continue
            n = row["integer_digits"]
            number = ocr.digits.combine_digits(boxes[:n], boxes[n:], gate)
            if number.uncertain:
                tally["review"] += 1
                continue
            want = row["written"]
            right = number.value is None if want is None else (
                number.value is not None and abs(number.value - want) < 1e-9)
            tally["right" if right else "wrong"] += 1
        out[gate] = tally
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="整页模拟读出的数字栏，保存下来比较手写数字模型")
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("harvest", help="模拟整页并保存每个数字栏的预处理方格")
    make.add_argument("--workspace", type=Path, required=True, help="已印发 2015-08 轮纪实表的工作区")
    make.add_argument("--digits", choices=("validation", "bank"), required=True,
                      help="validation：验证切片的数字（需 --data）；bank：模拟器用的保留数字")
    make.add_argument("--data", type=Path, help="scripts/digit_data.py 写出的允许数字")
    make.add_argument("--pages", type=int, required=True, help="模拟的页数（各份合计）")
    make.add_argument("--seed", type=int, required=True)
    make.add_argument("--part", default="0/1", help="k/n：只处理第 k 份（共 n 份），可并行")
    compare = sub.add_parser("compare", help="用各个模型重读保存的方格，按各档门槛统计")
    compare.add_argument("models", type=Path, nargs="+")
    compare.add_argument("--seed", type=int, required=True, help="harvest 时的种子")
    args = parser.parse_args()
    if args.command == "harvest":
        part, parts = (int(v) for v in args.part.split("/"))
        if args.digits == "validation":
            if args.data is None:
                parser.error("--digits validation 需要 --data")
            with np.load(args.data) as data:
                digit_image: Any = TrainingDigits(data["validation_x"], data["validation_y"])
        else:
            digit_image = simulation_digit
        started = time.perf_counter()
        rows = harvest(page_items(args.workspace, args.pages, args.seed, part, parts), digit_image,
                       read_key(args.workspace / KEY_FILE_NAME))
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        out = WORK_DIR / f"fields_{args.digits}_{args.seed}_{part}.pkl"
        out.write_bytes(pickle.dumps(rows))
        print(f"{out}: {len(rows)} fields, {time.perf_counter() - started:.0f} s")
        return 0
    rows = []
    for path in sorted(WORK_DIR.glob(f"fields_*_{args.seed}_*.pkl")):
        rows += pickle.loads(path.read_bytes())
    if not rows:
        parser.error(f"{WORK_DIR} 里没有种子 {args.seed} 的 fields_*.pkl，请先运行 harvest")
    for path in args.models:
        tallies = outcomes(rows, ocr.digits.load_model(path), GATES)
        cells = [f"{gate}: {t['right'] / len(rows):.2%} / {t['wrong']} ({t['wrong'] / len(rows):.3%})"
                 for gate, t in tallies.items()]
        print(f"{path}（{len(rows)} 栏，正确且通过 / 误读）：" + "；".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
