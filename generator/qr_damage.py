"""A printed page whose QR code is damaged, scanned: the printed ID beside it must name the sheet.

Shared by the fault test (one key, 16 pages) and ``benchmarks/bench_printed_id_keys.py`` (many keys:
each workspace's key changes every MAC, and so the characters OCR must read).
"""

from __future__ import annotations

import cv2
import numpy as np

from forms.errors import SimulationError
from forms.geometry import PageLayout
from generator import degrade
from generator.simulate import PRINT_DPI, _rect_px

QR_DAMAGES = ("blot", "scribble", "torn", "faded")
# (dpi, colour mode) of the scans, taken in turn.
QR_DAMAGE_PROFILES = ((300.0, "gray"), (200.0, "gray"), (150.0, "gray"), (200.0, "colour"))
QR_DAMAGE_JPEG_QUALITY = 85
FADED_LIFT_LEVELS = 170


def damage_qr(page: np.ndarray, homography: np.ndarray, layout: PageLayout, kind: str,
              rng: np.random.Generator) -> None:
    """Ink over, a tear through or fading of the QR code, in place on an RGB page."""
    x, y, w, h = _rect_px(homography, layout.qr)
    if kind == "blot":
        cv2.ellipse(page, (x + w // 2, y + h // 2), (w // 3, h // 4), 20, 0, 360, (30, 30, 60), thickness=-1)
    elif kind == "scribble":
        for _ in range(6):
            p0 = (int(x + rng.uniform(0, w)), int(y + rng.uniform(0, h)))
            p1 = (int(x + rng.uniform(0, w)), int(y + rng.uniform(0, h)))
            cv2.line(page, p0, p1, (40, 40, 120), thickness=max(3, w // 25))
    elif kind == "torn":
        page[y : y + h // 2, x : x + w] = 255
    elif kind == "faded":
        region = page[y : y + h, x : x + w].astype(np.int16)
        page[y : y + h, x : x + w] = np.clip(region + FADED_LIFT_LEVELS, 0, 255).astype(np.uint8)
    else:
        raise SimulationError(f"未知的二维码损坏方式：{kind}")


def damaged_qr_scan(page: np.ndarray, homography: np.ndarray, layout: PageLayout, sheet_index: int,
                    damage_index: int, bilevel: bool = False) -> tuple[bytes, float, str]:
    """Page ``sheet_index``'s copy with damage ``damage_index``, scanned: (data, dpi, mode). JPEG, or
    with ``bilevel`` a 1-bit PNG (an office scanner's black-and-white mode, Otsu's threshold)."""
    rng = np.random.default_rng(100 * sheet_index + damage_index)
    page = page.copy()
    damage_qr(page, homography, layout, QR_DAMAGES[damage_index], rng)
    dpi, mode = QR_DAMAGE_PROFILES[(sheet_index + damage_index) % len(QR_DAMAGE_PROFILES)]
    image = page if mode == "colour" and not bilevel else np.asarray(degrade.to_gray(page))
    scanned, _dpi = degrade.rescale(image, rng, PRINT_DPI, dpi=dpi)
    scanned = np.asarray(scanned)
    if bilevel:
        ok, data = cv2.imencode(".png", np.asarray(degrade.to_bilevel(scanned)))
        mode = "1-bit"
    else:
        bgr = scanned if scanned.ndim == 2 else cv2.cvtColor(scanned, cv2.COLOR_RGB2BGR)
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, QR_DAMAGE_JPEG_QUALITY])
    if not ok:
        raise SimulationError("模拟扫描页无法编码")
    return data.tobytes(), dpi, mode
