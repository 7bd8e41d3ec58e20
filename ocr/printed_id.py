"""The printed ID line checked against the QR code's ID, glyph by glyph.

The line under the QR code is text we printed ourselves, in one known
monospaced font at a known size (``PRINTED_ID_FONT_NAME``,
``PRINTED_ID_SIZE_PT``), and the string it should say is known: the QR
code's payload. So it need not be read blind. Each character the ID
alphabet has is drawn from that font at the crop's scale, the line is
found by matching the whole expected line, and each character cell of the
unsigned part (round, village code, page, layout) is classified by
normalized correlation against every glyph. The line ends with the QR's
MAC, a keyed hash of the rest that no other sheet's line carries: where
a copier took half a digit of the rest away, the MAC's cells vouch.

The answer is one of three: the line says the QR's ID (every checked cell's
best glyph is the expected one); it says something else (a cell's best
glyph beats the expected one clearly: the ID a transplanted QR code does
not carry); or unsure (a poor match, a font we cannot find, a damaged
line), and then the caller reads the line with tesseract as before.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.align import even_lines, restore_faded_lines

# The font and size generator/sheet_design.py prints the ID line in (ocr may not import generator).
PRINTED_ID_FONT_NAME = "DejaVu Sans Mono"
PRINTED_ID_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/TTF/DejaVuSansMono.ttf",
)
PRINTED_ID_SIZE_PT = 8.0
MM_PER_PT = 25.4 / 72.0
FC_MATCH_TIMEOUT_S = 5
ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Blur of both the line and the glyphs: scan blur, JPEG and 1-bit edges differ less after it.
GLYPH_SMOOTH_SIGMA_PX = 1.0
# Where the whole line may sit around its measured place, and each cell around the line's fit.
CELL_SEARCH_X_PX = 2
CELL_SEARCH_Y_PX = 1
# The whole line is found at half size, then within this many pixels at full size.
LINE_REFINE_PX = 3
# The whole expected line must match at least this well, else the crop is not a line we can check.
LINE_MATCH_MIN = 0.45
# A cell's expected glyph must match at least this well to vouch for it.
CELL_MATCH_MIN = 0.55
# A cell says another character when that glyph beats the expected one by this much.
CELL_DISAGREE_MARGIN = 0.08
# The line's last part is the QR's MAC, a keyed hash of the rest: no other sheet's line carries it (a
# random other MAC agrees in a cell about one time in 32). When at least this many of its cells read
# as the QR's own, the line is the QR's own line even if a copier's low-ink line took a stroke from
# one of the checked digits (fresh round of 2026-12-04: 12 of 604 pages went to whole-page review so).
MAC_VOUCH_MIN_CELLS = 12


@dataclass(frozen=True)
class GlyphCheck:
    """What the glyphs say: ``verdict`` is "match", "mismatch" or "unsure"."""

    verdict: str
    seen: str  # the checked part of the line as read (expected characters where a cell was unsure)
    worst_margin: float  # the expected glyph's lead over the best other glyph, at the worst cell


@functools.lru_cache(maxsize=1)
def font_file() -> str | None:
    """The printed ID's font file on this machine, or None."""
    for path in PRINTED_ID_FONT_FILES:
        if os.path.isfile(path):
            return path
    if shutil.which("fc-match") is None:
        return None
    try:
        proc = subprocess.run(["fc-match", "-f", "%{file}", PRINTED_ID_FONT_NAME], capture_output=True,
                              timeout=FC_MATCH_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or "DejaVuSansMono" not in found.replace("-", "") or not os.path.isfile(found):
        return None
    return found


@dataclass(frozen=True)
class _Glyphs:
    pitch_px: float  # the font's advance (monospaced)
    baseline_px: int  # the baseline's row in a cell
    cells: dict[str, np.ndarray]  # character -> float32 cell image (ink high), smoothed
    matrix: np.ndarray  # the cells of ID_ALPHABET in order, flattened and normalized


@functools.lru_cache(maxsize=4)
def _glyphs(px_per_mm: float) -> _Glyphs | None:
    path = font_file()
    if path is None:
        return None
    size_px = PRINTED_ID_SIZE_PT * MM_PER_PT * px_per_mm
    font = ImageFont.truetype(path, size=size_px)
    pitch = float(font.getlength("0"))
    ascent, _descent = font.getmetrics()
    # Cells hold the cap height and no descender: the ID alphabet has none.
    top = round(ascent - size_px * 0.78)
    width, height = int(np.ceil(pitch)), ascent - top + 1
    cells: dict[str, np.ndarray] = {}
    for char in ID_ALPHABET:
        canvas = Image.new("L", (width, ascent + 2), 0)
        ImageDraw.Draw(canvas).text((0, ascent), char, fill=255, font=font, anchor="ls")
        cell = np.asarray(canvas, dtype=np.float32)[top : top + height]
        cells[char] = cv2.GaussianBlur(cell, (0, 0), GLYPH_SMOOTH_SIGMA_PX)
    matrix = _normalized(np.stack([cells[c].ravel() for c in ID_ALPHABET]))
    return _Glyphs(pitch, ascent - top, cells, matrix)


def _ink(line: np.ndarray) -> np.ndarray:
    """The crop as ink-high float32, smoothed like the glyphs."""
    ink = 255.0 - line.astype(np.float32)
    return cv2.GaussianBlur(ink, (0, 0), GLYPH_SMOOTH_SIGMA_PX)


def _mac_start(expected: str) -> int:
    """Where the MAC begins in ``expected`` (its length when it has no MAC part)."""
    return len(expected.rsplit("-", 1)[0]) + 1 if expected.count("-") >= 5 else len(expected)


def checked_cells(expected: str) -> list[int]:
    """Indices of the characters that say which sheet a line is: all but the dashes and the MAC."""
    return [i for i, c in enumerate(expected[: _mac_start(expected)]) if c != "-"]


def mac_cells(expected: str) -> list[int]:
    """Indices of the MAC's characters (none when ``expected`` has no MAC part)."""
    return list(range(_mac_start(expected), len(expected)))


def _normalized(rows: np.ndarray) -> np.ndarray:
    """Rows (each a flattened patch) with mean 0 and norm 1: their dot product is TM_CCOEFF_NORMED."""
    centred = rows - rows.mean(axis=-1, keepdims=True)
    norms = np.linalg.norm(centred, axis=-1, keepdims=True)
    return np.asarray(centred / np.maximum(norms, 1e-6), dtype=np.float32)


def _find_line(ink: np.ndarray, drawn: np.ndarray) -> tuple[float, int, int]:
    """Where the drawn line matches best (score, x, y): at half size first, then around that at full size."""
    half = cv2.matchTemplate(ink[::2, ::2], drawn[::2, ::2], cv2.TM_CCOEFF_NORMED)
    _lo, _score, _lo_at, (hx, hy) = cv2.minMaxLoc(half)
    xa, ya = max(0, 2 * hx - LINE_REFINE_PX), max(0, 2 * hy - LINE_REFINE_PX)
    xb = min(ink.shape[1], 2 * hx + LINE_REFINE_PX + drawn.shape[1] + 1)
    yb = min(ink.shape[0], 2 * hy + LINE_REFINE_PX + drawn.shape[0] + 1)
    fine = cv2.matchTemplate(ink[ya:yb, xa:xb], drawn, cv2.TM_CCOEFF_NORMED)
    _lo, score, _lo_at, (fx, fy) = cv2.minMaxLoc(fine)
    return float(score), xa + fx, ya + fy


def check_line(line: np.ndarray, expected: str, px_per_mm: float) -> GlyphCheck:
    """Does ``line`` (a gray crop of the printed ID at ``px_per_mm``) say ``expected``?

    A line a copier's low-ink lines crossed has characters half faded (a 0 reads as J) or half gone:
    when the line as scanned does not match, it is checked again with faded print restored, lines of
    either direction (``ocr.align.restore_faded_lines``), then with its columns (and rows) evened out
    (``ocr.align.even_lines``). A view altered so can make a digit half gone look like another (a 2
    without its right half is nearer a 1), so there only the MAC vouches (``MAC_VOUCH_MIN_CELLS``).
    """
    first = _check_once(line, expected, px_per_mm)
    if first.verdict == "match":
        return first
    for view in _restored_views(line, px_per_mm):
        again = _check_once(view, expected, px_per_mm, mac_only=True)
        if again.verdict == "match":
            return again
    return first


def macs_carried(line: np.ndarray, payloads: list[str], px_per_mm: float) -> list[str]:
    """The ``payloads`` whose MAC the end of ``line`` reads as (``MAC_VOUCH_MIN_CELLS``), in the line as
    scanned or in a restored view (made once for all of them). Only the MAC counts, never the rest."""
    views = [line, *_restored_views(line, px_per_mm)]
    return [payload for payload in payloads
            if any(_check_once(view, payload, px_per_mm, mac_only=True).verdict == "match" for view in views)]


def _restored_views(line: np.ndarray, px_per_mm: float) -> list[np.ndarray]:
    """The line with faded print restored (lines of either direction), then with its columns (and rows)
    stretched from their own ink to their own paper level (lines that kept more toner than the
    restoring takes for faded); views that changed nothing are left out."""
    views = [restore_faded_lines(line, px_per_mm, across_rows) for across_rows in (False, True)]
    views += [even_lines(line, across_rows=False), even_lines(even_lines(line, across_rows=False), across_rows=True)]
    return [view for view in views if view is not line]


def _check_once(line: np.ndarray, expected: str, px_per_mm: float, mac_only: bool = False) -> GlyphCheck:
    """The glyph check of one view of the line (``mac_only``: a match needs the MAC to vouch)."""
    glyphs = _glyphs(px_per_mm)
    expected = expected.strip().upper()
    if glyphs is None or not expected or any(c not in ID_ALPHABET + "-" for c in expected):
        return GlyphCheck("unsure", "", 0.0)
    cell_h, cell_w = glyphs.cells["0"].shape
    pitch = glyphs.pitch_px
    cells = checked_cells(expected)
    # The checked part of the expected line, drawn from the glyph cells, found in the crop.
    span = cells[-1] + 1
    drawn = np.zeros((cell_h, round(span * pitch) + cell_w), dtype=np.float32)
    for i in cells:
        x = round(i * pitch)
        np.maximum(drawn[:, x : x + cell_w], glyphs.cells[expected[i]], out=drawn[:, x : x + cell_w])
    pad = CELL_SEARCH_X_PX + 1
    if drawn.shape[0] + 2 * CELL_SEARCH_Y_PX > line.shape[0] or drawn.shape[1] + 2 * pad > line.shape[1]:
        return GlyphCheck("unsure", "", 0.0)
    ink = _ink(line)
    line_score, x0, y0 = _find_line(ink, drawn)
    if line_score < LINE_MATCH_MIN:
        return GlyphCheck("unsure", "", 0.0)
    # Every checked cell at every small shift around its place, against every glyph.
    padded = cv2.copyMakeBorder(ink, CELL_SEARCH_Y_PX, CELL_SEARCH_Y_PX, pad, pad, cv2.BORDER_REPLICATE)
    scores = _cell_scores(padded, glyphs, cells, x0, y0, pad)
    own, rival_score, rival = _own_and_rival(scores, expected, cells)
    margins = own - rival_score
    seen = list(expected)
    verdict = "match"
    for k, i in enumerate(cells):
        if margins[k] <= -CELL_DISAGREE_MARGIN and rival_score[k] >= CELL_MATCH_MIN:
            seen[i] = ID_ALPHABET[rival[k]]
            verdict = "mismatch"
        elif (margins[k] <= 0 or own[k] < CELL_MATCH_MIN) and verdict == "match":
            verdict = "unsure"
    worst = float(margins.min())
    if (verdict != "match" or mac_only) and _mac_vouches(padded, glyphs, expected, x0, y0, pad):
        return GlyphCheck("match", expected[:span], worst)
    if verdict == "match" and mac_only:
        verdict = "unsure"
    return GlyphCheck(verdict, "".join(seen[:span]), worst)


def _cell_scores(padded: np.ndarray, glyphs: _Glyphs, cells: list[int], x0: int, y0: int, pad: int) -> np.ndarray:
    """Each cell's best correlation with each glyph (cells x glyphs) over the small shifts around its place."""
    cell_h, cell_w = glyphs.cells["0"].shape
    sy, sx = 2 * CELL_SEARCH_Y_PX + 1, 2 * CELL_SEARCH_X_PX + 1
    windows = np.lib.stride_tricks.sliding_window_view(padded, (cell_h, cell_w))
    patches = np.stack([
        windows[y0 : y0 + sy, x0 + round(i * glyphs.pitch_px) + pad - CELL_SEARCH_X_PX :
                x0 + round(i * glyphs.pitch_px) + pad + CELL_SEARCH_X_PX + 1]
        for i in cells
    ]).reshape(len(cells), sy * sx, cell_h * cell_w)
    scores: np.ndarray = (_normalized(patches) @ glyphs.matrix.T).max(axis=1)
    return scores


def _mac_vouches(padded: np.ndarray, glyphs: _Glyphs, expected: str, x0: int, y0: int, pad: int) -> bool:
    """Do enough of the line's MAC cells read as the QR's own MAC (``MAC_VOUCH_MIN_CELLS``)?"""
    cells = mac_cells(expected)
    if len(cells) < MAC_VOUCH_MIN_CELLS:
        return False
    cell_w = glyphs.cells["0"].shape[1]
    reach = x0 + round(cells[-1] * glyphs.pitch_px) + 2 * pad + cell_w
    if reach > padded.shape[1]:
        return False  # the crop ends before the MAC does
    own, rival_score, _rival = _own_and_rival(_cell_scores(padded, glyphs, cells, x0, y0, pad), expected, cells)
    agreeing = np.count_nonzero((own >= CELL_MATCH_MIN) & (own > rival_score))
    return int(agreeing) >= MAC_VOUCH_MIN_CELLS


def _own_and_rival(scores: np.ndarray, expected: str, cells: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: the expected glyph's score, the best other glyph's score, and that glyph's index."""
    wanted = np.array([ID_ALPHABET.index(expected[i]) for i in cells])
    rows = np.arange(len(cells))
    own = scores[rows, wanted]
    others = scores.copy()
    others[rows, wanted] = -1.0
    rival = np.argmax(others, axis=1)
    return own, others[rows, rival], rival
