"""Simulated returns: printed sheets filled in by hand, then scanned badly.

Pure image work. The caller gives each printed page as an RGB image plus
the homography from layout millimetres to its pixels; this module plans
what people write (the ground truth), draws it with
``generator.handwriting`` and scans it with ``generator.degrade``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image

from forms.errors import SimulationError
from forms.geometry import PageLayout, Rect
from forms.record_sheet import (
    INDICATORS,
    NUMERIC_FIELDS,
    POVERTY_FUND_INDICATOR,
    POVERTY_FUND_MIN_10K_YUAN,
    SIGNATURE_SLOTS,
    NumericField,
    inspection_validity,
)
from generator import degrade, handwriting
from generator.images import box_png, marker_png, qr_png
from generator.sheet_design import MARKER_CENTRE_INSET_MM, MARKER_IMAGE_MM

DigitSource = Callable[[int, np.random.Generator], np.ndarray]

PRINT_DPI = 300
MM_PER_INCH = 25.4
PRINT_PX_PER_MM = PRINT_DPI / MM_PER_INCH

# How inspectors tick, per indicator: (是, 否) probabilities, the rest left blank.
# "realistic": most villages pass most items (about 0.3 否 a village), as in a
# real round; "poor": the old heavy mix (about 4.5 否 a village), kept for tests
# of a poor round and for the reader's benchmark of 否 ticks.
ANSWER_MIXES: dict[str, tuple[float, float]] = {"realistic": (0.97, 0.02), "poor": (0.62, 0.28)}
DEFAULT_ANSWER_MIX = "realistic"
CORRECTION_PROBABILITY = 0.06
TICK_KIND_WEIGHTS = {"check": 0.6, "cross": 0.25, "dot": 0.15}
NUMBER_BLANK_PROBABILITY = 0.08
SIGNATURE_MISSING_PROBABILITY = 0.08
SEAL_PROBABILITY = 0.15
STRAY_MARK_PROBABILITY = 0.25
STRAY_KIND_WEIGHTS = {"stroke": 0.3, "long_stroke": 0.45, "speckle": 0.25}
# A seal stamped beside an empty slot, reaching into it with part of its disc.
PARTIAL_SEAL_PROBABILITY = 0.2
# Where a writer starts a short number in a comb: the sheet does not say, and people differ.
NUMBER_ALIGN_WEIGHTS = {"right": 0.5, "left": 0.35, "centre": 0.15}
# A smudge in one empty box of a number field (a dirty thumb, an erased pencil mark).
SMUDGE_PROBABILITY = 0.08
RECT_DONE_PROBABILITY = 0.6

# Scan profiles and how often each occurs.
PROFILE_WEIGHTS = {
    "office_gray": 0.26,
    "colour": 0.18,
    "bilevel": 0.12,
    "photo": 0.12,
    "low_dpi": 0.08,
    "high_dpi": 0.08,
    "copier": 0.16,
}
# Not drawn at random (the rounds drawn before them stay as they were): a phone scanning app's gray
# and black-and-white modes, the photo pipeline then the app's conversion. ``bench_scan.py --profile``.
PHOTO_MODE_PROFILES = ("photo_gray", "photo_bilevel")
# Not drawn at random either: a worn copier whose drum is dirty (streaks of toner dots along the paper's
# travel, augraphy's DirtyDrum) besides its other faults. The held-out test's copier pages had them.
COPIER_DRUM_PROFILE = "copier_drum"
# Not drawn at random either: the same dirty-drum copier, with the original laid askew on its glass. The
# copier's faults run along its own paper, so on such a copy the light lines, roller stripes and drum streaks
# slant across the form by the angle the original lay at; on the other copier profiles they are square to it.
COPIER_ASKEW_PROFILE = "copier_askew"
COPIER_GLASS_SKEW_MIN_DEG = 0.5
COPIER_GLASS_SKEW_MAX_DEG = 2.0
# Not drawn at random either: a scanner's black-and-white mode with its automatic threshold (Otsu's, as most
# office scanners choose one), where the random mix's 1-bit pages keep a fixed threshold of 170. On a white page
# with black print the automatic threshold falls near 135, under a light-blue pen's level (about 141 on paper),
# so a light digit can vanish whole while the field's other digits stay: a shorter number, read with full
# confidence. Asked for by name (`bench_scan.py --profile bilevel_otsu`) so that earlier rounds stay comparable.
BILEVEL_OTSU_PROFILE = "bilevel_otsu"
# Not drawn at random: the benchmark's speed set, the input the speed target names
# (an office scanner's 300 dpi gray JPEG), asked for by name.
OFFICE_300_PROFILE = "office_300"
OFFICE_300_DPI = 300.0
# The second speed set: an office MFP in text mode, 300 dpi gray, its paper background
# cleaned to white and saved at JPEG quality ~75 (about 0.6 MB a page).
SCANNER_TEXT_PROFILE = "scanner_text"
SCANNER_TEXT_JPEG_QUALITY = 75
SCANNER_TEXT_PAPER_FROM_LEVEL = 190
SPEED_PROFILES = (OFFICE_300_PROFILE, SCANNER_TEXT_PROFILE)
QUARTER_TURN_WEIGHTS = {0: 0.7, 2: 0.15, 1: 0.1, 3: 0.05}
SIM_JPEG_QUALITY_MIN = 55
SIM_JPEG_QUALITY_MAX = 92
BILEVEL_THRESHOLD_LEVEL = 170


@dataclass
class PagePlan:
    """What is written on one printed page: the ground truth."""

    form_id: str
    sheet_page: int
    fields: dict[str, Any] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)
    # How it was drawn, for diagnosing misreads.
    notes: dict[str, Any] = field(default_factory=dict)

    def truth(self) -> dict[str, Any]:
        out: dict[str, Any] = {"form_id": self.form_id, "sheet_page": self.sheet_page, "fields": self.fields,
                               "signatures": self.signatures, "notes": self.notes}
        if len(self.signatures) == len(SIGNATURE_SLOTS):
            out["validity"] = inspection_validity(self.signatures)  # type: ignore[arg-type]
        return out


def _choice(rng: np.random.Generator, weights: dict[Any, float]) -> Any:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _number_value(spec: NumericField, rng: np.random.Generator) -> float:
    if spec.kind == "amount":
        return float(round(rng.uniform(0, 60) if rng.random() < 0.8 else rng.uniform(0, 999), 1))
    if spec.kind == "count":
        return float(rng.integers(0, 200))
    return float(rng.integers(0, 101))


def plan_page(layout: PageLayout, form_id: str, rng: np.random.Generator, rect_rows: int | None = None,
              answer_mix: str = DEFAULT_ANSWER_MIX) -> PagePlan:
    if answer_mix not in ANSWER_MIXES:
        raise SimulationError(f"未知的答题分布：{answer_mix}（可选：{'、'.join(ANSWER_MIXES)}）")
    yes_p, no_p = ANSWER_MIXES[answer_mix]
    plan = PagePlan(form_id=form_id, sheet_page=layout.page)
    boxes = layout.boxes
    for indicator in INDICATORS:
        if indicator.yes_box not in boxes:
            continue
        r = rng.random()
        value = "yes" if r < yes_p else "no" if r < yes_p + no_p else "blank"
        plan.fields[indicator.key] = value
    rows = sorted({k.split(".")[0] for k in boxes if k.startswith("rect_")}, key=lambda k: int(k.split("_")[1]))
    if rect_rows is not None:
        rows = rows[:rect_rows]
    for row in rows:
        plan.fields[row] = "done" if rng.random() < RECT_DONE_PROBABILITY else "not_done"
    numbers = [f for f in NUMERIC_FIELDS if all(k in boxes for k in f.digit_boxes)]
    for spec in numbers:
        plan.fields[spec.key] = None if rng.random() < NUMBER_BLANK_PROBABILITY else _number_value(spec, rng)
    sat, dis = plan.fields.get("satisfaction_pct"), plan.fields.get("dissatisfaction_pct")
    if sat is not None and dis is not None and sat + dis > 100:
        plan.fields["dissatisfaction_pct"] = float(100 - sat)
    # An inspector who ticks 是 for "a fund of at least 10 万元" writes a sum that bears it out;
    # a lower sum would be a contradiction on the paper itself, which the reader's check sends
    # to review. Shifted without a new draw, so the rest of the page's random stream is unchanged.
    fund = plan.fields.get("poverty_fund")
    if plan.fields.get(POVERTY_FUND_INDICATOR) == "yes" and fund is not None and fund < POVERTY_FUND_MIN_10K_YUAN:
        plan.fields["poverty_fund"] = round(fund + POVERTY_FUND_MIN_10K_YUAN, 1)
    for slot in SIGNATURE_SLOTS:
        if slot.key in boxes:
            plan.signatures[slot.key] = "empty" if rng.random() < SIGNATURE_MISSING_PROBABILITY else "signed"
    return plan


def _rect_px(homography: np.ndarray, rect: Rect) -> tuple[int, int, int, int]:
    pts = np.array([[rect.x_mm, rect.y_mm], [rect.x_mm + rect.w_mm, rect.y_mm + rect.h_mm]], dtype=np.float64)
    mapped = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), homography).reshape(-1, 2)
    x0, y0 = mapped.min(axis=0)
    x1, y1 = mapped.max(axis=0)
    return round(x0), round(y0), round(x1 - x0), round(y1 - y0)


def box_digits(spec: NumericField, value: float, align: str = "right") -> list[int | None]:
    """Box contents, most significant first: the integer part placed as ``align`` says
    (right, left or centre in its boxes), decimals written out."""
    scaled = round(value * 10**spec.decimal_digits)
    text = str(scaled).rjust(spec.decimal_digits + 1, "0")
    int_part, dec_part = (text[: -spec.decimal_digits], text[-spec.decimal_digits :]) if spec.decimal_digits else (text, "")
    if len(int_part) > spec.integer_digits:
        raise SimulationError(f"{spec.label} 的值 {value} 超出方格数")
    blanks = spec.integer_digits - len(int_part)
    before = {"right": blanks, "left": 0, "centre": blanks // 2}.get(align)
    if before is None:
        raise SimulationError(f"未知的数字对齐方式：{align}")
    ints: list[int | None] = [None] * before + [int(c) for c in int_part] + [None] * (blanks - before)
    return ints + [int(c) for c in dec_part]


def fill_page(page: np.ndarray, homography: np.ndarray, layout: PageLayout, plan: PagePlan,
              rng: np.random.Generator, px_per_mm: float = PRINT_PX_PER_MM,
              seal_probability: float = SEAL_PROBABILITY,
              digit_image: DigitSource = handwriting.simulation_digit) -> None:
    """Write the plan into the RGB page in place, the way people do.

    ``seal_probability`` is the chance of a red seal across the village head's slot.
    ``digit_image`` picks the MNIST image for each written digit: the held-back bank
    (simulated returns), or the allowed training digits (the digit model's page crops,
    ``scripts/harvest_page_digits.py``).
    """
    boxes = layout.boxes
    for key, value in plan.fields.items():
        pair = None
        if key.startswith("rect_"):
            pair = (f"{key}.done", f"{key}.not_done", value == "done", value == "not_done")
        elif key in {i.key for i in INDICATORS}:
            pair = (f"{key}.yes", f"{key}.no", value == "yes", value == "no")
        if pair is None:
            continue
        first, second, tick_first, tick_second = pair
        pen = handwriting.random_pen(rng)
        kind = _choice(rng, TICK_KIND_WEIGHTS)
        for box, ticked in ((first, tick_first), (second, tick_second)):
            if ticked:
                handwriting.draw_tick(page, _rect_px(homography, boxes[box]), kind, rng, px_per_mm, pen)
        if value in ("yes", "no", "done", "not_done") and rng.random() < CORRECTION_PROBABILITY:
            # The other box was ticked first and then filled in to cancel it.
            wrong = second if tick_first else first
            handwriting.draw_tick(page, _rect_px(homography, boxes[wrong]), "filled", rng, px_per_mm, pen)
            plan.notes.setdefault("corrections", []).append(key)
        if kind != "check":
            plan.notes.setdefault("tick_kinds", {})[key] = kind
    for spec in NUMERIC_FIELDS:
        value = plan.fields.get(spec.key, "absent")
        if value == "absent":
            continue
        digits: list[int | None] = [None] * len(spec.digit_boxes)
        if value is not None:
            align = _choice(rng, NUMBER_ALIGN_WEIGHTS)
            digits = box_digits(spec, float(value), align)
            if align != "right":
                plan.notes.setdefault("number_align", {})[spec.key] = align
            pen = handwriting.random_pen(rng)
            for box, digit in zip(spec.digit_boxes, digits):
                if digit is not None:
                    image = digit_image(digit, rng)
                    handwriting.draw_digit(page, _rect_px(homography, boxes[box]), image, rng, px_per_mm, pen)
        empty = [box for box, digit in zip(spec.digit_boxes, digits) if digit is None]
        if empty and rng.random() < SMUDGE_PROBABILITY:
            box = empty[int(rng.integers(0, len(empty)))]
            handwriting.draw_smudge(page, _rect_px(homography, boxes[box]), rng, px_per_mm)
            plan.notes.setdefault("smudge", []).append(box)
    for slot, state in plan.signatures.items():
        rect = _rect_px(homography, boxes[slot])
        if state == "signed":
            handwriting.draw_signature(page, rect, rng, px_per_mm)
        else:
            if rng.random() < STRAY_MARK_PROBABILITY:
                handwriting.draw_stray_mark(page, rect, rng, _choice(rng, STRAY_KIND_WEIGHTS), px_per_mm)
                plan.notes.setdefault("stray", []).append(slot)
            if rng.random() < PARTIAL_SEAL_PROBABILITY:
                handwriting.draw_seal(page, handwriting.seal_centre_partly_over(rect, rng, px_per_mm), rng, px_per_mm)
                plan.notes.setdefault("partial_seal", []).append(slot)
        if slot == "village_head" and rng.random() < seal_probability:
            handwriting.draw_seal(page, handwriting.seal_centre_across(rect, rng), rng, px_per_mm)
            plan.notes["seal"] = slot


def tick_both(page: np.ndarray, homography: np.ndarray, layout: PageLayout, key: str, rng: np.random.Generator,
              px_per_mm: float = PRINT_PX_PER_MM) -> None:
    """Tick both 是 and 否 of indicator ``key`` with clear checks (a writer who changed their mind and
    did not cancel the first): no reader may choose, so the page always holds a tick item for review."""
    pen = handwriting.random_pen(rng)
    for box in (f"{key}.yes", f"{key}.no"):
        handwriting.draw_tick(page, _rect_px(homography, layout.boxes[box]), "check", rng, px_per_mm, pen)


def scan_page(page: np.ndarray, rng: np.random.Generator, source_dpi: float = PRINT_DPI,
              profile: str | None = None, quarter_turns: int | None = None) -> tuple[np.ndarray, float, dict[str, Any]]:
    """Degrade a filled RGB page like a scanner or a phone would.

    Returns the image (RGB, gray or 1-bit as 0/255 gray), its dpi and what was done.
    """
    profile = profile or _choice(rng, PROFILE_WEIGHTS)
    turns = _choice(rng, QUARTER_TURN_WEIGHTS) if quarter_turns is None else quarter_turns
    quality = int(rng.integers(SIM_JPEG_QUALITY_MIN, SIM_JPEG_QUALITY_MAX + 1))
    info: dict[str, Any] = {"profile": profile, "turns": turns}
    if profile in ("office_gray", OFFICE_300_PROFILE, SCANNER_TEXT_PROFILE):
        out = degrade.skew(degrade.to_gray(page), rng)
        if profile == "office_gray":
            out, dpi = degrade.rescale(out, rng, source_dpi, dpi_min=200, dpi_max=300)
        else:
            out, dpi = degrade.rescale(out, rng, source_dpi, dpi=OFFICE_300_DPI)
        out = degrade.blur(out, rng, max_sigma_px=1.0)
        out = degrade.brightness_contrast(out, rng)
        out = degrade.gaussian_noise(out, rng, max_sigma_levels=8.0)
        out = degrade.speckle(out, rng, max_density_per_mpx=50.0)
        if profile == SCANNER_TEXT_PROFILE:
            out = degrade.clean_background(out, SCANNER_TEXT_PAPER_FROM_LEVEL)
            quality = SCANNER_TEXT_JPEG_QUALITY
        out = degrade.jpeg(out, rng, quality=quality)
    elif profile in ("copier", COPIER_DRUM_PROFILE, COPIER_ASKEW_PROFILE):
        # A copy of the return, then scanned: the copier's faults sit on the paper the scanner sees.
        faults: list[str] = []
        original = degrade.to_gray(page)
        if profile == COPIER_ASKEW_PROFILE:
            glass_deg = float(rng.uniform(COPIER_GLASS_SKEW_MIN_DEG, COPIER_GLASS_SKEW_MAX_DEG))
            glass_deg *= float(rng.choice([-1, 1]))
            original = degrade.skew(original, rng, angle_deg=glass_deg)
            info["glass_skew_deg"] = round(glass_deg, 2)
        copy = degrade.copier(original, rng, source_dpi / MM_PER_INCH, faults)
        if profile in (COPIER_DRUM_PROFILE, COPIER_ASKEW_PROFILE):
            copy = degrade.dirty_drum(copy, rng, source_dpi / MM_PER_INCH)
            faults.append("dirty_drum")
        info["copier_faults"] = faults
        out = degrade.skew(copy, rng, max_angle_deg=2.0)
        out, dpi = degrade.rescale(out, rng, source_dpi, dpi_min=150, dpi_max=300)
        out = degrade.blur(out, rng, max_sigma_px=1.0)
        out = degrade.brightness_contrast(out, rng)
        if rng.random() < 0.25:
            out = degrade.to_bilevel(out, BILEVEL_THRESHOLD_LEVEL)
            info["bilevel"] = True
        else:
            out = degrade.gaussian_noise(out, rng, max_sigma_levels=6.0)
            out = degrade.jpeg(out, rng, quality=quality)
    elif profile == "colour":
        out = degrade.skew(page, rng)
        out, dpi = degrade.rescale(out, rng, source_dpi, dpi_min=200, dpi_max=300)
        out = degrade.blur(out, rng, max_sigma_px=0.8)
        out = degrade.gaussian_noise(out, rng, max_sigma_levels=6.0)
        out = degrade.jpeg(out, rng, quality=quality)
    elif profile in ("bilevel", BILEVEL_OTSU_PROFILE):
        info["bilevel"] = True
        out = degrade.skew(page, rng, max_angle_deg=3.0)
        out, dpi = degrade.rescale(out, rng, source_dpi, dpi_min=150, dpi_max=300)
        out = degrade.to_bilevel(out, None if profile == BILEVEL_OTSU_PROFILE else BILEVEL_THRESHOLD_LEVEL)
    elif profile in ("photo", *PHOTO_MODE_PROFILES):
        # The bend is drawn from a generator of its own, seeded from this one's state (read, not drawn
        # from), so that every other draw of this page and of the pages after it stays as it was.
        own = np.random.default_rng(int.from_bytes(
            hashlib.sha256(repr(rng.bit_generator.state).encode()).digest()[:8], "little"))
        bow_mm = float(own.uniform(-degrade.PHOTO_BOW_MAX_MM, degrade.PHOTO_BOW_MAX_MM))
        across = bool(own.random() < 0.5)
        info["bow_mm"], info["bow_across"] = round(bow_mm, 2), across
        bent = degrade.bend(page, bow_mm * source_dpi / MM_PER_INCH, across)
        out, dpi = degrade.rescale(bent, rng, source_dpi, dpi_min=150, dpi_max=240)
        out = degrade.perspective_photo(out, rng)
        out = degrade.uneven_light(out, rng)
        out = degrade.blur(out, rng, max_sigma_px=1.2)
        if profile == "photo_bilevel":
            out = degrade.phone_bilevel(out, rng, dpi / MM_PER_INCH)
            info["bilevel"] = True
        else:
            out = degrade.jpeg(degrade.to_gray(out) if profile == "photo_gray" else out, rng, quality=quality)
    elif profile == "low_dpi":
        out = degrade.skew(degrade.to_gray(page), rng)
        out, dpi = degrade.rescale(out, rng, source_dpi, dpi_min=150, dpi_max=200)
        out = degrade.jpeg(out, rng, quality=max(quality, 80))
    elif profile == "high_dpi":
        out = degrade.skew(degrade.to_gray(page), rng, max_angle_deg=1.0)
        out, dpi = degrade.rescale(out, rng, source_dpi, dpi=600)
        out = degrade.jpeg(out, rng, quality=quality)
    else:
        raise SimulationError(f"未知的扫描方式：{profile}")
    info["quality"] = quality
    info["dpi"] = round(dpi)
    return degrade.rotate_quarter(out, turns), dpi, info


def _png_array(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def _paste(page: np.ndarray, picture: np.ndarray, x_px: float, y_px: float, w_px: float, h_px: float) -> None:
    w, h = max(1, round(w_px)), max(1, round(h_px))
    scaled = cv2.resize(picture, (w, h), interpolation=cv2.INTER_AREA)
    x, y = round(x_px), round(y_px)
    region = page[y : y + h, x : x + w]
    np.minimum(region, scaled[: region.shape[0], : region.shape[1], None], out=region)


def stand_in_sheet(layout: PageLayout, payload: str, px_per_mm: float = PRINT_PX_PER_MM) -> tuple[np.ndarray, np.ndarray]:
    """A plain drawing of a sheet from its layout: markers, QR, ID, boxes.

    For tests and benchmarks of the reader that must not wait on
    LibreOffice; the real returns are simulated from the rendered PDF.
    Returns the RGB page and the homography from layout mm to its pixels.
    """
    w_mm, h_mm = layout.page_size_mm
    page = np.full((round(h_mm * px_per_mm), round(w_mm * px_per_mm), 3), 255, dtype=np.uint8)
    ox, oy = MARKER_CENTRE_INSET_MM, MARKER_CENTRE_INSET_MM
    homography = np.array([[px_per_mm, 0, ox * px_per_mm], [0, px_per_mm, oy * px_per_mm], [0, 0, 1.0]])

    def at(x_mm: float, y_mm: float) -> tuple[float, float]:
        return (x_mm + ox) * px_per_mm, (y_mm + oy) * px_per_mm

    names = {"top_left": 0, "top_right": 1, "bottom_right": 2, "bottom_left": 3}
    for name, (cx, cy) in layout.markers.items():
        x, y = at(cx - MARKER_IMAGE_MM / 2, cy - MARKER_IMAGE_MM / 2)
        side = MARKER_IMAGE_MM * px_per_mm
        _paste(page, _png_array(marker_png(names[name])), x, y, side, side)
    qr = layout.qr
    x, y = at(qr.x_mm, qr.y_mm)
    _paste(page, _png_array(qr_png(payload)), x, y, qr.w_mm * px_per_mm, qr.h_mm * px_per_mm)
    pid = layout.printed_id
    x, y = at(pid.x_mm, pid.y_mm + pid.h_mm * 0.8)
    scale = pid.h_mm * px_per_mm / 30.0
    cv2.putText(page, payload, (int(x), int(y)), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), max(1, int(scale * 2)),
                cv2.LINE_AA)
    for rect in layout.boxes.values():
        x, y = at(rect.x_mm, rect.y_mm)
        _paste(page, _png_array(box_png(rect.w_mm, rect.h_mm)), x, y, rect.w_mm * px_per_mm, rect.h_mm * px_per_mm)
    return page, homography


# The empty-slot stress cases: a slot left empty, with what real returns put there.
# "gray_seal": a seal stamped right across the empty slot, over one or two stray strokes, on a gray scan (the
# reader looks for pen strokes darker than the seal under it: a stray stroke must not pass for a name).
# "photo_seal": a seal across the empty slot or partly over it, with or without a stray stroke, photographed by a
# phone (colour, or a scanning app's gray or black-and-white mode: a shadow across a gray photo hid a seal's ring).
# "drum_copy": a stray stroke, and a third of the time each a seal partly over the slot or across it, on a copy
# from a copier with a dirty drum (its streaks of toner dots run through the slot and the paper around it).
# "drum_askew": the same, the original laid askew on the copier's glass, so that the streaks, light lines and
# roller stripes slant across the form.
EMPTY_SLOT_CASES = ("stray_stroke", "partial_seal", "bilevel_seal", "gray_seal", "photo_seal", "drum_copy",
                    "drum_askew")
# Each case is scanned the harsh ways real returns come in.
EMPTY_SLOT_PROFILES = {
    "stray_stroke": ("photo", "bilevel", "copier", "low_dpi", "office_gray"),
    "partial_seal": ("photo", "office_gray", "copier", "low_dpi", "colour"),
    "bilevel_seal": ("bilevel",),
    "gray_seal": ("office_gray", "copier", "low_dpi", "high_dpi"),
    "photo_seal": ("photo_gray", "photo_bilevel", "photo"),
    "drum_copy": (COPIER_DRUM_PROFILE,),
    "drum_askew": (COPIER_ASKEW_PROFILE,),
}


def empty_slot_case(page: np.ndarray, homography: np.ndarray, layout: PageLayout, case: str, seed: int,
                    px_per_mm: float = PRINT_PX_PER_MM) -> tuple[np.ndarray, str, dict[str, Any]]:
    """One stress page: every slot signed but one, and in that one a stray stroke, part of a seal, or both.

    ``page`` (RGB, printed, no writing) is changed in place. Returns the scanned
    image, the empty slot's key and what was drawn.
    """
    if case not in EMPTY_SLOT_CASES:
        raise SimulationError(f"未知的空白签名测试类型：{case}")
    rng = np.random.default_rng(seed)
    slots = [s.key for s in SIGNATURE_SLOTS if s.key in layout.boxes]
    empty = slots[int(rng.integers(0, len(slots)))]
    notes: dict[str, Any] = {"case": case, "empty": empty}
    for slot in slots:
        rect = _rect_px(homography, layout.boxes[slot])
        if slot != empty:
            handwriting.draw_signature(page, rect, rng, px_per_mm)
            continue
        if case in ("stray_stroke", "gray_seal", "drum_copy", "drum_askew") or rng.random() < 0.5:
            kind: handwriting.StrayKind = "long_stroke" if case == "stray_stroke" or rng.random() < 0.7 else "stroke"
            for _ in range(int(rng.integers(1, 3))):
                handwriting.draw_stray_mark(page, rect, rng, kind, px_per_mm)
            notes["stray"] = kind
        # Drawn for the newest cases only, so that the other cases' seeds draw what they drew before.
        drum_seal = float(rng.random()) if case in ("drum_copy", "drum_askew") else 1.0
        if case == "partial_seal" or (case in ("bilevel_seal", "photo_seal") and rng.random() < 0.5) \
                or drum_seal < 1 / 3:
            centre = handwriting.seal_centre_partly_over(rect, rng, px_per_mm)
            notes["seal"] = "partial"
        elif case in ("bilevel_seal", "gray_seal", "photo_seal") or drum_seal < 2 / 3:
            centre = handwriting.seal_centre_across(rect, rng)
            notes["seal"] = "across"
        else:
            continue
        handwriting.draw_seal(page, centre, rng, px_per_mm)
    profiles = EMPTY_SLOT_PROFILES[case]
    profile = profiles[int(rng.integers(0, len(profiles)))]
    image, _dpi, info = scan_page(page, rng, profile=profile, quarter_turns=0)
    notes.update(info)
    return image, empty, notes
