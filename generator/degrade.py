"""How scanners, copiers and phone cameras degrade a page image.

Pure functions on numpy images (uint8, RGB ``(h, w, 3)`` or gray
``(h, w)``). Every random choice is drawn from an explicit
``numpy.random.Generator``, so a simulated batch is reproducible from its
seed. Each function that draws a parameter also accepts it explicitly, so a
test can pin one effect down.
"""

from __future__ import annotations

import cv2
import numpy as np

from forms.errors import SimulationError

Image = np.ndarray

PAPER_WHITE_LEVEL = 255
SKEW_MAX_DEG = 5.0
SCAN_DPI_MIN = 150
SCAN_DPI_MAX = 600
PHOTO_CORNER_SHIFT_MAX_RATIO = 0.06
# Room around the sheet in a phone photo, as a share of the sheet's size.
PHOTO_BACKGROUND_BORDER_RATIO = 0.08
BLUR_SIGMA_MAX_PX = 1.2
NOISE_SIGMA_MAX_LEVELS = 12.0
SPECKLE_DENSITY_MAX_PER_MPX = 400.0
SPECKLE_RADIUS_MAX_PX = 2
JPEG_QUALITY_MIN = 35
JPEG_QUALITY_MAX = 95
BILEVEL_FIXED_THRESHOLD_LEVEL = 160
BRIGHTNESS_SHIFT_MAX_LEVELS = 25.0
CONTRAST_GAIN_MIN = 0.75
CONTRAST_GAIN_MAX = 1.2


def _as_uint8(image: np.ndarray) -> Image:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _white(image: Image) -> int | tuple[int, int, int]:
    return PAPER_WHITE_LEVEL if image.ndim == 2 else (PAPER_WHITE_LEVEL,) * 3


def rotate_quarter(image: Image, quarter_turns: int) -> Image:
    """Rotate counter-clockwise by ``quarter_turns`` × 90°, losslessly.

    A sheet fed the wrong way round comes out like this.
    """
    return np.ascontiguousarray(np.rot90(image, k=quarter_turns % 4))


def random_quarter_turn(image: Image, rng: np.random.Generator) -> tuple[Image, int]:
    turns = int(rng.integers(0, 4))
    return rotate_quarter(image, turns), turns


def skew(image: Image, rng: np.random.Generator, angle_deg: float | None = None,
         max_angle_deg: float = SKEW_MAX_DEG) -> Image:
    """Rotate by a small angle about the centre, paper-white fill, same size."""
    angle = float(rng.uniform(-max_angle_deg, max_angle_deg)) if angle_deg is None else angle_deg
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=_white(image))


def rescale(image: Image, rng: np.random.Generator, source_dpi: float, dpi: float | None = None,
            dpi_min: float = SCAN_DPI_MIN, dpi_max: float = SCAN_DPI_MAX) -> tuple[Image, float]:
    """Resample to another scan resolution; returns the image and its dpi."""
    target = float(rng.uniform(dpi_min, dpi_max)) if dpi is None else float(dpi)
    if target <= 0 or source_dpi <= 0:
        raise SimulationError(f"分辨率必须为正数：源 {source_dpi} dpi，目标 {target} dpi。")
    factor = target / source_dpi
    h, w = image.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp), target


def perspective_photo(image: Image, rng: np.random.Generator,
                      corner_shift_max_ratio: float = PHOTO_CORNER_SHIFT_MAX_RATIO,
                      border_ratio: float = PHOTO_BACKGROUND_BORDER_RATIO) -> Image:
    """A phone photo of the flat sheet lying on a darker table.

    The output is larger than the sheet by the background border; each
    sheet corner moves independently (keystone), and the light falls off
    towards one side, as under a desk lamp.
    """
    h, w = image.shape[:2]
    bx, by = round(w * border_ratio), round(h * border_ratio)
    out_w, out_h = w + 2 * bx, h + 2 * by
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    shift = rng.uniform(-corner_shift_max_ratio, corner_shift_max_ratio, size=(4, 2)) * np.array([w, h])
    dst = (src + np.array([bx, by]) + shift).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    table_level = rng.uniform(60, 140)
    if image.ndim == 2:
        background: int | tuple[float, ...] = int(table_level)
    else:
        tint = rng.uniform(0.8, 1.1, size=3)
        background = tuple(float(min(255.0, table_level * t)) for t in tint)
    warped = cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=background)
    # Uneven light: a linear ramp of 0.8..1.0 in a random direction.
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    ramp = (np.cos(theta) * xx / out_w + np.sin(theta) * yy / out_h)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    light = 1.0 - rng.uniform(0.05, 0.2) * ramp
    if warped.ndim == 3:
        light = light[:, :, None]
    return _as_uint8(warped.astype(np.float32) * light)


def blur(image: Image, rng: np.random.Generator, sigma_px: float | None = None,
         max_sigma_px: float = BLUR_SIGMA_MAX_PX) -> Image:
    """Optical blur of the scanner lens or a shaky hand."""
    sigma = float(rng.uniform(0.3, max_sigma_px)) if sigma_px is None else sigma_px
    if sigma <= 0:
        return image.copy()
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma)


def gaussian_noise(image: Image, rng: np.random.Generator, sigma_levels: float | None = None,
                   max_sigma_levels: float = NOISE_SIGMA_MAX_LEVELS) -> Image:
    """Sensor noise, in grey levels."""
    sigma = float(rng.uniform(1.0, max_sigma_levels)) if sigma_levels is None else sigma_levels
    noise = rng.normal(0.0, sigma, size=image.shape[:2]).astype(np.float32)
    if image.ndim == 3:
        noise = noise[:, :, None]
    return _as_uint8(image.astype(np.float32) + noise)


def speckle(image: Image, rng: np.random.Generator, density_per_mpx: float | None = None,
            max_density_per_mpx: float = SPECKLE_DENSITY_MAX_PER_MPX,
            max_radius_px: int = SPECKLE_RADIUS_MAX_PX) -> Image:
    """Dust and toner specks: small dark dots scattered over the page."""
    density = float(rng.uniform(0, max_density_per_mpx)) if density_per_mpx is None else density_per_mpx
    h, w = image.shape[:2]
    count = int(rng.poisson(density * h * w / 1e6))
    out = image.copy()
    colour: int | tuple[int, int, int]
    for _ in range(count):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        radius = int(rng.integers(0, max_radius_px + 1))
        level = int(rng.integers(0, 120))
        colour = level if image.ndim == 2 else (level, level, level)
        cv2.circle(out, (x, y), radius, colour, thickness=-1, lineType=cv2.LINE_AA)
    return out


def jpeg(image: Image, rng: np.random.Generator, quality: int | None = None,
         quality_min: int = JPEG_QUALITY_MIN, quality_max: int = JPEG_QUALITY_MAX) -> Image:
    """Round-trip through JPEG, as scanners that save JPEG-in-PDF do."""
    q = int(rng.integers(quality_min, quality_max + 1)) if quality is None else quality
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])
    if not ok:
        raise SimulationError(f"JPEG 编码失败（质量 {q}）。")
    flag = cv2.IMREAD_GRAYSCALE if image.ndim == 2 else cv2.IMREAD_COLOR
    decoded = cv2.imdecode(buffer, flag)
    if decoded is None:
        raise SimulationError(f"JPEG 解码失败（质量 {q}）。")
    return decoded if image.ndim == 2 else cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)


def to_gray(image: Image) -> Image:
    if image.ndim == 2:
        return image.copy()
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def to_bilevel(image: Image, threshold_level: int | None = None) -> Image:
    """1-bit fax-like output: values are exactly 0 and 255.

    Without a threshold it uses Otsu, as most office scanners do in
    black-and-white mode; light blue ink may then vanish, which is real.
    """
    gray = to_gray(image)
    if threshold_level is None:
        _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    else:
        _, out = cv2.threshold(gray, threshold_level, 255, cv2.THRESH_BINARY)
    return out


def brightness_contrast(image: Image, rng: np.random.Generator, shift_levels: float | None = None,
                        gain: float | None = None) -> Image:
    """A copier's darkness knob: ``out = (in - 128) * gain + 128 + shift``."""
    s = float(rng.uniform(-BRIGHTNESS_SHIFT_MAX_LEVELS, BRIGHTNESS_SHIFT_MAX_LEVELS)) if shift_levels is None \
        else shift_levels
    g = float(rng.uniform(CONTRAST_GAIN_MIN, CONTRAST_GAIN_MAX)) if gain is None else gain
    return _as_uint8((image.astype(np.float32) - 128.0) * g + 128.0 + s)


def office_scan(image: Image, rng: np.random.Generator, source_dpi: float,
                bilevel_probability: float = 0.25) -> tuple[Image, float]:
    """A typical flatbed/feeder scan: skew, resample, blur, noise, JPEG.

    Returns a gray (or 1-bit) image and its dpi. Orientation is left alone
    so callers decide whether to turn the page.
    """
    out = skew(to_gray(image), rng, max_angle_deg=2.0)
    out, dpi = rescale(out, rng, source_dpi, dpi_min=200, dpi_max=300)
    out = blur(out, rng, max_sigma_px=1.0)
    out = brightness_contrast(out, rng)
    if rng.random() < bilevel_probability:
        return to_bilevel(out), dpi
    out = gaussian_noise(out, rng, max_sigma_levels=8.0)
    out = speckle(out, rng, max_density_per_mpx=50.0)
    return jpeg(out, rng, quality_min=50, quality_max=90), dpi
