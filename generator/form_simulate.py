"""Simulated returns of any form described in ``forms.form_spec``.

What people write is planned from the description alone (the ground
truth), then drawn with the record sheet's pens (``generator.handwriting``);
the scan itself is ``generator.simulate.scan_page``. A form may tilt the
answers (``AnswerMix``): the awareness survey's mix is realistic, with a
village-wide level of awareness that the respondents share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from forms.form_spec import ChoiceColumn, FormSpec
from forms.geometry import PageLayout
from generator import handwriting
from generator import simulate as sim

RESPONDENTS_MIN = 5
# Inspectors leave an answer out now and then (the reader then sees a blank group).
ANSWER_SKIPPED_PROBABILITY = 0.03
# Someone who does not know both still knows one of them this often.
UNAWARE_YES_PROBABILITY = 0.3


@dataclass(frozen=True)
class AnswerMix:
    """How a form's questions tend to be answered; columns not listed are uniform."""

    # column key -> choice value -> weight
    weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # Columns answered together: an aware respondent gives each its first choice (是), others not all of them.
    awareness_columns: tuple[str, ...] = ()
    # A village's share of aware respondents is drawn from this range: most villages pass 60%, some do not.
    awareness_range: tuple[float, float] = (0.55, 0.99)


SURVEY_MIX = AnswerMix(
    weights={
        "kind": {"party": 0.25, "masses": 0.45, "poor": 0.30},
        "q3": {"yes": 0.65, "no": 0.35},
        "satisfaction": {"satisfied": 0.62, "fair": 0.28, "dissatisfied": 0.10},
    },
    awareness_columns=("q1", "q2"),
)
MIXES: dict[str, AnswerMix] = {"aw1": SURVEY_MIX}


def _answer(column: ChoiceColumn, mix: AnswerMix, rng: np.random.Generator) -> str:
    values = [c.value for c in column.choices]
    weights = mix.weights.get(column.key, {})
    p = np.array([weights.get(v, 1.0) for v in values], dtype=float)
    return values[int(rng.choice(len(values), p=p / p.sum()))]


def _awareness_answers(mix: AnswerMix, spec: FormSpec, awareness: float, rng: np.random.Generator) -> dict[str, str]:
    """One respondent's answers to the awareness questions: all 是 when aware, else at least one 否."""
    columns = [c for c in spec.columns if c.key in mix.awareness_columns]
    if rng.random() < awareness:
        return {c.key: c.choices[0].value for c in columns}
    answers = {c.key: c.choices[0].value if rng.random() < UNAWARE_YES_PROBABILITY else c.choices[1].value
               for c in columns}
    if columns and all(answers[c.key] == c.choices[0].value for c in columns):
        missed = columns[int(rng.integers(0, len(columns)))]
        answers[missed.key] = missed.choices[1].value
    return answers


def plan_form_page(spec: FormSpec, layout: PageLayout, form_id: str, rng: np.random.Generator) -> sim.PagePlan:
    """The answers written on one printed form: some rows filled from the top, the rest left empty."""
    plan = sim.PagePlan(form_id=form_id, sheet_page=layout.page)
    mix = MIXES.get(spec.form_type, AnswerMix())
    awareness = float(rng.uniform(*mix.awareness_range))
    respondents = int(rng.integers(min(RESPONDENTS_MIN, spec.rows), spec.rows + 1))
    plan.notes["respondents"] = respondents
    plan.notes["awareness_level"] = round(awareness, 3)
    rows = {row: _awareness_answers(mix, spec, awareness, rng) for row in range(1, respondents + 1)}
    for group in spec.choice_groups:
        if not all(k in layout.boxes for k in group.box_keys):
            continue
        if group.row > respondents or rng.random() < ANSWER_SKIPPED_PROBABILITY:
            plan.fields[group.key] = "blank"
        else:
            plan.fields[group.key] = rows[group.row].get(group.column.key) or _answer(group.column, mix, rng)
    for number in spec.numeric_fields:
        if all(k in layout.boxes for k in number.digit_boxes):
            plan.fields[number.key] = None if rng.random() < sim.NUMBER_BLANK_PROBABILITY else sim._number_value(number, rng)
    for slot in spec.signature_slots:
        if slot.key in layout.boxes:
            plan.signatures[slot.key] = "empty" if rng.random() < sim.SIGNATURE_MISSING_PROBABILITY else "signed"
    return plan


def form_truth(spec: FormSpec, plan: sim.PagePlan) -> dict[str, Any]:
    out: dict[str, Any] = {"form_id": plan.form_id, "sheet_page": plan.sheet_page, "fields": plan.fields,
                           "signatures": plan.signatures, "notes": plan.notes}
    validity = spec.validity(plan.signatures)  # type: ignore[arg-type]
    if validity is not None:
        out["validity"] = validity
    return out


def fill_form_page(page: np.ndarray, homography: np.ndarray, layout: PageLayout, spec: FormSpec, plan: sim.PagePlan,
                   rng: np.random.Generator, px_per_mm: float = sim.PRINT_PX_PER_MM) -> None:
    """Write the plan into the RGB page in place, with the record sheet's pens and correction habits."""
    boxes = layout.boxes
    for group in spec.choice_groups:
        value = plan.fields.get(group.key)
        if value is None or value == "blank" or group.key not in plan.fields:
            continue
        pen = handwriting.random_pen(rng)
        kind = sim._choice(rng, sim.TICK_KIND_WEIGHTS)
        chosen = f"{group.key}.{value}"
        handwriting.draw_tick(page, sim._rect_px(homography, boxes[chosen]), kind, rng, px_per_mm, pen)
        if rng.random() < sim.CORRECTION_PROBABILITY:
            # Another box was ticked first, then filled in to cancel it.
            others = [k for k in group.box_keys if k != chosen]
            wrong = others[int(rng.integers(0, len(others)))]
            handwriting.draw_tick(page, sim._rect_px(homography, boxes[wrong]), "filled", rng, px_per_mm, pen)
            plan.notes.setdefault("corrections", []).append(group.key)
        if kind != "check":
            plan.notes.setdefault("tick_kinds", {})[group.key] = kind
    for number in spec.numeric_fields:
        value = plan.fields.get(number.key)
        if value is None:
            continue
        pen = handwriting.random_pen(rng)
        for box, digit in zip(number.digit_boxes, sim.box_digits(number, float(value))):
            if digit is not None:
                image = handwriting.simulation_digit(digit, rng)
                handwriting.draw_digit(page, sim._rect_px(homography, boxes[box]), image, rng, px_per_mm, pen)
    for slot, state in plan.signatures.items():
        rect = sim._rect_px(homography, boxes[slot])
        if state == "signed":
            handwriting.draw_signature(page, rect, rng, px_per_mm)
        elif rng.random() < sim.STRAY_MARK_PROBABILITY:
            handwriting.draw_stray_mark(page, rect, rng, "stroke" if rng.random() < 0.5 else "speckle", px_per_mm)
            plan.notes.setdefault("stray", []).append(slot)
