"""Alignment refined on the printed boxes, where the corner markers alone fit badly.

A worn copier's low-ink lines cut through the markers and shift the corners
ArUco finds, and a page with three markers has no fourth to check them: on
the fresh round of 2026-12-04 a gray copy's 是/否 boxes were read through
a homography that put the 否 column a millimetre off, so each 否 box held
its own border (16 questions "both ticked") and the printed ID crop missed
its line. The boxes themselves are printed all over the form: each isolated
box's outline is found near where the markers put it, and the homography is
fitted again to the markers and the boxes together, outliers left out.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from forms.geometry import PageLayout, Rect
from ocr.align import Alignment, crop

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
INK_DARKNESS_MIN_RATIO = 0.25
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


def isolated_boxes(layout: PageLayout) -> list[Rect]:
    """The layout's small boxes with no other box centred within ``REFINE_BOX_CLEARANCE_MM`` on both axes."""
    every = list(layout.boxes.values())
    centres = np.array([[r.x_mm + r.w_mm / 2, r.y_mm + r.h_mm / 2] for r in every])
    out = []
    for i, rect in enumerate(every):
        if max(rect.w_mm, rect.h_mm) > REFINE_BOX_MAX_MM:
            continue
        near = np.all(np.abs(centres - centres[i]) < REFINE_BOX_CLEARANCE_MM, axis=1)
        if int(near.sum()) == 1:
            out.append(rect)
    return out


def locate_box(gray: np.ndarray, alignment: Alignment, rect: Rect, paper_level: float) -> tuple[float, float] | None:
    """The offset (mm, layout axes) of the box's printed outline from where ``alignment`` puts it, or None
    when its four sides are not found together at one place."""
    px = REFINE_PX_PER_MM
    area = crop(gray, alignment, rect, px, margin_mm=REFINE_SEARCH_MM).astype(np.float32)
    ink = ((paper_level - area) / max(paper_level, 1.0) > INK_DARKNESS_MIN_RATIO).astype(np.float32)
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


def refine_alignment(gray: np.ndarray, alignment: Alignment, layout: PageLayout,
                     paper_level: float, boxes: Iterable[Rect] | None = None) -> Alignment | None:
    """A homography fitted to the markers and the boxes' outlines found on the page, or None when too few
    boxes are found or the fit is no better than the markers'."""
    src_points: list[np.ndarray] = []
    dst_points: list[np.ndarray] = []
    for rect in (isolated_boxes(layout) if boxes is None else boxes):
        offset = locate_box(gray, alignment, rect, paper_level)
        if offset is None:
            continue
        centre = np.array([[rect.x_mm + rect.w_mm / 2, rect.y_mm + rect.h_mm / 2]])
        src_points.append(centre[0])
        dst_points.append(alignment.to_image(centre + np.array([offset]))[0])
    if len(src_points) < REFINE_BOXES_MIN:
        return None
    marker_src, marker_dst = alignment.marker_points or (np.zeros((0, 2)), np.zeros((0, 2)))
    src = np.vstack([marker_src, np.array(src_points)])
    dst = np.vstack([marker_dst, np.array(dst_points)])
    homography, inliers = cv2.findHomography(src, dst, cv2.RANSAC, REFINE_INLIER_MM * alignment.px_per_mm)
    if homography is None or inliers is None:
        return None
    kept = inliers.ravel().astype(bool)
    boxes_fitted = int(kept[len(marker_src):].sum())
    if boxes_fitted < REFINE_BOXES_MIN:
        return None
    back = cv2.perspectiveTransform(dst[kept].reshape(-1, 1, 2), np.linalg.inv(homography)).reshape(-1, 2)
    error_mm = float(np.sqrt(np.mean(np.sum((back - src[kept]) ** 2, axis=1))))
    if error_mm >= alignment.error_mm and alignment.markers_found >= 4:
        return None
    return Alignment(homography=homography, error_mm=error_mm, markers_found=alignment.markers_found,
                     px_per_mm=alignment.px_per_mm, markers_inferred=alignment.markers_inferred,
                     marker_points=alignment.marker_points, boxes_fitted=boxes_fitted)
