"""One page in, one reading out: identify, align, read every box.

Pure: takes the decoded page, the layouts and the workspace key, returns
plain data. What a reading needs checked by a person is listed in
``review``; a page that cannot be used at all has ``rejected`` set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from forms.errors import DigitModelError
from forms.form_spec import form_spec
from forms.geometry import MARKER_IDS, PageLayout, Rect
from forms.qr_payload import SheetId
from forms.record_sheet import (
    INDICATORS,
    INDICATORS_BY_KEY,
    POVERTY_FUND_INDICATOR,
    SIGNATURE_SLOTS,
    inspection_validity,
)
from ocr.align import (
    ALIGN_REVIEW_ERROR_MM,
    Alignment,
    align,
    crop,
    find_markers_mending,
    rough_alignment,
    union_rect,
)
from ocr.errors import AlignmentError, IdentificationError, ToolFailureError
from ocr.form_reader import read_form_contents
from ocr.identify import (
    PRINTED_ID_PX_PER_MM,
    Identity,
    id_line_variants,
    identify_by_ocr,
    identify_by_qr,
    parse_printed_ids,
    printed_id_crop,
    read_id_lines,
)
from ocr.marks import classify_pair, measure_box, paper_level_of, percentile_u8
from ocr.numbers import NumberResult, check_poverty_fund, fields_on, read_numbers
from ocr.pages import PageImage
from ocr.printed_id import GlyphCheck, check_line
from ocr.refine import REFINE_FROM_ERROR_MM, is_bent, refine_alignment
from ocr.signatures import one_bit_page, read_signatures

EVIDENCE_PX_PER_MM = 6.0
EVIDENCE_MARGIN_MM = 1.5
# A page with less ink than this share of dark pixels is blank.
BLANK_INK_MAX_RATIO = 0.002
BLANK_DARK_LEVEL_RATIO = 0.6
MARKER_QUIET_MM = 2.0
# Bump when a change to the reader may read a page it once rejected: the next
# scan reads every page that an older version rejected.
READER_VERSION = "5"
UNFILLED_REASON = "纪实表未填写"
# Every indicator of a record sheet is to be answered. One read unanswered may be so; when several are, a
# small or faint mark may be going unseen on that page (a round no rule was tuned on, seeds 700-703: a gray
# copier copy whose dot ticks in three 是 boxes read as nothing, all three settled as unanswered).
UNANSWERED_INDICATORS_REVIEW_MIN = 2
UNANSWERED_INDICATORS_REASON = "本页有多道督查指标的两个框都是空的，勾可能太小或太淡而没有读出来，请对照纸质原件"
QR_UNREAD_REASON = "二维码无法读取，由打印编号识别（已校验）"
QR_UNVERIFIED_REASON = "二维码的读数未通过校验（可能已破损），由打印编号识别（已校验）"
ISSUED_MAC_REASON = "二维码和打印编号都未能通过校验，按编号末尾的校验码对上已印发的纪实表，请核对是否为这张表"
PRINTED_ID_MISMATCH = "二维码与打印编号不一致"
FADED_SLOT_REASON = "复印件有缺墨条纹，签名处的笔迹可能已褪色，无法确认是否签名"
MENDED_BILEVEL_REASON = "黑白复印件有缺墨条纹，浅色笔迹可能已消失，请核对整页"
BILEVEL_CUT_SLOT_REASON = "黑白复印件有缺墨条纹穿过表格，签名可能整个没有扫出来，请对照纸质原件"
BILEVEL_EMPTY_SLOT_REASON = "黑白扫描件上签名栏是空白的，浅色的签名可能没有扫出来，请对照纸质原件"
EVIDENCE_GAP_PX = 8

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
    # Markers or the QR code were found only once copier light lines were mended.
    mended: bool = False
    colour: bool = False
    bilevel: bool = False  # a 1-bit scan: seals break into pen-like pieces
    # The rejection came from a tool that failed (tesseract), not from the paper.
    tool_failure: bool = False
    # key -> {"value", "confidence", ...raw measures}
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    signatures: dict[str, dict[str, Any]] = field(default_factory=dict)
    validity: str | None = None  # on the page with the signature slots
    review: list[tuple[str, str]] = field(default_factory=list)  # (field key or "page", Chinese reason)
    crops: dict[str, np.ndarray] = field(default_factory=dict)
    # The printed ID line and the QR code as scanned, kept until the line is
    # read (``check_printed_id``, a chunk of pages at a time) and then dropped.
    id_line: np.ndarray | None = None
    qr_image: np.ndarray | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "payload": self.payload,
            "id_method": self.id_method,
            "alignment_error_mm": None if self.alignment_error_mm is None else round(self.alignment_error_mm, 3),
            "markers_found": self.markers_found,
            "colour": self.colour,
            "bilevel": self.bilevel,
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


def _aligned(gray: np.ndarray, layouts: Sequence[PageLayout],
             markers: dict[int, np.ndarray]) -> tuple[Alignment, PageLayout | None]:
    """The markers' alignment (on ``layouts[0]``: all share the markers), refined where it fits badly
    (``_refined``), and the layout whose boxes refined it. With two markers only, the scale, turn and shift
    they fix is refined on the printed boxes of one of ``layouts``; where too few boxes are found, the page
    is not aligned (AlignmentError)."""
    try:
        return _refined(gray, align(gray, layouts[0], markers), layouts)
    except AlignmentError:
        rough = rough_alignment(gray, layouts[0], markers)
        if rough is not None:
            refined, fitted_on = _refined(gray, rough, layouts)
            if fitted_on is not None:
                return refined, fitted_on
        raise


def _refined(gray: np.ndarray, alignment: Alignment,
             layouts: Sequence[PageLayout]) -> tuple[Alignment, PageLayout | None]:
    """``alignment``, or where its markers fit badly (or only three were found), the homography fitted to
    the markers and the printed boxes of whichever layout's boxes are found on the page (``ocr.refine``),
    and that layout."""
    if alignment.error_mm <= REFINE_FROM_ERROR_MM and alignment.markers_found >= len(MARKER_IDS):
        return alignment, None
    paper = paper_level_of(gray)
    best, fitted_on = alignment, None
    for layout in layouts:
        refined = refine_alignment(gray, alignment, layout, paper)
        if refined is not None and refined.boxes_fitted > best.boxes_fitted:
            best, fitted_on = refined, layout
    return best, fitted_on


def _unbent(gray: np.ndarray, alignment: Alignment, layout: PageLayout) -> Alignment:
    """``alignment`` with the page's bend between its markers, where its printed boxes show one
    (``ocr.refine.is_bent``: a few boxes looked for on every page)."""
    if alignment.boxes_fitted:
        return alignment  # the boxes were all looked for already, and any bend taken in
    paper = paper_level_of(gray)
    if not is_bent(gray, alignment, layout, paper):
        return alignment
    return refine_alignment(gray, alignment, layout, paper, refit=False) or alignment


def _identify(
    page: PageImage, layouts: dict[LayoutKey, PageLayout], key: bytes, reading: PageReading,
    issued: dict[str, str] | None,
) -> tuple[Identity | None, Alignment | None, str | None]:
    gray = page.gray
    markers, reading.mended = find_markers_mending(gray)
    reading.markers_found = len(markers)
    candidates = list(layouts.values())
    alignment: Alignment | None = None
    align_problem: str | None = None
    fitted_on: PageLayout | None = None
    try:
        alignment, fitted_on = _aligned(gray, candidates, markers)
    except AlignmentError as exc:
        align_problem = str(exc)
    if alignment is not None and alignment.markers_inferred:
        # Markers that only a light line's gaps closed: the page is a worn copy, as when they were mended.
        reading.mended = True
    identity, qr_problem = identify_by_qr(gray, alignment, candidates, key)
    if identity is None and alignment is not None:
        # Also when the QR code read as something that does not verify: half a torn code can read
        # as a short number ("013257", benchmarks/bench_printed_id_keys.py), while the printed ID beside it
        # is whole.
        try:
            identity = identify_by_ocr(gray, alignment, candidates, key, issued)
        except IdentificationError as exc:
            qr_problem = qr_problem or str(exc)
            reading.tool_failure = isinstance(exc, ToolFailureError)
        if identity is not None:
            identity.qr_unverified = qr_problem is not None
        elif qr_problem is None:
            qr_problem = "二维码无法读取，打印编号也无法识别"
    if identity is None and qr_problem is None:
        qr_problem = "二维码无法读取，且找不到定位标记"
    if identity is not None:
        layout = layouts.get((identity.sheet.layout, identity.sheet.page))
        if layout is None:
            return identity, None, f"未知的版式 {identity.sheet.layout} 第{identity.sheet.page}页"
        # Aligned again on the page's own layout, unless its boxes refined the alignment already.
        if alignment is None or (layout is not candidates[0] and fitted_on is not layout):
            try:
                alignment, fitted_on = _aligned(gray, [layout], markers)
            except AlignmentError as exc:
                align_problem = str(exc)
                alignment = None
        if alignment is not None:
            alignment = _unbent(gray, alignment, layout)
    return identity, alignment, qr_problem if identity is None else align_problem


def read_page(page: PageImage, layouts: dict[LayoutKey, PageLayout], key: bytes,
              issued: dict[str, str] | None = None) -> PageReading:
    """``issued``: MAC -> payload of every sheet page the workspace issued; a page whose QR code and
    printed ID both fail may still be named by the MAC at the end of its ID line."""
    reading = PageReading(page_no=page.page_no, colour=page.colour, bilevel=page.bilevel)
    gray = page.gray
    identity, alignment, problem = _identify(page, layouts, key, reading, issued)
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
    if identity.by_issued_mac:
        reading.review.append(("page", ISSUED_MAC_REASON))
    elif identity.method == "ocr":
        reading.review.append(("page", QR_UNVERIFIED_REASON if identity.qr_unverified else QR_UNREAD_REASON))
    if (identity.mended or reading.mended) and reading.bilevel:
        # A 1-bit copy whose low-ink lines cut the QR code: light pen strokes may be gone entirely.
        reading.review.append(("page", MENDED_BILEVEL_REASON))
    layout = layouts.get((sheet.layout, sheet.page))
    if layout is None or alignment is None:
        # Identified but not readable: a person reads the paper.
        reading.review.append(("page", f"{problem or '无法对齐'}，需人工核对整页"))
        return reading
    reading.alignment_error_mm = alignment.error_mm
    if identity.method == "qr":
        reading.id_line = printed_id_crop(gray, alignment, layout)
        reading.qr_image = crop(gray, alignment, layout.qr, EVIDENCE_PX_PER_MM, margin_mm=EVIDENCE_MARGIN_MM)
    if alignment.error_mm > ALIGN_REVIEW_ERROR_MM:
        reading.review.append(("page", f"对齐误差较大（{alignment.error_mm:.2f} 毫米），请核对所有读数"))
    described = form_spec(sheet.layout)
    if described is not None:
        # Any form other than the record sheet is read from its description alone.
        read_form_contents(gray, page.colour, alignment, layout, described, reading, page.redness)
        return reading
    _read_contents(gray, page.colour, alignment, layout, reading, page.redness)
    if identity.mended or reading.mended:
        _faded_slots_to_review(reading)
    if _unfilled(reading):
        reading.review.append(("page", UNFILLED_REASON))
    else:
        _unanswered_together(reading)
    return reading


def check_printed_id_glyphs(reading: PageReading) -> GlyphCheck:
    """The printed ID line compared with the QR code's ID glyph by glyph (``ocr.printed_id``).

    On "match" the page is done: its line and QR crop are dropped. Otherwise
    the caller reads the line with tesseract (``check_printed_id``), which
    has the last word; the glyphs' reading names the printed ID when
    tesseract cannot.
    """
    if reading.id_line is None or reading.qr_image is None or reading.payload is None:
        return GlyphCheck("unsure", "", 0.0)
    check = check_line(reading.id_line, reading.payload, PRINTED_ID_PX_PER_MM)
    if check.verdict == "match":
        reading.id_line = reading.qr_image = None
    return check


def check_printed_id(reading: PageReading, text: str, known_layouts: list[str], glyphs: GlyphCheck | None = None) -> None:
    """The paper must be the sheet its QR code names: a QR code cut from one
    sheet and pasted on another is valid, but the printed ID beside it is not
    the QR's. A mismatch, or a line that cannot be read, goes to review with
    the QR code and the printed line side by side.

    ``text`` holds a first reading of the line, possibly among other pages'
    lines read in the same run (the caller gives no page whose QR ID another
    page of that run shares, so no line can vouch for a page it is not on);
    a line not found there is read again alone, in other looks, before a
    doubt is raised.
    """
    line, qr_image = reading.id_line, reading.qr_image
    reading.id_line = reading.qr_image = None
    if line is None or qr_image is None or reading.round is None or reading.village_code is None:
        return
    assert reading.sheet_page is not None and reading.layout is not None
    sheet = SheetId(reading.round, reading.village_code, reading.sheet_page, reading.layout)
    printed = parse_printed_ids(text, known_layouts)
    if any(p.matches(sheet) for p in printed):
        return
    problem: str | None = None
    for variant in id_line_variants(line):
        try:
            again = parse_printed_ids("\n".join(read_id_lines([variant])), known_layouts)
        except IdentificationError as exc:
            problem = str(exc)
            break
        if any(p.matches(sheet) for p in again):
            return
        printed = printed or again
    qr_text = f"{sheet.round} {sheet.village_code} 第{sheet.page}页"
    if not printed and glyphs is not None and glyphs.verdict == "mismatch":
        printed = parse_printed_ids(glyphs.seen + "-" + "A" * 16, known_layouts)
    if printed:
        seen = printed[0]
        detail = f"二维码为 {qr_text}，打印编号为 {seen.round} {seen.village_code} 第{seen.page}页"
    else:
        detail = f"二维码为 {qr_text}，打印编号无法识别" + (f"（{problem}）" if problem else "")
    reading.review.append(("page", f"{PRINTED_ID_MISMATCH}：{detail}，请核对纸面是否为这张纪实表"))
    reading.crops["page"] = _side_by_side(qr_image, line)


def _side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    height = max(left.shape[0], right.shape[0])
    out = np.full((height, left.shape[1] + EVIDENCE_GAP_PX + right.shape[1]), 255, dtype=np.uint8)
    out[: left.shape[0], : left.shape[1]] = left
    out[: right.shape[0], left.shape[1] + EVIDENCE_GAP_PX :] = right
    return out


def _faded_slots_to_review(reading: PageReading) -> None:
    """A copy whose low-ink lines had to be mended to find its QR code or markers: a slot read empty
    that still holds some ink may be a signature the lines faded (a gray copier page at 153 dpi read a
    signed slot as empty so). It goes to review; validity is judged again."""
    _empty_slots_to_review(reading, FADED_SLOT_REASON, inked_only=True)


def _empty_slots_to_review(reading: PageReading, reason: str, inked_only: bool) -> None:
    """Slots read empty (``inked_only``: only those holding some ink) go to review for ``reason``."""
    reopened = [key for key, slot in reading.signatures.items()
                if slot.get("state") == "empty" and (not inked_only or float(slot.get("ink_mm2", 0.0)) > 0.0)]
    for key in reopened:
        reading.signatures[key]["state"] = "uncertain"
        reading.review.append((key, reason))
    if reopened and len(reading.signatures) == len(SIGNATURE_SLOTS):
        reading.validity = inspection_validity({k: v["state"] for k, v in reading.signatures.items()})


def _unfilled(reading: PageReading) -> bool:
    """Nothing written at all: no tick, no digit, no signature. Such a sheet is never recorded silently."""
    if not reading.fields:
        return False
    for item in reading.fields.values():
        if item.get("value") not in (None, "blank") or item.get("problem"):
            return False
    return all(item.get("state") == "empty" for item in reading.signatures.values())


def _evidence(gray: np.ndarray, alignment: Alignment, rects: list, reading: PageReading, key: str) -> None:
    reading.crops[key] = crop(gray, alignment, union_rect(rects), EVIDENCE_PX_PER_MM, margin_mm=EVIDENCE_MARGIN_MM)


def _unanswered_together(reading: PageReading) -> None:
    """Indicators read unanswered (both boxes empty) go to review when the page has several of them
    (a sheet with nothing written at all is one item of its own, ``UNFILLED_REASON``)."""
    blank = [key for key, item in reading.fields.items() if key in INDICATORS_BY_KEY and item["value"] == "blank"]
    if len(blank) < UNANSWERED_INDICATORS_REVIEW_MIN:
        return
    for key in blank:
        reading.fields[key].update(value="uncertain", confidence=0.0)
        reading.review.append((key, UNANSWERED_INDICATORS_REASON))


def _read_contents(gray: np.ndarray, colour: bool, alignment: Alignment, layout: PageLayout, reading: PageReading,
                   redness: np.ndarray | None = None) -> None:
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
        first = measure_box(gray, alignment, boxes[first_key], paper, reading.bilevel)
        second = measure_box(gray, alignment, boxes[second_key], paper, reading.bilevel)
        pair = classify_pair(first, second, labels, names, reading.bilevel)
        reading.fields[key] = {
            "value": pair.value,
            "confidence": round(pair.confidence, 3),
            labels[0]: first.as_dict(),
            labels[1]: second.as_dict(),
        }
        if pair.reason:
            reading.review.append((key, pair.reason))
        _evidence(gray, alignment, [boxes[first_key], boxes[second_key]], reading, key)

    comb_cut = False
    try:
        numbers, comb_cut = read_numbers(gray, alignment, layout, bilevel=reading.bilevel)
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
    one_bit = one_bit_page(gray, colour, reading.bilevel)
    signatures = read_signatures(gray, alignment, {s.key: boxes[s.key] for s in slots}, paper, colour, solids,
                                 one_bit, redness)
    for slot in slots:
        signature, _area = signatures[slot.key]
        reading.signatures[slot.key] = signature.as_dict()
        if signature.state == "uncertain":
            reading.review.append((slot.key, signature.reason or "无法判断是否签名"))
        _evidence(gray, alignment, [boxes[slot.key]], reading, slot.key)
    if len(slots) == len(SIGNATURE_SLOTS):
        reading.validity = inspection_validity({k: v["state"] for k, v in reading.signatures.items()})
    if comb_cut:
        # The lines that cut the comb's print cross the slots too: on the benchmark's 604 pages both signed
        # slots read empty were on such pages, one with no ink left at all.
        _empty_slots_to_review(reading, BILEVEL_CUT_SLOT_REASON, inked_only=False)
    elif one_bit:
        # A light pen can leave nothing at a 1-bit scan's threshold, and an empty slot makes the inspection
        # invalid, which names people in the notice: on 1-bit copies with a dirty drum (151 pages), 5 signed
        # slots read empty with 0-0.4 mm² of ink left. An empty slot on a 1-bit page is checked on paper.
        _empty_slots_to_review(reading, BILEVEL_EMPTY_SLOT_REASON, inked_only=False)
