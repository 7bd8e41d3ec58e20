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
# A photographed sheet is seldom flat: its middle bows up to this far off where its corners put it.
PHOTO_BOW_MAX_MM = 2.0
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
    """Rounded half to even and clipped to 0..255, as ``np.clip(np.rint(x), 0, 255)``, in OpenCV (~10x faster)."""
    positive = cv2.threshold(np.asarray(image, dtype=np.float32), 0, 0, cv2.THRESH_TOZERO)[1]
    return cv2.convertScaleAbs(positive)


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


def bend(image: Image, bow_px: float, across: bool) -> Image:
    """Paper that does not lie flat (curled, or once folded): the sheet's middle moves ``bow_px`` (across
    the page if ``across``, else down it), its edges not at all. No homography takes this; the corner
    markers of a bent page fit as well as those of a flat one."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    shift = np.float32(bow_px) * np.sin(np.float32(np.pi) * xs / w) * np.sin(np.float32(np.pi) * ys / h)
    return cv2.remap(image, xs + shift if across else xs, ys if across else ys + shift, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=_white(image))


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
    ramp = (np.float32(np.cos(theta)) * np.arange(out_w, dtype=np.float32)[None, :] / out_w
            + np.float32(np.sin(theta)) * np.arange(out_h, dtype=np.float32)[:, None] / out_h)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    light = 1.0 - np.float32(rng.uniform(0.05, 0.2)) * ramp
    return _lit(warped, light)


def _lit(image: Image, light: np.ndarray) -> Image:
    """``image`` times a float32 light field of its height and width."""
    if image.ndim == 3:
        light = cv2.merge([light] * image.shape[2])
    return _as_uint8(cv2.multiply(image.astype(np.float32), light))


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
    noise = rng.standard_normal(size=image.shape[:2], dtype=np.float32) * np.float32(sigma)
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


# A phone app's black-and-white mode: the neighbourhood its threshold is taken over, and how far below
# that neighbourhood's mean a pixel must be to turn black.
PHONE_BILEVEL_BLOCK_MIN_MM = 4.0
PHONE_BILEVEL_BLOCK_MAX_MM = 12.0
PHONE_BILEVEL_OFFSET_MIN_LEVELS = 8.0
PHONE_BILEVEL_OFFSET_MAX_LEVELS = 20.0


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


def phone_bilevel(image: Image, rng: np.random.Generator, px_per_mm: float) -> Image:
    """A phone scanning app's black-and-white mode: each pixel against the mean of the paper around
    it, so a shadow across the page does not go black, but light ink near dark ink may vanish."""
    gray = to_gray(image)
    block = 2 * round(rng.uniform(PHONE_BILEVEL_BLOCK_MIN_MM, PHONE_BILEVEL_BLOCK_MAX_MM) * px_per_mm / 2) + 1
    offset = float(rng.uniform(PHONE_BILEVEL_OFFSET_MIN_LEVELS, PHONE_BILEVEL_OFFSET_MAX_LEVELS))
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, max(3, block), offset)


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


# Copier faults. A worn copier leaves low-ink lines (light stripes at a steady pitch along the
# paper's travel), gray bands from a dirty roller, and specks that repeat with the drum's turn.
LOW_INK_PITCH_MIN_MM = 2.5
LOW_INK_PITCH_MAX_MM = 12.0
LOW_INK_WIDTH_MIN_MM = 0.2
LOW_INK_WIDTH_MAX_MM = 1.0
# Share of the toner left on a low-ink line (0 = the line is paper white).
LOW_INK_KEEP_MIN = 0.15
LOW_INK_KEEP_MAX = 0.6
ROLLER_STRIPES_MAX = 4
ROLLER_WIDTH_MIN_MM = 0.8
ROLLER_WIDTH_MAX_MM = 5.0
ROLLER_DARKNESS_MIN_LEVELS = 20.0
ROLLER_DARKNESS_MAX_LEVELS = 90.0
DRUM_CIRCUMFERENCE_MM = 94.0
DRUM_SPECKS_MAX = 30
DRUM_SPECK_RADIUS_MAX_MM = 0.35
SMUDGE_DARKNESS_MAX_LEVELS = 70.0


def _stripe_profile(length_px: int, centres_px: np.ndarray, half_widths_px: np.ndarray, soft_px: float) -> np.ndarray:
    """0..1 along one axis: 1 inside a stripe, falling off over ``soft_px`` at its edges."""
    axis = np.arange(length_px, dtype=np.float32)[:, None]
    distance = np.abs(axis - centres_px[None, :].astype(np.float32)) - half_widths_px[None, :].astype(np.float32)
    inside = np.clip(1.0 - distance / max(soft_px, 1e-3), 0.0, 1.0)
    return inside.max(axis=1) if inside.shape[1] else np.zeros(length_px, np.float32)


def _across(image: Image, profile: np.ndarray, vertical: bool) -> np.ndarray:
    """The 1-D ``profile`` spread over the page as stripes (columns if ``vertical``), shaped for ``image``."""
    field = profile[None, :] if vertical else profile[:, None]
    return field[:, :, None] if image.ndim == 3 else field


def low_ink_lines(image: Image, rng: np.random.Generator, px_per_mm: float, vertical: bool | None = None,
                  pitch_mm: float | None = None) -> Image:
    """Periodic light lines: where the toner runs thin, ink and print fade towards paper."""
    vertical = bool(rng.random() < 0.5) if vertical is None else vertical
    pitch = (float(rng.uniform(LOW_INK_PITCH_MIN_MM, LOW_INK_PITCH_MAX_MM)) if pitch_mm is None else pitch_mm) * px_per_mm
    length = image.shape[1] if vertical else image.shape[0]
    centres = np.arange(rng.uniform(0, pitch), length, pitch) + rng.normal(0, 0.05 * pitch, size=1)
    half = rng.uniform(LOW_INK_WIDTH_MIN_MM, LOW_INK_WIDTH_MAX_MM, size=centres.size) * px_per_mm / 2
    fade = _stripe_profile(length, centres, half, px_per_mm * 0.15)
    keep = float(rng.uniform(LOW_INK_KEEP_MIN, LOW_INK_KEEP_MAX))
    loss = _across(image, fade * (1.0 - keep), vertical)
    img = image.astype(np.float32)
    return _as_uint8(img + (PAPER_WHITE_LEVEL - img) * loss)


def roller_stripes(image: Image, rng: np.random.Generator, px_per_mm: float, vertical: bool | None = None,
                   count: int | None = None) -> Image:
    """Gray bands right across the page from a dirty roller or scanner glass."""
    vertical = bool(rng.random() < 0.5) if vertical is None else vertical
    n = int(rng.integers(1, ROLLER_STRIPES_MAX + 1)) if count is None else count
    length = image.shape[1] if vertical else image.shape[0]
    centres = rng.uniform(0, length, size=n)
    half = rng.uniform(ROLLER_WIDTH_MIN_MM, ROLLER_WIDTH_MAX_MM, size=n) * px_per_mm / 2
    out = image.astype(np.float32)
    for c, h in zip(centres, half):
        band = _stripe_profile(length, np.array([c]), np.array([h]), px_per_mm * 0.3)
        out -= _across(image, band * float(rng.uniform(ROLLER_DARKNESS_MIN_LEVELS, ROLLER_DARKNESS_MAX_LEVELS)), vertical)
    return _as_uint8(out)


def drum_specks(image: Image, rng: np.random.Generator, px_per_mm: float, count: int | None = None) -> Image:
    """Toner specks stuck on the drum: the same little cluster again at every turn of the drum."""
    n = int(rng.integers(1, DRUM_SPECKS_MAX + 1)) if count is None else count
    h, w = image.shape[:2]
    period = DRUM_CIRCUMFERENCE_MM * px_per_mm
    out = image.copy()
    for _ in range(n):
        x, y0 = float(rng.uniform(0, w)), float(rng.uniform(0, period))
        radius = max(1, round(rng.uniform(0.08, DRUM_SPECK_RADIUS_MAX_MM) * px_per_mm))
        level = int(rng.integers(0, 110))
        colour: int | tuple[int, int, int] = level if image.ndim == 2 else (level,) * 3
        for y in np.arange(y0, h, period):
            cv2.circle(out, (round(x), round(y)), radius, colour, thickness=-1, lineType=cv2.LINE_AA)
    return out


# A dirty drum (augraphy's DirtyDrum): toner caught on the drum or a scratch in it lays a streak of dark
# dots along the paper's travel, sometimes several side by side; dense stretches of it merge into blots.
DRUM_STREAKS_MIN = 1
DRUM_STREAKS_MAX = 6
DRUM_STREAK_WIDTH_MIN_MM = 0.3
DRUM_STREAK_WIDTH_MAX_MM = 3.0
# Dots per mm² of streak, at its densest stretch; the density swells and fades along the streak.
DRUM_STREAK_DOTS_MIN_PER_MM2 = 1.0
DRUM_STREAK_DOTS_MAX_PER_MM2 = 12.0
# Over about this length the density goes from its least to its most (dirt is not even along the drum).
DRUM_STREAK_SWELL_MM = 25.0
DRUM_DOT_RADIUS_MIN_MM = 0.04
DRUM_DOT_RADIUS_MAX_MM = 0.15
DRUM_DOT_LEVEL_MAX = 60


def dirty_drum(image: Image, rng: np.random.Generator, px_per_mm: float, vertical: bool | None = None,
               count: int | None = None, centres_px: list[float] | None = None) -> Image:
    """Streaks of dark toner dots along the paper's travel, from a dirty or scratched drum.

    ``centres_px``: where the streaks run (across the travel), instead of ``count`` random places."""
    vertical = bool(rng.random() < 0.5) if vertical is None else vertical
    h, w = image.shape[:2]
    across, along = (w, h) if vertical else (h, w)
    if centres_px is None:
        n = int(rng.integers(DRUM_STREAKS_MIN, DRUM_STREAKS_MAX + 1)) if count is None else count
    else:
        n = len(centres_px)
    dots: np.ndarray = np.full((along, across), PAPER_WHITE_LEVEL, np.uint8)
    swell_px = DRUM_STREAK_SWELL_MM * px_per_mm
    for k in range(n):
        centre = float(rng.uniform(0, across)) if centres_px is None else centres_px[k]
        width_px = float(rng.uniform(DRUM_STREAK_WIDTH_MIN_MM, DRUM_STREAK_WIDTH_MAX_MM)) * px_per_mm
        peak = float(rng.uniform(DRUM_STREAK_DOTS_MIN_PER_MM2, DRUM_STREAK_DOTS_MAX_PER_MM2))
        # Density along the streak: a smooth random swell between none and the peak.
        knots = rng.random(int(np.ceil(along / swell_px)) + 2)
        envelope = np.interp(np.arange(along) / swell_px, np.arange(knots.size), knots) ** 2
        expected = peak * width_px * float(envelope.sum()) / (px_per_mm * px_per_mm)
        total = int(rng.poisson(max(expected, 0.0)))
        if total == 0:
            continue
        ys = rng.choice(along, size=total, p=envelope / envelope.sum())
        xs = np.rint(rng.normal(centre, width_px / 2, size=total)).astype(int)
        keep = (xs >= 0) & (xs < across)
        dots[ys[keep], xs[keep]] = rng.integers(0, DRUM_DOT_LEVEL_MAX + 1, size=int(keep.sum()))
    radius = max(0, round(float(rng.uniform(DRUM_DOT_RADIUS_MIN_MM, DRUM_DOT_RADIUS_MAX_MM)) * px_per_mm))
    if radius:
        dots = cv2.erode(dots, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    dots = cv2.GaussianBlur(dots, (3, 3), 0)
    if not vertical:
        dots = np.ascontiguousarray(dots.T)
    return np.minimum(image, dots[:, :, None] if image.ndim == 3 else dots)


def copier(image: Image, rng: np.random.Generator, px_per_mm: float, faults: list[str] | None = None) -> Image:
    """A copy of the returned sheet from a worn office copier: any of its faults, often several.

    ``faults``, when given, is told which were drawn ("light_lines", "roller_stripes", "drum_specks").
    """
    out = image
    done = faults if faults is not None else []
    if rng.random() < 0.6:
        out = low_ink_lines(out, rng, px_per_mm)
        done.append("light_lines")
    if rng.random() < 0.6:
        out = roller_stripes(out, rng, px_per_mm)
        done.append("roller_stripes")
    if rng.random() < 0.6:
        out = drum_specks(out, rng, px_per_mm)
        done.append("drum_specks")
    return out


def clean_background(image: Image, paper_from_level: int = 200) -> Image:
    """An office scanner's text mode: everything this light or lighter becomes paper white."""
    out = image.copy()
    out[out >= paper_from_level] = PAPER_WHITE_LEVEL
    return out


def uneven_light(image: Image, rng: np.random.Generator, strength_max: float = 0.3) -> Image:
    """A phone's light: a smooth dim patch somewhere on the page (vignetting, a hand's shadow)."""
    h, w = image.shape[:2]
    coarse = rng.uniform(1.0 - strength_max, 1.0, size=(3, 3)).astype(np.float32)
    light = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    light = np.clip(light, 1.0 - strength_max, 1.0)
    return _lit(image, light)
