"""Alignment: a homography from the layout's millimetres to image pixels.

The four ArUco corner markers carry their corner in their id, so the
homography also undoes any rotation (0/90/180/270 degrees plus skew) and
perspective. Markers are first looked for in the four image corners
only, which is several times faster than the whole page; the whole page
is searched only when that fails (e.g. a phone photo with a wide border).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from forms.geometry import MARKER_IDS, PageLayout, Rect
from ocr.errors import AlignmentError

CORNER_CROP_FRACTION = 0.2
MIN_MARKERS = 3
EDGE_PAD_PX = 16
MARKER_SEARCH_MIN_PX_PER_MM = 2.8
A4_LONG_SIDE_MM = 297.0
# Reprojection error (RMS over marker corners) beyond which a page's
# readings are not trusted without a look.
ALIGN_REVIEW_ERROR_MM = 0.6
ALIGN_REJECT_ERROR_MM = 3.0
# How far a page's bend, measured at its printed boxes, is carried (the Gaussian's sigma): the boxes of
# the 是/否 column lie 8 mm apart, a comb's 7 mm, and a curl spans the page.
LOCAL_SIGMA_MM = 20.0
PX_PER_MM_MIN = 2.5

# The corner search first thresholds once, with a window near the size of a
# marker's cell; OpenCV's default three windows (3, 13, 23 px) cost twice as
# much and only matter on hard pages, which then get the default detector.
# Measured on 604 simulated pages: 582 read identically, none read wrong.
FAST_THRESHOLD_WINDOW_PX = 23

# A worn copier's low-ink lines (0.2-1 mm, light) cut markers and the QR code into pieces.
# Where nothing is found, the page is searched again with light lines this thin filled in
# (a gray opening: the dark cells grow over them and shrink back).
LIGHT_LINE_MAX_MM = 1.2
# Thinner lines first: a wide opening also eats a marker's white cells. (Measured on six copier
# pages with markers lost: 0.9 mm found 19 of 24 markers, 1.2 mm 21, both together 22.)
LIGHT_LINE_TRIES_MM = (0.9, LIGHT_LINE_MAX_MM)

# Low-ink lines keep some toner: each line of pixels along them is stretched from its own ink level
# (this low percentile) to its own paper level; lines with less contrast than this share of the
# paper are paper only. Then gaps across the lines are filled with a one-pixel-thin opening.
EVEN_INK_PERCENTILE = 5.0
EVEN_PAPER_PERCENTILE = 90.0
EVEN_MIN_CONTRAST_RATIO = 0.25
# Measured on four copier pages with 0-1 markers found: 1.0 mm found 3 pages' markers.
MARKER_MEND_LINE_MM = (1.0, 1.4)
# Tried first: faded print restored along the lines (``restore_faded_lines``), then gaps across them
# this wide filled. A gray copier page of the benchmark with one marker found had all four found so.
MARKER_RESTORE_LINE_MM = 0.5

# Print a low-ink line crossed keeps 15-60% of its toner: each line of pixels (column or row) whose
# darkest pixels (this low percentile) are faded, between these shares of the crop's ink contrast,
# over a run at least FADED_RUN_MIN_MM wide, is stretched back to the crop's own ink level. A stroke's
# blurred edge passes through that range in a pixel or two; a column of bare paper is never touched.
FADED_INK_PERCENTILE = 3.0
FADED_DARKNESS_MIN_RATIO = 0.06
FADED_DARKNESS_MAX_RATIO = 0.5
FADED_RUN_MIN_MM = 0.35

# Two markers decoded and the others' cells cut apart by copier light lines (benchmark: two 1-bit copies):
# the two fix the page's scale, turn and shift (a flatbed's copy), which says where the others lie. Each is
# then taken as the dark square of a marker's size there, gaps up to MARKER_BLOB_CLOSE_MM closed. The square
# must sit within MARKER_BLOB_OFFSET_MAX_MM of where the two put it, with sides within
# MARKER_BLOB_SIZE_TOLERANCE_RATIO of the marker's and turned as they say.
MARKER_BLOB_SEARCH_MM = 6.0
MARKER_BLOB_CLOSE_MM = 1.2
# Filled in, the square keeps its shape through an opening this wide; a dark roller band touching it does not.
MARKER_BLOB_OPEN_MM = 3.0
MARKER_BLOB_OFFSET_MAX_MM = 2.0
MARKER_BLOB_SIZE_TOLERANCE_RATIO = 0.06
MARKER_BLOB_TURN_MAX_DEG = 4.0

_DICTIONARY = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
_PARAMS = cv2.aruco.DetectorParameters()
_DETECTOR = cv2.aruco.ArucoDetector(_DICTIONARY, _PARAMS)
_FAST_PARAMS = cv2.aruco.DetectorParameters()
_FAST_PARAMS.adaptiveThreshWinSizeMin = FAST_THRESHOLD_WINDOW_PX
_FAST_PARAMS.adaptiveThreshWinSizeMax = FAST_THRESHOLD_WINDOW_PX
_FAST_DETECTOR = cv2.aruco.ArucoDetector(_DICTIONARY, _FAST_PARAMS)
_NAME_BY_ID = {v: k for k, v in MARKER_IDS.items()}


@dataclass
class Alignment:
    homography: np.ndarray  # 3x3, layout mm -> image px
    error_mm: float
    markers_found: int
    px_per_mm: float
    # Markers taken as dark squares where two decoded ones put them (``markers_completed``).
    markers_inferred: int = 0
    # The marker corners fitted: layout mm and image px, row for row.
    marker_points: tuple[np.ndarray, np.ndarray] | None = None
    # Printed boxes the homography was fitted to as well (``ocr.refine``); 0 for the markers alone.
    boxes_fitted: int = 0
    # Where the page is bent between its markers (a phone photo of curled paper), what no homography
    # takes: at these layout points (mm) the page lies this many image px off the homography
    # (``ocr.refine``); in between, their Gaussian-weighted mean (``LOCAL_SIGMA_MM``).
    local: tuple[np.ndarray, np.ndarray] | None = None

    def to_image(self, points_mm: np.ndarray) -> np.ndarray:
        pts = np.asarray(points_mm, dtype=np.float64).reshape(-1, 1, 2)
        mapped = cv2.perspectiveTransform(pts, self.homography).reshape(-1, 2)
        return mapped if self.local is None else mapped + self.local_offset(pts.reshape(-1, 2))

    def local_offset(self, points_mm: np.ndarray) -> np.ndarray:
        """The bend's offset (image px) at each layout point; zero without one."""
        points = np.asarray(points_mm, dtype=np.float64).reshape(-1, 2)
        if self.local is None:
            return np.zeros_like(points)
        return weighted_offsets(points, *self.local)


def weighted_offsets(points_mm: np.ndarray, anchors_mm: np.ndarray, offsets: np.ndarray,
                     left_out: np.ndarray | None = None) -> np.ndarray:
    """At each point, the anchors' offsets weighted by a Gaussian of their distance (``LOCAL_SIGMA_MM``);
    ``left_out[i]``: the anchor that point i is, which does not count for it."""
    d2 = np.sum((points_mm[:, None, :] - anchors_mm[None, :, :]) ** 2, axis=2)
    if left_out is not None:
        d2[np.arange(len(points_mm)), left_out] = np.inf
    # Relative to the nearest anchor, so that far from all of them the weights do not all underflow.
    weights = np.exp(-(d2 - d2.min(axis=1, keepdims=True)) / (2.0 * LOCAL_SIGMA_MM ** 2))
    return np.asarray((weights @ offsets) / weights.sum(axis=1, keepdims=True))


def _detect(gray: np.ndarray, x0: int = 0, y0: int = 0, fast: bool = False) -> dict[int, np.ndarray]:
    # A white frame lets a marker that a skewed scan pushed against the
    # image edge still be seen as a closed square.
    padded = cv2.copyMakeBorder(gray, EDGE_PAD_PX, EDGE_PAD_PX, EDGE_PAD_PX, EDGE_PAD_PX, cv2.BORDER_CONSTANT, value=255)
    corners, ids, _rejected = (_FAST_DETECTOR if fast else _DETECTOR).detectMarkers(padded)
    x0 -= EDGE_PAD_PX
    y0 -= EDGE_PAD_PX
    found: dict[int, np.ndarray] = {}
    if ids is None:
        return found
    for quad, marker_id in zip(corners, ids.ravel()):
        mid = int(marker_id)
        if mid not in _NAME_BY_ID:
            continue
        pts = quad.reshape(4, 2).astype(np.float64) + (x0, y0)
        area = cv2.contourArea(pts.astype(np.float32))
        if mid not in found or area > cv2.contourArea(found[mid].astype(np.float32)):
            found[mid] = pts
    return found


def _find_in_corners(gray: np.ndarray, fast: bool) -> dict[int, np.ndarray]:
    h, w = gray.shape[:2]
    cw, ch = int(w * CORNER_CROP_FRACTION), int(h * CORNER_CROP_FRACTION)
    found: dict[int, np.ndarray] = {}
    # Markers are 10 mm; ~3 px/mm is plenty to find them, and much faster.
    shrink = 2 if max(h, w) / A4_LONG_SIDE_MM >= 2 * MARKER_SEARCH_MIN_PX_PER_MM else 1
    for x0, y0 in ((0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch)):
        corner = gray[y0 : y0 + ch, x0 : x0 + cw]
        if shrink == 1:
            found.update(_detect(corner, x0, y0, fast))
            continue
        small = cv2.resize(corner, (corner.shape[1] // 2, corner.shape[0] // 2), interpolation=cv2.INTER_AREA)
        for mid, pts in _detect(small, fast=fast).items():
            found[mid] = _refine(gray, (pts + 0.5) * 2 - 0.5 + (x0, y0))
    return found


def fill_light_lines(gray: np.ndarray, px_per_mm: float | None = None,
                     line_mm: float = LIGHT_LINE_MAX_MM) -> np.ndarray:
    """``gray`` with light lines up to ``line_mm`` wide across dark print filled in (low-ink copier stripes)."""
    if px_per_mm is None:
        px_per_mm = max(gray.shape[:2]) / A4_LONG_SIDE_MM
    side = max(3, 2 * round(line_mm * px_per_mm / 2) + 1)
    return cv2.morphologyEx(gray, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)))


def even_lines(image: np.ndarray, across_rows: bool) -> np.ndarray:
    """``image`` with each row (``across_rows``) or column stretched from its own ink level to its own
    paper level: a copier's low-ink line keeps some of the toner (15-60%), so print it crossed comes
    back dark; a gray band comes back to paper. Lines with little contrast (paper only) are left at
    the crop's paper level."""
    axis = 1 if across_rows else 0
    n = image.shape[axis]
    ink = _line_percentile(image, axis, EVEN_INK_PERCENTILE * (n - 1) / 100)
    paper = _line_percentile(image, axis, EVEN_PAPER_PERCENTILE * (n - 1) / 100)
    top = float(np.percentile(paper, 75))
    span = paper - ink
    printed = span > EVEN_MIN_CONTRAST_RATIO * top
    scale = np.where(printed, 255.0 / np.maximum(span, 1.0), 255.0 / max(top, 1.0)).astype(np.float32)
    base = np.where(printed, ink, 0.0).astype(np.float32)
    shape = (-1, 1) if across_rows else (1, -1)
    out = (image.astype(np.float32) - base.reshape(shape)) * scale.reshape(shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def restore_faded_lines(image: np.ndarray, px_per_mm: float, across_rows: bool,
                        paper_level: float | None = None) -> np.ndarray:
    """``image`` (dark print on paper) with print that low-ink lines faded brought back to full ink:
    lines running along its rows (``across_rows``) or its columns. Only contrast is restored, never a
    shape: a pixel at the paper's level stays paper, so no stroke appears where nothing was printed.
    ``paper_level``: the page's paper, for a crop that may be mostly ink (else the crop's own).
    Returns ``image`` itself when nothing was faded."""
    restored, changed = restore_faded_lines_stack(image[None], px_per_mm, across_rows, paper_level)
    return restored[0] if changed[0] else image


def restore_faded_lines_stack(images: np.ndarray, px_per_mm: float, across_rows: bool,
                              paper_level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``restore_faded_lines`` of each image of an (n, h, w) stack at once (a page's comb boxes),
    and which of them changed; each image is judged against its own paper and ink."""
    axis = 2 if across_rows else 1
    n = images.shape[0]
    low = _line_percentile(images, axis, FADED_INK_PERCENTILE * (images.shape[axis] - 1) / 100)
    if paper_level is None:
        paper64 = rows_percentile_u8(images.reshape(n, -1), EVEN_PAPER_PERCENTILE).astype(np.float64)
    else:
        paper64 = np.full(n, float(paper_level))
    # float32 throughout, as one image's arithmetic on its float32 pixels always was.
    paper = paper64.astype(np.float32)[:, None]
    darkest = low.min(axis=1).astype(np.float64)
    inked = low < (paper64 - 0.5 * (paper64 - darkest)).astype(np.float32)[:, None]
    counts = inked.sum(axis=1)
    ink = _inked_median(np.sort(np.where(inked, low, np.inf), axis=1), counts)
    contrast = (paper[:, 0] - ink)[:, None]
    usable = ((counts > 0) & (contrast[:, 0] > 0))[:, None]
    contrast = np.where(usable, contrast, np.float32(1.0))
    darkness = (paper - low) / contrast
    faded = (darkness > FADED_DARKNESS_MIN_RATIO) & (darkness < FADED_DARKNESS_MAX_RATIO) & usable
    restored = runs_at_least(faded, max(2, round(FADED_RUN_MIN_MM * px_per_mm)))
    changed: np.ndarray = np.asarray(restored.any(axis=1))
    if not changed.any():
        return images, changed
    gain = np.where(restored, contrast / np.maximum(paper - low, np.float32(1.0)), np.float32(1.0))
    gain = gain[:, :, None] if across_rows else gain[:, None, :]
    top = paper[:, :, None]
    img = images.astype(np.float32)
    out = np.clip(np.where(img >= top, img, top - (top - img) * gain), 0, 255).astype(np.uint8)
    out[~changed] = images[~changed]
    return out, changed


def percentile_of_histograms(cumulative: np.ndarray, count: int, percent: float,
                             dtype: type[np.floating] = np.float64) -> np.ndarray:
    """``np.percentile`` (linear) of uint8 values from their cumulative histograms (one row of 256 per
    set of ``count`` values), bit-identical to NumPy's on values of ``dtype``: far faster than a sort."""
    position = percent / 100 * (count - 1)
    below = int(np.floor(position))
    above = min(below + 1, count - 1)
    t = position - below
    a = np.argmax(cumulative > below, axis=-1).astype(dtype)
    b = np.argmax(cumulative > above, axis=-1).astype(dtype)
    # NumPy's own interpolation order: from the nearer end, so t = 1 gives b exactly.
    return b - (b - a) * dtype(1 - t) if t >= 0.5 else a + (b - a) * dtype(t)


def rows_percentile_u8(rows: np.ndarray, percent: float) -> np.ndarray:
    """``np.percentile(rows.astype(np.float32), percent, axis=1)`` of uint8 rows, exactly."""
    n, m = rows.shape
    counts = np.bincount((rows.astype(np.int32) + (256 * np.arange(n, dtype=np.int32))[:, None]).ravel(),
                         minlength=256 * n).reshape(n, 256)
    return percentile_of_histograms(counts.cumsum(axis=1), m, percent, np.float32)


def _inked_median(ordered: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per row of ``ordered`` (sorted, the first ``counts`` values real), the median of those values."""
    rows = np.arange(ordered.shape[0])
    safe = np.maximum(counts, 1)
    lower = ordered[rows, (safe - 1) // 2]
    upper = ordered[rows, safe // 2]
    return np.where(counts > 0, (lower + upper) / np.float32(2), np.float32(0)).astype(np.float32)


def runs_at_least(flags: np.ndarray, length: int) -> np.ndarray:
    """``flags`` (n, m) with runs of True along each row shorter than ``length`` cleared."""
    padded = np.pad(flags, ((0, 0), (1, 1)))
    edges = np.diff(padded.astype(np.int8), axis=1)
    out = np.zeros_like(flags)
    for row, start in zip(*np.nonzero(edges == 1), strict=True):
        end = start + int(np.argmax(edges[row, start:] == -1))
        if end - start >= length:
            out[row, start:end] = True
    return out


def _line_percentile(image: np.ndarray, axis: int, index: float) -> np.ndarray:
    k = min(image.shape[axis] - 1, max(0, round(index)))
    return np.take(np.partition(image, k, axis=axis), k, axis=axis).astype(np.float32)


def open_along(image: np.ndarray, vertical: bool, length_px: int) -> np.ndarray:
    """A gray opening with a one-pixel-thin kernel: fills light lines across the kernel's direction
    (a vertical kernel fills horizontal lines) and leaves white cells as wide as they were."""
    size = (1, max(2, length_px)) if vertical else (max(2, length_px), 1)
    return cv2.morphologyEx(image, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, size))


def light_lines_mended(image: np.ndarray, px_per_mm: float, lines_horizontal: bool, line_mm: float) -> np.ndarray:
    """Periodic light lines of one direction (they run page-wide) mended: each line of pixels along
    them evened out, then gaps across them up to ``line_mm`` filled."""
    return open_along(even_lines(image, across_rows=lines_horizontal), vertical=lines_horizontal,
                      length_px=round(line_mm * px_per_mm))


def find_markers(gray: np.ndarray) -> dict[int, np.ndarray]:
    """Marker id -> its 4 corners in image px (ArUco order: TL, TR, BR, BL of the marker)."""
    return find_markers_mending(gray)[0]


def find_markers_mending(gray: np.ndarray) -> tuple[dict[int, np.ndarray], bool]:
    """``find_markers``, and whether markers were found only once copier light lines were mended."""
    found = _find_in_corners(gray, fast=True)
    if len(found) < len(MARKER_IDS):
        found = _find_in_corners(gray, fast=False)
    if len(found) < len(MARKER_IDS):
        whole = _detect(gray)
        for key, value in whole.items():
            found.setdefault(key, value)
    for line_mm in LIGHT_LINE_TRIES_MM:
        if len(found) >= len(MARKER_IDS):
            break
        for key, value in _find_in_corners(fill_light_lines(gray, line_mm=line_mm), fast=False).items():
            found.setdefault(key, value)
    mended = False
    if len(found) < len(MARKER_IDS):
        before = len(found)
        _find_across_light_lines(gray, found)
        mended = before < MIN_MARKERS <= len(found)
    return found, mended


def _find_across_light_lines(gray: np.ndarray, found: dict[int, np.ndarray]) -> None:
    """Markers still missing, looked for in each corner with the light lines of one direction mended."""
    h, w = gray.shape[:2]
    cw, ch = int(w * CORNER_CROP_FRACTION), int(h * CORNER_CROP_FRACTION)
    px_per_mm = max(h, w) / A4_LONG_SIDE_MM
    for line_mm in (MARKER_RESTORE_LINE_MM, *MARKER_MEND_LINE_MM):
        for horizontal in (True, False):
            if len(found) >= len(MARKER_IDS):
                return
            for x0, y0 in ((0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch)):
                corner = gray[y0 : y0 + ch, x0 : x0 + cw]
                if line_mm == MARKER_RESTORE_LINE_MM:
                    corner = open_along(restore_faded_lines(corner, px_per_mm, horizontal), vertical=horizontal,
                                        length_px=round(line_mm * px_per_mm))
                else:
                    corner = light_lines_mended(corner, px_per_mm, horizontal, line_mm)
                for key, value in _detect(corner, x0, y0).items():
                    found.setdefault(key, value)


def _refine(gray: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Corners found at half size, refined on the full image."""
    pts = corners.astype(np.float32).reshape(-1, 1, 2)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.05)
    cv2.cornerSubPix(gray, pts, (3, 3), (-1, -1), criteria)
    return pts.reshape(4, 2).astype(np.float64)


def _marker_corners_mm(layout: PageLayout, name: str) -> np.ndarray:
    cx, cy = layout.markers[name]
    s = layout.marker_size_mm / 2.0
    return np.array([[cx - s, cy - s], [cx + s, cy - s], [cx + s, cy + s], [cx - s, cy + s]], dtype=np.float64)


def _two_marker_similarity(layout: PageLayout, two: dict[int, np.ndarray]
                           ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray] | None:
    """The scale, turn and shift (2x3) two markers' corners fix, its px per mm, and the corners (mm, px);
    None unless there are exactly two and they fix one at a readable scale."""
    if len(two) != 2:
        return None
    src = np.vstack([_marker_corners_mm(layout, _NAME_BY_ID[mid]) for mid in two])
    dst = np.vstack(list(two.values()))
    similarity, _inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if similarity is None:
        return None
    px_per_mm = float(np.hypot(similarity[0, 0], similarity[1, 0]))
    if px_per_mm < PX_PER_MM_MIN:
        return None
    return similarity, px_per_mm, src, dst


def rough_alignment(gray: np.ndarray, layout: PageLayout, markers: dict[int, np.ndarray]) -> Alignment | None:
    """Where only two markers are found (decoded or completed), the page's scale, turn and shift they fix:
    never read by, only where ``ocr.refine`` starts looking for the printed boxes. None otherwise."""
    fit = _two_marker_similarity(layout, markers_completed(gray, layout, markers))
    if fit is None:
        return None
    similarity, px_per_mm, src, dst = fit
    mapped = cv2.transform(src.reshape(-1, 1, 2), similarity).reshape(-1, 2)
    error_mm = float(np.sqrt(np.mean(np.sum((mapped - dst) ** 2, axis=1)))) / px_per_mm
    return Alignment(homography=np.vstack([similarity, [0.0, 0.0, 1.0]]), error_mm=error_mm, markers_found=2,
                     px_per_mm=px_per_mm, marker_points=(src, dst))


def markers_completed(gray: np.ndarray, layout: PageLayout, markers: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """The markers of ``layout`` not decoded, found as dark squares where exactly two decoded ones put them
    (see ``MARKER_BLOB_SEARCH_MM``); only the decoded ones when fewer than two, or more."""
    decoded = {mid: pts for mid, pts in markers.items() if _NAME_BY_ID[mid] in layout.markers}
    fit = _two_marker_similarity(layout, decoded)
    if fit is None:
        return decoded
    similarity, px_per_mm, _src, _dst = fit
    turn = float(np.degrees(np.arctan2(similarity[1, 0], similarity[0, 0])))
    out = dict(decoded)
    for name, mid in MARKER_IDS.items():
        if mid in out or name not in layout.markers:
            continue
        expected = cv2.transform(_marker_corners_mm(layout, name).reshape(-1, 1, 2), similarity).reshape(4, 2)
        found = _dark_square(gray, expected, layout.marker_size_mm, px_per_mm, turn)
        if found is not None:
            out[mid] = found
    return out


def _dark_square(gray: np.ndarray, expected: np.ndarray, side_mm: float, px_per_mm: float,
                 turn_deg: float) -> np.ndarray | None:
    """The corners of the dark square near ``expected`` (4 corners, image px), in the same order; None when
    no blob there has a marker's size, place and turn."""
    centre = expected.mean(axis=0)
    reach = side_mm / 2 * np.sqrt(2) * px_per_mm + MARKER_BLOB_SEARCH_MM * px_per_mm
    h, w = gray.shape[:2]
    x0, y0 = max(0, int(centre[0] - reach)), max(0, int(centre[1] - reach))
    x1, y1 = min(w, int(centre[0] + reach) + 1), min(h, int(centre[1] + reach) + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    window = np.ascontiguousarray(gray[y0:y1, x0:x1])
    _level, ink = cv2.threshold(window, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    side = max(3, 2 * round(MARKER_BLOB_CLOSE_MM * px_per_mm / 2) + 1)
    ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)))
    outlines, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    solid = np.zeros_like(ink)
    cv2.drawContours(solid, outlines, -1, 255, thickness=-1)
    side = max(3, round(MARKER_BLOB_OPEN_MM * px_per_mm))
    solid = cv2.morphologyEx(solid, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)))
    contours, _ = cv2.findContours(solid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    side_px = side_mm * px_per_mm
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:3]:
        (cx, cy), (bw, bh), angle = cv2.minAreaRect(contour)
        if not all(abs(v / side_px - 1.0) <= MARKER_BLOB_SIZE_TOLERANCE_RATIO for v in (bw, bh)):
            continue
        if np.hypot(cx + x0 - centre[0], cy + y0 - centre[1]) > MARKER_BLOB_OFFSET_MAX_MM * px_per_mm:
            continue
        # A square's rectangle angle is only known modulo 90 degrees.
        if abs((angle - turn_deg + 45.0) % 90.0 - 45.0) > MARKER_BLOB_TURN_MAX_DEG:
            continue
        box = cv2.boxPoints(((cx + x0, cy + y0), (bw, bh), angle)).astype(np.float64)
        order = [int(np.argmin(np.linalg.norm(box - corner, axis=1))) for corner in expected]
        if len(set(order)) == 4:
            return box[order]
    return None


def align(gray: np.ndarray, layout: PageLayout, markers: dict[int, np.ndarray] | None = None) -> Alignment:
    if markers is None:
        markers = find_markers(gray)
    completed = markers_completed(gray, layout, markers)
    inferred = len(completed) - len([mid for mid in markers if _NAME_BY_ID[mid] in layout.markers])
    usable = list(completed.items())
    if len(usable) < MIN_MARKERS:
        raise AlignmentError(f"只找到 {len(usable)} 个定位标记（至少需要 {MIN_MARKERS} 个），无法对齐")
    src = np.vstack([_marker_corners_mm(layout, _NAME_BY_ID[mid]) for mid, _ in usable])
    dst = np.vstack([pts for _, pts in usable])
    homography, _mask = cv2.findHomography(src, dst, 0)
    if homography is None or abs(np.linalg.det(homography[:2, :2])) < 1e-9:
        raise AlignmentError("定位标记位置不合理，无法对齐")
    inverse = np.linalg.inv(homography)
    back = cv2.perspectiveTransform(dst.reshape(-1, 1, 2), inverse).reshape(-1, 2)
    error_mm = float(np.sqrt(np.mean(np.sum((back - src) ** 2, axis=1))))
    # Local scale at the page centre: image px per layout mm.
    centre = np.array([[layout.page_size_mm[0] / 3, layout.page_size_mm[1] / 3]])
    probe = np.vstack([centre, centre + [[10.0, 0.0]], centre + [[0.0, 10.0]]])
    mapped = cv2.perspectiveTransform(probe.reshape(-1, 1, 2), homography).reshape(-1, 2)
    px_per_mm = float((np.linalg.norm(mapped[1] - mapped[0]) + np.linalg.norm(mapped[2] - mapped[0])) / 20.0)
    if px_per_mm < PX_PER_MM_MIN:
        raise AlignmentError(f"扫描分辨率过低（约 {px_per_mm * 25.4:.0f} dpi），无法读取")
    if error_mm > ALIGN_REJECT_ERROR_MM:
        raise AlignmentError(f"定位标记与版式不符（误差 {error_mm:.1f} 毫米），可能不是本版式的纪实表")
    return Alignment(homography=homography, error_mm=error_mm, markers_found=len(usable), px_per_mm=px_per_mm,
                     markers_inferred=inferred, marker_points=(src, dst))


def crop(
    gray: np.ndarray,
    alignment: Alignment,
    rect: Rect,
    px_per_mm: float,
    margin_mm: float = 0.0,
    inset_mm: float = 0.0,
    border_value: int = 255,
) -> np.ndarray:
    """An upright crop of a layout rectangle, by a tiny warp of just that area (beyond the image: ``border_value``)."""
    x0 = rect.x_mm - margin_mm + inset_mm
    y0 = rect.y_mm - margin_mm + inset_mm
    w_mm = rect.w_mm + 2 * (margin_mm - inset_mm)
    h_mm = rect.h_mm + 2 * (margin_mm - inset_mm)
    w_px = max(2, round(w_mm * px_per_mm))
    h_px = max(2, round(h_mm * px_per_mm))
    # crop pixel (u, v) -> layout mm, then mm -> image px.
    to_mm = np.array(
        [[w_mm / w_px, 0.0, x0 + 0.5 * w_mm / w_px], [0.0, h_mm / h_px, y0 + 0.5 * h_mm / h_px], [0.0, 0.0, 1.0]]
    )
    matrix = alignment.homography @ to_mm
    if alignment.local is not None:
        # A bent page: the crop is moved by the bend at its centre (a box or a slot is small beside it).
        dx, dy = alignment.local_offset(np.array([[x0 + w_mm / 2, y0 + h_mm / 2]]))[0]
        matrix = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]]) @ matrix
    return cv2.warpPerspective(
        gray,
        matrix,
        (w_px, h_px),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border_value,
    )


def union_rect(rects: list[Rect]) -> Rect:
    x0 = min(r.x_mm for r in rects)
    y0 = min(r.y_mm for r in rects)
    x1 = max(r.x_mm + r.w_mm for r in rects)
    y1 = max(r.y_mm + r.h_mm for r in rects)
    return Rect(x0, y0, x1 - x0, y1 - y0)
