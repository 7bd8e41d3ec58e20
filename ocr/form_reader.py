"""Reads a page of any form described in ``forms.form_spec``.

The same measures and rules as the record sheet's reader: choice groups
(``ocr.choices``), digit fields (``ocr.numbers``), signature slots
(``ocr.signatures``), each with a confidence and, when a person must look,
a reason and an evidence crop. What the form asks comes from its
description only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from forms.errors import DigitModelError
from forms.form_spec import FormSpec
from forms.geometry import PageLayout, Rect
from ocr.align import Alignment, crop, union_rect
from ocr.choices import read_choice_groups
from ocr.marks import paper_level_of
from ocr.numbers import NumberResult, fields_on, read_numbers
from ocr.signatures import one_bit_page, read_signatures

if TYPE_CHECKING:
    from ocr.reader import PageReading

EVIDENCE_PX_PER_MM = 6.0
EVIDENCE_MARGIN_MM = 1.5
MARKER_QUIET_MM = 2.0


def _evidence(gray: np.ndarray, alignment: Alignment, rects: list[Rect], reading: PageReading, key: str) -> None:
    reading.crops[key] = crop(gray, alignment, union_rect(rects), EVIDENCE_PX_PER_MM, margin_mm=EVIDENCE_MARGIN_MM)


def read_form_contents(
    gray: np.ndarray, colour: bool, alignment: Alignment, layout: PageLayout, spec: FormSpec, reading: PageReading,
    redness: np.ndarray | None = None,
) -> None:
    """Fill ``reading`` with every group, number and signature of ``spec`` found on ``layout``."""
    paper = paper_level_of(gray)
    boxes = layout.boxes
    for group in read_choice_groups(gray, alignment, layout, spec, paper, reading.bilevel):
        item: dict[str, object] = {"value": group.reading.value, "confidence": round(group.reading.confidence, 3)}
        item.update({value: measure.as_dict() for value, measure in group.measures.items()})
        reading.fields[group.key] = item
        if group.reading.reason:
            reading.review.append((group.key, group.reading.reason))
        _evidence(gray, alignment, group.boxes, reading, group.key)

    if spec.numeric_fields:
        try:
            numbers, _comb_cut = read_numbers(gray, alignment, layout, spec.numeric_fields, reading.bilevel)
        except DigitModelError as exc:
            numbers = [
                NumberResult(f.key, None, 0.0, False, "", f"数字识别模型不可用：{exc}")
                for f in fields_on(layout, spec.numeric_fields)
            ]
        for number in numbers:
            reading.fields[number.key] = number.as_dict()
            if number.problem:
                reading.review.append((number.key, number.problem))
            field = spec.numeric_field(number.key)
            assert field is not None
            _evidence(gray, alignment, [boxes[k] for k in field.digit_boxes], reading, number.key)

    slots = [s for s in spec.signature_slots if s.key in boxes]
    if slots:
        half = layout.marker_size_mm / 2 + MARKER_QUIET_MM
        solids = [Rect(x - half, y - half, 2 * half, 2 * half) for x, y in layout.markers.values()] + [layout.qr]
        signatures = read_signatures(gray, alignment, {s.key: boxes[s.key] for s in slots}, paper, colour, solids,
                                     one_bit_page(gray, colour, reading.bilevel), redness)
        for slot in slots:
            signature, _area = signatures[slot.key]
            reading.signatures[slot.key] = signature.as_dict()
            if signature.state == "uncertain":
                reading.review.append((slot.key, signature.reason or "无法判断是否签名"))
            _evidence(gray, alignment, [boxes[slot.key]], reading, slot.key)
    if all(key in reading.signatures for key in spec.required_signatures):
        reading.validity = spec.validity({k: v["state"] for k, v in reading.signatures.items()})
