"""Signature slots: signed, empty or uncertain.

A blank slot must never be called signed. The area is cleaned before it
is measured: printed lines (long straight runs) and specks are removed,
and on a colour scan a red seal has already gone with the red channel
(``ocr.pages``). On a gray or 1-bit scan a seal is still there: it is
recognised by its size (a ring some 40 mm across, far larger than any
stroke of a name), its ink is not counted, and what is left decides;
if the seal could hide a signature, the slot is uncertain.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from forms.geometry import Rect
from forms.record_sheet import SignatureState
from ocr.align import Alignment, crop, union_rect

SAMPLE_PX_PER_MM = 5.0
SIGNATURE_INSET_MM = 1.0
INK_DARKNESS_MIN_RATIO = 0.25
# Straight runs longer than this are printed lines (underlines, cell borders).
PRINTED_LINE_MIN_MM = 15.0
SPECK_MAX_MM2 = 0.3
# A slip of the pen is short and alone; a name is several strokes wide.
SIGNED_INK_MIN_MM2 = 8.0
SIGNED_EXTENT_MIN_MM = 9.0
EMPTY_INK_MAX_MM2 = 3.0
EMPTY_EXTENT_MAX_MM = 4.0
# Official seals are 38-42 mm across; searched for on gray scans only,
# in the signature row plus a margin wide enough to hold a whole ring.
SEAL_RADIUS_MIN_MM = 16.0
SEAL_RADIUS_MAX_MM = 24.0
SEAL_SEARCH_MARGIN_MM = 24.0
SEALS_PER_AREA_MAX = 3
SEAL_SEARCH_PX_PER_MM = 2.0
SEAL_RING_BAND_MM = 2.0
SEAL_RADIUS_STEP_MM = 1.0
# Share of the visible ring band that must be inked for a seal.
SEAL_RING_COVER_MIN = 0.3
SEAL_RING_SEEN_MIN = 0.4
# Half-thickness of ink no pen stroke reaches (pens are at most ~0.8 mm wide).
SEAL_BLOB_RADIUS_MM = 1.2
SEAL_INK_DARKNESS_MIN_RATIO = 0.12
# A star counts when a ring with at least this inked share is centred within this distance of it.
SEAL_STAR_RING_MIN = 0.12
SEAL_STAR_OFFSET_MM = 3.0
SEAL_RING_PAD_MM = 2.0
# Printed slot labels sit in this strip above the signature row.
LABEL_STRIP_MM = 9.0
# When the seal's disc hides more of the area than this, a signature could be under it.
SEAL_HIDES_SHARE_MAX = 0.25


@dataclass
class SignatureReading:
    state: SignatureState
    confidence: float
    ink_mm2: float
    extent_mm: float
    components: int
    seal: bool
    reason: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "confidence": round(self.confidence, 3),
            "ink_mm2": round(self.ink_mm2, 2),
            "extent_mm": round(self.extent_mm, 2),
            "components": self.components,
            "seal": self.seal,
        }


def _remove_printed_lines(ink: np.ndarray, px_per_mm: float) -> np.ndarray:
    length = max(3, int(PRINTED_LINE_MIN_MM * px_per_mm))
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    lines = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    return cv2.bitwise_and(ink, cv2.bitwise_not(lines))


@lru_cache(maxsize=16)
def _ring_kernel(radius_px: float, width_px: float) -> np.ndarray:
    size = int(np.ceil(radius_px + width_px)) * 2 + 1
    yy, xx = np.mgrid[:size, :size].astype(np.float32) - size // 2
    distance = np.sqrt(xx * xx + yy * yy)
    return (np.abs(distance - radius_px) <= width_px / 2).astype(np.float32)


def find_seals(
    context: np.ndarray, paper_level: float, px_per_mm: float, valid: np.ndarray | None = None
) -> list[tuple[float, float, float]]:
    """Seals in a gray area, as circles (cx, cy, r) in ``context`` px.

    Two signs: the ring (a 40 mm circle's band mostly inked, once long
    printed lines are removed), which suffices alone, and the solid star
    (ink far thicker than any pen stroke), which needs at least a faint
    ring around it. ``valid`` marks the pixels that are
    free of print (labels, markers); the ring is scored on those only.
    """
    # A light stamp is paler than any pen: seals are looked for at a lower darkness.
    ink = (paper_level - context.astype(np.float32)) / max(paper_level, 1.0) > SEAL_INK_DARKNESS_MIN_RATIO
    seals: list[tuple[float, float, float]] = []
    scale = SEAL_SEARCH_PX_PER_MM / px_per_mm
    k = SEAL_SEARCH_PX_PER_MM
    lines_gone = _remove_printed_lines(ink.astype(np.uint8) * 255, px_per_mm)
    small = cv2.resize((lines_gone > 0).astype(np.float32), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    free = np.ones_like(small) if valid is None else cv2.resize(
        valid.astype(np.float32), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    small = (small > 0.25).astype(np.float32) * (free > 0.5)
    best_score = np.zeros_like(small)
    best_radius = np.zeros_like(small)
    for radius_mm in np.arange(SEAL_RADIUS_MIN_MM, SEAL_RADIUS_MAX_MM + 1e-6, SEAL_RADIUS_STEP_MM):
        kernel = _ring_kernel(float(radius_mm * k), SEAL_RING_BAND_MM * k)
        inked = cv2.filter2D(small, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        seen = cv2.filter2D((free > 0.5).astype(np.float32), -1, kernel, borderType=cv2.BORDER_CONSTANT)
        # Only rings of which enough is visible are judged.
        score = np.where(seen >= SEAL_RING_SEEN_MIN * kernel.sum(), inked / np.maximum(seen, 1.0), 0.0)
        better = score > best_score
        best_score[better] = score[better]
        best_radius[better] = radius_mm * k
    # A solid blob is the seal's star only inside a ring: heavy, overlapping
    # signature strokes make blobs as thick, but no ring around them.
    near_ring = cv2.dilate(best_score, cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * round(SEAL_STAR_OFFSET_MM * k) + 1,) * 2))
    solid = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, 5)
    for _ in range(SEALS_PER_AREA_MAX * 4):
        _min, thick, _minloc, (x, y) = cv2.minMaxLoc(solid)
        if thick < SEAL_BLOB_RADIUS_MM * px_per_mm or len(seals) >= SEALS_PER_AREA_MAX:
            break
        sx = min(small.shape[1] - 1, round(x * scale))
        sy = min(small.shape[0] - 1, round(y * scale))
        if near_ring[sy, sx] >= SEAL_STAR_RING_MIN:
            seals.append((float(x), float(y), SEAL_RADIUS_MAX_MM * px_per_mm))
            cv2.circle(solid, (x, y), int(SEAL_RADIUS_MIN_MM * px_per_mm), 0.0, thickness=-1)
        else:
            cv2.circle(solid, (x, y), max(1, int(SEAL_BLOB_RADIUS_MM * 2 * px_per_mm)), 0.0, thickness=-1)
    for x0, y0, _r in seals:
        cv2.circle(best_score, (round(x0 * scale), round(y0 * scale)), int(SEAL_RADIUS_MIN_MM * k), 0.0, thickness=-1)
    for _ in range(SEALS_PER_AREA_MAX):
        _min, top, _minloc, (x, y) = cv2.minMaxLoc(best_score)
        if top < SEAL_RING_COVER_MIN:
            break
        r = float(best_radius[y, x])
        seals.append((x / scale, y / scale, r / scale))
        cv2.circle(best_score, (x, y), int(r), 0.0, thickness=-1)
    return seals


def measure_area(
    area: np.ndarray,
    paper_level: float,
    px_per_mm: float,
    colour: bool,
    seals: list[tuple[float, float, float]] | None = None,
) -> SignatureReading:
    """``seals`` are circles in ``area`` px; their discs are not counted as signature ink."""
    darkness = (paper_level - area.astype(np.float32)) / max(paper_level, 1.0)
    ink = (darkness > INK_DARKNESS_MIN_RATIO).astype(np.uint8) * 255
    ink = _remove_printed_lines(ink, px_per_mm)
    seal = bool(seals)
    hidden_share = 0.0
    under_mm2 = 0.0
    if seals:
        disc = np.zeros_like(ink)
        for cx, cy, r in seals:
            cv2.circle(disc, (round(cx), round(cy)), int(r + SEAL_RING_PAD_MM * px_per_mm), 255, thickness=-1)
        # Nothing under a seal counts on a gray scan: seal text and pen look alike there.
        hidden_share = float(np.count_nonzero(disc)) / disc.size
        under_mm2 = float(np.count_nonzero(cv2.bitwise_and(ink, disc))) / (px_per_mm * px_per_mm)
        ink = np.asarray(cv2.bitwise_and(ink, cv2.bitwise_not(disc)), dtype=np.uint8)
    contours, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    mm2_per_px = 1.0 / (px_per_mm * px_per_mm)
    strokes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if cv2.countNonZero(ink[y : y + h, x : x + w]) * mm2_per_px > SPECK_MAX_MM2:
            strokes.append(contour)
    if strokes:
        mask = np.zeros_like(ink)
        cv2.drawContours(mask, strokes, -1, 255, thickness=-1)
        ink_px = int(np.count_nonzero(cv2.bitwise_and(mask, ink)))
        xs = np.concatenate([c[:, 0, 0] for c in strokes])
        ys = np.concatenate([c[:, 0, 1] for c in strokes])
        extent = float(max(xs.max() - xs.min(), ys.max() - ys.min())) / px_per_mm
    else:
        ink_px, extent = 0, 0.0
    ink_mm2 = ink_px * mm2_per_px
    common = {"ink_mm2": ink_mm2, "extent_mm": extent, "components": len(strokes), "seal": seal}
    if ink_mm2 >= SIGNED_INK_MIN_MM2 and extent >= SIGNED_EXTENT_MIN_MM:
        margin = min(ink_mm2 / SIGNED_INK_MIN_MM2, extent / SIGNED_EXTENT_MIN_MM)
        return SignatureReading("signed", float(min(1.0, 0.25 + 0.25 * margin)), reason=None, **common)  # type: ignore[arg-type]
    # Ink under a seal may be a signature: never call that slot empty.
    if seal and (hidden_share > SEAL_HIDES_SHARE_MAX or under_mm2 > EMPTY_INK_MAX_MM2):
        return SignatureReading("uncertain", 0.0, reason="签名处盖有印章，无法判断是否签名", **common)  # type: ignore[arg-type]
    if ink_mm2 <= EMPTY_INK_MAX_MM2 or extent <= EMPTY_EXTENT_MAX_MM:
        conf = 1.0 - 0.5 * min(1.0, ink_mm2 / EMPTY_INK_MAX_MM2)
        return SignatureReading("empty", conf, reason=None, **common)  # type: ignore[arg-type]
    return SignatureReading("uncertain", 0.0, reason="签名处有少量笔迹，无法判断是否签名", **common)  # type: ignore[arg-type]


def read_signatures(
    gray: np.ndarray,
    alignment: Alignment,
    rects: dict[str, Rect],
    paper_level: float,
    colour: bool,
    printed_solids: list[Rect] | None = None,
) -> dict[str, tuple[SignatureReading, np.ndarray]]:
    """All slots of a page; on a gray scan, seals are searched once over the whole row.

    ``printed_solids`` (corner markers, QR code) are solid print near the
    row that must not be mistaken for a seal's star.
    """
    px = min(SAMPLE_PX_PER_MM, max(alignment.px_per_mm, 3.0))
    seals: list[tuple[float, float, float]] = []
    row = Rect(0, 0, 0, 0)
    if not colour and rects:
        row = union_rect(list(rects.values()))
        context = crop(gray, alignment, row, px, margin_mm=SEAL_SEARCH_MARGIN_MM)
        valid = np.ones(context.shape, dtype=bool)
        # The printed labels above the slots would fake rings; they are not judged.
        label = Rect(row.x_mm - SEAL_SEARCH_MARGIN_MM, row.y_mm - LABEL_STRIP_MM, row.w_mm + 2 * SEAL_SEARCH_MARGIN_MM,
                     LABEL_STRIP_MM)
        for solid in [*(printed_solids or []), label]:
            x0 = int((solid.x_mm - row.x_mm + SEAL_SEARCH_MARGIN_MM) * px)
            y0 = int((solid.y_mm - row.y_mm + SEAL_SEARCH_MARGIN_MM) * px)
            x1, y1 = x0 + int(np.ceil(solid.w_mm * px)), y0 + int(np.ceil(solid.h_mm * px))
            if solid is not label:
                context[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 255
            valid[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = False
        seals = find_seals(context, paper_level, px, valid)
    out: dict[str, tuple[SignatureReading, np.ndarray]] = {}
    for key, rect in rects.items():
        area = crop(gray, alignment, rect, px, inset_mm=SIGNATURE_INSET_MM)
        # Seal circles from row-context px to this area's px.
        dx = (rect.x_mm + SIGNATURE_INSET_MM - (row.x_mm - SEAL_SEARCH_MARGIN_MM)) * px
        dy = (rect.y_mm + SIGNATURE_INSET_MM - (row.y_mm - SEAL_SEARCH_MARGIN_MM)) * px
        h, w = area.shape
        local = []
        for cx, cy, r in seals:
            x, y = cx - dx, cy - dy
            nearest = (min(max(x, 0.0), float(w)), min(max(y, 0.0), float(h)))
            if np.hypot(x - nearest[0], y - nearest[1]) <= r + SEAL_RING_PAD_MM * px:
                local.append((x, y, r))
        out[key] = (measure_area(area, paper_level, px, colour, local), area)
    return out
