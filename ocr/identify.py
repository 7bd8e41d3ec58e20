"""Which sheet a page is: its QR code, else OCR of the printed ID under it.

Either way the ID's HMAC is verified with the workspace key, so a misread
character can only make a page unidentified, never attribute it to the
wrong village: a printed MAC may be misread in a few characters, but one
of another sheet lies that close by chance about once in 10^17. A line
that does not verify as read may still be named by its MAC alone among
the sheets the workspace issued (``issued_by_mac``), within four edits of
one and four nearer it than to any other: about 1.5e-15 a sheet.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from forms import qr_payload
from forms.errors import PayloadError
from forms.geometry import PageLayout, Rect
from ocr.align import Alignment, crop, even_lines, fill_light_lines, light_lines_mended, open_along, restore_faded_lines
from ocr.errors import IdentificationError, ToolFailureError
from ocr.printed_id import macs_carried

QR_MARGIN_MM = 4.0
QR_SAMPLE_PX_PER_MM = 8.0
# A drum's toner dot is up to about this wide (a module is 0.67 mm).
QR_SPECK_MAX_MM = 0.5
PRINTED_ID_MARGIN_MM = 1.5
PRINTED_ID_SLACK_MM = 4.0
# Tesseract reads best with characters ~30 px tall.
PRINTED_ID_PX_PER_MM = 14.0
TESSERACT_TIMEOUT_S = 20
QUADRANT_OVERLAP_RATIO = 0.1
# Gaps across copier light lines filled before the QR code is read again (modules are 0.67 mm: wider
# fills eat white modules). Measured on ten copier pages whose code was lost: 8 read again.
QR_MEND_LINE_MM = (0.5, 0.3)

_QR_FORMAT = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


@dataclass
class Identity:
    sheet: qr_payload.SheetId
    payload: str
    method: str  # "qr" | "ocr"
    # The QR code was read only after copier light lines were mended: the page is a worn copy.
    mended: bool = False
    # Identified by the printed ID although the QR code read as something that did not verify.
    qr_unverified: bool = False
    # The printed ID did not verify as read; its MAC named one of the sheets issued (``issued_by_mac``).
    by_issued_mac: bool = False


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


def qr_candidates_aligned(gray: np.ndarray, alignment: Alignment, rects: list[Rect],
                          mend: bool = False) -> list[str]:
    """Payloads of the QR code at any of ``rects``; ``mend``: read again with copier light lines mended."""
    texts: list[str] = []
    for rect in rects:
        px = max(QR_SAMPLE_PX_PER_MM, alignment.px_per_mm)
        image = crop(gray, alignment, rect, px, margin_mm=QR_MARGIN_MM)
        for view in _light_line_views(image, px) if mend else [image]:
            texts += _decode_qr(view, try_rotate=False)
            if texts:
                return texts
    return texts


def _light_line_views(image: np.ndarray, px_per_mm: float) -> list[np.ndarray]:
    """The QR code's crop with low-ink copier lines mended: faded modules restored to full ink along
    lines of each direction (then gaps across them filled), every row and column evened out (lines
    that kept some toner), then for lines of each direction, gaps across them filled (QR_MEND_LINE_MM)."""
    restored = [(restore_faded_lines(image, px_per_mm, across_rows), across_rows) for across_rows in (True, False)]
    views = [view for view, _across in restored]
    gap_px = round(QR_MEND_LINE_MM[0] * px_per_mm)
    views += [open_along(view, vertical=across, length_px=gap_px) for view, across in restored]
    views.append(even_lines(even_lines(image, across_rows=False), across_rows=True))
    for line_mm in QR_MEND_LINE_MM:
        views += [light_lines_mended(image, px_per_mm, horizontal, line_mm) for horizontal in (False, True)]
    # A dirty drum's streak of toner dots down the code blackens its light modules in a band; dots smaller
    # than a module are taken out (last, so that a code read before by a view above still is).
    speck = max(3, 2 * round(QR_SPECK_MAX_MM / 2 * px_per_mm) + 1)
    views += [cv2.medianBlur(image, 3), cv2.medianBlur(image, 5),
              cv2.morphologyEx(image, cv2.MORPH_CLOSE, np.ones((speck, speck), np.uint8))]
    return views


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
    mended = False
    if alignment is not None:
        rects: list[Rect] = []
        for layout in layouts:
            if layout.qr not in rects:
                rects.append(layout.qr)
        texts = qr_candidates_aligned(gray, alignment, rects)
        if not texts:
            texts = qr_candidates_aligned(gray, alignment, rects, mend=True)
            mended = bool(texts)
        if not texts:
            # Low-ink copier lines across the code: read it again with them filled in.
            texts = qr_candidates_aligned(fill_light_lines(gray, alignment.px_per_mm), alignment, rects)
    if not texts:
        texts = qr_candidates_unaligned(gray)
    if not texts:
        texts = qr_candidates_unaligned(fill_light_lines(gray))
    if not texts:
        return None, None
    identity, reason = _verify(texts, key)
    if identity is not None:
        identity.mended = mended
    return identity, reason


# Characters OCR confuses in the digit segments (round, village code, page, layout number): they take
# the digit. In the MAC (base32: A-Z, 2-7, no 0, 1, 8, 9) a digit outside the alphabet takes its letter.
_DIGIT_FIX = {"O": "0", "D": "0", "Q": "0", "U": "0", "I": "1", "L": "1", "T": "1", "J": "1", "Z": "2",
              "S": "5", "B": "8", "G": "6"}
_MAC_FIX = {"0": "O", "1": "I", "8": "B", "9": "G"}
# A MAC read within this many edits (a character changed, dropped or added) of the one this workspace's
# key gives the sheet named by the rest of the line verifies it; a change between look-alikes costs half.
# Swap tables alone were tried first, and each new key found a pair they lacked (4 read as A, J as 3);
# one key's Q read as O four times. The chance that a line of another sheet or workspace comes this
# close: about C(16,3) * 32^3 / 32^16 for three free changes, 1e-17; six look-alike ones add 4e-19.
MAC_MISREAD_MAX_EDITS = 3.0
MAC_LOOKALIKE_EDIT_COST = 0.5
_MAC_LOOKALIKE_PAIRS = frozenset((a, b) for group in ("OQD", "IJTL", "A4", "7TZ", "3BJ", "5S", "2Z", "6GC", "UV")
                                 for a in group for b in group if a != b)
ID_OCR_WHITELIST = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
ID_LINE_GAP_PX = 24
ID_SMOOTH_SIGMA_PX = 1.2
ID_SMALL_SCALE = 0.7
VILLAGE_CODE_DIGITS = 12
ROUND_DIGITS = 6
ROUND_CENTURY = "20"
# When the line does not verify as read (a copier's light line through it took a digit of the village
# code), its MAC alone may still name one of the sheets the workspace issued: a MAC read within this many
# edits of one issued sheet's, and this many nearer it than to any other's, is that sheet. The MAC is 80
# random bits, so another sheet's lies that close by chance about C(16,4) * 32^4 / 32^16 = 1.5e-15 a sheet.
ISSUED_MAC_MAX_EDITS = 4.0
ISSUED_MAC_MARGIN_EDITS = 4.0
# When OCR cannot read the MAC either (a 1-bit copy's light line took the top of every character), the
# village code it did read names a few issued sheets, and the line's own glyphs are checked against each
# one's MAC (``ocr.printed_id.macs_carried``); exactly one must carry it. A code read within this many
# edits names its sheets (a line with the top of its characters gone read 511903103203 as 511905105205),
# the nearest first, at most this many of them (each check costs about 15 ms).
ISSUED_CODE_MAX_EDITS = 3.0
ISSUED_GLYPH_CANDIDATES_MAX = 24


@dataclass(frozen=True)
class PrintedId:
    """The unsigned part of a printed ID line, each segment corrected to its alphabet."""

    round: str  # "2015-08"
    village_code: str
    page: int
    layout: str  # lower case, as in SheetId
    mac: str | None  # what was read after the layout, digits outside base32 as their letters

    def matches(self, sheet: qr_payload.SheetId) -> bool:
        return (self.round, self.village_code, self.page, self.layout) == (
            sheet.round, sheet.village_code.upper(), sheet.page, sheet.layout)


def _tesseract(image: np.ndarray, psm: str) -> str:
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise IdentificationError("打印编号图像无法编码")
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        proc = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", "eng", "--psm", psm, "-c", f"tessedit_char_whitelist={ID_OCR_WHITELIST}"],
            input=png.tobytes(),
            capture_output=True,
            timeout=TESSERACT_TIMEOUT_S,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolFailureError(f"tesseract 超时（超过 {TESSERACT_TIMEOUT_S} 秒）") from exc
    except OSError as exc:
        raise ToolFailureError(f"tesseract 无法运行（{exc.strerror or '未安装'}）") from exc
    if proc.returncode != 0:
        raise ToolFailureError(f"tesseract 出错（返回码 {proc.returncode}）")
    return proc.stdout.decode("utf-8", "replace")


def _ocr_text(image: np.ndarray) -> str:
    return _tesseract(image, "7")


def read_id_lines(images: list[np.ndarray]) -> list[str]:
    """The lines tesseract reads on several printed ID lines stacked into one image.

    Starting tesseract costs most of its time, so a chunk of pages is read in
    one run. Lines may come back merged, split or dropped, so they are not
    tied to their pages by position: a page looks for its own ID among them
    (``ocr.reader.check_printed_id``), and one that does not find it is read
    again alone.
    """
    if not images:
        return []
    if len(images) == 1:
        return [_ocr_text(images[0])]
    width = max(image.shape[1] for image in images)
    rows: list[np.ndarray] = []
    for image in images:
        padded = np.full((image.shape[0], width), 255, dtype=np.uint8)
        padded[:, : image.shape[1]] = image
        rows += [padded, np.full((ID_LINE_GAP_PX, width), 255, dtype=np.uint8)]
    return [line for line in _tesseract(np.vstack(rows), "6").splitlines() if line.strip()]


def _clean(text: str) -> str:
    text = re.sub(r"[—–_~=·•]", "-", text.upper())
    return re.sub(r"[^0-9A-Z-]", "", text)


def _digits(segment: str) -> str | None:
    fixed = "".join(_DIGIT_FIX.get(c, c) for c in segment)
    return fixed if fixed.isdigit() else None


def _round_of(segment: str) -> str | None:
    fixed = _digits(segment)
    if fixed is None or len(fixed) != ROUND_DIGITS or not 1 <= int(fixed[4:]) <= 12:
        return None
    # Every round is in this century: "2615" is OCR's 0 read as 6, never another sheet.
    return f"{ROUND_CENTURY}{fixed[2:4]}-{fixed[4:]}"


# What OCR may read a layout's letters as ("RS1" as R51 or RB1).
_LETTER_LOOKS = {"S": "5B", "O": "0DQ", "I": "1LJT", "B": "8", "G": "6", "Z": "2"}


def _split_layout(layout: str) -> tuple[str, str]:
    """A layout version ("RS1", "AW1") as its letters and its number."""
    match = re.fullmatch(r"([A-Z]*)([0-9]*)", layout.upper())
    return (match[1], match[2]) if match else (layout.upper(), "")


def _looks_like(text: str, letters: str) -> bool:
    return len(text) == len(letters) and all(c == h or c in _LETTER_LOOKS.get(h, "") for c, h in zip(text, letters, strict=True))


def _layouts_at(after: str, known: list[str]) -> list[tuple[str, str]]:
    """(layout, what follows it) for every known layout ``after`` may start with.

    The number may carry one stray character (RS1 read as RS91), tried dropped.
    """
    out: list[tuple[str, str]] = []
    for layout in known:
        head, number = _split_layout(layout)
        if not _looks_like(after[: len(head)], head):
            continue
        for extra in (0, 1):
            end = len(head) + len(number) + extra
            digits = _digits(after[len(head) : end]) if end > len(head) else ""
            if digits is None or len(digits) != len(number) + extra:
                continue
            readings = {digits} if not extra else {digits[:i] + digits[i + 1 :] for i in range(len(digits))}
            if number in readings:
                out.append((layout.lower(), after[end:]))
    return out


def _mac_of(segment: str) -> str | None:
    """The MAC as read, when its length is within the misreads allowed."""
    fixed = "".join(_MAC_FIX.get(c, c) for c in segment)
    if abs(len(fixed) - qr_payload.MAC_LENGTH_CHARS) > MAC_MISREAD_MAX_EDITS:
        return None
    return fixed


def _substitution_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return MAC_LOOKALIKE_EDIT_COST if (a, b) in _MAC_LOOKALIKE_PAIRS else 1.0


def _edits(read: str, expected: str) -> float:
    """Levenshtein distance (characters changed, dropped or added), a look-alike change costing less."""
    row = [float(j) for j in range(len(expected) + 1)]
    for i, a in enumerate(read, start=1):
        diagonal, row[0] = row[0], float(i)
        for j, b in enumerate(expected, start=1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + _substitution_cost(a, b))
    return row[-1]


def parse_printed_ids(text: str, known_layouts: list[str]) -> list[PrintedId]:
    """Every plausible reading of an OCR'd ID line, segment by segment.

    Segments are found by their dashes when OCR kept them, else by their
    known lengths: prefix DC1, round YYYYMM, a 12-digit village code, P and
    the page, the layout (a known form's letters and number: RS1, AW1), 16 MAC
    characters.
    """
    out: list[PrintedId] = []
    for line in text.splitlines() or [text]:
        compact = _clean(line)
        parts = [p for p in compact.split("-") if p]
        # Round and village code: the first six-digit part after a prefix, then the next part.
        for i in range(len(parts) - 1):
            round_id = _round_of(parts[i])
            if round_id is None:
                continue
            village = _digits(parts[i + 1])
            if village is None:
                continue
            rest = "".join(parts[i + 2 :])
            out += _tail_readings(round_id, village, rest, known_layouts)
        flat = compact.replace("-", "")
        at = flat.find("C", 0, 4)
        if at >= 0 and len(flat) > at + 2 + ROUND_DIGITS + VILLAGE_CODE_DIGITS:
            body = flat[at + 2 :]
            round_id = _round_of(body[:ROUND_DIGITS])
            village = _digits(body[ROUND_DIGITS : ROUND_DIGITS + VILLAGE_CODE_DIGITS])
            if round_id and village:
                out += _tail_readings(round_id, village, body[ROUND_DIGITS + VILLAGE_CODE_DIGITS :], known_layouts)
    return list(dict.fromkeys(out))


def _tail_readings(round_id: str, village: str, rest: str, known_layouts: list[str]) -> list[PrintedId]:
    """Page, layout and MAC out of what follows the village code ("P1RS1ZQ2I64EXOBFHMSCR")."""
    out: list[PrintedId] = []
    if not rest or rest[0] not in "PFR":
        return out
    for page_len in (1, 2):
        page = _digits(rest[1 : 1 + page_len])
        if page is None or int(page) == 0:
            continue
        for layout, mac_text in _layouts_at(rest[1 + page_len :], known_layouts):
            out.append(PrintedId(round_id, village, int(page), layout, _mac_of(mac_text)))
    return out


def identities_in(text: str, known_layouts: list[str], key: bytes) -> list[Identity]:
    """Every sheet an OCR'd ID line names whose MAC, as read, is within ``MAC_MISREAD_MAX_EDITS`` edits
    of the one ``key`` gives it."""
    out: list[Identity] = []
    for printed in parse_printed_ids(text, known_layouts):
        if printed.mac is None:
            continue
        try:
            sheet = qr_payload.SheetId(printed.round, printed.village_code, printed.page, printed.layout)
            payload = qr_payload.encode(sheet, key)
        except PayloadError:
            continue
        if _edits(printed.mac, payload.rsplit("-", 1)[1]) <= MAC_MISREAD_MAX_EDITS:
            out.append(Identity(sheet, payload, "ocr"))
    return list({identity.payload: identity for identity in out}.values())


def printed_id_crop(gray: np.ndarray, alignment: Alignment, layout: PageLayout) -> np.ndarray:
    """The ID line with room at its ends: a printer's or a library's font may set it a little wider
    than the measured PDF, and a last letter cut in half reads as another (D as I)."""
    rect = layout.printed_id
    wider = Rect(rect.x_mm - PRINTED_ID_SLACK_MM, rect.y_mm, rect.w_mm + 2 * PRINTED_ID_SLACK_MM, rect.h_mm)
    return crop(gray, alignment, wider, PRINTED_ID_PX_PER_MM, margin_mm=PRINTED_ID_MARGIN_MM)


def _binarized(image: np.ndarray) -> np.ndarray:
    _threshold, out = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return out


def id_line_variants(image: np.ndarray) -> list[np.ndarray]:
    """Other looks at one ID line, for a second reading before a doubt is raised:
    the line alone, smoothed (the jagged edges of a 1-bit scan) and in black and
    white, and smaller (strokes that ran together at a low resolution)."""
    smooth = _binarized(cv2.GaussianBlur(image, (0, 0), ID_SMOOTH_SIGMA_PX))
    small = cv2.resize(image, None, fx=ID_SMALL_SCALE, fy=ID_SMALL_SCALE, interpolation=cv2.INTER_AREA)
    return [image, smooth, small]


def identify_by_ocr(gray: np.ndarray, alignment: Alignment, layouts: list[PageLayout], key: bytes,
                    issued: dict[str, str] | None = None) -> Identity | None:
    """``issued``: MAC -> payload of every sheet page the workspace issued, for ``issued_by_mac``."""
    known = sorted({layout.version for layout in layouts})
    rects: list[PageLayout] = []
    for layout in layouts:
        if all(layout.printed_id != other.printed_id for other in rects):
            rects.append(layout)
    texts: list[str] = []
    lines: list[np.ndarray] = []
    for layout in rects:
        lines.append(printed_id_crop(gray, alignment, layout))
        identity = identify_id_line(lines[-1], known, key, texts)
        if identity is not None:
            return identity
    payload = issued_by_mac(texts, issued or {}) or issued_by_glyphs(lines, texts, issued or {})
    if payload is None:
        return None
    try:
        return Identity(qr_payload.decode(payload, key), payload, "ocr", by_issued_mac=True)
    except PayloadError:
        return None  # issued under another key: never this workspace's sheet


def identify_id_line(image: np.ndarray, known_layouts: list[str], key: bytes,
                     texts: list[str] | None = None) -> Identity | None:
    """The sheet an ID line's crop names, verified; other looks (black and white, smoothed, smaller)
    when the first reading does not verify. What OCR read is added to ``texts``."""
    for attempt in (image, _binarized(image), *id_line_variants(image)[1:]):
        text = _ocr_text(attempt)
        if texts is not None:
            texts.append(text)
        identities = identities_in(text, known_layouts, key)
        if identities:
            return identities[0]
    return None


def issued_by_mac(texts: list[str], issued: dict[str, str]) -> str | None:
    """The issued payload whose MAC the OCR'd ID lines end with (see ``ISSUED_MAC_MAX_EDITS``), if exactly one."""
    if not issued:
        return None
    payloads = list(issued.values())
    macs = np.frombuffer("".join(issued).encode("ascii"), dtype=np.uint8).reshape(len(issued), -1)
    found: set[str] = set()
    for text in texts:
        for line in text.splitlines():
            compact = _clean(line)
            tails = {compact.rsplit("-", 1)[-1], compact.replace("-", "")[-qr_payload.MAC_LENGTH_CHARS:]}
            for tail in tails:
                mac = _mac_of(tail)
                if mac is None:
                    continue
                edits = _edits_to_each(mac, macs)
                best = int(np.argmin(edits))
                runner_up = float(np.partition(edits, 1)[1]) if edits.size > 1 else float("inf")
                if edits[best] <= ISSUED_MAC_MAX_EDITS and runner_up - edits[best] >= ISSUED_MAC_MARGIN_EDITS:
                    found.add(payloads[best])
    return found.pop() if len(found) == 1 else None


def issued_by_glyphs(lines: list[np.ndarray], texts: list[str], issued: dict[str, str]) -> str | None:
    """The issued payload, among those whose village code the OCR'd lines hold (``ISSUED_CODE_MAX_EDITS``),
    whose MAC one of ``lines`` carries in its glyphs, if exactly one does."""
    by_code: dict[str, list[str]] = {}
    for payload in issued.values():
        by_code.setdefault(qr_payload.parse(payload)[0].village_code.upper(), []).append(payload)
    segments = {_digits_or_self(part) for text in texts for line in text.splitlines() for part in _clean(line).split("-")
                if abs(len(part) - VILLAGE_CODE_DIGITS) <= ISSUED_CODE_MAX_EDITS}
    if not segments:
        return None
    nearness = {code: min(_edits(part, code) for part in segments) for code in by_code}
    near = sorted((edits, code) for code, edits in nearness.items() if edits <= ISSUED_CODE_MAX_EDITS)
    candidates = [payload for _edits_, code in near for payload in by_code[code]][:ISSUED_GLYPH_CANDIDATES_MAX]
    if not candidates:
        return None
    carried = {payload for line in lines if line.size for payload in macs_carried(line, candidates, PRINTED_ID_PX_PER_MM)}
    return carried.pop() if len(carried) == 1 else None


def _digits_or_self(segment: str) -> str:
    return _digits(segment) or segment


# _substitution_cost for every pair of ASCII codes, so that one read MAC is compared with thousands at once.
_SUBSTITUTION_COSTS = np.array([[_substitution_cost(chr(a), chr(b)) for b in range(128)] for a in range(128)])


def _edits_to_each(read: str, expected: np.ndarray) -> np.ndarray:
    """``_edits(read, e)`` for every row ``e`` of ``expected`` (ASCII codes, one string a row, all one length)."""
    count, length = expected.shape
    row = np.tile(np.arange(length + 1, dtype=np.float64), (count, 1))
    for i, char in enumerate(read.encode("ascii"), start=1):
        costs = _SUBSTITUTION_COSTS[char & 0x7F][expected]
        new = np.empty_like(row)
        new[:, 0] = i
        for j in range(1, length + 1):
            new[:, j] = np.minimum(np.minimum(row[:, j], new[:, j - 1]) + 1, row[:, j - 1] + costs[:, j - 1])
        row = new
    return row[:, -1]
