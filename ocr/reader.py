"""One page in, one reading out: identify, align, read every box.

Pure: takes the decoded page, the layouts and the workspace key, returns
plain data. What a reading needs checked by a person is listed in
``review``; a page that cannot be used at all has ``rejected`` set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from forms.errors import DigitModelError
from forms.geometry import PageLayout, Rect
from forms.record_sheet import INDICATORS, SIGNATURE_SLOTS, inspection_validity
from ocr.align import ALIGN_REVIEW_ERROR_MM, Alignment, align, crop, find_markers, union_rect
from ocr.errors import AlignmentError, IdentificationError
from ocr.identify import Identity, identify_by_ocr, identify_by_qr
from ocr.marks import classify_pair, measure_box, paper_level_of, percentile_u8
from ocr.numbers import POVERTY_FUND_INDICATOR, NumberResult, check_poverty_fund, fields_on, read_numbers
from ocr.pages import PageImage
from ocr.signatures import read_signatures

EVIDENCE_PX_PER_MM = 6.0
EVIDENCE_MARGIN_MM = 1.5
# A page with less ink than this share of dark pixels is blank.
BLANK_INK_MAX_RATIO = 0.002
BLANK_DARK_LEVEL_RATIO = 0.6
MARKER_QUIET_MM = 2.0

LayoutKey = tuple[str, int]
_RECT_RE = re.compile(r"^(rect_\d+)\.done$")


@dataclass
class PageReading:
    page_no: int
    rejected: str | None = None  # Chinese reason; the page is unusable
    blank: bool = False
    payload: str | None = None
    round: str | None = None
    village_code: str | None = None
    sheet_page: int | None = None
    layout: str | None = None
    id_method: str | None = None
    alignment_error_mm: float | None = None
    markers_found: int = 0
    colour: bool = False
    # key -> {"value", "confidence", ...raw measures}
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    signatures: dict[str, dict[str, Any]] = field(default_factory=dict)
    validity: str | None = None  # on the page with the signature slots
    review: list[tuple[str, str]] = field(default_factory=list)  # (field key or "page", Chinese reason)
    crops: dict[str, np.ndarray] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "payload": self.payload,
            "id_method": self.id_method,
            "alignment_error_mm": None if self.alignment_error_mm is None else round(self.alignment_error_mm, 3),
            "markers_found": self.markers_found,
            "colour": self.colour,
            "blank": self.blank,
            "fields": self.fields,
            "signatures": self.signatures,
            "validity": self.validity,
            "review": [list(item) for item in self.review],
        }


def _is_blank(gray: np.ndarray) -> bool:
    sample = gray[::4, ::4]
    paper = percentile_u8(sample, 90)
    dark = np.count_nonzero(sample < paper * BLANK_DARK_LEVEL_RATIO)
    return bool(dark < sample.size * BLANK_INK_MAX_RATIO)


def _identify(
    page: PageImage, layouts: dict[LayoutKey, PageLayout], key: bytes, reading: PageReading
) -> tuple[Identity | None, Alignment | None, str | None]:
    gray = page.gray
    markers = find_markers(gray)
    reading.markers_found = len(markers)
    candidates = list(layouts.values())
    alignment: Alignment | None = None
    align_problem: str | None = None
    try:
        alignment = align(gray, candidates[0], markers)
    except AlignmentError as exc:
        align_problem = str(exc)
    identity, qr_problem = identify_by_qr(gray, alignment, candidates, key)
    if identity is None and qr_problem is None and alignment is not None:
        try:
            identity = identify_by_ocr(gray, alignment, candidates, key)
        except IdentificationError as exc:
            qr_problem = str(exc)
        if identity is None and qr_problem is None:
            qr_problem = "二维码无法读取，打印编号也无法识别"
    if identity is None and qr_problem is None:
        qr_problem = "二维码无法读取，且找不到定位标记"
    if identity is not None:
        layout = layouts.get((identity.sheet.layout, identity.sheet.page))
        if layout is None:
            return identity, None, f"未知的版式 {identity.sheet.layout} 第{identity.sheet.page}页"
        if alignment is None or layout is not candidates[0]:
            try:
                alignment = align(gray, layout, markers)
            except AlignmentError as exc:
                align_problem = str(exc)
                alignment = None
    return identity, alignment, qr_problem if identity is None else align_problem


def read_page(page: PageImage, layouts: dict[LayoutKey, PageLayout], key: bytes) -> PageReading:
    reading = PageReading(page_no=page.page_no, colour=page.colour)
    gray = page.gray
    identity, alignment, problem = _identify(page, layouts, key, reading)
    if identity is None:
        if reading.markers_found == 0 and _is_blank(gray):
            reading.blank = True
            reading.rejected = "空白页（未发现任何内容）"
        else:
            reading.rejected = problem or "无法识别此页"
        return reading
    sheet = identity.sheet
    reading.payload = identity.payload
    reading.round = sheet.round
    reading.village_code = sheet.village_code
    reading.sheet_page = sheet.page
    reading.layout = sheet.layout
    reading.id_method = identity.method
    if identity.method == "ocr":
        reading.review.append(("page", "二维码无法读取，由打印编号识别（已校验）"))
    layout = layouts.get((sheet.layout, sheet.page))
    if layout is None or alignment is None:
        # Identified but not readable: a person reads the paper.
        reading.review.append(("page", f"{problem or '无法对齐'}，需人工核对整页"))
        return reading
    reading.alignment_error_mm = alignment.error_mm
    if alignment.error_mm > ALIGN_REVIEW_ERROR_MM:
        reading.review.append(("page", f"对齐误差较大（{alignment.error_mm:.2f} 毫米），请核对所有读数"))
    _read_contents(gray, page.colour, alignment, layout, reading)
    return reading


def _evidence(gray: np.ndarray, alignment: Alignment, rects: list, reading: PageReading, key: str) -> None:
    reading.crops[key] = crop(gray, alignment, union_rect(rects), EVIDENCE_PX_PER_MM, margin_mm=EVIDENCE_MARGIN_MM)


def _read_contents(gray: np.ndarray, colour: bool, alignment: Alignment, layout: PageLayout, reading: PageReading) -> None:
    paper = paper_level_of(gray)
    boxes = layout.boxes
    pairs: list[tuple[str, str, str, tuple[str, str], tuple[str, str]]] = []
    for indicator in INDICATORS:
        if indicator.yes_box in boxes and indicator.no_box in boxes:
            pairs.append((indicator.key, indicator.yes_box, indicator.no_box, ("yes", "no"), ("是", "否")))
    for box_key in sorted(boxes):
        match = _RECT_RE.match(box_key)
        if match and f"{match[1]}.not_done" in boxes:
            pairs.append((match[1], box_key, f"{match[1]}.not_done", ("done", "not_done"), ("已整改", "未整改")))
    for key, first_key, second_key, labels, names in pairs:
        first = measure_box(gray, alignment, boxes[first_key], paper)
        second = measure_box(gray, alignment, boxes[second_key], paper)
        pair = classify_pair(first, second, labels, names)
        reading.fields[key] = {
            "value": pair.value,
            "confidence": round(pair.confidence, 3),
            labels[0]: first.as_dict(),
            labels[1]: second.as_dict(),
        }
        if pair.reason:
            reading.review.append((key, pair.reason))
        _evidence(gray, alignment, [boxes[first_key], boxes[second_key]], reading, key)

    try:
        numbers, _digit_crops = read_numbers(gray, alignment, layout)
    except DigitModelError as exc:
        numbers = [
            NumberResult(f.key, None, 0.0, False, "", f"数字识别模型不可用：{exc}") for f in fields_on(layout)
        ]
    check_poverty_fund({n.key: n for n in numbers}, reading.fields.get(POVERTY_FUND_INDICATOR, {}).get("value"))
    for number in numbers:
        reading.fields[number.key] = number.as_dict()
        if number.problem:
            reading.review.append((number.key, number.problem))
        field_boxes = [boxes[k] for k in boxes if k.startswith(number.key + ".")]
        _evidence(gray, alignment, field_boxes, reading, number.key)

    slots = [s for s in SIGNATURE_SLOTS if s.key in boxes]
    half = layout.marker_size_mm / 2 + MARKER_QUIET_MM
    solids = [Rect(x - half, y - half, 2 * half, 2 * half) for x, y in layout.markers.values()] + [layout.qr]
    signatures = read_signatures(gray, alignment, {s.key: boxes[s.key] for s in slots}, paper, colour, solids)
    for slot in slots:
        signature, _area = signatures[slot.key]
        reading.signatures[slot.key] = signature.as_dict()
        if signature.state == "uncertain":
            reading.review.append((slot.key, signature.reason or "无法判断是否签名"))
        _evidence(gray, alignment, [boxes[slot.key]], reading, slot.key)
    if len(slots) == len(SIGNATURE_SLOTS):
        reading.validity = inspection_validity({k: v["state"] for k, v in reading.signatures.items()})
