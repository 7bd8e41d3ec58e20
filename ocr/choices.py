"""Groups of N tick boxes, and any form described in ``forms.form_spec``.

The rules are those of the 是/否 pairs (``ocr.marks.classify_pair``),
for any number of boxes: a box filled in is a correction (not an answer),
a box in the uncertain band is never guessed, and two or more ticks in one
group go to a person. This module knows no form's keys: it reads what the
form's description lists. A speck beside one clear tick is not a second
tick (``ocr.marks.beside_clear_tick``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from forms.form_spec import FormSpec
from forms.geometry import PageLayout, Rect
from ocr.align import Alignment
from ocr.marks import BoxMeasure, beside_clear_tick, measure_box


@dataclass
class ChoiceReading:
    value: str  # a choice's value, "blank" or "uncertain"
    confidence: float
    reason: str | None  # Chinese, when uncertain


def classify_choices(measures: Sequence[BoxMeasure], values: Sequence[str], labels: Sequence[str]) -> ChoiceReading:
    """One group's answer from its boxes' measures (same order as ``values``)."""
    measures = beside_clear_tick(list(measures))
    conf = min(m.confidence for m in measures)
    unclear = [labels[i] for i, m in enumerate(measures) if m.state == "uncertain"]
    if unclear:
        return ChoiceReading("uncertain", conf, f"“{unclear[0]}”框的记号不清楚")
    marked = [i for i, m in enumerate(measures) if m.state == "marked"]
    if len(marked) > 1:
        return ChoiceReading("uncertain", 0.0, "、".join(f"“{labels[i]}”" for i in marked) + "都打了勾")
    if marked:
        return ChoiceReading(values[marked[0]], conf, None)
    return ChoiceReading("blank", conf, None)


@dataclass
class GroupResult:
    key: str
    boxes: list[Rect]
    reading: ChoiceReading
    measures: dict[str, BoxMeasure]


def read_choice_groups(
    gray: np.ndarray, alignment: Alignment, layout: PageLayout, spec: FormSpec, paper_level: float,
    bilevel: bool = False,
) -> list[GroupResult]:
    """Every choice group of ``spec`` whose boxes are all on ``layout`` (``bilevel``: a 1-bit scan)."""
    out: list[GroupResult] = []
    for group in spec.choice_groups:
        if not all(k in layout.boxes for k in group.box_keys):
            continue
        rects = [layout.boxes[k] for k in group.box_keys]
        measures = [measure_box(gray, alignment, r, paper_level, bilevel) for r in rects]
        values = [c.value for c in group.column.choices]
        labels = [c.label for c in group.column.choices]
        reading = classify_choices(measures, values, labels)
        out.append(GroupResult(group.key, rects, reading, dict(zip(values, measures))))
    return out
