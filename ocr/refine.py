"""Alignment checked, and where need be fitted again, on the form's printed boxes.

A worn copier's low-ink lines cut through the markers and shift the corners
ArUco finds, and a page with three markers has no fourth to check them: on
the fresh round of 2026-12-04 a gray copy's 是/否 boxes were read through
a homography that put the 否 column a millimetre off, so each 否 box held
its own border (16 questions "both ticked") and the printed ID crop missed
its line. And a photographed sheet that does not lie flat has its corners
where a homography puts them and its middle off it. The boxes themselves
are printed all over the form: each isolated box's outline is found near
where the markers put it; the homography is fitted again to the markers and
the boxes together, outliers left out, and what the boxes still lie off it
in a smooth way is the page's bend (``Alignment.local``).
"""

from __future__ import annotations

import cv2
import numpy as np

from forms.geometry import PageLayout, Rect
from ocr.align import Alignment, crop, weighted_offsets
from ocr.marks import INK_DARKNESS_MIN_RATIO, darkness

# Pages whose markers fit worse than this (RMS over their corners), or with fewer than four markers.
REFINE_FROM_ERROR_MM = 0.25
REFINE_PX_PER_MM = 6.0
# How far from where the markers put it a box's outline is looked for.
REFINE_SEARCH_MM = 2.5
# Only boxes this small are looked for (a slot as long as a signature's costs more than it tells), and
# only those with no other box whose outline the search could take for theirs: none centred within
# this distance on both axes (是/否 boxes lie 8 mm apart, a comb's 7.2 mm).
REFINE_BOX_MAX_MM = 12.0
REFINE_BOX_CLEARANCE_MM = 2 * REFINE_SEARCH_MM
# A box's rectangle is the outside of its printed border, which is about this thick.
REFINE_LINE_MM = 0.3
# Each side's middle part (this share of it; the corners are left to blur) must be ink over at least
# this share of its length: a table rule or a tick lines up with one or two sides, never all four, and
# a copier's light line cuts a side for at most a millimetre.
REFINE_SIDE_SPAN_RATIO = 0.8
REFINE_SIDE_INK_MIN_RATIO = 0.75
# The offsets where all four sides are inked lie within a blurred line's width of each other; spread
# wider than this, two outlines fit and the box says nothing.
REFINE_PLATEAU_MAX_MM = 1.0
# A correspondence further than this from the refitted homography is left out (RANSAC).
REFINE_INLIER_MM = 0.35
REFINE_BOXES_MIN = 8
# A page whose markers fit well may still be bent between them: a phone photo of curled paper has its
# corners where a homography puts them and its middle 1.5 mm off (2 of a test page's 19 items read wrong,
# the markers' error 0.05 mm). A few boxes spread over the page are looked for on every page (about
# 1.7 ms); one further than this from where the markers put it has all the page's boxes looked for.
BEND_CHECK_BOXES = 6
BEND_CHECK_MAX_MM = 0.3
# A box whose offset differs by this much from what its neighbours' say (itself left out) was not found
# right and is dropped. Offsets all within LOCAL_MIN_MM are the finder's own scatter on a striped copy
# (up to 0.24 mm on a 1-bit one, whose ID line a field of that scatter moved out of the OCR's reach), and
# harmless besides (items were first read wrong at a 1.5 mm bow): no bend is taken.
LOCAL_OUTLIER_MM = 0.5
LOCAL_MIN_MM = 0.4
# A bend reaching this near the search's reach (REFINE_SEARCH_MM) is reported as the alignment's error:
# the page then goes to review as a whole (a test page bent 4 mm had boxes beyond the search read wrong).
BEND_MAX_MM = 2.0


def isolated_boxes(layout: PageLayout) -> list[Rect]:
    """The layout's small boxes with no other box centred within ``REFINE_BOX_CLEARANCE_MM`` on both axes."""
    return _boxes_of(layout)[0]


def check_boxes(layout: PageLayout) -> list[Rect]:
    """``BEND_CHECK_BOXES`` of the layout's isolated boxes spread over the page (each the farthest from
    those chosen before it, from the one nearest the page's middle)."""
    return _boxes_of(layout)[1]


_BOXES: dict[int, tuple[PageLayout, list[Rect], list[Rect]]] = {}


def _boxes_of(layout: PageLayout) -> tuple[list[Rect], list[Rect]]:
    """Both lists, made once a layout (layouts are loaded once a process and not changed)."""
    cached = _BOXES.get(id(layout))
    if cached is not None and cached[0] is layout:
        return cached[1], cached[2]
    every = list(layout.boxes.values())
    centres = np.array([r.centre_mm for r in every])
    isolated = [rect for i, rect in enumerate(every) if max(rect.w_mm, rect.h_mm) <= REFINE_BOX_MAX_MM
                and int(np.all(np.abs(centres - centres[i]) < REFINE_BOX_CLEARANCE_MM, axis=1).sum()) == 1]
    chosen: list[Rect] = []
    if isolated:
        spots = np.array([r.centre_mm for r in isolated])
        nearest = np.full(len(isolated), np.inf)
        pick = int(np.argmin(np.sum((spots - np.array(layout.page_size_mm) / 2) ** 2, axis=1)))
        while len(chosen) < min(BEND_CHECK_BOXES, len(isolated)):
            chosen.append(isolated[pick])
            nearest = np.minimum(nearest, np.sum((spots - spots[pick]) ** 2, axis=1))
            pick = int(np.argmax(nearest))
    _BOXES[id(layout)] = (layout, isolated, chosen)
    return isolated, chosen


def locate_box(gray: np.ndarray, alignment: Alignment, rect: Rect, paper_level: float) -> tuple[float, float] | None:
    """The offset (mm, layout axes) of the box's printed outline from where ``alignment`` puts it, or None
    when its four sides are not found together at one place."""
    px = REFINE_PX_PER_MM
    area = crop(gray, alignment, rect, px, margin_mm=REFINE_SEARCH_MM)
    ink = (darkness(area, paper_level) > INK_DARKNESS_MIN_RATIO).astype(np.float32)
    reach = round(REFINE_SEARCH_MM * px)
    w, h = round(rect.w_mm * px), round(rect.h_mm * px)
    shifts = np.arange(-reach, reach + 1)
    # Running sums down each column and along each row: a side's ink at every offset in one step.
    down = np.vstack([np.zeros((1, ink.shape[1]), np.float32), np.cumsum(ink, axis=0)])
    along = np.hstack([np.zeros((ink.shape[0], 1), np.float32), np.cumsum(ink, axis=1)])
    cut_w, cut_h = round(w * (1 - REFINE_SIDE_SPAN_RATIO) / 2), round(h * (1 - REFINE_SIDE_SPAN_RATIO) / 2)
    dy, dx = np.meshgrid(shifts, shifts, indexing="ij")
    top, left = reach + dy, reach + dx
    bottom, right = np.minimum(top + h, ink.shape[0]), np.minimum(left + w, ink.shape[1])

    def column(x: np.ndarray) -> np.ndarray:
        return (down[bottom - cut_h, x] - down[top + cut_h, x]) / max(1, h - 2 * cut_h)

    def row(y: np.ndarray) -> np.ndarray:
        return (along[y, right - cut_w] - along[y, left + cut_w]) / max(1, w - 2 * cut_w)

    inset = round(REFINE_LINE_MM * px / 2)
    sides = np.minimum(np.minimum(column(left + inset), column(right - 1 - inset)),
                       np.minimum(row(top + inset), row(bottom - 1 - inset)))
    fits = sides >= REFINE_SIDE_INK_MIN_RATIO
    if not fits.any():
        return None
    ys, xs = dy[fits], dx[fits]
    if max(np.ptp(ys), np.ptp(xs)) > REFINE_PLATEAU_MAX_MM * px:
        return None
    return float(xs.mean()) / px, float(ys.mean()) / px


def is_bent(gray: np.ndarray, alignment: Alignment, layout: PageLayout, paper_level: float) -> bool:
    """Whether a box spread over the page lies further than ``BEND_CHECK_MAX_MM`` from where ``alignment``
    puts it."""
    for rect in check_boxes(layout):
        offset = locate_box(gray, alignment, rect, paper_level)
        if offset is not None and max(abs(offset[0]), abs(offset[1])) > BEND_CHECK_MAX_MM:
            return True
    return False


def refine_alignment(gray: np.ndarray, alignment: Alignment, layout: PageLayout,
                     paper_level: float, refit: bool = True) -> Alignment | None:
    """The alignment the page's printed boxes say: with ``refit``, a homography fitted to the markers and
    the boxes' outlines (where the markers fit badly); then, where the boxes still lie off it in a smooth
    way (a bent page), that bend (``Alignment.local``). None when too few boxes are found, or a refit is
    no better than the markers'."""
    src_points: list[np.ndarray] = []
    dst_points: list[np.ndarray] = []
    for rect in isolated_boxes(layout):
        offset = locate_box(gray, alignment, rect, paper_level)
        if offset is None:
            continue
        centre = np.array([rect.centre_mm])
        src_points.append(centre[0])
        dst_points.append(alignment.to_image(centre + np.array([offset]))[0])
    if len(src_points) < REFINE_BOXES_MIN:
        return None
    boxes_mm, boxes_px = np.array(src_points), np.array(dst_points)
    marker_src, marker_dst = alignment.marker_points or (np.zeros((0, 2)), np.zeros((0, 2)))
    homography, error_mm = alignment.homography, alignment.error_mm
    if refit:
        src, dst = np.vstack([marker_src, boxes_mm]), np.vstack([marker_dst, boxes_px])
        found, inliers = cv2.findHomography(src, dst, cv2.RANSAC, REFINE_INLIER_MM * alignment.px_per_mm)
        if found is None or inliers is None:
            return None
        kept = inliers.ravel().astype(bool)
        if int(kept[len(marker_src):].sum()) < REFINE_BOXES_MIN:
            return None
        back = cv2.perspectiveTransform(dst[kept].reshape(-1, 1, 2), np.linalg.inv(found)).reshape(-1, 2)
        error_mm = float(np.sqrt(np.mean(np.sum((back - src[kept]) ** 2, axis=1))))
        if error_mm >= alignment.error_mm and alignment.markers_found >= 4:
            return None
        homography = found
    # What the homography leaves: a bend between the markers, or nothing but the finder's own scatter.
    mapped = cv2.perspectiveTransform(boxes_mm.reshape(-1, 1, 2), homography).reshape(-1, 2)
    residuals = boxes_px - mapped
    marker_back = cv2.perspectiveTransform(marker_src.reshape(-1, 1, 2), homography).reshape(-1, 2) \
        if len(marker_src) else np.zeros((0, 2))
    fixed = np.linalg.norm(marker_back - marker_dst, axis=1) <= REFINE_INLIER_MM * alignment.px_per_mm \
        if len(marker_src) else np.zeros(0, bool)
    anchors_mm = np.vstack([marker_src[fixed], boxes_mm])
    offsets = np.vstack([np.zeros((int(fixed.sum()), 2)), residuals])
    movable = np.arange(int(fixed.sum()), len(anchors_mm))
    for _round in range(2):
        predicted = _left_out(anchors_mm, offsets, movable)
        off_mm = np.linalg.norm(offsets[movable] - predicted, axis=1) / alignment.px_per_mm
        keep = off_mm <= LOCAL_OUTLIER_MM
        if keep.all():
            break
        drop = movable[~keep]
        anchors_mm, offsets = np.delete(anchors_mm, drop, axis=0), np.delete(offsets, drop, axis=0)
        movable = np.arange(int(fixed.sum()), len(anchors_mm))
    if len(movable) < REFINE_BOXES_MIN:
        return None
    local = None
    bend_mm = float(np.abs(offsets[movable]).max()) / alignment.px_per_mm
    if bend_mm > LOCAL_MIN_MM:
        local = (anchors_mm, offsets)
        predicted = _left_out(anchors_mm, offsets, movable)
        error_mm = float(np.sqrt(np.mean(np.sum((offsets[movable] - predicted) ** 2, axis=1)))) / alignment.px_per_mm
        if bend_mm > BEND_MAX_MM:
            # Bent further than the search follows: boxes bent more may not have been found at all, and
            # the bend is not known there. The page is read, and all of it goes to a person.
            error_mm = max(error_mm, bend_mm)
    elif not refit:
        return None
    return Alignment(homography=homography, error_mm=error_mm, markers_found=alignment.markers_found,
                     px_per_mm=alignment.px_per_mm, markers_inferred=alignment.markers_inferred,
                     marker_points=alignment.marker_points, boxes_fitted=len(movable), local=local)


def _left_out(anchors_mm: np.ndarray, offsets: np.ndarray, which: np.ndarray) -> np.ndarray:
    """For each anchor in ``which``, what the other anchors' offsets say of it."""
    return weighted_offsets(anchors_mm[which], anchors_mm, offsets, left_out=which)
