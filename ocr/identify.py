"""Which sheet a page is: its QR code, else OCR of the printed ID under it.

Either way the ID's HMAC is verified with the workspace key, so a misread
character can only make a page unidentified, never attribute it to the
wrong village.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from itertools import product

import cv2
import numpy as np
import zxingcpp

from forms import qr_payload
from forms.errors import PayloadError
from forms.geometry import PageLayout, Rect
from ocr.align import Alignment, crop, fill_light_lines
from ocr.errors import IdentificationError

QR_MARGIN_MM = 4.0
QR_SAMPLE_PX_PER_MM = 8.0
PRINTED_ID_MARGIN_MM = 1.5
# Tesseract reads best with characters ~30 px tall.
PRINTED_ID_PX_PER_MM = 14.0
TESSERACT_TIMEOUT_S = 20
QUADRANT_OVERLAP_RATIO = 0.1
OCR_VARIANTS_MAX = 256

_QR_FORMAT = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


@dataclass
class Identity:
    sheet: qr_payload.SheetId
    payload: str
    method: str  # "qr" | "ocr"


def _decode_qr(image: np.ndarray, try_rotate: bool) -> list[str]:
    results = zxingcpp.read_barcodes(image, formats=_QR_FORMAT, try_rotate=try_rotate)
    return [r.text for r in results if r.text]


def _verify(texts: list[str], key: bytes) -> tuple[Identity | None, str | None]:
    """First verified payload, else the reason the last one failed."""
    reason: str | None = None
    for text in texts:
        try:
            return Identity(qr_payload.decode(text, key), text.strip().upper(), "qr"), None
        except PayloadError as exc:
            reason = str(exc)
    return None, reason


def qr_candidates_aligned(gray: np.ndarray, alignment: Alignment, rects: list[Rect]) -> list[str]:
    texts: list[str] = []
    for rect in rects:
        px = max(QR_SAMPLE_PX_PER_MM, alignment.px_per_mm)
        texts += _decode_qr(crop(gray, alignment, rect, px, margin_mm=QR_MARGIN_MM), try_rotate=False)
        if texts:
            return texts
    return texts


def qr_candidates_unaligned(gray: np.ndarray) -> list[str]:
    """Without markers: try each quadrant (the QR may be anywhere after a turn), then the page."""
    h, w = gray.shape[:2]
    ox, oy = int(w * QUADRANT_OVERLAP_RATIO), int(h * QUADRANT_OVERLAP_RATIO)
    for x0, y0 in ((0, 0), (w // 2 - ox, 0), (0, h // 2 - oy), (w // 2 - ox, h // 2 - oy)):
        texts = _decode_qr(gray[y0 : y0 + h // 2 + oy, x0 : x0 + w // 2 + ox], try_rotate=True)
        if texts:
            return texts
    return _decode_qr(gray, try_rotate=True)


def identify_by_qr(
    gray: np.ndarray, alignment: Alignment | None, layouts: list[PageLayout], key: bytes
) -> tuple[Identity | None, str | None]:
    texts: list[str] = []
    if alignment is not None:
        rects: list[Rect] = []
        for layout in layouts:
            if layout.qr not in rects:
                rects.append(layout.qr)
        texts = qr_candidates_aligned(gray, alignment, rects)
        if not texts:
            # Low-ink copier lines across the code: read it again with them filled in.
            texts = qr_candidates_aligned(fill_light_lines(gray, alignment.px_per_mm), alignment, rects)
    if not texts:
        texts = qr_candidates_unaligned(gray)
    if not texts:
        texts = qr_candidates_unaligned(fill_light_lines(gray))
    if not texts:
        return None, None
    return _verify(texts, key)


_ID_RE = re.compile(r"DC1-?(\d{6})-?([0-9A-Z]+)-?P(\d{1,2})-?([0-9A-Z]+?)-?([A-Z2-7]{16})")
# Characters OCR confuses; the MAC alphabet (base32) has no 0, 1, 8, 9.
_MAC_FIX = {"0": "O", "1": "I", "8": "B", "9": "G"}
_DIGIT_FIX = {"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6"}


def _ocr_text(image: np.ndarray) -> str:
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise IdentificationError("打印编号图像无法编码")
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        proc = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", "chi_sim+eng", "--psm", "7"],
            input=png.tobytes(),
            capture_output=True,
            timeout=TESSERACT_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise IdentificationError(f"tesseract 无法运行：{exc}") from exc
    if proc.returncode != 0:
        raise IdentificationError(f"tesseract 出错：{proc.stderr.decode('utf-8', 'replace')[:200]}")
    return proc.stdout.decode("utf-8", "replace")


def candidate_payloads(text: str) -> list[str]:
    """Plausible payloads from OCR text, correcting confusable characters per segment."""
    cleaned = re.sub(r"[^0-9A-Za-z-]", "", text.replace("—", "-").replace("_", "-")).upper()
    out: list[str] = []
    for match in _ID_RE.finditer(cleaned):
        ym, village, page, layout, mac = match.groups()
        mac = "".join(_MAC_FIX.get(c, c) for c in mac).upper()
        # Village codes of this registry are digits; try the digit reading first.
        villages = [village]
        fixed = "".join(_DIGIT_FIX.get(c, c) for c in village)
        if fixed != village:
            villages.insert(0, fixed)
        for v in villages:
            out.append(f"DC1-{ym}-{v}-P{page}-{layout}-{mac}")
    # Spaces dropped by OCR can merge segments; variants of ambiguous MAC letters.
    variants: list[str] = []
    for payload in out:
        head, mac = payload.rsplit("-", 1)
        ambiguous = [i for i, c in enumerate(mac) if c in "OIB"]
        options = [(c, {"O": "Q", "I": "L", "B": "8"}.get(c, c)) for c in mac]
        if len(ambiguous) <= 8:
            for combo in product(*[options[i] if i in ambiguous else (mac[i],) for i in range(len(mac))]):
                variants.append(f"{head}-{''.join(combo)}")
                if len(variants) >= OCR_VARIANTS_MAX:
                    break
    seen: list[str] = []
    for p in out + variants:
        if p not in seen and re.fullmatch(r"[0-9A-Z-]+", p):
            seen.append(p)
    return seen


def identify_by_ocr(gray: np.ndarray, alignment: Alignment, layouts: list[PageLayout], key: bytes) -> Identity | None:
    rects: list[Rect] = []
    for layout in layouts:
        if layout.printed_id not in rects:
            rects.append(layout.printed_id)
    for rect in rects:
        image = crop(gray, alignment, rect, PRINTED_ID_PX_PER_MM, margin_mm=PRINTED_ID_MARGIN_MM)
        for payload in candidate_payloads(_ocr_text(image)):
            try:
                return Identity(qr_payload.decode(payload, key), payload, "ocr")
            except PayloadError:
                continue
    return None
