"""Handwritten digits in comb boxes: clean the crop, then classify.

A crop comes from the scan as gray uint8 (paper ≈ 255, ink dark) and may
hold a piece of the printed box border, because the per-box warp can be
off by about half a millimetre. The crop is normalised the way MNIST was
(ink bounding box scaled into 20×20, centred by mass in 28×28), then
classified by an ensemble of small convolutional nets on the image itself
(the model format also takes MLPs on HOG features; none ship now). The weights ship as
``ocr/models/digits.npz``; inference is plain numpy, so no pickle is
loaded and PyTorch (used only to train the net) is not needed. A reading
below the confidence gate carries no value: the caller sends it to review
rather than guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forms.errors import DigitModelError

MODEL_PATH = Path(__file__).resolve().parent / "models" / "digits.npz"
MODEL_FORMAT_VERSION = 3
# Dense weights ship as int8 with one scale per output unit: a quarter of float32,
# under 2 MiB compressed; the rounding moves probabilities by about 1e-3.
# Convolution kernels ship in half precision (ConvNet.save).
WEIGHT_QUANT_LEVELS = 127

# Darkness runs from 0 (paper) to 1 (black). Printed lines are looked for
# at a low threshold, so faint thin borders at 100 dpi are still found.
DIGIT_LINE_MIN_DARKNESS = 0.15
# Ink is what is darker than this share of the crop's darkest strokes,
# clamped to a range: a light pen on a copier still counts, noise does not
# (0.08 let border remnants through as "1"s; 0.2 lost light pens' digits).
DIGIT_INK_SHARE_OF_STROKE = 0.5
DIGIT_INK_MIN_DARKNESS = 0.12
DIGIT_INK_MAX_DARKNESS = 0.35
DIGIT_STROKE_PERCENTILE = 99.5
# Below this share of inked pixels a box is empty.
DIGIT_BLANK_INK_MAX_RATIO = 0.003
# Between the two ratios there is ink, but too little to be a digit: uncertain.
DIGIT_READ_MIN_INK_RATIO = 0.008
# A printed border line runs along most of the crop's middle inside this edge band.
DIGIT_BORDER_BAND_RATIO = 0.15
DIGIT_BORDER_LINE_MIN_RATIO = 0.75
# A line's depth from the edge is this percentile of its runs: a digit touching it lengthens a minority.
# At 25 a 0 or a 3 written against a side line, lengthening the runs along
# most of the band, had its stroke cut with the line and read as "C" or ")"
# (then held for review, or misread). On the field replay's validation slice
# (4,000 fields, gate 0.985) 10 gave 77.9% -> 78.7% right at 0.53% -> 0.53%
# wrong (seed 5401, where it was chosen), 78.7% -> 79.6% at 0.67% -> 0.57%
# (seed 5402), 79.8% -> 80.6% at 0.7% on the held-back bank. A line cut too
# thin leaves a sliver, which the remnant rule (below) removes.
DIGIT_BORDER_DEPTH_PERCENTILE = 10.0
# The thickest a printed border (0.5 mm and its blur) gets, as a share of the box side across it.
DIGIT_BORDER_THICK_MAX_RATIO = 0.15
# Sides whose measured line widths differ by at most this agree on the printed width.
DIGIT_BORDER_AGREE_PX = 1
# A border scrap is at least this many times longer than it is thick.
DIGIT_LINE_ELONGATION = 3.0
# Ink blobs smaller than this (share of the crop) are dust, not strokes.
DIGIT_SPECK_MAX_RATIO = 0.0025
# Blobs that touch the crop edge and are this small are border remnants.
DIGIT_EDGE_FRAGMENT_MAX_RATIO = 0.012
# Blobs much smaller than the main stroke are dropped, relative to the largest.
DIGIT_COMPONENT_MIN_SHARE = 0.08
# Ink no taller or wider than this share of the box height, and little of it, is a speck of dust.
# Not a bigger share: a light pen's 1 on a gray copy can leave only the dark blot
# where the pen landed, its stroke under the ink threshold (a third simulated
# round, 17.8 read as 7.8 when 1 mm dots of any ink share were dust).
DIGIT_DOT_MAX_RATIO = 0.14
DIGIT_DOT_MIN_DARKNESS = 0.45
# A dot with more ink than that is dust too when it is a speck's disc: about as tall as wide (its own
# rectangle), filling most of its square (a disc fills 0.79), not light through its middle, and with no
# lighter ink running from it at the lowest ink level beyond its blurred rim. A digit a copy or a 1-bit
# scan lost leaves a short stroke, and a light 1 the blot where the pen landed with its stroke still
# there at the lowest level. Such 0.5-0.8 mm specks sent 4, 10 and 10 fields to review as "?" on three
# simulated rounds of 604 pages (gray and colour); of the 37,000 written digits on them none became a
# sure blank, the 53 the scan left as short scraps among them. On a 1-bit page a speck is never a
# sure blank (read_prepared).
DIGIT_ROUND_SPECK_MAX_ELONGATION = 1.5
DIGIT_ROUND_SPECK_MIN_FILL = 0.6
DIGIT_ROUND_SPECK_MIN_DARKNESS = 0.3
DIGIT_ROUND_SPECK_HALO_PX = 2
# Handwritten digits are at most ~1.5 times as wide as tall; wider ink is not a digit.
DIGIT_ASPECT_MAX = 1.7
# Ink lying wholly in this outer share of the crop's width, on one side, is
# a scrap of the side line (or a digit written against it): never read, never blank.
DIGIT_SIDE_INK_BAND_RATIO = 0.2
# Paper darker than this level means the crop is not a box on paper at all.
DIGIT_PAPER_MIN_LEVEL = 90.0
DIGIT_PAPER_PERCENTILE = 80.0
# The ensemble's vote a digit needs to be shown as read, and the product a
# whole field needs over its boxes (each digit's, and each blank box's
# certainty that it is blank). The field gate is chosen on the field replay's
# validation slice, two draws pooled (benchmarks/bench_digit_fields.py
# --validation /tmp/digits/allowed.npz --fields 4000 --seed 5401, and 5402),
# as the lowest gate within 0.5% silently wrong on the 8,000 fields.
# 2026-12-03, the deeper nets 4 and 6 (scripts/train_digit_convnets.py),
# geometric vote; right and accepted / silently wrong, pooled:
#   0.99 82.7% / 0.63%   0.993 80.6% / 0.57%   0.995 78.4% / 0.51%
#   0.996 76.9% / 0.49%  0.997 74.6% / 0.47%
# (per draw at 0.996: 76.9% / 0.45% and 77.0% / 0.53%). The nets before
# (2 and 3, mean vote) were within 0.5% pooled only from 0.99: 74.7% / 0.50%;
# their gate of 0.985, chosen on seed 5401 alone, gave 0.59% pooled. Most
# silent errors left are digits the scan lost (a box read blank), which no
# gate sees: at 0.999 the pooled rate is still 0.40%.
# Then, with the segmentation pass (line remnants, side-line depth, soft
# smudges) merged, the same two draws pooled:
#   0.99 84.0% / 0.58%   0.993 81.9% / 0.54%   0.995 79.8% / 0.49%
#   0.996 78.3% / 0.48%  (per draw at 0.995: 79.7% / 0.40% and 79.9% / 0.57%)
# Those draws gave every box its own pen and its own scan, so a field could
# lose one digit of a light pen on a 1-bit scan and keep the next: harder
# than paper, where a field is written with one pen and scanned once. With
# the replay drawing one pen and one scan a field (its default since
# 2026-12-03, evening), the same two seeds pooled:
#   0.98 87.5% / 0.53%   0.985 86.3% / 0.47%   0.99 84.2% / 0.44%
#   0.995 80.4% / 0.34%  (per draw at 0.99: 83.9% / 0.43% and 84.6% / 0.45%)
# 0.985 is the lowest within 0.5% here, but on the benchmark's 604 pages it
# let 17 of 3,384 fields through wrong (0.502%), at the budget's edge; 0.99
# gave 14 (0.41%) and 78.2% right and accepted (74.4% at 0.995).
# Then an empty field on a 1-bit scan went to review (ocr.numbers
# BILEVEL_BLANK_REASON: a light pen the threshold dropped left it empty),
# and the same two seeds pooled gave:
#   0.975 87.5% / 0.50%  0.98 86.6% / 0.45%  0.983 85.9% / 0.44%
#   0.985 85.4% / 0.40%  0.99 83.4% / 0.36%  (per draw at 0.98: 86.2% / 0.50% and 87.0% / 0.40%)
# 0.98 is the lowest clearly within 0.5% (0.975 sits on it). Benchmark pages:
# 79.8% right and accepted, 16 of 3,384 silently wrong (0.47%).
# 2026-12-04, a third deep net (9) in the vote, the same two seeds pooled
# (the two nets alone, measured again beside it, in brackets):
#   0.975 88.5% / 0.49%  0.98 87.6% / 0.46% (86.6% / 0.45%)
#   0.983 87.1% / 0.40%  0.985 86.5% / 0.40% (85.4% / 0.40%)
# (per draw at 0.98: 87.4% / 0.53% and 87.8% / 0.40%). The gate stays 0.98
# by the same rule. With nets 7 and 8 as well (five) 0.983 gave 87.8% / 0.43%,
# two tenths of a point more for twice the nets' time. Benchmark pages with the
# three: 82.5% right and accepted, 13 of 3,384 silently wrong (0.38%).
# Ninth pass: net 8 as a fourth gave 88.1% / 0.43% at 0.98 on the same seeds,
# but on three rounds of simulated pages 36 more fields accepted and 4 more
# wrong (a third round reached 0.60% silently wrong), and the model file went
# over 2 MiB: not shipped.
# Seventeenth pass (2026-12-05): two wide nets replace the three deep ones.
# On the whole-page replays (scripts/page_field_replay.py; validation slice,
# seed 990, 7,146 fields / held-back bank, seed 1010) at 0.98: 87.56% / 33
# wrong and 87.84% / 24 against 85.95% / 33 and 86.48% / 22; at 0.975 the
# validation slice goes over the budget (37, 0.52%), so the gate stays 0.98.
DIGIT_ACCEPT_MIN_CONFIDENCE = 0.93
# Floor under each net's probability before the logarithm of the geometric vote.
CONVNET_VOTE_MIN_PROBABILITY = 1e-12
# The first convnet alone settles a box it reads at this probability or more; the other nets
# are run only on the boxes left. Eighteenth pass (2026-12-05), three wide nets, net 81 first
# (scripts/train_digit_convnets.py): on the whole-page replays (32,519 boxes, seeds 990 and 1010) 87% of boxes were
# settled so, the full vote read every one of them as the same digit and none below 0.98, and
# fields right and accepted / silently wrong were 87.80% / 32 and 87.95% / 23 (the full vote of
# the three: 87.78% / 32 and 87.92% / 23; of the two shipped before: 87.56% / 33 and 87.84% / 24),
# for 1.25 nets' work a box instead of two. At 0.9999 the fields were the full vote's exactly, for
# 1.62 nets a box.
FIRST_NET_SETTLES_MIN_PROBABILITY = 0.999
FIELD_ACCEPT_MIN_PROBABILITY = 0.98
# Kept strokes shorter than this share of the box are the scrap of a digit
# the scan lost (a light pen through 1-bit): the classifier reads such a scrap
# as some digit with full confidence, so it is never accepted. On returned-1..4
# (simulator rows 340..399) it caught 4 of 52 accepted wrong digits for 3 right ones.
DIGIT_MIN_HEIGHT_RATIO = 0.35

# A smudge is a blob, a pen leaves strokes. Ink whose mean width (twice its
# area over its outline) is wider than this share of the box height is no
# stroke: over 600 simulated digits (pens 0.3-0.8 mm, 100-300 dpi, 1-bit)
# the widest was 0.19, smudges of 2-5 mm reach 0.28.
DIGIT_STROKE_WIDTH_MAX_RATIO = 0.2
# A filled convex blob (its pixels cover its hull) is a smudge already from
# this width; only 3 of those 600 digits (bold 1s) were as solid and wide.
DIGIT_SOLID_BLOB_WIDTH_RATIO = 0.15
DIGIT_SOLID_BLOB_MIN_SOLIDITY = 1.0
# A smudge's edges are soft, a pen's are sharp. Sharpness: the 95th
# percentile of the darkness gradient (per pixel, after a 1-px Gaussian that
# takes the JPEG noise out) around the ink, over the ink's own darkness (its
# 90th percentile). Simulated smudges in empty boxes (150-300 dpi, 450 boxes)
# had a median of 0.29; of 3,400 written digits on the field replay's
# validation slice none had less than 0.38, and of those not read (scraps,
# too little ink) none less than 0.46. Ink that would not be read as a digit
# anyway and is softer than this is a smudge: the box is blank. A sharp one
# (a 1-bit smudge is as sharp as a pen) still goes to review.
DIGIT_SOFT_INK_MAX_SHARPNESS = 0.35
DIGIT_SOFT_INK_BLUR_PX = 1.0
# A faint smudge in an empty box whose edges JPEG noise and paper grain
# make look sharp: under half a digit's height, light (its 90th-percentile
# darkness), filled (its pixels cover its hull), wider than a pen line and
# roundish. On the benchmark's pages 72 empty boxes held ink read as "?" (70
# fields to review); this shape took 49 of them, and on a second set of 600
# pages (seeds 300-303) 35 of 74, with no written digit (15,000 boxes) meeting
# it. The nearest digits: a copier's
# faint 1s (line width 0.044 of the box height, long and thin), a decimal 7 the
# copier reduced to a 1.2 mm scrap (width 0.044), and light bold digits whose
# holes the copy closed (0.49 of the box high at 0.34 darkness, the shortest;
# no written digit was under 0.48 high). A 1-bit page is never this light.
DIGIT_SMUDGE_MAX_HEIGHT_RATIO = 0.45
DIGIT_SMUDGE_MAX_DARKNESS = 0.3
DIGIT_SMUDGE_MIN_SOLIDITY = 0.9
DIGIT_SMUDGE_MIN_WIDTH_RATIO = 0.06
DIGIT_SMUDGE_MAX_ELONGATION = 2.0
# A smudge's darkness fades out from its middle; a pen's stroke, however
# broad and light, stops at its edge. A light blob (its 90th-percentile
# darkness under DIGIT_SMUDGE_MAX_DARKNESS) whose ink above this share of
# the threshold covers this many times the blob is a smudge: the box is
# blank. On the harder benchmark and fresh rounds (24,800 boxes), the 13
# thumb smudges that were read as blobs grew 1.49-1.89 times; of the 160
# written digits as broad as a blob none grew more than 1.31 (light bold
# digits, filled-in 6s, on gray copies and photos), and the 1-bit page
# has no light ink.
DIGIT_FADING_LEVEL_SHARE = 0.5
DIGIT_FADING_MIN_GROWTH = 1.4

# Rows along a printed line, beyond the box, where ink covers this share of
# the width, are another printed line (a table rule), never a digit.
DIGIT_OUTER_LINE_MIN_RATIO = 0.6
# Ink running on from a printed line by this many pixels more than the
# line's own blur does is a digit's stroke touching or crossing it. At 1 px
# the blur's own unevenness (150-200 dpi, JPEG) passed for strokes along
# much of a line, and the bar rule below then kept the line over a 5 or a
# rising 6. 2 px, on the field replay's validation slice (old gate 0.99 on
# the least sure net): 68.0% -> 68.3% right, 0.45% -> 0.43% wrong; with the
# bar rule kept off the bottom line too, 69.0% and 0.40%.
DIGIT_LINE_RUN_ON_PX = 2
# Touched columns side by side over this share of the box width are a bar
# written along the top line (a 7's), not a stroke crossing it. Not applied
# to the bottom line: on the field replay's validation slice that gave 69.0%
# right at 0.45% wrong, against 68.0% and 0.45% with it (old gate 0.99 on
# the least sure net).
DIGIT_BAR_MIN_WIDTH_RATIO = 0.3

# A stroke part of which a copier's roller band darkened sets the ink threshold (half the darkest
# ink) above the rest of the digit: of a 4 only its stem was kept and read as a 1 at 0.997, a 7 read
# as 1, a 9 as 7 (fresh round of 2026-12-04 and the benchmark: 3 of 30 fields silently wrong). The
# ink above this share of the threshold that touches the kept strokes is the digit's too; where it
# holds this many times their ink, or reaches this many times their width or height, the digit is
# read again from it, and the box is settled only when both readings agree. Of 14,650 digits read
# right and accepted on those pages 25 were read again so; 23 agreed.
DIGIT_JOINED_LEVEL_SHARE = 0.4
DIGIT_JOINED_INK_MIN_RATIO = 3.0
DIGIT_JOINED_EXTENT_MIN_RATIO = 2.0

# A blob lying, nearly all of it, this close to the printed lines the cut
# erased is what the cut left of those lines (their blurred fringe, the 1-px
# step of a skewed line): a digit's stroke runs away from a line it touches.
# Such remnants made an empty box "not blank", so its field went to review,
# and a corner of them (a side line's sliver joined to a bottom line's) was
# read as a 7 at 0.996. On the field replay (held-back bank, 1,000 fields,
# gate 0.985) empty boxes not read blank went from 13 to 1, and right and
# accepted fields from 78.7% to 79.8%, with no written digit lost.
DIGIT_REMNANT_DISTANCE_PX = 2
DIGIT_REMNANT_MIN_SHARE = 0.9

MNIST_SIZE_PX = 28
MNIST_DIGIT_BOX_PX = 20
HOG_ORIENTATION_BINS = 9
HOG_FINE_CELL_PX = 4
HOG_COARSE_CELL_PX = 7
PIXEL_FEATURE_SIZE_PX = 14


@dataclass(frozen=True)
class DigitReading:
    """One comb box. ``value`` is None when blank or not certain enough.

    ``probabilities`` are the ensemble's mean; ``confidence`` is their
    probability for ``best``, which is what the gates check.
    For a blank box it says how far the ink stays below the reading level.
    """

    value: int | None
    confidence: float
    blank: bool
    probabilities: tuple[float, ...]
    # The most likely digit even when it is not accepted, for the reviewer.
    best: int | None = None
    ink_ratio: float = 0.0

    @property
    def uncertain(self) -> bool:
        return not self.blank and self.value is None


@dataclass(frozen=True)
class NumberReading:
    """A number written one digit per box. ``value`` is None when blank or uncertain."""

    value: float | None
    confidence: float
    digits: tuple[DigitReading, ...]
    blank: bool
    # What the boxes hold, for a reviewer: digits, '_' blank, '?' unreadable.
    text: str

    @property
    def uncertain(self) -> bool:
        return not self.blank and self.value is None


@dataclass(frozen=True)
class PreparedCrop:
    """A box crop after border removal and the blank test."""

    image: np.ndarray | None  # 28×28 float32, ink 1, None when blank or unreadable
    ink_ratio: float
    blank: bool
    # The strokes' height as a share of the crop's: a scrap of a lost digit is small.
    ink_height_ratio: float = 0.0
    # Blank, its only ink a lone dark speck smaller than any digit (dust, toner).
    dust: bool = False
    # The digit again with the lighter ink joined to its strokes, when that ink is far more than the
    # strokes kept (``DIGIT_JOINED_INK_MIN_RATIO``): the strokes kept may be part of the digit only.
    joined: np.ndarray | None = None


def _quantile(values: np.ndarray, share: float) -> float:
    """The value below which ``share`` of ``values`` lie; np.percentile's overhead dominates on tiny crops."""
    flat = values.ravel()
    if flat.size == 0:
        return 0.0
    k = min(flat.size - 1, max(0, int(share * (flat.size - 1) + 0.5)))
    return float(np.partition(flat, k)[k])


def _paper_level(gray: np.ndarray) -> float:
    # Most of a digit box is paper, so a high percentile is the paper level.
    return _quantile(gray, DIGIT_PAPER_PERCENTILE / 100.0)


def _darkness(gray: np.ndarray, paper: float) -> np.ndarray:
    paper = max(paper, 1.0)
    # np.minimum/np.maximum give np.clip's values without its per-call overhead (it ran once per box).
    return np.minimum(np.maximum((paper - gray.astype(np.float32)) / paper, 0.0), 1.0)


_SIDES = ("left", "right", "top", "bottom")


def _border_bands(ink: np.ndarray) -> list[np.ndarray]:
    """The four edge bands of a crop, each read from its edge inwards, along the crop's middle.

    Along the middle the other two borders cannot join in.
    """
    h, w = ink.shape
    band_h = max(1, int(np.ceil(h * DIGIT_BORDER_BAND_RATIO)))
    band_w = max(1, int(np.ceil(w * DIGIT_BORDER_BAND_RATIO)))
    middle_rows = ink[band_h:h - band_h]
    middle_cols = ink[:, band_w:w - band_w].T
    return [middle_rows[:, :band_w], middle_rows[:, w - band_w:][:, ::-1],
            middle_cols[:, :band_h], middle_cols[:, h - band_h:][:, ::-1]]


def _cut_border(dark: np.ndarray, ink: np.ndarray, lines: Sequence[tuple[int, int] | None]) -> dict[str, int]:
    """Remove the printed border lines found on each side, and whatever lies beyond them. In place.

    All four borders are printed alike, so no side's line is taken as much
    thicker than the others': a digit written against one side, which
    lengthens the runs where it touches, is not cut away with the line.
    """
    h, w = ink.shape
    sides = dict(zip(_SIDES, lines))
    found = [line for line in sides.values() if line is not None]
    if not found:
        return {}
    # A side whose line the crop cut through looks thin, a side a digit
    # touches looks thick: the median of the sides is the printed width.
    # A line the crop shows whole may be thicker than the median, up to the
    # thickest a printed border gets at this scale.
    thicknesses = np.sort([t for _start, t in found])
    typical = int(np.ceil(_sorted_median(thicknesses)))
    # Three sides that agree show the printed width; a fourth side that looks
    # thicker is a digit written against its line, and must keep its strokes.
    agreed = len(thicknesses) >= 3 and thicknesses[2] - thicknesses[0] <= DIGIT_BORDER_AGREE_PX
    cap = {"left": w, "right": w, "top": h, "bottom": h}
    depth = {side: (0 if line is None else
                    line[0] + min(line[1], typical + 1 if agreed else
                                  max(typical + 1, round(DIGIT_BORDER_THICK_MAX_RATIO * cap[side]))))
             for side, line in sides.items()}
    # One pixel more each way takes the line's anti-aliased fringe.
    if depth["top"]:
        dark[:depth["top"] + 1] = 0
        ink[:depth["top"] + 1] = False
    if depth["bottom"]:
        dark[h - depth["bottom"] - 1:] = 0
        ink[h - depth["bottom"] - 1:] = False
    if depth["left"]:
        dark[:, :depth["left"] + 1] = 0
        ink[:, :depth["left"] + 1] = False
    if depth["right"]:
        dark[:, w - depth["right"] - 1:] = 0
        ink[:, w - depth["right"] - 1:] = False
    return depth


def _edge_lines(bands: Sequence[np.ndarray]) -> list[tuple[int, int] | None]:
    """Where a printed line starts from the edge of each band, and how thick it is; None where absent.

    A band is (lines across the crop, pixels from the edge inwards). A
    line is present when nearly every line of the band meets ink; its
    start is the median first ink, its thickness a low percentile of the
    first ink runs (a digit touching the line lengthens only some runs).
    All bands go through one numpy pass, padded with paper to one shape:
    per-call overhead was most of a box's cost. A padded line has no ink
    and is not counted, and a run ends by the band's own depth either way.
    """
    n_lines = np.array([b.shape[0] for b in bands])
    depths = np.array([b.shape[1] for b in bands])
    lines, depth = int(n_lines.max()), int(depths.max())
    if lines == 0 or depth == 0:
        return [None] * len(bands)
    stack = np.zeros((len(bands), lines, depth + 1), bool)
    for k, band in enumerate(bands):
        stack[k, :band.shape[0], :band.shape[1]] = band
    hit = stack.any(axis=2)
    counts = hit.sum(axis=1)
    present = (n_lines > 0) & (depths > 0) & (counts >= DIGIT_BORDER_LINE_MIN_RATIO * n_lines)
    if not present.any():
        return [None] * len(bands)
    first = stack.argmax(axis=2)
    after = np.arange(depth + 1)[None, None, :] > first[:, :, None]
    # The padding column is paper, so every run ends by the band's own depth.
    end = (after & ~stack).argmax(axis=2)
    big = np.iinfo(np.int64).max // 4
    starts = np.sort(np.where(hit, first, big), axis=1)
    runs = np.sort(np.where(hit, end - first, big), axis=1)
    out: list[tuple[int, int] | None] = []
    for k in range(len(bands)):
        if not present[k]:
            out.append(None)
            continue
        n = int(counts[k])
        start = int(_sorted_median(starts[k, :n]))
        thickness = int(np.ceil(_sorted_percentile(runs[k, :n], DIGIT_BORDER_DEPTH_PERCENTILE)))
        out.append((start, max(1, thickness)))
    return out


def _sorted_median(values: np.ndarray) -> float:
    """np.median of an already sorted 1-D array, without its per-call overhead (it ran 4× per box)."""
    n = values.size
    return (float(values[(n - 1) // 2]) + float(values[n // 2])) / 2.0


def _sorted_percentile(values: np.ndarray, percent: float) -> float:
    """np.percentile's default (linear) rule on an already sorted 1-D array."""
    position = percent / 100.0 * (values.size - 1)
    lower = int(position)
    upper = min(lower + 1, values.size - 1)
    share = position - lower
    return float(values[lower]) + share * (float(values[upper]) - float(values[lower]))


def _keep_strokes(ink: np.ndarray, area: float | None = None, box_rows: tuple[int, int] | None = None,
                  near_cut: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """The mask of blobs that belong to the digit, and the share of line scraps dropped.

    Dust is dropped, and so are thin blobs lying wholly in an edge band
    along that edge: what the line finder left of a printed border.
    ``near_cut`` marks the pixels close to a printed line the cut erased:
    a blob lying (nearly) all in it is that line's remnant.
    """
    h, w = ink.shape
    area = area or float(h * w)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(ink), 0.0
    sizes = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    x0 = stats[1:, cv2.CC_STAT_LEFT]
    y0 = stats[1:, cv2.CC_STAT_TOP]
    x1 = x0 + stats[1:, cv2.CC_STAT_WIDTH]
    y1 = y0 + stats[1:, cv2.CC_STAT_HEIGHT]
    touches_edge = (x0 == 0) | (y0 == 0) | (x1 == w) | (y1 == h)
    keep = sizes >= DIGIT_SPECK_MAX_RATIO * area
    keep &= ~(touches_edge & (sizes < DIGIT_EDGE_FRAGMENT_MAX_RATIO * area))
    # The box's own rows, when the crop reaches beyond it.
    top, bottom = box_rows or (0, h)
    band_h, band_w = (bottom - top) * DIGIT_BORDER_BAND_RATIO, w * DIGIT_BORDER_BAND_RATIO
    bw, bh = x1 - x0, y1 - y0
    along_top_bottom = ((y1 <= top + band_h) | (y0 >= bottom - band_h)) & (bw >= DIGIT_LINE_ELONGATION * bh)
    along_sides = ((x1 <= band_w) | (x0 >= w - band_w)) & (bh >= DIGIT_LINE_ELONGATION * bw)
    if near_cut is not None:
        # A line's remnant is neither a digit nor a scrap that might be a "1".
        near = np.bincount(labels.ravel(), weights=near_cut.ravel().astype(np.float64), minlength=count)[1:]
        keep &= near < DIGIT_REMNANT_MIN_SHARE * sizes
    scraps = keep & (along_top_bottom | along_sides)
    keep &= ~scraps
    if keep.any():
        keep &= sizes >= DIGIT_COMPONENT_MIN_SHARE * sizes[keep].max()
    lookup = np.concatenate([[False], keep])
    # A scrap on the crop's very edge is what is left of a line the crop cut
    # through; one inside, upright along a side, may be a "1" hugging the
    # border. Along the top or bottom it lies flat: a border's remains.
    return lookup[labels], float(sizes[scraps & along_sides & ~touches_edge].sum()) / area


def _normalise(dark: np.ndarray, strokes: np.ndarray) -> np.ndarray:
    """MNIST-style: ink box scaled into 20×20, centre of mass at the 28×28 centre."""
    fringe = cv2.dilate(strokes.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    # Contrast is normalised so light blue and black pens look alike.
    level = max(_quantile(dark[strokes], 0.9), 0.2)
    values = np.where(fringe, np.clip(dark / level, 0.0, 1.0), 0.0).astype(np.float32)
    ys, xs = np.nonzero(strokes)
    values = values[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = values.shape
    scale = MNIST_DIGIT_BOX_PX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(values, size, interpolation=interp)
    out = np.zeros((MNIST_SIZE_PX, MNIST_SIZE_PX), np.float32)
    oy, ox = (MNIST_SIZE_PX - size[1]) // 2, (MNIST_SIZE_PX - size[0]) // 2
    out[oy:oy + size[1], ox:ox + size[0]] = small
    total = float(out.sum())
    if total <= 0:
        return out
    grid = np.arange(MNIST_SIZE_PX, dtype=np.float32)
    cy = float((out.sum(axis=1) * grid).sum()) / total
    cx = float((out.sum(axis=0) * grid).sum()) / total
    centre = (MNIST_SIZE_PX - 1) / 2.0
    shift = np.array([[1, 0, centre - cx], [0, 1, centre - cy]], dtype=np.float32)
    return cv2.warpAffine(out, shift, (MNIST_SIZE_PX, MNIST_SIZE_PX), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def prepare_crop(crop: np.ndarray, reach_px: int = 0) -> PreparedCrop:
    """Border removal, blank test and MNIST normalisation of one box crop."""
    return prepare_crops([crop], reach_px)[0]


def prepare_crops(crops: Sequence[np.ndarray], reach_px: int = 0) -> list[PreparedCrop]:
    """``prepare_crop`` of many crops; the border lines of all of them are found in one numpy pass.

    ``reach_px`` rows above and below the box are part of each crop: a
    digit's ink that crosses the top or bottom line (a 7 or 9 dropping
    below the baseline, a 6 rising above the others, a digit written
    against the line) is followed out there, while the line itself and
    whatever lies beyond it unconnected to the digit are dropped.
    """
    out: list[PreparedCrop | None] = [None] * len(crops)
    pending: list[tuple[int, np.ndarray, np.ndarray]] = []
    for i, crop in enumerate(crops):
        if crop.ndim not in (2, 3) or min(crop.shape[0] - 2 * reach_px, crop.shape[1]) < 8:
            out[i] = PreparedCrop(None, 0.0, False)
            continue
        gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        box = gray[reach_px:gray.shape[0] - reach_px]
        paper = _paper_level(box)
        if paper < DIGIT_PAPER_MIN_LEVEL:
            out[i] = PreparedCrop(None, 1.0, False)
            continue
        pending.append((i, gray, _darkness(gray, paper)))
    inks = [dark[reach_px:dark.shape[0] - reach_px] > DIGIT_LINE_MIN_DARKNESS for _i, _gray, dark in pending]
    lines = _edge_lines([band for ink in inks for band in _border_bands(ink)]) if pending else []
    for k, ((i, gray, dark), ink) in enumerate(zip(pending, inks)):
        sides = lines[4 * k:4 * k + 4]
        inked = dark > DIGIT_INK_MIN_DARKNESS
        if reach_px:
            # The side lines are cut as for a box alone, over the whole reach.
            _cut_border(dark, dark > DIGIT_LINE_MIN_DARKNESS, [sides[0], sides[1], None, None])
            _cut_beyond_box(dark, reach_px, sides)
        else:
            _cut_border(dark, ink, sides)
        erased = (inked & ~(dark > DIGIT_INK_MIN_DARKNESS)).astype(np.uint8)
        size = 2 * DIGIT_REMNANT_DISTANCE_PX + 1
        near_cut = cv2.dilate(erased, np.ones((size, size), np.uint8)).astype(bool)
        # A side line the crop cut through lies beyond its edge, erased as it were.
        near_cut[:, :DIGIT_REMNANT_DISTANCE_PX] = True
        near_cut[:, -DIGIT_REMNANT_DISTANCE_PX:] = True
        out[i] = _prepared_strokes(gray, dark, gray.shape[0] - 2 * reach_px, near_cut)
    return [p if p is not None else PreparedCrop(None, 0.0, False) for p in out]


def _run_beyond(ink: np.ndarray, row: int, step: int) -> np.ndarray:
    """Per column, how many ink pixels run on from ``row`` (exclusive) in direction ``step``."""
    h = ink.shape[0]
    rows = (ink[row + step::step] if 0 <= row + step < h else ink[:0])
    if rows.shape[0] == 0:
        return np.zeros(ink.shape[1], np.int64)
    # The first paper pixel ends the run; a column inked all the way runs to the crop's edge.
    return np.where(rows.all(axis=0), rows.shape[0], rows.argmin(axis=0)).astype(np.int64)


def _widen(columns: np.ndarray) -> np.ndarray:
    """A stroke is rarely straight across a line: its neighbour columns count too (the ends wrap round)."""
    out = columns.copy()
    out[1:] |= columns[:-1]
    out[:-1] |= columns[1:]
    out[0] |= columns[-1]
    out[-1] |= columns[0]
    return out


def _long_runs(columns: np.ndarray, min_length: float) -> np.ndarray:
    """The columns that lie in a run of at least ``min_length`` consecutive True ones."""
    if np.count_nonzero(columns) < min_length:
        return np.zeros_like(columns)
    padded = np.concatenate([[False], columns, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, stops = edges[::2], edges[1::2]
    long = stops - starts >= min_length
    marks = np.zeros(columns.size + 1, np.int64)
    marks[starts[long]] += 1
    marks[stops[long]] -= 1
    return (np.cumsum(marks[:-1]) > 0).astype(columns.dtype)


def _slice_rows(lo: np.ndarray, hi: np.ndarray, h: int) -> np.ndarray:
    """Per column, the rows of ``[max(0, lo):hi + 1]`` as a Python slice of ``h`` rows takes them, as a mask."""
    start = np.minimum(np.maximum(lo, 0), h)
    stop = hi + 1
    stop = np.where(stop < 0, np.maximum(stop + h, 0), np.minimum(stop, h))
    grid = np.arange(h)[:, None]
    return (grid >= start[None, :]) & (grid < stop[None, :])


def _cut_beyond_box(dark: np.ndarray, reach_px: int, sides: Sequence[tuple[int, int] | None]) -> None:
    """Erase the box's top and bottom lines, and what beyond them is not the digit's. In place.

    Where a column's ink runs on from the line, into the box or out of it,
    a digit touches or crosses the line there (a 7's bar written along the
    top line, a 9's tail across the bottom one): that column keeps its
    ink. Elsewhere the line is erased. Beyond the lines only ink connected
    to the box's own ink stays.
    """
    h, w = dark.shape
    ink = dark > DIGIT_LINE_MIN_DARKNESS
    rows: list[tuple[int, int]] = []
    found = [line[1] for line in sides if line is not None]
    for line, top in ((sides[2], True), (sides[3], False)):
        if line is None:
            # No line found: the box edge is where the crop says.
            rows.append((reach_px, reach_px) if top else (h - reach_px - 1, h - reach_px - 1))
            continue
        # All four lines are printed alike: a bar written along this one
        # makes it look thicker, the thinnest side shows the printed width.
        start, thickness = line[0], min(line[1], min(found) + DIGIT_BORDER_AGREE_PX)
        first = reach_px + start if top else h - reach_px - start - thickness
        last = min(h - 1, first + thickness - 1)
        first = max(0, first)
        before, after = _run_beyond(ink, first, -1), _run_beyond(ink, last, 1)
        # The printed line's own blur runs on a little in every column: the
        # columns where it runs on clearly further hold a digit's stroke.
        # Columns where ink runs on clearly further than the line's own blur
        # hold a digit's stroke, which keeps its pixels beyond the line. On
        # the line, a stroke keeps them where it runs out of both sides
        # (crossing), and so does a bar written along the line (a 7's top):
        # the line hides most of it, and a 7 without it reads as a 1.
        typical = [_quantile(run, 0.25) for run in (before, after, before + after)]
        out_of = [run > q + DIGIT_LINE_RUN_ON_PX for run, q in zip((before, after, before + after), typical)]
        touched = _widen(out_of[0] | out_of[1] | out_of[2])
        on_line = _widen(out_of[0] & out_of[1])
        if top:
            # Only a 7's bar lies along the top line. Along the bottom one
            # the rule kept the line itself under a 2's base, a 1's foot or
            # the curve of a 5 or 6 (it read 1 as 2, 7 as 2, 9 as 1).
            on_line |= _long_runs(touched, DIGIT_BAR_MIN_WIDTH_RATIO * w)
        # Where a stroke runs on, only the line's own typical extent goes.
        line_lo = first - int(typical[0])
        line_hi = last + int(typical[1])
        lo = np.where(touched, line_lo, first - before)
        hi = np.where(touched, line_hi, last + after)
        erase = _slice_rows(lo, hi, h) & ~on_line[None, :]
        np.putmask(dark, erase, 0.0)
        np.putmask(ink, erase, False)
        rows.append((first, last))
    (top_first, top_last), (bottom_first, bottom_last) = rows
    # Another printed rule out there, across most of the width, is never a digit.
    outer = np.zeros(h, bool)
    outer[:top_first] = True
    outer[bottom_last + 1:] = True
    ruled = outer & (ink.sum(axis=1) >= DIGIT_OUTER_LINE_MIN_RATIO * w)
    dark[ruled] = 0
    ink[ruled] = False
    count, labels = cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)
    if count <= 1:
        dark[outer] = 0
        return
    connected = np.bincount(labels[top_last + 1:bottom_first].ravel(), minlength=count) > 0
    connected[0] = False
    dark[outer[:, None] & ~connected[labels]] = 0


def _stroke_width_ratio(strokes: np.ndarray, box_h: int) -> float:
    """The ink's mean width (twice its area over its outline) as a share of the box height."""
    area = float(strokes.sum())
    if area == 0:
        return 0.0
    mask = strokes.astype(np.uint8)
    outline = float((mask - cv2.erode(mask, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT,
                                      borderValue=0)).sum())
    return 2.0 * area / max(outline, 1.0) / max(box_h, 1)


def _is_blob(strokes: np.ndarray, box_h: int) -> bool:
    """Ink that is a smudge's blob rather than a pen's strokes."""
    width = _stroke_width_ratio(strokes, box_h)
    if width > DIGIT_STROKE_WIDTH_MAX_RATIO:
        return True
    if width <= DIGIT_SOLID_BLOB_WIDTH_RATIO:
        return False
    return _solidity(strokes) >= DIGIT_SOLID_BLOB_MIN_SOLIDITY


def _solidity(strokes: np.ndarray) -> float:
    """Ink pixels over the area of their convex hull's polygon: a filled blob exceeds 1."""
    contours, _ = cv2.findContours(strokes.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull_area = cv2.contourArea(cv2.convexHull(np.concatenate(contours)))
    return float(strokes.sum()) / max(hull_area, 1.0)


def _is_faint_smudge(dark: np.ndarray, strokes: np.ndarray, box_h: int) -> bool:
    """Ink that is a light, filled, roundish patch (see DIGIT_SMUDGE_MAX_HEIGHT_RATIO)."""
    if _quantile(dark[strokes], 0.9) >= DIGIT_SMUDGE_MAX_DARKNESS \
            or _stroke_width_ratio(strokes, box_h) < DIGIT_SMUDGE_MIN_WIDTH_RATIO \
            or _solidity(strokes) < DIGIT_SMUDGE_MIN_SOLIDITY:
        return False
    (_, _), (long_side, short_side), _ = cv2.minAreaRect(np.argwhere(strokes).astype(np.float32))
    if long_side < short_side:
        long_side, short_side = short_side, long_side
    return long_side <= DIGIT_SMUDGE_MAX_ELONGATION * max(short_side, 1.0)


def _is_round_speck(dark: np.ndarray, strokes: np.ndarray, ink_h: int, ink_w: int, box_area: float,
                    box_rows: tuple[int, int], near_cut: np.ndarray | None) -> bool:
    """A dot too big for the plain dust test that is still dust (see DIGIT_ROUND_SPECK_*): round, filled,
    dark all through, and alone on the paper even at the lowest ink level."""
    kept = strokes.astype(bool)
    # The ink's own rectangle, not the axis-aligned box: a slanted dash has a square box.
    (_, _), (long_side, short_side), _ = cv2.minAreaRect(np.argwhere(kept).astype(np.float32))
    long_side, short_side = max(long_side, short_side) + 1, min(long_side, short_side) + 1
    if long_side > DIGIT_ROUND_SPECK_MAX_ELONGATION * short_side \
            or kept.sum() < DIGIT_ROUND_SPECK_MIN_FILL * ink_h * ink_w \
            or _quantile(dark[kept], 0.5) < DIGIT_ROUND_SPECK_MIN_DARKNESS:
        return False
    faint, _scraps = _keep_strokes(dark > DIGIT_INK_MIN_DARKNESS, box_area, box_rows, near_cut)
    ys, xs = np.nonzero(faint)
    return bool(ys.size) and int(ys.max() - ys.min() + 1) <= ink_h + 2 * DIGIT_ROUND_SPECK_HALO_PX \
        and int(xs.max() - xs.min() + 1) <= ink_w + 2 * DIGIT_ROUND_SPECK_HALO_PX


def _is_fading_blob(dark: np.ndarray, strokes: np.ndarray, threshold: float) -> bool:
    """A light blob whose darkness fades out from its middle: a smudge (see DIGIT_FADING_*)."""
    kept = strokes.astype(bool)
    if _quantile(dark[kept], 0.9) >= DIGIT_SMUDGE_MAX_DARKNESS:
        return False
    spread = int(_touching(dark > DIGIT_FADING_LEVEL_SHARE * threshold, kept).sum())
    return spread >= DIGIT_FADING_MIN_GROWTH * int(kept.sum())


def _touching(ink: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The pieces of ``ink`` (8-connected) that hold any pixel of ``kept``."""
    _n, labels = cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)
    ids = np.unique(labels[kept])
    return np.isin(labels, ids[ids > 0])


def _is_soft(dark: np.ndarray, strokes: np.ndarray) -> bool:
    """Ink whose edges are too soft for a pen's: a smudge (see DIGIT_SOFT_INK_MAX_SHARPNESS)."""
    smooth = cv2.GaussianBlur(dark.astype(np.float32), (0, 0), DIGIT_SOFT_INK_BLUR_PX)
    # A 3×3 Sobel weighs a one-pixel step by 4.
    gradient = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)) / 4.0
    around = cv2.dilate(strokes.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    sharpness = _quantile(gradient[around], 0.95) / max(_quantile(dark[strokes], 0.9), 1e-3)
    return sharpness < DIGIT_SOFT_INK_MAX_SHARPNESS


def _prepared_strokes(gray: np.ndarray, dark: np.ndarray, box_h: int | None = None,
                      near_cut: np.ndarray | None = None) -> PreparedCrop:
    """The blank test and normalisation of a crop whose border is already cut away.

    ``box_h`` is the box's own height when the crop reaches beyond it;
    ink shares are measured against the box, as for a crop of the box alone.
    """
    box_h = box_h or gray.shape[0]
    box_area = float(box_h * gray.shape[1])
    if not (dark > DIGIT_INK_MIN_DARKNESS).any():
        # Nothing reaches even the lowest ink threshold: empty, as the full test below would find.
        return PreparedCrop(None, 0.0, True)
    stroke_level = _quantile(dark, DIGIT_STROKE_PERCENTILE / 100.0 * box_area / dark.size
                             + (1 - box_area / dark.size))
    threshold = min(max(DIGIT_INK_SHARE_OF_STROKE * stroke_level, DIGIT_INK_MIN_DARKNESS), DIGIT_INK_MAX_DARKNESS)
    reach = (gray.shape[0] - box_h) // 2
    strokes, scrap_ratio = _keep_strokes(dark > threshold, box_area, (reach, reach + box_h), near_cut)
    ratio = float(strokes.sum()) / box_area
    if ratio < DIGIT_READ_MIN_INK_RATIO and threshold > DIGIT_INK_MIN_DARKNESS:
        # The darkest ink left may be a scrap of the printed line, which set
        # the threshold above a light pen's strokes: the digit read as blank
        # (a light-blue 1, 2, 5 or 6 on a gray scan, 0.4% of written digits).
        # Strokes that are there at the lowest ink level are the digit's.
        faint, faint_scraps = _keep_strokes(dark > DIGIT_INK_MIN_DARKNESS, box_area, (reach, reach + box_h),
                                            near_cut)
        if float(faint.sum()) / box_area >= DIGIT_READ_MIN_INK_RATIO:
            strokes, scrap_ratio = faint, faint_scraps
            ratio = float(strokes.sum()) / box_area
    ink_h = 0
    if ratio > 0:
        ys, xs = np.nonzero(strokes)
        ink_h, ink_w = int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)
        if ink_h <= DIGIT_DOT_MAX_RATIO * box_h and ink_w <= DIGIT_DOT_MAX_RATIO * box_h \
                and float(dark[strokes].max()) >= DIGIT_DOT_MIN_DARKNESS \
                and (ratio < DIGIT_READ_MIN_INK_RATIO
                     or _is_round_speck(dark, strokes, ink_h, ink_w, box_area, (reach, reach + box_h), near_cut)):
            # A lone dark speck of dust or toner, smaller than any written digit;
            # a faint one may be what is left of a light pen's digit.
            return PreparedCrop(None, ratio, True, dust=True)
        x0, x1 = int(xs.min()), int(xs.max()) + 1
        side_band = DIGIT_SIDE_INK_BAND_RATIO * gray.shape[1]
        if ratio > DIGIT_BLANK_INK_MAX_RATIO and (x1 <= side_band or x0 >= gray.shape[1] - side_band):
            # All the ink hugs one side: what is left of a side line the border
            # cut missed reads as a "1" with full confidence (150 dpi, 1-bit),
            # and a digit written that far off-centre is rare. A person looks.
            return PreparedCrop(None, ratio, False)
        if ink_w > DIGIT_ASPECT_MAX * ink_h:
            # Far wider than tall: a seal's arc or a stray line, not a digit.
            return PreparedCrop(None, ratio, False)
        if ratio >= DIGIT_READ_MIN_INK_RATIO and _is_blob(strokes, box_h):
            # A smudge, not pen strokes: the classifier would read it as some
            # digit with full confidence (506.7 was read 4506.7), so a person
            # looks. Never blank either, unless its edges are soft: a bold
            # digit can look like this too.
            if _is_soft(dark, strokes) or _is_fading_blob(dark, strokes, threshold):
                return PreparedCrop(None, 0.0, True)
            return PreparedCrop(None, ratio, False)
    if ratio <= DIGIT_BLANK_INK_MAX_RATIO:
        # A long thin stroke hugging the edge may be a "1" written far off-centre,
        # not a border scrap: never call that box empty.
        return PreparedCrop(None, ratio, scrap_ratio < DIGIT_READ_MIN_INK_RATIO)
    if ink_h < DIGIT_SMUDGE_MAX_HEIGHT_RATIO * box_h and _is_faint_smudge(dark, strokes, box_h):
        return PreparedCrop(None, 0.0, True)
    if (ratio < DIGIT_READ_MIN_INK_RATIO or ink_h < DIGIT_MIN_HEIGHT_RATIO * box_h) and _is_soft(dark, strokes):
        # Too little ink, or too short, for a digit: a scrap of a lost digit
        # goes to review, a smudge is a blank box.
        return PreparedCrop(None, 0.0, True)
    if ratio < DIGIT_READ_MIN_INK_RATIO:
        return PreparedCrop(None, ratio, False)
    return PreparedCrop(_normalise(dark, strokes), ratio, False, ink_h / box_h, joined=_joined(dark, strokes, threshold))


def _joined(dark: np.ndarray, strokes: np.ndarray, threshold: float) -> np.ndarray | None:
    """The digit with the lighter ink that touches its strokes, normalised, when that ink makes it far
    larger (``DIGIT_JOINED_*``); None otherwise, and where the strokes were kept at the lowest level."""
    level = max(DIGIT_INK_MIN_DARKNESS, DIGIT_JOINED_LEVEL_SHARE * threshold)
    if level >= threshold:
        return None
    lighter = dark > level
    kept = strokes.astype(bool)
    ys, xs = np.nonzero(kept)

    def far_larger(ink: np.ndarray) -> bool:
        iy, ix = np.nonzero(ink)
        grows = max((ix.max() - ix.min() + 1) / (xs.max() - xs.min() + 1),
                    (iy.max() - iy.min() + 1) / (ys.max() - ys.min() + 1))
        return bool(iy.size > DIGIT_JOINED_INK_MIN_RATIO * ys.size or grows > DIGIT_JOINED_EXTENT_MIN_RATIO)

    # The joined ink is part of all the lighter ink: where all of it is not far larger, it is not either.
    if not far_larger(lighter):
        return None
    joined = _touching(lighter, kept)
    return _normalise(dark, joined) if far_larger(joined) else None


def prepare_mnist(images: np.ndarray) -> np.ndarray:
    """Raw MNIST rows (n, 28, 28), ink high, through the same normalisation as a crop."""
    out = np.zeros((len(images), MNIST_SIZE_PX, MNIST_SIZE_PX), np.float32)
    for i, image in enumerate(images):
        prepared = prepare_crop(255 - image.astype(np.uint8))
        if prepared.image is not None:
            out[i] = prepared.image
    return out


@dataclass(frozen=True)
class _Votes:
    """Each pixel's gradient vote, split between its two nearest orientation bins."""

    shape: tuple[int, int, int]
    bins: np.ndarray  # (2, n, h, w) lower and upper bin
    weights: np.ndarray  # (2, n, h, w) magnitude share of each


def _votes(images: np.ndarray) -> _Votes:
    """Unsigned gradients of a batch (n, 28, 28); shared by both HOG cell sizes."""
    gx = np.zeros_like(images)
    gy = np.zeros_like(images)
    gx[:, :, 1:-1] = images[:, :, 2:] - images[:, :, :-2]
    gy[:, 1:-1, :] = images[:, 2:, :] - images[:, :-2, :]
    magnitude = np.hypot(gx, gy)
    angle = np.mod(np.arctan2(gy, gx), np.pi)
    position = angle / (np.pi / HOG_ORIENTATION_BINS) - 0.5
    lower = np.floor(position)
    upper_share = position - lower
    lower_bin = np.mod(lower, HOG_ORIENTATION_BINS).astype(np.int64)
    upper_bin = np.mod(lower_bin + 1, HOG_ORIENTATION_BINS)
    return _Votes(images.shape, np.stack([lower_bin, upper_bin]),
                  np.stack([magnitude * (1.0 - upper_share), magnitude * upper_share]))


def _hog(votes: _Votes, cell_px: int) -> np.ndarray:
    """HOG from the votes: cell histograms by one bincount, 2×2-cell blocks, L2-Hys."""
    n, h, w = votes.shape
    cells_y, cells_x = h // cell_px, w // cell_px
    cell_y, cell_x = np.arange(h) // cell_px, np.arange(w) // cell_px
    # Pixels past the last whole cell vote into a spare slot that is dropped.
    cell = np.where((cell_y < cells_y)[:, None] & (cell_x < cells_x)[None, :],
                    cell_y[:, None] * cells_x + cell_x[None, :], cells_y * cells_x)
    slots = cells_y * cells_x + 1
    index = ((np.arange(n)[:, None, None] * slots + cell[None]) * HOG_ORIENTATION_BINS)[None] + votes.bins
    hist = np.bincount(index.ravel(), weights=votes.weights.ravel(), minlength=n * slots * HOG_ORIENTATION_BINS)
    hist = hist.reshape(n, slots, HOG_ORIENTATION_BINS)[:, :-1].reshape(n, cells_y, cells_x, HOG_ORIENTATION_BINS)
    hist = hist.astype(np.float32)
    blocks = np.concatenate([hist[:, :-1, :-1], hist[:, 1:, :-1], hist[:, :-1, 1:], hist[:, 1:, 1:]], axis=3)
    blocks = blocks.reshape(n, -1, 4 * HOG_ORIENTATION_BINS)
    eps = 1e-3
    blocks = blocks / np.sqrt((blocks ** 2).sum(axis=2, keepdims=True) + eps ** 2)
    blocks = np.minimum(blocks, 0.2)
    blocks = blocks / np.sqrt((blocks ** 2).sum(axis=2, keepdims=True) + eps ** 2)
    return blocks.reshape(n, -1)


def features(images: np.ndarray) -> np.ndarray:
    """Feature rows for normalised 28×28 images: fine and coarse HOG, and 14×14 pixels."""
    images = np.asarray(images, np.float32).reshape(-1, MNIST_SIZE_PX, MNIST_SIZE_PX)
    n = images.shape[0]
    factor = MNIST_SIZE_PX // PIXEL_FEATURE_SIZE_PX
    pixels = images.reshape(n, PIXEL_FEATURE_SIZE_PX, factor, PIXEL_FEATURE_SIZE_PX, factor).mean(axis=(2, 4))
    votes = _votes(images)
    return np.concatenate([_hog(votes, HOG_FINE_CELL_PX), _hog(votes, HOG_COARSE_CELL_PX),
                           pixels.reshape(n, -1)], axis=1).astype(np.float32)


@dataclass(frozen=True)
class Mlp:
    """One MLP with ReLU hidden layers, on standardised features."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    def probabilities(self, standardised: np.ndarray) -> np.ndarray:
        return _dense_softmax(standardised, self.weights, self.biases)


def _dense_softmax(hidden: np.ndarray, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> np.ndarray:
    """Dense layers with ReLU between them, then softmax: an MLP, or a convnet's head."""
    for i, (weight, bias) in enumerate(zip(weights, biases)):
        hidden = hidden @ weight + bias
        if i < len(weights) - 1:
            hidden = np.maximum(hidden, 0.0)
    shifted = hidden - hidden.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class ConvNet:
    """3×3 convolutions (ReLU, then a 2×2 max-pool where ``pools`` says so: after each one
    when it is empty), then dense ReLU layers, on the 28×28 image.

    A map of odd side loses its last row and column to the pooling (28, 14,
    7 -> 3), as in PyTorch; batch norm, where the net was trained with it,
    is folded into the kernels and their biases.

    It sees the strokes' shapes where the MLPs see HOG summaries, so the
    two kinds err on different digits; the gate wants both to agree.
    Weights are as PyTorch stores them: kernels (out, in, 3, 3), dense
    layers (in, out) after the last pooled map is flattened channel-first.
    """

    kernels: tuple[np.ndarray, ...]
    kernel_biases: tuple[np.ndarray, ...]
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    pools: tuple[bool, ...] = ()

    @property
    def pooled_after(self) -> tuple[bool, ...]:
        """Whether each convolution is pooled (a model file from before ``pools`` pools after each)."""
        return self.pools or (True,) * len(self.kernels)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        maps = images[..., None].astype(np.float32)  # (n, h, w, channels)
        for kernel, bias, pooled in zip(self.kernels, self.kernel_biases, self.pooled_after):
            n, h_in, w_in, channels = maps.shape
            # The pooling drops an odd last row and column (as PyTorch's): they are not computed at all.
            h, w = (h_in - h_in % 2, w_in - w_in % 2) if pooled else (h_in, w_in)
            padded = np.pad(maps, ((0, 0), (1, 1), (1, 1), (0, 0)))
            if channels == 1:
                # Windows come out (n, h, w, channels, 3, 3): PyTorch's (in, 3, 3) order.
                windows = sliding_window_view(padded, (3, 3), axis=(1, 2))[:, :h, :w].reshape(n * h * w, 9)
                out = windows @ kernel.reshape(kernel.shape[0], -1).T + bias
            else:
                # All nine shifted windows side by side, (dy, dx, channel), and one product with the
                # kernel in that order: one large product runs faster than nine small ones.
                windows = np.concatenate([padded[:, dy:dy + h, dx:dx + w, :] for dy in range(3) for dx in range(3)],
                                         axis=3).reshape(n * h * w, 9 * channels)
                out = windows @ kernel.transpose(2, 3, 1, 0).reshape(9 * channels, kernel.shape[0])
                out += bias
            np.maximum(out, 0.0, out=out)
            if not pooled:
                maps = out.reshape(n, h, w, kernel.shape[0])
                continue
            quads = out.reshape(n, h // 2, 2, w // 2, 2, kernel.shape[0])
            maps = np.maximum(np.maximum(quads[:, :, 0, :, 0], quads[:, :, 0, :, 1]),
                              np.maximum(quads[:, :, 1, :, 0], quads[:, :, 1, :, 1]))
        return _dense_softmax(maps.transpose(0, 3, 1, 2).reshape(len(images), -1), self.weights, self.biases)


@dataclass(frozen=True)
class DigitModel:
    """Convolutional nets, and optionally MLPs on HOG (the shipped model has none since 2026-12-03).

    The gate uses the vote's probability for its answer: the convnets'
    normalised geometric mean (their mean until the deeper nets of
    2026-12-03; the least sure member's before that). On the field replay's
    validation slice the geometric vote of the deeper nets let 78.2% of
    fields through within 0.5% silently wrong, their mean 76.8% (best gate
    for each, two draws pooled; see FIELD_ACCEPT_MIN_PROBABILITY). Three
    deep nets voted from 2026-12-04; since 2026-12-05 two wide nets do (two
    convolutions before each of the first two poolings, ``ConvNet.pools``):
    on the whole-page replays a point and a half more fields right and
    accepted at the same gate, with as many silently wrong. Later that day
    a third: the first net alone settles the boxes it is sure of
    (``FIRST_NET_SETTLES_MIN_PROBABILITY``), so three cost less than two did.
    """

    mean: np.ndarray
    scale: np.ndarray
    members: tuple[Mlp, ...]
    convnets: tuple[ConvNet, ...] = ()

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (n, 10) and the gate confidence (n,) of their argmax, for normalised images.

        Each kind of member (MLPs on HOG, convnets on the image) has one
        vote (the MLPs' mean, the convnets' geometric mean): the MLPs, more numerous, would
        otherwise outvote the convnet, and the answer shown to a reviewer
        for a digit held back is right more often this way (top-1 per
        digit on the benchmark 97.6% -> 98.2%). The gate confidence is
        that vote's probability for its argmax.
        """
        images = np.asarray(images, np.float32).reshape(-1, MNIST_SIZE_PX, MNIST_SIZE_PX)
        by_kind = []
        if self.members:
            standardised = (features(images) - self.mean) / self.scale
            by_kind.append(np.stack([member.probabilities(standardised) for member in self.members]))
        if self.convnets:
            by_kind.append(self._convnet_vote(images)[None])
        vote = np.mean([kind.mean(axis=0) for kind in by_kind], axis=0)
        best = vote.argmax(axis=1)
        return vote, vote[np.arange(len(best)), best]

    def _convnet_vote(self, images: np.ndarray) -> np.ndarray:
        """The nets' normalised geometric mean (their log-probabilities averaged): a net sure of a
        digit weighs more than in the plain mean, and a digit one net rules out stays ruled out.
        A box the first net reads at ``FIRST_NET_SETTLES_MIN_PROBABILITY`` or more keeps its reading."""
        first = np.maximum(self.convnets[0].probabilities(images), CONVNET_VOTE_MIN_PROBABILITY)
        vote = first / first.sum(axis=1, keepdims=True)
        if len(self.convnets) == 1:
            return vote
        left = np.flatnonzero(first.max(axis=1) < FIRST_NET_SETTLES_MIN_PROBABILITY)
        if left.size:
            logs = np.log(first[left])
            for net in self.convnets[1:]:
                logs += np.log(np.maximum(net.probabilities(images[left]), CONVNET_VOTE_MIN_PROBABILITY))
            logs /= len(self.convnets)
            geometric = np.exp(logs - logs.max(axis=1, keepdims=True))
            vote[left] = geometric / geometric.sum(axis=1, keepdims=True)
        return vote

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "format_version": np.array(MODEL_FORMAT_VERSION),
            "members": np.array(len(self.members)),
            "mean": self.mean.astype(np.float32),
            "scale": self.scale.astype(np.float32),
        }
        for m, member in enumerate(self.members):
            arrays[f"layers_{m}"] = np.array(len(member.weights))
            _store_dense(arrays, member.weights, member.biases, (f"weight_{m}_{{}}", f"weight_scale_{m}_{{}}",
                                                                 f"bias_{m}_{{}}"))
        arrays["convnets"] = np.array(len(self.convnets))
        for c, net in enumerate(self.convnets):
            arrays[f"conv_layers_{c}"] = np.array(len(net.kernels))
            for i, (kernel, bias) in enumerate(zip(net.kernels, net.kernel_biases)):
                # Half precision, read back as float32: three wide nets' kernels in float32 took the
                # file over the repository's 2 MiB for a tracked file.
                arrays[f"conv_kernel_{c}_{i}"] = kernel.astype(np.float16)
                arrays[f"conv_bias_{c}_{i}"] = bias.astype(np.float32)
            if net.pools:
                arrays[f"conv_pools_{c}"] = np.array(net.pools, dtype=bool)
            arrays[f"conv_dense_layers_{c}"] = np.array(len(net.weights))
            _store_dense(arrays, net.weights, net.biases, (f"conv_weight_{c}_{{}}", f"conv_weight_scale_{c}_{{}}",
                                                           f"conv_dense_bias_{c}_{{}}"))
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def _store_dense(arrays: dict[str, np.ndarray], weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                 names: tuple[str, str, str]) -> None:
    """Dense layers as int8 weights, their unit scales and float32 biases; ``names`` take the layer index."""
    weight_name, scale_name, bias_name = names
    for i, (weight, bias) in enumerate(zip(weights, biases)):
        arrays[weight_name.format(i)], arrays[scale_name.format(i)] = quantise(weight)
        arrays[bias_name.format(i)] = bias.astype(np.float32)


def _load_dense(data: Any, layers: int, names: tuple[str, str, str]
                ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    weight_name, scale_name, bias_name = names
    return (tuple(dequantise(data[weight_name.format(i)], data[scale_name.format(i)]) for i in range(layers)),
            tuple(data[bias_name.format(i)].astype(np.float32) for i in range(layers)))


def quantise(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights and the float32 scale of each output unit (column)."""
    unit_scale = np.abs(weight).max(axis=0).astype(np.float32) / WEIGHT_QUANT_LEVELS
    unit_scale = np.where(unit_scale > 0, unit_scale, 1.0).astype(np.float32)
    quantised = np.clip(np.rint(weight / unit_scale), -WEIGHT_QUANT_LEVELS, WEIGHT_QUANT_LEVELS).astype(np.int8)
    return quantised, unit_scale


def dequantise(quantised: np.ndarray, unit_scale: np.ndarray) -> np.ndarray:
    if quantised.dtype != np.int8 or unit_scale.shape != quantised.shape[1:]:
        raise ValueError("weights are not int8 with one scale per unit")
    return quantised.astype(np.float32) * unit_scale.astype(np.float32)


def load_model(path: Path = MODEL_PATH) -> DigitModel:
    if not path.exists():
        raise DigitModelError(f"找不到手写数字模型文件：{path}。请运行 scripts/train_digits.py 重新生成。")
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["format_version"]) != MODEL_FORMAT_VERSION:
                raise DigitModelError(f"手写数字模型 {path} 的格式版本不符，请重新训练。")
            members = [Mlp(*_load_dense(data, int(data[f"layers_{m}"]),
                                        (f"weight_{m}_{{}}", f"weight_scale_{m}_{{}}", f"bias_{m}_{{}}")))
                       for m in range(int(data["members"]))]
            mean, scale = data["mean"].astype(np.float32), data["scale"].astype(np.float32)
            convnets = []
            for c in range(int(data["convnets"])):
                convs = int(data[f"conv_layers_{c}"])
                convnets.append(ConvNet(
                    tuple(data[f"conv_kernel_{c}_{i}"].astype(np.float32) for i in range(convs)),
                    tuple(data[f"conv_bias_{c}_{i}"].astype(np.float32) for i in range(convs)),
                    *_load_dense(data, int(data[f"conv_dense_layers_{c}"]),
                                 (f"conv_weight_{c}_{{}}", f"conv_weight_scale_{c}_{{}}", f"conv_dense_bias_{c}_{{}}")),
                    tuple(bool(v) for v in data[f"conv_pools_{c}"]) if f"conv_pools_{c}" in data.files else ()))
    except (OSError, KeyError, ValueError, EOFError) as error:
        raise DigitModelError(f"手写数字模型文件 {path} 已损坏：{error}") from error
    if not (members or convnets) or mean.shape != scale.shape or any(
            m.weights[0].shape[0] != mean.shape[0] or m.weights[-1].shape[1] != 10 for m in members) or any(
            net.weights[-1].shape[1] != 10 or net.kernels[0].shape[1] != 1
            or len(net.pools) not in (0, len(net.kernels)) for net in convnets):
        raise DigitModelError(f"手写数字模型文件 {path} 的结构不对，请重新训练。")
    return DigitModel(mean=mean, scale=scale, members=tuple(members), convnets=tuple(convnets))


@lru_cache(maxsize=1)
def _shipped_model() -> DigitModel:
    return load_model()


def read_digits(crops: Sequence[np.ndarray], model: DigitModel | None = None,
                accept_min_confidence: float = DIGIT_ACCEPT_MIN_CONFIDENCE, reach_px: int = 0,
                bilevel: bool = False) -> list[DigitReading]:
    """Read many box crops at once; preparation, features and the ensemble run as one batch.

    ``reach_px``: the crops reach this far above and below their boxes (see ``prepare_crops``).
    ``bilevel``: the page is a 1-bit scan, where a speck may be all a light pen's digit left.
    """
    prepared = prepare_crops([np.asarray(crop) for crop in crops], reach_px)
    return read_prepared(prepared, model, accept_min_confidence, bilevel)


def read_prepared(prepared: Sequence[PreparedCrop], model: DigitModel | None = None,
                  accept_min_confidence: float = DIGIT_ACCEPT_MIN_CONFIDENCE,
                  bilevel: bool = False) -> list[DigitReading]:
    """``read_digits`` on crops already prepared: a tool can keep a page's prepared boxes and read
    them again with another model."""
    model = model or _shipped_model()
    readable = [i for i, p in enumerate(prepared) if p.image is not None]
    probs = np.zeros((len(prepared), 10), np.float32)
    gate = np.zeros(len(prepared), np.float32)
    if readable:
        batch = np.stack([prepared[i].image for i in readable])  # type: ignore[misc]
        probs[readable], gate[readable] = model.predict(batch)
    rejoined = [i for i in readable if prepared[i].joined is not None]
    second_looks: dict[int, tuple[int, float]] = {}
    if rejoined:
        again_probs, again_gate = model.predict(np.stack([prepared[i].joined for i in rejoined]))  # type: ignore[misc]
        second_looks = {i: (int(np.argmax(p)), float(g)) for i, p, g in zip(rejoined, again_probs, again_gate)}
    out: list[DigitReading] = []
    for i, p in enumerate(prepared):
        if p.blank:
            # A dust speck on a gray or colour scan is no digit's remnant: the box is surely empty
            # (such specks held 30 fields of the benchmark's pages under the field gate).
            certainty = 1.0 if p.dust and not bilevel else max(0.0, 1.0 - p.ink_ratio / DIGIT_READ_MIN_INK_RATIO)
            # On a 1-bit page a speck with a digit's worth of ink is shown to the reviewer as unread, not empty.
            out.append(DigitReading(None, certainty, certainty > 0.0 or not p.dust, tuple([0.0] * 10), None,
                                    p.ink_ratio))
            continue
        if p.image is None:
            out.append(DigitReading(None, 0.0, False, tuple([0.0] * 10), None, p.ink_ratio))
            continue
        best: int | None = int(np.argmax(probs[i]))
        confidence = float(gate[i])
        if i in second_looks:
            again, again_confidence = second_looks[i]
            # Two readings of one box: settled only when they agree, and no surer than the less sure.
            # Where they differ the surer one is the guess shown to the reviewer.
            if again == best:
                confidence = min(confidence, again_confidence)
            else:
                best = again if again_confidence > confidence else best
                confidence = 0.0
        if p.ink_height_ratio < DIGIT_MIN_HEIGHT_RATIO:
            confidence = min(confidence, p.ink_height_ratio)
            # What a scrap "looks like" would only mislead the reviewer.
            best = None
        value = best if confidence >= accept_min_confidence else None
        out.append(DigitReading(value, confidence, False, tuple(float(v) for v in probs[i]), best, p.ink_ratio))
    return out


def read_digit(crop: np.ndarray, model: DigitModel | None = None) -> DigitReading:
    return read_digits([crop], model)[0]


def combine_digits(integer: Sequence[DigitReading], decimal: Sequence[DigitReading],
                   field_min_probability: float = FIELD_ACCEPT_MIN_PROBABILITY) -> NumberReading:
    """The rules of a comb field, on readings already made.

    People start a short number in any box: the integer digits may have
    blanks before and after them ("_27", "27_" and "_2_" are all 27), and
    decimals may stop early. A gap between digits, or any box that is
    neither blank nor read, makes the whole field uncertain.
    """
    digits = tuple(integer) + tuple(decimal)
    marks = ["_" if d.blank else ("?" if d.value is None else str(d.value)) for d in digits]
    text = _comb_text(marks, len(integer), bool(decimal))
    confidence = float(np.prod([d.confidence for d in digits])) if digits else 0.0
    if all(d.blank for d in digits):
        return NumberReading(None, confidence, digits, True, text)
    int_marks = "".join(marks[:len(integer)]).strip("_")
    dec_marks = "".join(marks[len(integer):]).rstrip("_")
    if "_" in int_marks or "_" in dec_marks or "?" in int_marks or "?" in dec_marks \
            or confidence < field_min_probability:
        return NumberReading(None, confidence, digits, False, text)
    number = float(int(int_marks)) if int_marks else 0.0
    if dec_marks:
        number = round(number + int(dec_marks) / 10 ** len(dec_marks), len(dec_marks))
    return NumberReading(number, confidence, digits, False, text)


def _comb_text(marks: Sequence[str], integer_digits: int, has_decimal: bool) -> str:
    return "".join(marks[:integer_digits]) + ("." + "".join(marks[integer_digits:]) if has_decimal else "")


def best_guess_text(number: NumberReading, integer_digits: int) -> str:
    """What the boxes hold with each unreadable box shown as the classifier's best digit, for a reviewer.

    A box with no guess at all (nothing the classifier could look at) stays '?'.
    """
    marks = ["_" if d.blank else (str(d.value) if d.value is not None else
                                  ("?" if d.best is None else str(d.best))) for d in number.digits]
    return _comb_text(marks, integer_digits, len(number.digits) > integer_digits)


def read_number(crops_int: Sequence[np.ndarray], crops_dec: Sequence[np.ndarray] = (),
                model: DigitModel | None = None) -> NumberReading:
    """Read a comb field: integer boxes, most significant first, then decimal boxes."""
    readings = read_digits(list(crops_int) + list(crops_dec), model)
    return combine_digits(readings[:len(crops_int)], readings[len(crops_int):])
