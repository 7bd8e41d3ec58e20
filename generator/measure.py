"""Reads a rendered sheet's geometry back from its PDF.

Markers and the QR code are pictures; every box and signature area is
drawn with four lines (paragraph or cell borders). A box's extent is the
outer edge of its lines, as it was when boxes were pictures: the line
centres plus half a line width. Boxes are put together from those line segments, told
apart by size, and placed by a fixed structure: tick boxes come in rows of two (是, 否) in indicator order,
digit boxes in reading order of ``NUMERIC_FIELDS``, signature areas left
to right. ``measure_layout`` (pdfplumber) also checks each indicator row
against its printed wording, so a reordered template cannot go unnoticed;
``measure_boxes_fast`` (pypdfium2 path objects, a few ms a page) is the
per-sheet check.
"""

from __future__ import annotations

import ctypes
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pypdfium2
import pypdfium2.raw as pdfium_raw

from forms.errors import FormDefinitionError
from forms.geometry import LAYOUTS_DIR, PageLayout, Rect, load_layout
from forms.record_sheet import (
    INDICATORS,
    LAYOUT_VERSION,
    NUMERIC_FIELDS,
    SIGNATURE_SLOTS,
    rectification_box_keys,
)
from generator import sheet_design as d

MM_PER_PT = 25.4 / 72
SIZE_TOLERANCE_MM = 0.4
ROW_TOLERANCE_MM = 1.5
# Line ends of one box meet within this (they overlap by half a line width).
CORNER_TOLERANCE_MM = 0.5
# A path thinner than this is a line segment; its long side is its length.
SEGMENT_MAX_THICKNESS_MM = 1.0
PAYLOAD_WORD_RE = re.compile(r"^DC1-[0-9A-Z-]+$")


@dataclass(frozen=True)
class Placement:
    """A picture on the page, in mm from the paper's top-left corner."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Segment:
    """A straight line's centre line, in mm from the paper's top-left corner.

    Horizontal: ``pos`` is y, ``start``..``end`` the x range; vertical: the reverse.
    """

    horizontal: bool
    pos: float
    start: float
    end: float
    line_mm: float

    @property
    def length(self) -> float:
        return self.end - self.start


def _box_sizes() -> list[tuple[float, float]]:
    sizes = [(d.TICK_BOX_MM, d.TICK_BOX_MM), (d.DIGIT_BOX_W_MM, d.DIGIT_BOX_H_MM)]
    sizes += [(w, d.SIGNATURE_H_MM) for w in sorted(set(d.SIGNATURE_W_MM.values()))]
    return sizes


BOX_SIZES_MM = _box_sizes()


def _fits_any(length: float, targets: set[float]) -> bool:
    # Centre lines are a line width shorter than the box; their ends may run
    # past the corners by up to a line width.
    slack = SIZE_TOLERANCE_MM + 2 * CORNER_TOLERANCE_MM
    return any(-slack <= length - t <= slack for t in targets)


def _buckets(segments: Sequence[Segment], key: Callable[[Segment], float]) -> dict[int, list[Segment]]:
    """Segments by ``key`` in CORNER_TOLERANCE_MM-wide buckets, for near look-ups."""
    out: dict[int, list[Segment]] = {}
    for s in segments:
        out.setdefault(math.floor(key(s) / CORNER_TOLERANCE_MM), []).append(s)
    return out


def _near_in(buckets: dict[int, list[Segment]], value: float) -> list[Segment]:
    b = math.floor(value / CORNER_TOLERANCE_MM)
    return buckets.get(b - 1, []) + buckets.get(b, []) + buckets.get(b + 1, [])


def boxes_from_segments(segments: Sequence[Segment]) -> list[Placement]:
    """Closed rectangles of a box size, each from its four sides' centre lines."""
    widths = {w for w, _ in BOX_SIZES_MM}
    heights = {h for _, h in BOX_SIZES_MM}
    unique = {(s.horizontal, round(s.pos, 2), round(s.start, 2), round(s.end, 2)): s for s in segments}
    horizontal = [s for s in unique.values() if s.horizontal and _fits_any(s.length, widths)]
    vertical = [s for s in unique.values() if not s.horizontal and _fits_any(s.length, heights)]
    by_start = _buckets(vertical, lambda v: v.start)
    by_y = _buckets(horizontal, lambda h: h.pos)
    tol = CORNER_TOLERANCE_MM
    out: list[Placement] = []
    for top in horizontal:
        sides = [
            v for v in _near_in(by_start, top.pos)
            if abs(v.start - top.pos) <= tol and top.start - tol <= v.pos <= top.end + tol
        ]
        if len(sides) < 2:
            continue
        left = min(sides, key=lambda v: v.pos)
        right = max(sides, key=lambda v: v.pos)
        if abs(left.pos - top.start) > tol or abs(right.pos - top.end) > tol or abs(left.end - right.end) > tol:
            continue
        bottom_y = (left.end + right.end) / 2
        bottom = next(
            (
                h for h in _near_in(by_y, bottom_y)
                if abs(h.pos - bottom_y) <= tol and abs(h.start - top.start) <= tol and abs(h.end - top.end) <= tol
            ),
            None,
        )
        if bottom is None:
            continue
        x0, y0 = left.pos - left.line_mm / 2, top.pos - top.line_mm / 2
        x1, y1 = right.pos + right.line_mm / 2, bottom.pos + bottom.line_mm / 2
        box = Placement(x0, y0, x1 - x0, y1 - y0)
        if any(_near(box.w, w) and _near(box.h, h) for w, h in BOX_SIZES_MM):
            out.append(box)
    return out


@dataclass
class PageBoxes:
    """What the pictures say, relative to the top-left marker's centre."""

    page_size_mm: tuple[float, float]
    markers: dict[str, tuple[float, float]]
    marker_size_mm: float
    qr: Rect | None
    boxes: dict[str, Rect]


def _near(value: float, target: float) -> bool:
    return abs(value - target) <= SIZE_TOLERANCE_MM


def _rows(items: list[Placement]) -> list[list[Placement]]:
    rows: list[list[Placement]] = []
    for item in sorted(items, key=lambda p: (p.y, p.x)):
        if rows and abs(rows[-1][0].y - item.y) <= ROW_TOLERANCE_MM:
            rows[-1].append(item)
        else:
            rows.append([item])
    return [sorted(row, key=lambda p: p.x) for row in rows]


def _rect(p: Placement, origin: tuple[float, float]) -> Rect:
    return Rect(round(p.x - origin[0], 3), round(p.y - origin[1], 3), round(p.w, 3), round(p.h, 3))


def classify(
    images: Sequence[Placement], drawn: Sequence[Placement], page: int, page_size_mm: tuple[float, float]
) -> PageBoxes:
    """Name the pictures and drawn boxes of a page of kind ``page`` (1: sheet, 2: follow-up)."""
    markers = [p for p in images if _near(p.w, d.MARKER_IMAGE_MM) and _near(p.h, d.MARKER_IMAGE_MM)]
    qrs = [p for p in images if _near(p.w, d.QR_SIZE_MM) and _near(p.h, d.QR_SIZE_MM)]
    ticks = [p for p in drawn if _near(p.w, d.TICK_BOX_MM) and _near(p.h, d.TICK_BOX_MM)]
    digits = [p for p in drawn if _near(p.w, d.DIGIT_BOX_W_MM) and _near(p.h, d.DIGIT_BOX_H_MM)]
    signatures = [p for p in drawn if _near(p.h, d.SIGNATURE_H_MM) and p.w >= 40.0]
    if len(markers) != 4:
        raise FormDefinitionError(f"第{page}页应有 4 个定位标记，实际找到 {len(markers)} 个")
    width, height = page_size_mm
    corners: dict[str, Placement] = {}
    for m in markers:
        name = ("top" if m.cy < height / 2 else "bottom") + "_" + ("left" if m.cx < width / 2 else "right")
        corners[name] = m
    if len(corners) != 4:
        raise FormDefinitionError(f"第{page}页的定位标记位置不对，应各在一角")
    origin = (corners["top_left"].cx, corners["top_left"].cy)
    marker_centres = {
        name: (round(m.cx - origin[0], 3), round(m.cy - origin[1], 3)) for name, m in sorted(corners.items())
    }
    marker_size = round(corners["top_left"].w * d.MARKER_SIZE_MM / d.MARKER_IMAGE_MM, 3)

    boxes: dict[str, Rect] = {}
    tick_rows = _rows(ticks)
    if any(len(row) != 2 for row in tick_rows):
        raise FormDefinitionError(f"第{page}页的勾选框应每行两个（是/否或已整改/未整改）")
    if page == 1:
        if len(tick_rows) != len(INDICATORS):
            raise FormDefinitionError(f"第1页应有 {len(INDICATORS)} 行勾选框，实际 {len(tick_rows)} 行")
        for indicator, (yes, no) in zip(INDICATORS, tick_rows):
            boxes[indicator.yes_box] = _rect(yes, origin)
            boxes[indicator.no_box] = _rect(no, origin)
        digit_order = [p for row in _rows(digits) for p in row]
        digit_keys = [key for f in NUMERIC_FIELDS for key in f.digit_boxes]
        if len(digit_order) != len(digit_keys):
            raise FormDefinitionError(f"第1页应有 {len(digit_keys)} 个数字格，实际 {len(digit_order)} 个")
        for key, p in zip(digit_keys, digit_order):
            boxes[key] = _rect(p, origin)
        if len(signatures) != len(SIGNATURE_SLOTS):
            raise FormDefinitionError(f"第1页应有 {len(SIGNATURE_SLOTS)} 个签字区，实际 {len(signatures)} 个")
        for slot, p in zip(SIGNATURE_SLOTS, sorted(signatures, key=lambda s: s.x)):
            boxes[slot.key] = _rect(p, origin)
    else:
        for index, (done, not_done) in enumerate(tick_rows, start=1):
            done_key, not_done_key = rectification_box_keys(index)
            boxes[done_key] = _rect(done, origin)
            boxes[not_done_key] = _rect(not_done, origin)
    qr = _rect(qrs[0], origin) if len(qrs) == 1 else None
    return PageBoxes(
        page_size_mm=page_size_mm, markers=marker_centres, marker_size_mm=marker_size, qr=qr, boxes=boxes
    )


@dataclass
class PageObjects:
    """What the per-sheet check needs of one PDF page."""

    size_mm: tuple[float, float]
    images: list[Placement]
    boxes: list[Placement]


def _segment_of_bounds(left: float, top: float, right: float, bottom: float) -> Segment | None:
    """A thin path's centre line. pdfium's bounds grow by the stroke width on
    every side: the thin side is two line widths, and one is taken off each
    end of the long side."""
    w, h = right - left, bottom - top
    if h <= SEGMENT_MAX_THICKNESS_MM < w:
        return Segment(True, (top + bottom) / 2, left + h / 2, right - h / 2, h / 2)
    if w <= SEGMENT_MAX_THICKNESS_MM < h:
        return Segment(False, (left + right) / 2, top + w / 2, bottom - w / 2, w / 2)
    return None


def _page_objects_raw(page: pypdfium2.PdfPage) -> list[tuple[int, float, float, float, float]] | None:
    """(type, left, bottom, right, top) of the page's top-level pictures and paths,
    through the raw API (~5x faster than the object wrappers); None if the page
    nests objects in forms, whose bounds the wrappers resolve."""
    out: list[tuple[int, float, float, float, float]] = []
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for i in range(pdfium_raw.FPDFPage_CountObjects(page.raw)):
        obj = pdfium_raw.FPDFPage_GetObject(page.raw, i)
        kind = pdfium_raw.FPDFPageObj_GetType(obj)
        if kind == pdfium_raw.FPDF_PAGEOBJ_FORM:
            return None
        if kind in (pdfium_raw.FPDF_PAGEOBJ_IMAGE, pdfium_raw.FPDF_PAGEOBJ_PATH):
            pdfium_raw.FPDFPageObj_GetBounds(
                obj, ctypes.byref(left), ctypes.byref(bottom), ctypes.byref(right), ctypes.byref(top)
            )
            out.append((kind, left.value, bottom.value, right.value, top.value))
    return out


def _page_objects(page: pypdfium2.PdfPage) -> list[tuple[int, float, float, float, float]]:
    raw = _page_objects_raw(page)
    if raw is not None:
        return raw
    kinds = (pdfium_raw.FPDF_PAGEOBJ_IMAGE, pdfium_raw.FPDF_PAGEOBJ_PATH)
    return [(obj.type, *obj.get_bounds()) for obj in page.get_objects(filter=kinds, max_depth=4)]


def placements_fast(pdf_path: Path) -> list[PageObjects]:
    """Pictures and drawn boxes of every page, via pypdfium2 (fast)."""
    return placements_and_texts(pdf_path, with_text=False)[0]


def placements_and_texts(pdf_path: Path, *, with_text: bool = True) -> tuple[list[PageObjects], list[str]]:
    """``placements_fast`` and each page's text, reading every page once."""
    out: list[PageObjects] = []
    texts: list[str] = []
    pdf = pypdfium2.PdfDocument(str(pdf_path))
    try:
        for page in pdf:
            if with_text:
                textpage = page.get_textpage()
                texts.append(textpage.get_text_range())
                textpage.close()
            width_pt, height_pt = page.get_size()
            images: list[Placement] = []
            segments: list[Segment] = []
            for kind, left, bottom, right, top in _page_objects(page):
                x0, y0 = left * MM_PER_PT, (height_pt - top) * MM_PER_PT
                x1, y1 = right * MM_PER_PT, (height_pt - bottom) * MM_PER_PT
                if kind == pdfium_raw.FPDF_PAGEOBJ_IMAGE:
                    images.append(Placement(x0, y0, x1 - x0, y1 - y0))
                else:
                    segment = _segment_of_bounds(x0, y0, x1, y1)
                    if segment is not None:
                        segments.append(segment)
            out.append(PageObjects((width_pt * MM_PER_PT, height_pt * MM_PER_PT), images, boxes_from_segments(segments)))
            page.close()
    finally:
        pdf.close()
    return out, texts


def measure_boxes_fast(pdf_path: Path, page_kinds: Sequence[int]) -> list[PageBoxes]:
    """Per-sheet check: page i of the PDF is of kind page_kinds[i]."""
    pages = placements_fast(pdf_path)
    if len(pages) != len(page_kinds):
        raise FormDefinitionError(f"{pdf_path.name} 有 {len(pages)} 页，应为 {len(page_kinds)} 页")
    return [classify(p.images, p.boxes, kind, p.size_mm) for p, kind in zip(pages, page_kinds)]


def _plumber_segments(page: pdfplumber.page.Page) -> list[Segment]:
    """Centre lines of the page's straight edges (lines and rectangle sides)."""
    out: list[Segment] = []
    for edge in page.edges:
        x0, x1 = float(edge["x0"]) * MM_PER_PT, float(edge["x1"]) * MM_PER_PT
        top, bottom = float(edge["top"]) * MM_PER_PT, float(edge["bottom"]) * MM_PER_PT
        line = float(edge.get("linewidth") or 0.0) * MM_PER_PT
        if edge["orientation"] == "h":
            out.append(Segment(True, (top + bottom) / 2, x0, x1, line))
        elif edge["orientation"] == "v":
            out.append(Segment(False, (x0 + x1) / 2, top, bottom, line))
    return out


def _check_indicator_rows(page: pdfplumber.page.Page, boxes: dict[str, Rect], origin: tuple[float, float]) -> None:
    """The wording printed beside each tick row must be that indicator's."""
    for indicator in INDICATORS:
        lead = indicator.text.split("{year}")[0][:8]
        hits = page.search(re.escape(f"{indicator.number}.{lead}"), regex=True)
        box = boxes[indicator.yes_box]
        box_mid = origin[1] + box.y_mm + box.h_mm / 2
        if not any(abs((h["top"] + h["bottom"]) / 2 * MM_PER_PT - box_mid) < box.h_mm for h in hits):
            raise FormDefinitionError(f"勾选框 {indicator.yes_box} 旁边不是第{indicator.number}项指标的文字，模板行序有误")


def measure_layout(pdf_path: Path, page_index: int, page_kind: int, version: str = LAYOUT_VERSION) -> PageLayout:
    """The authoritative layout of one page, read with pdfplumber."""
    with pdfplumber.open(str(pdf_path)) as pdf:
        page = pdf.pages[page_index]
        size = (float(page.width) * MM_PER_PT, float(page.height) * MM_PER_PT)
        placements = [
            Placement(float(im["x0"]) * MM_PER_PT, float(im["top"]) * MM_PER_PT,
                      float(im["x1"] - im["x0"]) * MM_PER_PT, float(im["bottom"] - im["top"]) * MM_PER_PT)
            for im in page.images
        ]
        found = classify(placements, boxes_from_segments(_plumber_segments(page)), page_kind, size)
        if found.qr is None:
            raise FormDefinitionError(f"第{page_kind}页没有找到二维码")
        tl = found.markers["top_left"]
        assert tl == (0.0, 0.0)
        marker = next(p for p in placements if _near(p.w, d.MARKER_IMAGE_MM) and p.cx < size[0] / 2 and p.cy < size[1] / 2)
        origin = (marker.cx, marker.cy)
        if page_kind == 1:
            _check_indicator_rows(page, found.boxes, origin)
        words = [w for w in page.extract_words() if PAYLOAD_WORD_RE.match(w["text"])]
        if len(words) != 1:
            raise FormDefinitionError(f"第{page_kind}页应印有一行纪实表编码，实际找到 {len(words)} 处")
        w = words[0]
        printed = Rect(
            round(float(w["x0"]) * MM_PER_PT - origin[0], 3),
            round(float(w["top"]) * MM_PER_PT - origin[1], 3),
            round(float(w["x1"] - w["x0"]) * MM_PER_PT, 3),
            round(float(w["bottom"] - w["top"]) * MM_PER_PT, 3),
        )
    return PageLayout(
        version=version,
        page=page_kind,
        page_size_mm=(round(size[0], 3), round(size[1], 3)),
        markers=found.markers,
        marker_size_mm=found.marker_size_mm,
        qr=found.qr,
        printed_id=printed,
        boxes=found.boxes,
    )


def as_layout(found: PageBoxes, version: str, page: int) -> PageLayout:
    """A fast measurement in layout form, for ``PageLayout.differences_mm``."""
    empty = Rect(0.0, 0.0, 0.0, 0.0)
    return PageLayout(
        version=version,
        page=page,
        page_size_mm=found.page_size_mm,
        markers=found.markers,
        marker_size_mm=found.marker_size_mm,
        qr=found.qr or empty,
        printed_id=empty,
        boxes=found.boxes,
    )


def page_differences(
    found: PageBoxes, kind: int, rect_items: int, version: str = LAYOUT_VERSION, layouts_dir: Path = LAYOUTS_DIR
) -> dict[str, float]:
    """Where one measured page departs from its stored layout (mm; empty = fits).

    Page 2 is compared on the follow-up rows it actually has.
    """
    expected = load_layout(version, kind, layouts_dir)
    if kind == 2:
        keep = {k for i in range(1, rect_items + 1) for k in rectification_box_keys(i)}
        expected.boxes = {k: v for k, v in expected.boxes.items() if k in keep}
    return {
        f"第{kind}页 {key}": round(delta, 2)
        for key, delta in expected.differences_mm(as_layout(found, version, kind)).items()
    }


def sheet_differences(
    pdf_path: Path, rect_items: int, version: str = LAYOUT_VERSION, layouts_dir: Path = LAYOUTS_DIR
) -> dict[str, float]:
    """``page_differences`` over a PDF that holds exactly one sheet."""
    kinds = [1, 2] if rect_items else [1]
    out: dict[str, float] = {}
    for kind, found in zip(kinds, measure_boxes_fast(pdf_path, kinds)):
        out.update(page_differences(found, kind, rect_items, version, layouts_dir))
    return out
