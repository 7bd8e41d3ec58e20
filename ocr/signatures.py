"""Signature slots: signed, empty or uncertain.

A blank slot must never be called signed. The area is cleaned before it
is measured: printed lines (long straight runs) and specks are removed,
and on a colour scan a red seal has already gone with the red channel
(``ocr.pages``). On a gray or 1-bit scan a seal is still there: it is
recognised by its size (a ring some 40 mm across, far larger than any
stroke of a name), its ink is not counted, and what is left decides.
Under the seal, only ink clearly darker than the seal's own darkest ink
counts, as pen (black and blue-black ink are far darker than red stamp
ink in gray). If the seal could still hide a signature, the slot is uncertain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache, lru_cache, partial
from typing import NamedTuple

import cv2
import numpy as np
from skimage.morphology import skeletonize

from forms.geometry import Rect
from forms.record_sheet import SignatureState
from ocr.align import Alignment, crop, rows_percentile_u8, runs_at_least, union_rect
from ocr.marks import darkness as darkness_of
from ocr.marks import percentile_u8

SAMPLE_PX_PER_MM = 5.0
SIGNATURE_INSET_MM = 1.0
INK_DARKNESS_MIN_RATIO = 0.25
# Straight runs longer than this are printed lines (underlines, cell borders).
PRINTED_LINE_MIN_MM = 15.0
SPECK_MAX_MM2 = 0.3
# A slip of the pen is short and alone; a name is several strokes wide.
SIGNED_INK_MIN_MM2 = 8.0
SIGNED_EXTENT_MIN_MM = 7.0
EMPTY_INK_MAX_MM2 = 3.0
EMPTY_EXTENT_MAX_MM = 4.0
# A light pen's name can all but vanish through a 1-bit threshold: a round no rule was tuned on (seeds
# 700-703) read a signed 督查组成员 slot empty from 1.3 mm² of ink left (3.2 mm of stroke), and the
# inspection invalid. On a 1-bit scan a slot with more ink than specks is never settled as empty.
BILEVEL_EMPTY_INK_MAX_MM2 = 1.0
BILEVEL_TRACE_REASON = "黑白扫描件上签名处留有少量笔迹，浅色的签名可能没有扫出来，无法确认是空白"
# Between empty and signed: on a gray or colour page, a slot whose ink is less than this much stroke in
# all is a slip of the pen, and empty. On the benchmark's 604 pages (2026-12-03) the 12 such empty slots
# held 3.8-7.6 mm; the shortest name that fell between empty and signed held 11.8 mm (8.2 mm on a 1-bit
# copy, where a light pen's name can come apart: there it stays a review).
STRAY_STROKE_MAX_MM = 8.0
# A phone's light falls off across the page: where the paper around the slots is this much
# darker than the page's paper, it is measured against its own level (down to the floor), or
# all of it would count as ink and be removed as one printed block.
LOCAL_PAPER_DARKER_RATIO = 0.95
LOCAL_PAPER_FLOOR_RATIO = 0.6
LOCAL_PAPER_PERCENTILE = 90.0
# Light that falls off along the slot (a phone photo's shadow): each column's own paper level (this
# percentile of the column, smoothed over this width) is brought up to the slot's. It only lightens, so it
# can only take ink away. Stress seed 71880 (a colour photo at 156 dpi): the darker end of an empty slot,
# with a pale seal's ring taken out by its hue, read as 62 mm² of "name".
COLUMN_PAPER_PERCENTILE = 90.0
COLUMN_PAPER_SMOOTH_MM = 6.0
COLUMN_PAPER_DARKER_RATIO = 0.97
# The same across the whole signature row before the seal search, only where the paper is darker over a
# stretch far wider than a copier's roller band (ROLLER_WIDTH_MAX_MM in generator/degrade.py is 5 mm; with
# the smoothing it darkens at most 11 mm): a phone's shadow falls off over tens of millimetres.
ROW_SHADOW_MIN_MM = 20.0
# Strokes of one name lie this close to each other: side by side along the line, and above and below.
WRITER_GAP_X_MM = 4.0
WRITER_GAP_Y_MM = 1.5
# A name is written: its group of strokes is long, wide and tall. A slip of the pen (even two of
# ~6 mm), or a few pieces of a seal, is not. Measured on the stress pages: stray strokes gave at
# most 11.4 mm of stroke, the shortest names read 15-16 mm.
SIGNED_WRITER_STROKE_MIN_MM = 14.0
SIGNED_WRITER_WIDTH_MIN_MM = 6.0
SIGNED_WRITER_HEIGHT_MIN_MM = 3.0
# Ink in the slot's outer band that runs in from its edge and lies along it is no part of a name's
# length: it is the bottom of a seal's ring dipping in over the border (stress seed 60817, gray at
# 187 dpi: a 6 mm flat cap of the ring, joined to a stray stroke, made the stroke 16.8 mm long). A pen
# crossing the border is steep there, a few pixels along the edge.
EDGE_CAP_BAND_MM = 2.0
EDGE_CAP_ALONG_MIN_MM = 3.0
# On a 1-bit scan a red seal breaks into black pieces that look like pen, and a seal that shows
# nothing outside the slot cannot be found: there a name must be clearly one. On the stress pages
# seal pieces in an empty slot spanned at most 8.2 mm and held at most 17.4 mm of stroke; 4 of
# 151 names on 1-bit pages fall short and go to review. Stress seed 40715 (169 dpi: a long stray stroke
# with seal glyph pieces, the ring gone) made 18.0 mm, so 20 mm: of the 202 names the benchmark's 1-bit
# pages read signed at 18 mm, 11 (5%) now go to review.
BILEVEL_WRITER_STROKE_MIN_MM = 20.0
BILEVEL_WRITER_WIDTH_MIN_MM = 9.0
BILEVEL_INK_MIN_MM2 = 12.0
# A seal's star survives a 1-bit scan as a solid blob when its ring and glyphs do not, and then no seal is
# found: ink this solid (2 mm thick over this much area) in a slot of a 1-bit page is a star, and the slot
# cannot be read from its ink (stress seeds 8229, 8269, 8323: the star alone read as a name). 2.3% of the
# names on the stress run's 1-bit pages hold a blob this large; it sent 3 of those 1,880 names to review
# that had not gone already.
BILEVEL_STAR_MIN_MM2 = 16.0
# In the slot itself the bar is lower: a seal stamped across an empty slot of a 1-bit scan left its star
# (13.9 mm² solid at 233 dpi), a short arc and nothing else of the seal; with a stray stroke that read as a
# name, and the sheet valid (stress seed 118146). 12 mm² sends 1.7% of names on the stress run's 1-bit
# pages to review beside those at 16 (10 of 594); the labels' stars keep 16, where comb digits and
# label glyphs are as solid.
BILEVEL_SLOT_STAR_MIN_MM2 = 12.0
# On a gray page a seal's star is solid at a stamp's level and paler than a pen: stress seed 116082
# (gray_seal, a gray copy at 208 dpi), a seal across the empty 第一书记 slot with a roller band over its
# lower ring and its top among the labels, was not found, and its star (33 mm², 61% of it at the pen's
# level) and glyph pieces read as a name, the sheet as valid. A blob this solid at a stamp's level, in a
# slot outside the seals found, with at most this share of it as dark as a pen, is a star. A heavy
# name's blots are as dark as its strokes (86% or more on the benchmark's 945 gray slots, none under);
# a roller band's solid runs from one edge of the slot to the other.
GRAY_STAR_MIN_MM2 = 16.0
GRAY_STAR_PEN_SHARE_MAX = 0.75
# A star is a few millimetres across; a copier's roller band is solid too, but runs across the whole band.
LABEL_STAR_MAX_MM = 15.0
# A 1-bit page, decoded (and maybe reduced by 2, 4 or 8 with box averaging), has its gray
# levels on a lattice of 255/16ths; a gray scan spreads over all levels.
BILEVEL_LATTICE_STEPS = 16
BILEVEL_LATTICE_SHARE_MIN = 0.9
BILEVEL_MID_SHARE_MAX = 0.002
# A piece of a seal's ring is an arc of a 38-42 mm circle: a stroke this long that lies on a
# circle of the ring's radius, this closely, is taken for seal, not pen.
RING_ARC_MIN_MM = 6.0
RING_ARC_RADIUS_MIN_MM = 14.0
RING_ARC_RADIUS_MAX_MM = 26.0
RING_ARC_RMS_MAX_MM = 0.35
# Pieces of one ring together: skeleton points within this of one circle of the ring's radius,
# centred outside the slot, found by trying circles through random triples of points (fixed seed,
# so a page always reads the same). At least this much stroke, spread this far, on the circle.
RING_SET_TRIES = 300
RING_SET_SEED = 16
RING_SET_TOLERANCE_MM = 0.4
RING_SET_MIN_MM = 6.0
RING_SET_SPAN_MIN_MM = 8.0
# The pieces must run along the circle with gaps no wider than a light line (its skeleton ends draw
# back by half the ring's width on each side: gaps of 1.4-1.7 mm were measured), and bend away from
# their chord by this much (a straight stroke fits a large circle within the tolerance).
RING_SET_GAP_MAX_MM = 2.0
RING_SET_SAGITTA_MIN_MM = 0.5
RING_SET_CANDIDATES = 8
# One end of the arc lies this close to the edge of the area read (the slot less its inset).
RING_SET_EDGE_MM = 2.0
# Or the circle holds this share of the slot's stroke, and it runs in from the edge: along the circle, from one
# end of the arc to where the circle leaves the area, at most this much is bare of ink near the circle.
# A ring's stretch close to the slot's border is often fainter than the ink threshold, or cut by a
# copier's light line (2.8-5.2 mm were measured on stress seeds 6135 and 6174, read as signed).
RING_SET_EDGE_GAP_MM = 6.0
RING_SET_EDGE_STEP_MM = 0.2
RING_SET_SHARE_MIN = 0.7
# ... and then the circle's points may be parted by this much where a stroke crosses the ring.
RING_SET_CROSSING_GAP_MAX_MM = 5.0
# An arc that runs in from the slot's edge takes with it the circle's pieces beyond such gaps when the circle
# holds this share of the stroke (on names 16-41% on the stress pages, 51% and 55% on two short ones). 0.6
# first; stress seed 126531 (drum_copy, a ring dashed by light lines 2.1 mm apart along its skeleton) held
# 59.5%. At 0.55 no slot of the benchmark, the fresh, untouched and dirty-drum rounds read otherwise.
RING_SET_CHAIN_SHARE_MIN = 0.55
# On a 1-bit page a circle holding this share of the slot's stroke is enough for its pieces to be one
# ring (the threshold drops a stamp's paler stretches): stress seed 60726, 260 dpi, the ring's lower arc
# through an empty slot in two pieces 3 mm apart, neither an arc alone, held 68% of the stroke and read
# with a stray stroke as a 29 mm "name". (Letting a 1-bit ring's pieces be 4 mm apart instead took 19
# of the benchmark's 1-bit names for rings; names hold 16-55% on their best circle, see RING_SET_SHARE_MIN.)
RING_SET_BILEVEL_SHARE_MIN = 0.6
# The ring is looked for at a stamp's level only when that level adds at least this much ink (a 6 mm arc
# half a mm wide) farther than this from the pen's strokes: a name's own pale halo lies against them.
FAINT_RING_AWAY_MM = 1.0
FAINT_RING_AWAY_MIN_MM2 = 3.0
# The ring's pieces are taken out this wide (half a ring band) before the rest is judged.
RING_SET_GROW_MM = 0.8
# Official seals are 38-42 mm across; searched for on gray scans only,
# in the signature row plus a margin wide enough to hold a whole ring.
SEAL_RADIUS_MIN_MM = 16.0
SEAL_RADIUS_MAX_MM = 24.0
SEAL_SEARCH_MARGIN_MM = 24.0
SEALS_PER_AREA_MAX = 3
# A seal stamped twice, the second a little off the first, has two stars: once one
# star is found, only this close to it is the same star. (A whole radius hid the
# second seal, whose ring outside the first disc then read as a signature.)
SEAL_SAME_STAR_MAX_MM = 8.0
SEAL_SEARCH_PX_PER_MM = 2.0
SEAL_RING_BAND_MM = 2.0
SEAL_RADIUS_STEP_MM = 1.0
# Share of the visible ring band that must be inked for a seal.
SEAL_RING_COVER_MIN = 0.3
SEAL_RING_SEEN_MIN = 0.4
# Half-thickness of ink no pen stroke reaches (pens are at most ~0.8 mm wide).
SEAL_BLOB_RADIUS_MM = 1.2
SEAL_INK_DARKNESS_MIN_RATIO = 0.12
# A star counts when a ring with at least this inked share is centred within this distance of it.
SEAL_STAR_RING_MIN = 0.12
SEAL_STAR_OFFSET_MM = 3.0
SEAL_RING_PAD_MM = 2.0
# The slots' own drawn borders, give or take skew and alignment, are print, not ring.
SLOT_BORDER_BAND_MM = 1.5
# A seal's ring runs all round: of the ring's visible sectors, most must be inked.
# A signature or a printed row crosses a 40 mm circle in a few places only.
SEAL_RING_SECTORS = 24
SEAL_SECTOR_SEEN_MIN = 0.5
SEAL_SECTOR_INKED_MIN = 0.25
SEAL_SECTORS_INKED_MIN_RATIO = 0.6
# A star vouches for a fainter ring: fewer of its sectors need be inked.
SEAL_STAR_SECTORS_INKED_MIN_RATIO = 0.35
SEAL_SECTORS_SEEN_MIN = 8
# A ring with no star must show more of itself: through 8 to 10 sectors, a 16 mm
# circle centred in the label row is drawn by a name's own strokes on pages with
# no seal at all (12 of the benchmark's 47 flagged slots).
SEAL_RING_ONLY_SECTORS_SEEN_MIN = 11
# A ring is a thin line with bare paper just outside it; a pen stroke
# crossing the circle inks the outside band as much as the ring band.
SEAL_OUTSIDE_GAP_MM = 1.0
SEAL_OUTSIDE_SHARE_MAX = 0.5
# A seal whose ring a 1-bit scan broke up is not found as a ring, but it
# leaves pieces on the bare paper around the slots, where no print is and
# pens rarely go. Ink there this large, this close to a slot, means that a
# "signature" in the slot may be pieces of the same seal.
SEAL_TRACE_MIN_MM2 = 0.5
# Copier dirt is not a seal: a round speck (toner on the drum) this small, or a piece of a gray
# roller band (ink on most of its row or column of bare paper, right across the row), is no trace.
SEAL_TRACE_SPECK_MAX_MM = 1.6
SEAL_TRACE_SPECK_MAX_MM2 = 1.2
# A copier's gray roller band running across a slot can sit right at the ink threshold and break
# into specks that add up to a "name" beside a stray stroke (stress seeds 9702, 9997: two vertical
# bands through an empty 督查组成员 slot on 158-171 dpi copies). A band darkens a whole column (or
# row) of the slot, a name only a small part of it, so each column's and row's own light level
# (this percentile) is its paper. When one is darker than the slot's paper by this share of the
# ink threshold, a slot read as signed is read again against those levels; if it is no longer a
# name there, it goes to review. It can only turn "signed" into "uncertain", never decide a slot.
SLOT_BAND_LIGHT_PERCENTILE = 75.0
SLOT_BAND_EXCESS_MIN_SHARE_OF_INK = 0.4
SLOT_BAND_REASON = "签名处有复印机滚筒条纹，笔迹可能是条纹的残点，无法确认是签名"
# Where a streak's dots merge (a dense one), its specks are too few for the streak rule, and in an empty slot
# with a stray stroke it read as a name (stress seeds 117037, 120851, drum_copy); a speckled one shows on too
# little bare paper below the slot for that rule's run (121830). Below the slot the paper is bare: a column
# inked, within this reach either side, on this share of the bare rows under the slot, over at least this
# length, is ink that runs on down the page (1.0 mm and 0.6 first; 121830 needed these). A name in the slot is read again without those
# columns (grown a little) and goes to review if it is no longer one. It never removes a seal trace and
# never decides a slot: it can only turn "signed" into "uncertain".
DENSE_STREAK_MIN_MM = 15.0
DENSE_STREAK_REACH_MM = 1.5
DENSE_STREAK_ROWS_MIN_SHARE = 0.4
DENSE_STREAK_GROW_MM = 1.0
# Along the row, a line inked without a break this long on bare paper is a solid roller band, not a streak of
# dots (stress seed 120141's densest rows were inked on 52% of their bare paper, the benchmark's dark bands on
# 73%, all of it beside the page's edge): only the band's line is unbroken.
DENSE_STREAK_SOLID_RUN_MM = 10.0
SLOT_STREAK_REASON = "签名处有复印机墨点条纹，笔迹可能是条纹的墨点，无法确认是签名"
SEAL_HIDES_REASON = "签名处盖有印章，无法判断是否签名"
SEAL_TRACE_REASON = "签名处附近有疑似印章的残迹，无法确认是签名"
ROLLER_BAND_SHARE_MIN = 0.5
ROLLER_BAND_GROW_MM = 1.0
# A roller band near the copier's threshold is a speckle, inked on a third of its column or less, but
# all the way along: with ink within this reach counted, a column (row) inked along this share of its
# bare paper, over at least this length, is a band. Its clumps were seal traces beside names on pages
# with no seal (the benchmark's copier pages). A seal cannot run that far unbroken: the ring touches
# a column for at most 2·sqrt(2·r·reach), 14 mm for the largest seal; its glyphs and star leave gaps.
ROLLER_BAND_SPECKLE_REACH_MM = 0.5
ROLLER_BAND_RUN_MIN_SHARE = 0.9
ROLLER_BAND_RUN_MIN_MM = 18.0
# A copier's dirty drum lays a streak of toner dots along the paper's travel (augraphy's DirtyDrum, as on
# the held-out test's copier pages). Its dense stretches merge into blots the size of a seal's pieces,
# and every signed slot near one went to review as "seal traces" (45 of 423 slots on 151 pages). The
# streak is a straight band of specks on the paper around the slots: this close to one line, specks in
# every 5 mm stretch of it that is mostly bare paper, such stretches making this much of one run (the
# slots and the labels it crosses neither break nor make the run), at least this many specks in all,
# and few in the bands beside it. A seal's pieces are never that: a chord of its ring this long bows
# out by 5.3 mm or more (r ≤ 24 mm), beyond the band, so its ring stays in the band for 20 mm at most;
# its broken glyphs fill the bands beside as much as the one through them. Nor is a name cut into pieces
# by a copier's light lines, which stays in its slot. Only specks count: components under this size
# (where the dots are dense they merge into blots of 1-2 mm², the size of seal traces).
DRUM_STREAK_SPECK_MAX_MM2 = 2.0
DRUM_STREAK_WIDTH_MM = 4.0
DRUM_STREAK_SPAN_MIN_MM = 30.0
# Along the row of slots the paper is bare only at the ends: there a run with specks in this much of its
# bare stretches, reaching this far from its first to its last, is a streak too; no seal reaches that far
# (48 mm across at most). Stress seed 116691 (drum_copy, a gray copy at 201 dpi): a streak along the
# empty 第一书记 slot, its dots merged into 19 pieces, with a short stray stroke made 26 mm of "name".
DRUM_STREAK_FAR_SPECKLED_MIN_MM = 20.0
DRUM_STREAK_FAR_REACH_MIN_MM = 60.0
DRUM_STREAK_STRETCH_MM = 5.0
DRUM_STREAK_SPECKS_MIN = 8
DRUM_STREAK_BESIDE_GAP_MM = 2.0
DRUM_STREAK_BESIDE_SHARE_MAX = 0.34
DRUM_STREAK_STEP_MM = 0.5
# A streak down the page through a slot may fade out below it, too sparse there for the run below the
# slot, while it is dense in the slot and among the labels above (stress seeds 131056 and 130998). It is
# looked for down the whole row's context, where the paper this far from print and pen counts as bare,
# as a line through its specks that may slant this much (a copy made askew), as wide as this many
# standard deviations of their scatter about it (2 mm either side at least). A name is read again
# without the slot's pieces that lie this much within this reach of it and are shorter than this: a
# streak's dots and blots, not a pen stroke that crosses it or runs along it.
LABEL_PAPER_CLEAR_MM = 0.5
# A streak may also run along the row (the copy fed across the form), and a dense one there can be far
# wider than the band the streak rule looks in, its dots filling the bands beside it (stress seeds 142565
# and 142824, drum_askew: a band of dots 8-13 mm wide slanting along the row of slots, with stray strokes
# in an empty slot, read as a name). Along the row, the streak is looked for in the narrowest of these
# bands that finds it, the bands beside growing with it. Down the page only in the first: there the wider
# bands took a 1-bit copier page's even speckle for a streak 39 mm wide through a signed slot (benchmark).
THROUGH_STREAK_WIDTHS_MM = (DRUM_STREAK_WIDTH_MM, 2 * DRUM_STREAK_WIDTH_MM, 4 * DRUM_STREAK_WIDTH_MM)
THROUGH_STREAK_SLOPE_MAX = 0.1
THROUGH_STREAK_SPREAD_SIGMAS = 2.5
THROUGH_STREAK_PIECE_SHARE_MIN = 0.6
THROUGH_STREAK_PIECE_REACH_MM = 2.0
THROUGH_STREAK_PIECE_MAX_MM = 5.0
SEAL_TRACE_REACH_MM = 2 * SEAL_RADIUS_MAX_MM
# When the seal's disc hides more of the area than this, a signature could be under it.
SEAL_HIDES_SHARE_MAX = 0.25
# On a gray scan a red seal is mid-gray; black and blue-black pens are far darker, and a
# pen stroke over the seal darker still. Each seal's own darkest ink is measured where
# only the seal can be (its disc outside the slots and the print), and what is darker
# than that by this margin, under the seal, is pen. A light-blue pen is as pale as a
# firm stamp and stays hidden: that slot is still uncertain. On a 1-bit scan the seal
# is black, and nothing is darker.
SEAL_LEVEL_PERCENTILE = 99.0
SEAL_LEVEL_MIN_PX_MM2 = 20.0
# Smaller pieces are dust or toner specks, black and no part of the seal.
SEAL_PIECE_MIN_MM2 = 1.0
PEN_OVER_SEAL_DARKNESS_MARGIN = 0.15
# The seal's star is solid and stays dark where thin strokes blur paler, and it
# usually lies in the slot: the solid ink (this thick) at the seal's centre sets the
# level too, and no solid ink under a seal is taken for pen. No pen stroke is this thick.
SEAL_SOLID_MIN_MM = 2.0
SEAL_SOLID_GROW_MM = 1.0
# Only a solid this large is a star; dust and toner specks are solid and black too.
SEAL_STAR_MIN_MM2 = 8.0
# A pen stroke across the star darkens part of it: the star's level is its median.
SEAL_STAR_LEVEL_PERCENTILE = 50.0
# The star is this close to the centre found for its seal.
SEAL_STAR_FROM_CENTRE_MAX_MM = 4.0
# On a colour page, how much redder than green and blue (0-255) a pixel must be to be seal, not pen.
# Stress seed 11523 (a phone photo at 208 dpi, JPEG quality 55): the seal's glyphs left in the red
# channel beside an empty slot were 22-72 redder (5th-95th percentile), black and blue pen ink 0.
SEAL_REDNESS_MIN_LEVEL = 12
# ... and red for its darkness: a pen stroke under a stamp is dark with a red tint (redness 0.06-0.57
# of its depth below the paper, median 0.14, on the benchmark's colour pages), seal alone is redder
# (0.39-1.24 on seed 11523). Between the two, what is kept is at most pieces, judged as ink is.
SEAL_REDNESS_PER_DEPTH_MIN = 0.3


@dataclass
class SignatureReading:
    state: SignatureState
    confidence: float
    ink_mm2: float
    extent_mm: float
    components: int
    seal: bool
    reason: str | None
    stroke_mm: float = 0.0
    writer_mm: float = 0.0
    writer_w_mm: float = 0.0
    writer_h_mm: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "confidence": round(self.confidence, 3),
            "ink_mm2": round(self.ink_mm2, 2),
            "extent_mm": round(self.extent_mm, 2),
            "components": self.components,
            "seal": self.seal,
            "stroke_mm": round(self.stroke_mm, 1),
            "writer_mm": round(self.writer_mm, 1),
            "writer_w_mm": round(self.writer_w_mm, 1),
            "writer_h_mm": round(self.writer_h_mm, 1),
        }


def _remove_printed_lines(ink: np.ndarray, px_per_mm: float) -> np.ndarray:
    length = max(3, int(PRINTED_LINE_MIN_MM * px_per_mm))
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    lines = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    return cv2.bitwise_and(ink, cv2.bitwise_not(lines))


@lru_cache(maxsize=16)
def _ring_kernel(radius_px: float, width_px: float) -> np.ndarray:
    size = int(np.ceil(radius_px + width_px)) * 2 + 1
    yy, xx = np.mgrid[:size, :size].astype(np.float32) - size // 2
    distance = np.sqrt(xx * xx + yy * yy)
    return (np.abs(distance - radius_px) <= width_px / 2).astype(np.float32)


class _RingSums:
    """Sums of a 0/1 mask over rings of several radii around every pixel, by one forward DFT.

    The same as ``cv2.filter2D`` with each ring kernel and a zero border
    (the rings are symmetric), but the image is transformed once for all
    radii instead of once per radius. The transforms are real (OpenCV's
    packed CCS spectra, half the work of complex ones), and the image is
    padded on one side only, by the largest kernel's half width: the
    circular correlation then wraps onto zeros alone for every pixel of
    the image, which is all that is kept.
    """

    def __init__(self, shape: tuple[int, ...], radii_px: list[float], band_px: float):
        self.shape = (int(shape[0]), int(shape[1]))
        self.kernels = [_ring_kernel(r, band_px) for r in radii_px]
        self.margin = max(kernel.shape[0] for kernel in self.kernels) // 2
        self.size = (cv2.getOptimalDFTSize(self.shape[0] + self.margin),
                     cv2.getOptimalDFTSize(self.shape[1] + self.margin))
        self.spectra = [_kernel_spectrum(kernel.tobytes(), kernel.shape[0], self.size) for kernel in self.kernels]

    def apply(self, image: np.ndarray) -> list[np.ndarray]:
        h, w = self.shape
        padded = np.zeros(self.size, np.float32)
        padded[:h, :w] = image
        spectrum = cv2.dft(padded, nonzeroRows=h)
        out = []
        for kernel_spectrum in self.spectra:
            product = cv2.mulSpectrums(spectrum, kernel_spectrum, 0)
            summed = cv2.idft(product, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)
            # The images summed are 0/1 masks: the exact sums are whole numbers.
            out.append(np.rint(summed[:h, :w]))
        return out


@lru_cache(maxsize=64)
def _kernel_spectrum(kernel_bytes: bytes, side: int, size: tuple[int, int]) -> np.ndarray:
    kernel = np.frombuffer(kernel_bytes, np.float32).reshape(side, side)
    # The kernel's centre goes to (0, 0), wrapping round: a correlation, not a shift.
    placed = np.zeros(size, np.float32)
    half = side // 2
    placed[:side, :side] = kernel
    placed = np.roll(placed, (-half, -half), axis=(0, 1))
    return cv2.dft(placed)


_SEEN_CACHE: dict[tuple[tuple[int, int], bytes], list[tuple[np.ndarray, np.ndarray]]] = {}
_SEEN_CACHE_MAX = 8


def _seen_sums(ring_sums: _RingSums, free: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per radius, where enough of the ring is visible to be judged, and the visible pixels (at least 1)
    that a score divides by: from the print-free mask alone, which depends only on the layout and
    scale, so they are kept."""
    key = (ring_sums.size, np.packbits(free > 0.5).tobytes() + bytes(str(free.shape), "ascii"))
    cached = _SEEN_CACHE.get(key)
    if cached is None:
        if len(_SEEN_CACHE) >= _SEEN_CACHE_MAX:
            _SEEN_CACHE.pop(next(iter(_SEEN_CACHE)))
        cached = _SEEN_CACHE[key] = [
            (seen >= SEAL_RING_SEEN_MIN * kernel.sum(), np.maximum(seen, 1.0))
            for kernel, seen in zip(ring_sums.kernels, ring_sums.apply(free))]
    return cached


def _ink_mask(image: np.ndarray, paper_level: float, darkness_min: float) -> np.ndarray:
    """Pixels darker than ``darkness_min`` of the way from paper to black."""
    return darkness_of(image, paper_level) > darkness_min


def find_seals(
    context: np.ndarray, paper_level: float, px_per_mm: float, valid: np.ndarray | None = None,
    ink: np.ndarray | None = None,
) -> list[tuple[float, float, float]]:
    """Seals in a gray area, as circles (cx, cy, r) in ``context`` px.

    Two signs: the ring (a 40 mm circle's band mostly inked, once long
    printed lines are removed), which suffices alone, and the solid star
    (ink far thicker than any pen stroke), which needs at least a faint
    ring around it. ``valid`` marks the pixels that are
    free of print (labels, markers); the ring is scored on those only.
    """
    if ink is None:
        ink = _seal_ink(context, paper_level)
    seals: list[tuple[float, float, float]] = []
    scale = SEAL_SEARCH_PX_PER_MM / px_per_mm
    k = SEAL_SEARCH_PX_PER_MM
    lines_gone = _remove_printed_lines(ink.astype(np.uint8) * 255, px_per_mm)
    small = cv2.resize((lines_gone > 0).astype(np.float32), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    free = np.ones_like(small) if valid is None else cv2.resize(
        valid.astype(np.float32), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    free_mask = free > 0.5
    small = (small > 0.25).astype(np.float32) * free_mask
    best_score = np.zeros_like(small)
    best_radius = np.zeros_like(small)
    radii_px = [float(r * k) for r in np.arange(SEAL_RADIUS_MIN_MM, SEAL_RADIUS_MAX_MM + 1e-6, SEAL_RADIUS_STEP_MM)]
    ring_sums = _RingSums(small.shape, radii_px, SEAL_RING_BAND_MM * k)
    seen_by_radius = _seen_sums(ring_sums, free_mask.astype(np.float32))
    inked_by_radius = ring_sums.apply(small)
    score = np.empty_like(small)
    for radius_px, inked, (judged, seen) in zip(radii_px, inked_by_radius, seen_by_radius):
        # Only rings of which enough is visible are judged.
        score.fill(0.0)
        np.divide(inked, seen, out=score, where=judged)
        better = score > best_score
        np.copyto(best_score, score, where=better)
        np.copyto(best_radius, radius_px, where=better)
    # A solid blob is the seal's star only inside a ring: heavy, overlapping
    # signature strokes make blobs as thick, but no ring around them.
    near_ring = cv2.dilate(best_score, cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * round(SEAL_STAR_OFFSET_MM * k) + 1,) * 2))
    solid = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, 5)
    for _ in range(SEALS_PER_AREA_MAX * 4):
        _min, thick, _minloc, (x, y) = cv2.minMaxLoc(solid)
        if thick < SEAL_BLOB_RADIUS_MM * px_per_mm or len(seals) >= SEALS_PER_AREA_MAX:
            break
        sx = min(small.shape[1] - 1, round(x * scale))
        sy = min(small.shape[0] - 1, round(y * scale))
        if near_ring[sy, sx] >= SEAL_STAR_RING_MIN and _star_has_ring(small, free_mask, best_score, best_radius, sx, sy, k):
            seals.append((float(x), float(y), SEAL_RADIUS_MAX_MM * px_per_mm))
            cv2.circle(solid, (x, y), int(SEAL_SAME_STAR_MAX_MM * px_per_mm), 0.0, thickness=-1)
        else:
            cv2.circle(solid, (x, y), max(1, int(SEAL_BLOB_RADIUS_MM * 2 * px_per_mm)), 0.0, thickness=-1)
    for x0, y0, _r in seals:
        cv2.circle(best_score, (round(x0 * scale), round(y0 * scale)), int(SEAL_RADIUS_MIN_MM * k), 0.0, thickness=-1)
    for _ in range(SEALS_PER_AREA_MAX * 4):
        _min, top, _minloc, (x, y) = cv2.minMaxLoc(best_score)
        if top < SEAL_RING_COVER_MIN or len(seals) >= SEALS_PER_AREA_MAX:
            break
        r = float(best_radius[y, x])
        if _ring_runs_round(small, free_mask, x, y, r, SEAL_RING_BAND_MM * k, k,
                            sectors_seen_min=SEAL_RING_ONLY_SECTORS_SEEN_MIN):
            seals.append((x / scale, y / scale, r / scale))
            cv2.circle(best_score, (x, y), int(r), 0.0, thickness=-1)
        else:
            cv2.circle(best_score, (x, y), max(1, int(SEAL_STAR_OFFSET_MM * k)), 0.0, thickness=-1)
    return seals


def _seal_ink(context: np.ndarray, paper_level: float) -> np.ndarray:
    # A light stamp is paler than any pen: seals are looked for at a lower darkness.
    return _ink_mask(context, paper_level, SEAL_INK_DARKNESS_MIN_RATIO)


def _ring_runs_round(
    inked: np.ndarray, free: np.ndarray, cx: int, cy: int, radius: float, band: float, px_per_mm: float,
    min_ratio: float = SEAL_SECTORS_INKED_MIN_RATIO, sectors_seen_min: int = SEAL_SECTORS_SEEN_MIN,
) -> bool:
    """Whether the ink on a candidate ring is spread all round it, as a seal's is."""
    h, w = inked.shape
    gap = SEAL_OUTSIDE_GAP_MM * px_per_mm
    reach = int(np.ceil(radius + band * 1.5 + gap))
    x0, x1, y0, y1 = max(0, cx - reach), min(w, cx + reach + 1), max(0, cy - reach), min(h, cy + reach + 1)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dx, dy = xx - cx, yy - cy
    distance = np.hypot(dx, dy) - radius
    on_band = np.abs(distance) <= band / 2
    outside = (distance > band / 2 + gap) & (distance <= band * 1.5 + gap)
    sector = ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * SEAL_RING_SECTORS).astype(int) % SEAL_RING_SECTORS
    local_free = free[y0:y1, x0:x1]
    local_ink = inked[y0:y1, x0:x1] > 0

    def per_sector(mask: np.ndarray) -> np.ndarray:
        return np.bincount(sector[mask], minlength=SEAL_RING_SECTORS).astype(np.float64)

    # Pixels beyond the crop are unseen: the whole band is what the sector could show.
    total = per_sector(on_band)
    seen = per_sector(on_band & local_free)
    ring_share = per_sector(on_band & local_free & local_ink) / np.maximum(seen, 1.0)
    outside_share = per_sector(outside & local_free & local_ink) / np.maximum(per_sector(outside & local_free), 1.0)
    full = _ring_kernel(float(radius), float(band)).sum() / SEAL_RING_SECTORS
    visible = seen >= SEAL_SECTOR_SEEN_MIN * np.maximum(full, total)
    if np.count_nonzero(visible) < sectors_seen_min:
        return False
    inked_sectors = visible & (ring_share >= SEAL_SECTOR_INKED_MIN) & (outside_share <= SEAL_OUTSIDE_SHARE_MAX * ring_share)
    return bool(np.count_nonzero(inked_sectors) >= min_ratio * np.count_nonzero(visible))


def measure_area(
    area: np.ndarray,
    paper_level: float,
    px_per_mm: float,
    seals: list[tuple[float, float, float]] | None = None,
    seal_trace: bool = False,
    pen_levels: list[float | None] | None = None,
    bilevel: bool = False,
) -> SignatureReading:
    """``seals`` are circles in ``area`` px; their discs are not counted as signature ink,
    except, under one seal alone, ink darker than that seal's ``pen_levels`` entry.

    ``seal_trace``: pieces of a seal were seen near the slot, so ink in it may be seal, not pen.
    """
    raw_ink = _ink_mask(area, paper_level, INK_DARKNESS_MIN_RATIO).astype(np.uint8) * 255
    ink = _remove_printed_lines(raw_ink, px_per_mm)
    seal = bool(seals)
    hidden_share = 0.0
    under_mm2 = 0.0
    counted: np.ndarray | None = None
    if seals:
        cover = np.zeros(ink.shape, np.uint8)
        pen = np.zeros(ink.shape, bool)
        darkness = darkness_of(area, paper_level)
        for (cx, cy, r), level in zip(seals, pen_levels or [None] * len(seals)):
            one = np.zeros(ink.shape, np.uint8)
            cv2.circle(one, (round(cx), round(cy)), int(r + SEAL_RING_PAD_MM * px_per_mm), 1, thickness=-1)
            cover += one
            if level is not None:
                pen |= (one > 0) & (darkness > level)
        disc = (cover > 0).astype(np.uint8) * 255
        # Under a seal only what no seal ink reaches counts: on a gray scan seal text and a
        # light pen look alike. Where two seals overlap, their ink darkens as a pen's would.
        hidden_share = float(np.count_nonzero(disc)) / disc.size
        under_mm2 = float(np.count_nonzero(cv2.bitwise_and(ink, disc))) / (px_per_mm * px_per_mm)
        pen &= (cover == 1) & ~_solid_ink(darkness > SEAL_INK_DARKNESS_MIN_RATIO, px_per_mm, SEAL_SOLID_GROW_MM)
        counted = cv2.bitwise_not(disc)
        counted[pen] = 255
        ink = np.asarray(cv2.bitwise_and(ink, counted), dtype=np.uint8)
    arcs = _ring_arcs(ink, px_per_mm)
    if arcs is not None:
        ink = cv2.bitwise_and(ink, cv2.bitwise_not(arcs))
        seal_trace = True
    contours, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    mm2_per_px = 1.0 / (px_per_mm * px_per_mm)
    strokes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if cv2.countNonZero(ink[y : y + h, x : x + w]) * mm2_per_px > SPECK_MAX_MM2:
            strokes.append(contour)
    stroke_mm = writer_mm = writer_w = writer_h = 0.0
    if strokes:
        mask = np.zeros_like(ink)
        cv2.drawContours(mask, strokes, -1, 255, thickness=-1)
        kept = cv2.bitwise_and(mask, ink)
        ink_px = int(np.count_nonzero(kept))
        xs = np.concatenate([c[:, 0, 0] for c in strokes])
        ys = np.concatenate([c[:, 0, 1] for c in strokes])
        extent = float(max(xs.max() - xs.min(), ys.max() - ys.min())) / px_per_mm
        not_a_name = _along_the_edges(kept, px_per_mm)
        if bilevel:
            # A seal stamped over the labels above the slot is out of the seal search's sight, and on
            # 1-bit its glyphs and ring reach in over the top edge as black pieces like pen (stress seed
            # 74132, 265 dpi: with a stray stroke they made 22 mm of "name"). A name is written below
            # its label; it may run off the slot's end (tests/test_ocr.py, 1-bit), so only the top counts.
            not_a_name = cv2.bitwise_or(not_a_name, _reaching_the_top(kept))
        stroke_mm, writer_mm, writer_w, writer_h = _stroke_lengths(
            cv2.bitwise_and(kept, cv2.bitwise_not(not_a_name)), px_per_mm)
    else:
        ink_px, extent = 0, 0.0
    ink_mm2 = ink_px * mm2_per_px
    # The star is measured before the printed lines are taken out: a star resting on the slot's border
    # lost half its area with the line (stress seed 10597: 14.9 mm² left of 29.8), and a 0.5 mm line
    # is no part of a 2 mm thick solid.
    if bilevel:
        star = _largest_solid_mm2(raw_ink, px_per_mm) >= BILEVEL_SLOT_STAR_MIN_MM2
    else:
        star = _has_pale_star(area, paper_level, px_per_mm, raw_ink > 0, counted)
    common = {"ink_mm2": ink_mm2, "extent_mm": extent, "components": len(strokes), "seal": seal,
              "stroke_mm": stroke_mm, "writer_mm": writer_mm, "writer_w_mm": writer_w, "writer_h_mm": writer_h}
    if star:
        common["seal"] = True
        return SignatureReading("uncertain", 0.0, reason=SEAL_HIDES_REASON, **common)  # type: ignore[arg-type]
    if ink_mm2 >= SIGNED_INK_MIN_MM2 and extent >= SIGNED_EXTENT_MIN_MM:
        if not (writer_mm >= SIGNED_WRITER_STROKE_MIN_MM and writer_w >= SIGNED_WRITER_WIDTH_MIN_MM
                and writer_h >= SIGNED_WRITER_HEIGHT_MIN_MM):
            return SignatureReading("uncertain", 0.0, reason="签名处的笔迹不像完整的签名，无法确认", **common)  # type: ignore[arg-type]
        if bilevel and not (writer_mm >= BILEVEL_WRITER_STROKE_MIN_MM and writer_w >= BILEVEL_WRITER_WIDTH_MIN_MM
                            and ink_mm2 >= BILEVEL_INK_MIN_MM2):
            # No relaxation for names in few pieces: one let seal pieces of a partial seal plus a stroke
            # (stress seed 10572, 288 dpi, one piece of 15 mm) read as a name on 1-bit.
            return SignatureReading("uncertain", 0.0, reason="黑白扫描件上的笔迹可能是印章的残片，无法确认是签名", **common)  # type: ignore[arg-type]
        # On a 1-bit page the ring is looked for in the ink before the printed lines are taken out: a ring
        # crossing the whole slot is upright there for its full height, and was taken out as a line
        # (stress seed 116446, a 1-bit scan at 245 dpi: with the ring's side gone, a stray stroke and
        # the seal's glyph and star pieces made 29 mm of "name", and the sheet read valid).
        # On a gray page the ring is looked for among the name's pieces, and again with the specks: a
        # ring dashed by a copier's light lines left dashes under speck size, and without them the arc
        # broke off (stress seed 130952, a gray copy at 179 dpi: a seal over the labels, its star parted
        # by light lines, dipped its ring and glyphs into the empty slot, and with a stray stroke they
        # made 41 mm of "name"; the sheet read valid).
        ring_ink = (raw_ink if counted is None else cv2.bitwise_and(raw_ink, counted)) if bilevel else None
        if seal_trace or _rests_on_a_ring(kept, px_per_mm, ring_ink, bilevel=bilevel) or (
                not bilevel and ((ink_px < np.count_nonzero(ink) and _rests_on_a_ring(kept, px_per_mm, ink))
                                 or _rests_on_a_faint_ring(area, paper_level, px_per_mm, counted, kept))):
            common["seal"] = True
            return SignatureReading("uncertain", 0.0, reason=SEAL_TRACE_REASON, **common)  # type: ignore[arg-type]
        margin = min(ink_mm2 / SIGNED_INK_MIN_MM2, extent / SIGNED_EXTENT_MIN_MM)
        return SignatureReading("signed", float(min(1.0, 0.25 + 0.25 * margin)), reason=None, **common)  # type: ignore[arg-type]
    # Ink under a seal may be a signature: never call that slot empty.
    if seal and (hidden_share > SEAL_HIDES_SHARE_MAX or under_mm2 > EMPTY_INK_MAX_MM2):
        return SignatureReading("uncertain", 0.0, reason=SEAL_HIDES_REASON, **common)  # type: ignore[arg-type]
    if bilevel and ink_mm2 > BILEVEL_EMPTY_INK_MAX_MM2:
        return SignatureReading("uncertain", 0.0, reason=BILEVEL_TRACE_REASON, **common)  # type: ignore[arg-type]
    if ink_mm2 <= EMPTY_INK_MAX_MM2 or extent <= EMPTY_EXTENT_MAX_MM:
        conf = 1.0 - 0.5 * min(1.0, ink_mm2 / EMPTY_INK_MAX_MM2)
        return SignatureReading("empty", conf, reason=None, **common)  # type: ignore[arg-type]
    if not bilevel and stroke_mm < STRAY_STROKE_MAX_MM:
        return SignatureReading("empty", 0.5 - 0.25 * stroke_mm / STRAY_STROKE_MAX_MM, reason=None,
                                **common)  # type: ignore[arg-type]
    return SignatureReading("uncertain", 0.0, reason="签名处有少量笔迹，无法判断是否签名", **common)  # type: ignore[arg-type]


def _solid_blobs(ink: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The areas (mm²), centres (px) and longest sides (mm) of the blobs of ``ink`` at least
    ``SEAL_SOLID_MIN_MM`` thick."""
    solid = _solid_ink(ink > 0, px_per_mm).astype(np.uint8)
    _count, _labels, stats, centroids = cv2.connectedComponentsWithStats(solid, connectivity=8)
    longest = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]) / px_per_mm
    return stats[1:, cv2.CC_STAT_AREA] / (px_per_mm * px_per_mm), centroids[1:], longest


def _has_pale_star(area: np.ndarray, paper_level: float, px_per_mm: float, pen: np.ndarray,
                   counted: np.ndarray | None) -> bool:
    """Whether the area holds a seal's star at a stamp's level, paler than ``pen`` ink (``GRAY_STAR_*``)."""
    stamp = _ink_mask(area, paper_level, SEAL_INK_DARKNESS_MIN_RATIO)
    if counted is not None:
        stamp &= counted > 0
    count, labels, stats, _centroids = cv2.connectedComponentsWithStats(
        _solid_ink(stamp, px_per_mm).astype(np.uint8), connectivity=8)
    h, w = area.shape
    for label in range(1, count):
        x, y, bw, bh, px_area = stats[label]
        if px_area < GRAY_STAR_MIN_MM2 * px_per_mm * px_per_mm or (y == 0 and y + bh == h) or (x == 0 and x + bw == w):
            continue
        blob = labels[y : y + bh, x : x + bw] == label
        if np.count_nonzero(pen[y : y + bh, x : x + bw] & blob) <= GRAY_STAR_PEN_SHARE_MAX * px_area:
            return True
    return False


def _largest_solid_mm2(ink: np.ndarray, px_per_mm: float) -> float:
    """The area of the largest blob of ``ink`` at least ``SEAL_SOLID_MIN_MM`` thick, in mm²."""
    areas, _centres, _longest = _solid_blobs(ink, px_per_mm)
    return float(areas.max()) if areas.size else 0.0


def _rests_on_a_faint_ring(area: np.ndarray, paper_level: float, px_per_mm: float, counted: np.ndarray | None,
                           kept: np.ndarray) -> bool:
    """``_rests_on_a_ring`` with the ring looked for at a stamp's level; skipped (it costs a few ms a slot)
    when that level adds too little ink away from the pen's strokes to hold a ring's arc."""
    faint = _faint_ink(area, paper_level, px_per_mm, counted)
    grow = 2 * max(1, round(FAINT_RING_AWAY_MM * px_per_mm)) + 1
    away = cv2.bitwise_and(faint, cv2.bitwise_not(cv2.dilate(kept, np.ones((grow, grow), np.uint8))))
    if np.count_nonzero(away) < FAINT_RING_AWAY_MIN_MM2 * px_per_mm * px_per_mm:
        return False
    return _rests_on_a_ring(kept, px_per_mm, faint)


def _faint_ink(area: np.ndarray, paper_level: float, px_per_mm: float, counted: np.ndarray | None) -> np.ndarray:
    """Ink as faint as a light stamp, print and specks removed (and, with ``counted``, found seals' discs)."""
    faint = _remove_printed_lines(_ink_mask(area, paper_level, SEAL_INK_DARKNESS_MIN_RATIO).astype(np.uint8) * 255,
                                  px_per_mm)
    if counted is not None:
        faint = cv2.bitwise_and(faint, counted)
    return (_large(faint > 0, SPECK_MAX_MM2 * px_per_mm * px_per_mm)).astype(np.uint8) * 255


def _rests_on_a_ring(ink: np.ndarray, px_per_mm: float, ring_ink: np.ndarray | None = None,
                     bilevel: bool = False) -> bool:
    """True when the ink is a name only thanks to pieces lying on one seal-sized circle whose centre is
    outside the slot: a seal stamped beside or above the slot (its star among the printed labels,
    where the seal search does not look) dips its ring into the slot, cut into pieces by a copier's
    light lines or joined to a stray stroke, so no single piece is an arc. Without those pieces
    the rest must still be a writer's name.

    ``ring_ink``: where to look for the ring, when not in ``ink`` itself. A light stamp's ring is
    mostly paler than pen ink: at the pen's level only slivers of it are left, too broken to be an arc,
    while with its glyphs and a stray stroke they still make a "name" (stress seed 7119, a phone photo
    at 180 dpi). At a stamp's level the ring is whole.

    ``bilevel``: on a 1-bit page a seal across the slot may show nothing outside it, so the circle's
    centre may lie inside the slot too (stress seed 12557, 289 dpi: the ring's left arc, joined to a
    glyph piece and so no arc by itself, with the ring's right arc, inner line and glyph pieces made
    19 mm of "name"), and an arc found there is enough: what is left is not judged."""
    skeleton = skeletonize((ink if ring_ink is None else ring_ink) > 0)
    ys, xs = np.nonzero(skeleton)
    if xs.size < RING_SET_MIN_MM * px_per_mm:
        return False
    h, w = ink.shape
    pts = np.column_stack([xs, ys]).astype(np.float64)
    rng = np.random.default_rng(RING_SET_SEED)
    triples = pts[rng.integers(0, len(pts), size=(RING_SET_TRIES, 3))]
    a, b, c = triples[:, 0], triples[:, 1], triples[:, 2]
    d = 2 * (a[:, 0] * (b[:, 1] - c[:, 1]) + b[:, 0] * (c[:, 1] - a[:, 1]) + c[:, 0] * (a[:, 1] - b[:, 1]))
    ok = np.abs(d) > 1e-6
    sq = (triples ** 2).sum(axis=2)
    d = np.where(ok, d, 1.0)
    cx = (sq[:, 0] * (b[:, 1] - c[:, 1]) + sq[:, 1] * (c[:, 1] - a[:, 1]) + sq[:, 2] * (a[:, 1] - b[:, 1])) / d
    cy = (sq[:, 0] * (c[:, 0] - b[:, 0]) + sq[:, 1] * (a[:, 0] - c[:, 0]) + sq[:, 2] * (b[:, 0] - a[:, 0])) / d
    r = np.hypot(a[:, 0] - cx, a[:, 1] - cy)
    outside = (cx < 0) | (cx >= w) | (cy < 0) | (cy >= h)
    ok &= (outside | bilevel) & (r >= RING_ARC_RADIUS_MIN_MM * px_per_mm) & (r <= RING_ARC_RADIUS_MAX_MM * px_per_mm)
    if not ok.any():
        return False
    cx, cy, r = cx[ok], cy[ok], r[ok]
    near = np.abs(np.hypot(pts[None, :, 0] - cx[:, None], pts[None, :, 1] - cy[:, None]) - r[:, None]) \
        <= RING_SET_TOLERANCE_MM * px_per_mm
    on: np.ndarray | None = None
    for best in np.argsort(-near.sum(axis=1))[:RING_SET_CANDIDATES]:
        if near[best].sum() < RING_SET_MIN_MM * px_per_mm:
            break
        on = _continuous_arc(pts, near[best], float(cx[best]), float(cy[best]), float(r[best]), px_per_mm, (h, w),
                             RING_SET_BILEVEL_SHARE_MIN if bilevel else RING_SET_SHARE_MIN)
        if on is not None:
            break
    if on is None:
        return False
    if bilevel:
        # A seal reaches the slot, and on a 1-bit page its pieces look like pen: never signed from ink
        # alone (stress seed 27269, a 1-bit copy at 278 dpi: without the arc, a stray stroke cut by light
        # lines and the seal's glyph pieces still made 18 mm of "name").
        return True
    ring = np.zeros(ink.shape, np.uint8)
    ring[ys[on], xs[on]] = 255
    grow = 2 * max(1, round(RING_SET_GROW_MM * px_per_mm)) + 1
    rest = cv2.bitwise_and(ink, cv2.bitwise_not(cv2.dilate(ring, np.ones((grow, grow), np.uint8))))
    _total, writer_mm, writer_w, writer_h = _stroke_lengths(rest, px_per_mm)
    rest_mm2 = float(np.count_nonzero(rest)) / (px_per_mm * px_per_mm)
    return not (rest_mm2 >= SIGNED_INK_MIN_MM2 and writer_mm >= SIGNED_WRITER_STROKE_MIN_MM
                and writer_w >= SIGNED_WRITER_WIDTH_MIN_MM and writer_h >= SIGNED_WRITER_HEIGHT_MIN_MM)


def _continuous_arc(pts: np.ndarray, near: np.ndarray, cx: float, cy: float, r: float,
                    px_per_mm: float, shape: tuple[int, int], share_min: float = RING_SET_SHARE_MIN
                    ) -> np.ndarray | None:
    """The points of a ring's arc among ``pts`` (those ``near`` the circle), or None. The longest run along
    the circle with no gap wider than a copier's light line must be long enough and visibly curved (a
    straight stroke lies on a large circle too, within the tolerance). When the run reaches the edge of
    the area, it is the arc. When the circle holds most of the stroke and leads from the run to the edge
    over little bare paper, all the points near the circle are: the ring's other pieces (beyond a faint
    stretch or a light line) are seal too."""
    index = np.nonzero(near)[0]
    angle = np.arctan2(pts[index, 1] - cy, pts[index, 0] - cx)
    mean = np.arctan2(np.sin(angle).mean(), np.cos(angle).mean())
    along = np.angle(np.exp(1j * (angle - mean))) * r
    order = np.argsort(along)
    gaps = np.diff(along[order]) > RING_SET_GAP_MAX_MM * px_per_mm
    starts = np.concatenate([[0], np.nonzero(gaps)[0] + 1])
    ends = np.concatenate([np.nonzero(gaps)[0] + 1, [len(order)]])
    lengths = along[order][ends - 1] - along[order][starts]
    k = int(np.argmax(lengths))
    if (near.sum() >= share_min * len(pts) and len(lengths) > 1
            and float(np.diff(along[order]).max()) <= RING_SET_CROSSING_GAP_MAX_MM * px_per_mm):
        # Most of the stroke is on the circle, parted only where another stroke crosses the ring (the
        # crossing bends the skeleton off the circle): the parts are one arc (stress seed 23224, gray at
        # 153 dpi: a stray stroke across a seal's lower arc parted it into two runs of 8-10 mm, each
        # too flat at that length to pass for an arc, and the whole read as a 20 mm "name").
        starts, ends = np.array([0]), np.array([len(order)])
        lengths = along[order][ends - 1] - along[order][starts]
        k = 0
    if lengths[k] < RING_SET_SPAN_MIN_MM * px_per_mm:
        return None
    chosen = index[order[starts[k] : ends[k]]]
    run = pts[chosen]
    first, last = run[np.argmin(along[order][starts[k] : ends[k]])], run[np.argmax(along[order][starts[k] : ends[k]])]
    chord = last - first
    sagitta = np.abs(chord[0] * (run[:, 1] - first[1]) - chord[1] * (run[:, 0] - first[0])) / max(float(np.hypot(*chord)), 1.0)
    if float(sagitta.max()) < RING_SET_SAGITTA_MIN_MM * px_per_mm:
        return None
    # A seal beside the slot reaches in across its border: the arc runs in from the slot's edge.
    h, w = shape
    edge = RING_SET_EDGE_MM * px_per_mm
    if any(min(x, y, w - 1 - x, h - 1 - y) <= edge for x, y in (first, last)):
        # The ring goes on along the circle beyond a stroke that crosses it, or a light line wider than the
        # run's gaps: when the circle holds most of the stroke, those pieces are the same seal's. Stress seed
        # 120244 (drum_copy, a gray copy at 202 dpi): a stray stroke across a dashed lower arc, its dashes
        # 2.0-2.1 mm apart along the skeleton; only the run on one side was taken out, and the dashes on the
        # other made a "name" with the stroke (the circle held 69.7% of it). The humps of a name's letters lie
        # on a circle too, with 28% of its stroke (two of the benchmark's names): not chained.
        first_run = last_run = k
        if near.sum() >= RING_SET_CHAIN_SHARE_MIN * len(pts):
            sorted_along = along[order]
            reach = RING_SET_CROSSING_GAP_MAX_MM * px_per_mm
            while first_run > 0 and sorted_along[starts[first_run]] - sorted_along[ends[first_run - 1] - 1] <= reach:
                first_run -= 1
            while last_run < len(lengths) - 1 and sorted_along[starts[last_run + 1]] - sorted_along[ends[last_run] - 1] <= reach:
                last_run += 1
        on = np.zeros(len(pts), bool)
        on[index[order[starts[first_run] : ends[last_run]]]] = True
        return on
    # Or the ring is most of the ink, and only a faint stretch or a light line parts the arc from the
    # edge; then all the points on the circle are the ring's, not only the run. (On 65 names of the
    # stress pages the best such circle held 16-41% of the stroke, on two short names of the benchmark
    # 51% and 55%; on stress seeds 6135 and 6174's empty slots 83% and 97%.)
    if near.sum() >= share_min * len(pts) and _runs_in_from_the_edge(
            along, float(along[order][starts[k]]), float(along[order][ends[k] - 1]), cx, cy, r, mean, px_per_mm, shape):
        return near.copy()
    return None


def _runs_in_from_the_edge(along: np.ndarray, start: float, end: float, cx: float, cy: float, r: float,
                           mean: float, px_per_mm: float, shape: tuple[int, int]) -> bool:
    """Whether, from either end of the run (``start``..``end``, in px along the circle from angle ``mean``),
    the circle leaves the area with at most ``RING_SET_EDGE_GAP_MM`` of it bare of the ring's points
    (``along``: all of them on the circle)."""
    h, w = shape
    step = RING_SET_EDGE_STEP_MM * px_per_mm
    reach = RING_SET_GAP_MAX_MM * px_per_mm / 2
    covered_at = np.sort(along)
    for origin, direction in ((start, -1.0), (end, 1.0)):
        bare = 0.0
        s = origin
        for _ in range(int(np.ceil(np.pi * r / step))):
            s += direction * step
            angle = mean + s / r
            x, y = cx + r * np.cos(angle), cy + r * np.sin(angle)
            if not (0 <= x <= w - 1 and 0 <= y <= h - 1):
                return True
            i = int(np.searchsorted(covered_at, s))
            nearest = min((abs(covered_at[j] - s) for j in (i - 1, i) if 0 <= j < len(covered_at)), default=np.inf)
            if nearest > reach:
                bare += step
                if bare > RING_SET_EDGE_GAP_MM * px_per_mm:
                    break
    return False


def _ring_arcs(ink: np.ndarray, px_per_mm: float) -> np.ndarray | None:
    """The connected pieces of ``ink`` that are arcs of a seal's ring (None when there are none)."""
    count, labels, stats, _centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    min_px = RING_ARC_MIN_MM * px_per_mm
    arcs = np.zeros_like(ink)
    found = False
    for label in range(1, count):
        x, y, w, h, _area = stats[label]
        if max(w, h) < min_px:
            continue
        piece = labels[y : y + h, x : x + w] == label
        ys, xs = np.nonzero(skeletonize(piece))
        if xs.size < min_px:
            continue
        # Algebraic circle fit: x^2 + y^2 + D x + E y + F = 0.
        a = np.column_stack([xs, ys, np.ones_like(xs)]).astype(np.float64)
        b = -(xs.astype(np.float64) ** 2 + ys.astype(np.float64) ** 2)
        (d, e, f), *_ = np.linalg.lstsq(a, b, rcond=None)
        cx, cy = -d / 2, -e / 2
        r2 = cx * cx + cy * cy - f
        if r2 <= 0:
            continue
        r = float(np.sqrt(r2))
        rms = float(np.sqrt(np.mean((np.hypot(xs - cx, ys - cy) - r) ** 2)))
        if (RING_ARC_RADIUS_MIN_MM * px_per_mm <= r <= RING_ARC_RADIUS_MAX_MM * px_per_mm
                and rms <= RING_ARC_RMS_MAX_MM * px_per_mm):
            arcs[y : y + h, x : x + w][piece] = 255
            found = True
    return arcs if found else None


def one_bit_page(gray: np.ndarray, colour: bool, decoded_bilevel: bool) -> bool:
    """Whether a page is read by the 1-bit rules: a gray page whose source was 1-bit, or whose levels say so.
    Stress seed 7033 (a 1-bit scan at 238 dpi, halved on decoding): the levels of the reduced page were
    spread, the 1-bit rule was skipped, and a seal's star and glyphs in an empty slot read as a name."""
    return not colour and (decoded_bilevel or is_bilevel(gray))


def is_bilevel(gray: np.ndarray) -> bool:
    """Whether the page came from a 1-bit scan: its levels are black, white and box averages of them."""
    sample = gray[::3, ::3]
    counts = np.bincount(sample.ravel(), minlength=256)
    mid = counts[1:255]
    mid_total = int(mid.sum())
    if mid_total <= BILEVEL_MID_SHARE_MAX * sample.size:
        return True
    lattice = np.zeros(256, bool)
    for k in range(BILEVEL_LATTICE_STEPS + 1):
        centre = round(k * 255 / BILEVEL_LATTICE_STEPS)
        lattice[max(0, centre - 1) : centre + 2] = True
    return bool(int(mid[lattice[1:255]].sum()) >= BILEVEL_LATTICE_SHARE_MIN * mid_total)


def _light_evened(area: np.ndarray, paper: float, px_per_mm: float, shadow_min_mm: float = 0.0) -> np.ndarray:
    """``area`` with each column whose paper is darker than ``paper`` (see ``COLUMN_PAPER_PERCENTILE``)
    brightened to it; ``area`` itself when no column is. ``shadow_min_mm``: only where the darker columns
    run on this far (a shadow's fall-off, not a roller band)."""
    columns = rows_percentile_u8(np.ascontiguousarray(area.T), COLUMN_PAPER_PERCENTILE)
    width = max(1, round(COLUMN_PAPER_SMOOTH_MM * px_per_mm))
    smooth = cv2.blur(columns.reshape(1, -1), (width, 1), borderType=cv2.BORDER_REPLICATE).ravel()
    darker = smooth < paper * COLUMN_PAPER_DARKER_RATIO
    if shadow_min_mm:
        darker = runs_at_least(darker[None], round(shadow_min_mm * px_per_mm))[0]
        # Beyond the shadow the columns stay as they are.
        smooth = np.where(darker, smooth, np.float32(paper))
    if not darker.any():
        return area
    gain = paper / np.maximum(np.minimum(smooth, paper), 1.0)
    return np.clip(area.astype(np.float32) * gain[None, :], 0, 255).astype(np.uint8)


def _local_paper(image: np.ndarray, paper_level: float) -> float:
    """The paper's level in ``image`` when clearly darker than the page's (uneven light), else the page's."""
    local = percentile_u8(image, LOCAL_PAPER_PERCENTILE)
    if local >= paper_level * LOCAL_PAPER_DARKER_RATIO:
        return paper_level
    return max(local, paper_level * LOCAL_PAPER_FLOOR_RATIO)


def _along_the_edges(ink: np.ndarray, px_per_mm: float) -> np.ndarray:
    """The ink lying along the area's edges: in a band ``EDGE_CAP_BAND_MM`` wide, running in from the edge
    and ``EDGE_CAP_ALONG_MIN_MM`` or more along it (see ``EDGE_CAP_BAND_MM``)."""
    h, w = ink.shape
    band = max(1, round(EDGE_CAP_BAND_MM * px_per_mm))
    along_min = EDGE_CAP_ALONG_MIN_MM * px_per_mm
    out = np.zeros_like(ink)
    # (rows, columns, whether the band runs along the x axis, whether the edge is at the band's start)
    sides = ((slice(0, band), slice(None), True, True), (slice(max(0, h - band), h), slice(None), True, False),
             (slice(None), slice(0, band), False, True), (slice(None), slice(max(0, w - band), w), False, False))
    for rows, columns, horizontal, edge_first in sides:
        part = np.ascontiguousarray(ink[rows, columns])
        _count, labels, stats, _centroids = cv2.connectedComponentsWithStats(part, connectivity=8)
        x, y, width, height = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
        depth_from, extent, along, size = (y, height, width, part.shape[0]) if horizontal else (x, width, height, part.shape[1])
        touches = depth_from == 0 if edge_first else depth_from + extent == size
        keep = touches & (along >= along_min)
        keep[0] = False  # the background
        out[rows, columns][keep[labels]] = 255
    return out


def _reaching_the_top(ink: np.ndarray) -> np.ndarray:
    """The connected pieces of ``ink`` that reach the area's top edge."""
    count, labels = cv2.connectedComponents(ink, connectivity=8)
    top = np.zeros(count, bool)
    top[labels[0]] = True
    top[0] = False
    return np.where(top[labels], np.uint8(255), np.uint8(0))


def _stroke_lengths(ink: np.ndarray, px_per_mm: float) -> tuple[float, float, float, float]:
    """Total length of the ink's strokes (its skeleton); and, of the one writer's group (strokes
    within ``WRITER_GAP_X_MM`` / ``WRITER_GAP_Y_MM`` of each other) with the most of it, that length, width and height; in mm."""
    skeleton = skeletonize(ink > 0)
    total = float(np.count_nonzero(skeleton)) / px_per_mm
    gap_x = 2 * max(1, round(WRITER_GAP_X_MM * px_per_mm / 2)) + 1
    gap_y = 2 * max(1, round(WRITER_GAP_Y_MM * px_per_mm / 2)) + 1
    joined = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (gap_x, gap_y)))
    count, labels = cv2.connectedComponents(joined, connectivity=8)
    per_group = np.bincount(labels[skeleton], minlength=count)
    per_group[0] = 0
    best = int(np.argmax(per_group))
    ys, xs = np.nonzero((labels == best) & (ink > 0))
    if xs.size == 0:
        return total, 0.0, 0.0, 0.0
    return (total, float(per_group[best]) / px_per_mm, float(xs.max() - xs.min() + 1) / px_per_mm,
            float(ys.max() - ys.min() + 1) / px_per_mm)


def read_signatures(
    gray: np.ndarray,
    alignment: Alignment,
    rects: dict[str, Rect],
    paper_level: float,
    colour: bool,
    printed_solids: list[Rect] | None = None,
    bilevel: bool = False,
    redness: np.ndarray | None = None,
) -> dict[str, tuple[SignatureReading, np.ndarray]]:
    """All slots of a page; on a gray scan, seals are searched once over the whole row.

    ``printed_solids`` (corner markers, QR code) are solid print near the
    row that must not be mistaken for a seal's star. ``bilevel``: the page is
    read by the 1-bit rules (``one_bit_page``: the source was a 1-bit image,
    known when it was decoded, or its levels say so; the caller decides once a
    page, as its own 1-bit rules need the same answer). ``redness`` (colour pages, ``ocr.pages.PageImage``): what of a red seal
    the red channel left dark is taken out of the slots by its hue.
    """
    px = min(SAMPLE_PX_PER_MM, max(alignment.px_per_mm, 3.0))
    seals: list[tuple[float, float, float]] = []
    traces: list[tuple[float, float]] = []
    row = Rect(0, 0, 0, 0)
    covered: list[tuple[float, float, float]] = []
    pen_levels_by_seal: list[float | None] = []
    streaks: np.ndarray | None = None
    through_the_row: Callable[[], list[StreakLine]] | None = None
    seal_ink: np.ndarray | None = None
    bare: np.ndarray = np.zeros((0, 0), bool)
    if not colour and rects:
        row = union_rect(list(rects.values()))
        context = crop(gray, alignment, row, px, margin_mm=SEAL_SEARCH_MARGIN_MM)
        paper_level = _local_paper(context, paper_level)
        # A phone's shadow across the row darkened the paper between bright ends: against the page's paper
        # all of it was seal ink, no ring stood out, and a seal's glyphs in an empty slot read as a name (a
        # gray phone photo at 227 dpi). Its columns are brought up to the paper's level, as each slot's are,
        # where they are darker over a width no roller band has: a band evened in part broke into specks
        # taken for seal traces, or for a ring.
        context = _light_evened(context, paper_level, px, ROW_SHADOW_MIN_MM)
        valid = np.ones(context.shape, dtype=bool)
        # Above the slots lie their labels and the form's table: print enough
        # to fake any ring. A seal is judged on what it shows below that line.
        valid[: int(SEAL_SEARCH_MARGIN_MM * px)] = False

        def context_px(rect: Rect, grow_mm: float = 0.0) -> tuple[slice, slice]:
            x0 = int((rect.x_mm - grow_mm - row.x_mm + SEAL_SEARCH_MARGIN_MM) * px)
            y0 = int((rect.y_mm - grow_mm - row.y_mm + SEAL_SEARCH_MARGIN_MM) * px)
            x1 = x0 + int(np.ceil((rect.w_mm + 2 * grow_mm) * px))
            y1 = y0 + int(np.ceil((rect.h_mm + 2 * grow_mm) * px))
            return slice(max(0, y0), max(0, y1)), slice(max(0, x0), max(0, x1))

        # All but the printed solids: where a streak down the page is looked for, the labels and slots too.
        unprinted = np.ones(context.shape, dtype=bool)
        for solid in printed_solids or []:
            context[context_px(solid)] = 255
            valid[context_px(solid)] = False
            unprinted[context_px(solid)] = False
        for rect in rects.values():
            outer = context_px(rect, SLOT_BORDER_BAND_MM)
            inner = context_px(rect, -SLOT_BORDER_BAND_MM)
            keep = valid[inner].copy()
            valid[outer] = False
            valid[inner] = keep
        seal_ink = _seal_ink(context, paper_level)
        seals = find_seals(context, paper_level, px, valid, seal_ink)
        # The paper around the slots: neither print nor (mostly) pen, so what ink is there is a seal's.
        bare = valid.copy()
        for rect in rects.values():
            bare[context_px(rect, SLOT_BORDER_BAND_MM)] = False
        streaks = _drum_streaks(seal_ink, bare, px)
        through_the_row = cache(partial(_streaks_through_the_row, seal_ink, unprinted, px))
        traces = _seal_traces(seal_ink, px, bare, streaks)
        # The ring found may be the seal's inner line of text, or off-centre:
        # all a seal could cover is set aside, not just the circle found.
        covered = [(cx, cy, max(r, SEAL_RADIUS_MAX_MM * px)) for cx, cy, r in seals]
        if covered:
            pen_levels_by_seal = _pen_levels(context, paper_level, px, valid, bare, seal_ink, covered)
    # A trace inside a found seal's disc is that seal's, and already accounted for.
    traces = [(x, y) for x, y in traces
              if not any(np.hypot(x - cx, y - cy) <= r + SEAL_RING_PAD_MM * px for cx, cy, r in covered)]
    # A seal stamped over the labels above the slots is out of the seal search's sight (the labels' print
    # can fake a ring there); on a 1-bit page it shows there only as its star: a solid blob among thin
    # print (stress seeds 74132 and 77611: its glyphs and ring pieces in the slot, with a stray stroke, read
    # as a name). A slot such a seal can reach is never signed from its ink alone. On gray pages too since
    # 2026-12-04: a gray copy's seal centred 12 mm above an empty slot dipped its ring and glyphs 5 mm into
    # it, a stray stroke crossed them, and with a roller band down the ring no seal was found (stress seed
    # 70572, partial seal, read signed). A heavy digit in a comb box on a 1-bit copy looks the same (one
    # name of the benchmark's pages to review).
    stars = _stars_among_labels(context, paper_level, px) if rects and not colour else []
    out: dict[str, tuple[SignatureReading, np.ndarray]] = {}
    for key, rect in rects.items():
        area = crop(gray, alignment, rect, px, inset_mm=SIGNATURE_INSET_MM)
        # Seal circles from row-context px to this area's px.
        dx = (rect.x_mm + SIGNATURE_INSET_MM - (row.x_mm - SEAL_SEARCH_MARGIN_MM)) * px
        dy = (rect.y_mm + SIGNATURE_INSET_MM - (row.y_mm - SEAL_SEARCH_MARGIN_MM)) * px
        h, w = area.shape
        touching = [i for i, (cx, cy, r) in enumerate(covered)
                    if _distance_to_rect(cx - dx, cy - dy, w, h) <= r + SEAL_RING_PAD_MM * px]
        local = [(covered[i][0] - dx, covered[i][1] - dy, covered[i][2]) for i in touching]
        levels = [pen_levels_by_seal[i] for i in touching]
        near = [(x, y) for x, y in traces if _distance_to_rect(x - dx, y - dy, w, h) <= SEAL_TRACE_REACH_MM * px]
        near += [(x, y) for x, y in stars
                 if _distance_to_rect(x - dx, y - dy, w, h) <= (SEAL_RADIUS_MAX_MM + SEAL_RING_PAD_MM) * px]
        slot_paper = _local_paper(area, paper_level)
        if not bilevel:
            area = _light_evened(area, slot_paper, px)
        if redness is not None:
            red = crop(redness, alignment, rect, px, inset_mm=SIGNATURE_INSET_MM, border_value=0)
            depth = np.maximum(slot_paper - area.astype(np.float32), 1.0)
            seal_hue = (red >= SEAL_REDNESS_MIN_LEVEL) & (red >= SEAL_REDNESS_PER_DEPTH_MIN * depth)
            area = np.where(seal_hue, np.maximum(area, np.uint8(slot_paper)), area)
        reading = measure_area(area, slot_paper, px, local, seal_trace=bool(near), pen_levels=levels, bilevel=bilevel)
        if reading.state == "signed" and not colour:
            reading = _unless_banded(reading, area, slot_paper, px, local, levels, bilevel)
        if reading.state == "signed" and seal_ink is not None:
            # Each of a copier's streaks that may cross the slot, found one way or another; a name is read
            # again without all of them found so far, while it is still a name (each mask made only then).
            cleared = np.zeros((h, w), bool)
            for streak_mask in _slot_streak_masks(seal_ink, bare, streaks, dx, dy, w, h, px, through_the_row):
                if reading.state != "signed":
                    break
                cleared = cleared | streak_mask
                reading = _unless_streaked(reading, area, cleared, slot_paper, px, local, levels, bilevel)
        out[key] = (reading, area)
    return out


def _slot_streak_masks(seal_ink: np.ndarray, bare: np.ndarray, streaks: np.ndarray | None, dx: float, dy: float,
                       w: int, h: int, px_per_mm: float,
                       through_the_row: Callable[[], list[StreakLine]] | None = None) -> Iterator[np.ndarray]:
    """The masks (``h`` x ``w``, the slot read at ``dx``, ``dy`` in the row's context) of the streaks that cross
    it: the lines of specks on the bare paper (``streaks``), the runs below the slot and beside it, a line
    of specks in the slot itself, and the pieces along a streak down the page or along the row
    (``through_the_row``, looked for once a page, and only for a slot speckled like one). Made lazily, as
    the caller stops at the first that undoes a name."""
    y0, x0 = round(dy), round(dx)
    if streaks is not None:
        yield _slot_part(streaks, x0, y0, w, h)
    columns = _dense_streak_below(seal_ink, bare, x0, w,
                                  round(dy + h + (SIGNATURE_INSET_MM + SLOT_BORDER_BAND_MM) * px_per_mm), px_per_mm)
    if columns is not None:
        yield np.broadcast_to(columns, (h, w))
    rows = _dense_streak_beside(seal_ink, bare, y0, h, px_per_mm)
    if rows is not None:
        yield np.broadcast_to(rows[:, None], (h, w))
    inside = _streak_inside(seal_ink, x0, y0, w, h, px_per_mm)
    if inside is not None:
        yield inside
    slot_ink = _slot_part(seal_ink, x0, y0, w, h)
    lines = through_the_row() if through_the_row is not None and _dotted(slot_ink, px_per_mm) else []
    narrow = [line for line in lines if line.width_mm <= DRUM_STREAK_WIDTH_MM]
    in_band = _streak_band(narrow, x0, y0, w, h, px_per_mm)
    if in_band.any():
        grow = 2 * round(THROUGH_STREAK_PIECE_REACH_MM * px_per_mm) + 1
        near_band = cv2.dilate(in_band.astype(np.uint8), np.ones((grow, grow), np.uint8)).astype(bool)
        yield _pieces_within(slot_ink, near_band, px_per_mm)
    # A wide streak's dots merge into chains longer than any blot (142824: most of its ink in the slot lay
    # in pieces over 5 mm long): the name is read again without the whole band.
    wide_band = _streak_band([line for line in lines if line.width_mm > DRUM_STREAK_WIDTH_MM], x0, y0, w, h,
                             px_per_mm)
    if wide_band.any():
        yield wide_band


def _dense_streak_below(ink: np.ndarray, bare: np.ndarray, x0: int, width: int, y_from: int,
                        px_per_mm: float) -> np.ndarray | None:
    """The columns of a slot (``width`` px from ``x0`` in the row's context) down which ink runs on over the
    bare paper below it (``DENSE_STREAK_*``), grown a little; None if none. Such a run is a streak that may
    go on through the slot, however dense; a name there is read again without it, and nothing else is."""
    x_from, x_to = max(0, x0), min(ink.shape[1], x0 + width)
    if x_to <= x_from or y_from >= ink.shape[0]:
        return None
    run = _dense_run(ink[max(0, y_from):, x_from:x_to], bare[max(0, y_from):, x_from:x_to], 0, px_per_mm)
    if run is None:
        return None
    columns = np.zeros(width, bool)
    columns[x_from - x0 : x_to - x0] = run
    return columns


def _dense_streak_beside(ink: np.ndarray, bare: np.ndarray, y0: int, height: int,
                         px_per_mm: float) -> np.ndarray | None:
    """The rows of a slot (``height`` px from ``y0`` in the row's context) along which ink runs on over the
    bare paper of the whole row beside the slots (the margins and the gaps between slots), as
    ``_dense_streak_below`` finds columns; None if none. Stress seed 120141 (drum_copy, a gray copy at
    187 dpi): a streak 6 mm wide along the row, too wide for the streak rule's band, its dots merged into
    19 pieces in the empty 村党组织负责人 slot, with a stray stroke made 47 mm of "name"."""
    y_from, y_to = max(0, y0), min(ink.shape[0], y0 + height)
    if y_to <= y_from:
        return None
    run = _dense_run(ink[y_from:y_to], bare[y_from:y_to], 1, px_per_mm)
    if run is None:
        return None
    # A solid roller band along the row is the band rules' (its line is taken out of the slot as print); a
    # name touching it was read again without the band's rows grown, and lost its top (the benchmark's
    # copier pages: 4 names to review). Only a run with no solid row in it is a streak of dots.
    on_bare = np.ascontiguousarray(ink[y_from:y_to] & bare[y_from:y_to]).view(np.uint8)
    unbroken = cv2.morphologyEx(on_bare, cv2.MORPH_OPEN,
                                np.ones((1, max(3, round(DENSE_STREAK_SOLID_RUN_MM * px_per_mm))), np.uint8))
    solid = _count_along(unbroken.view(bool), 1) > 0
    _count, labels = cv2.connectedComponents(run.astype(np.uint8)[:, None], connectivity=4)
    banded = np.unique(labels[solid, 0])
    run &= ~np.isin(labels[:, 0], banded[banded > 0])
    if not run.any():
        return None
    rows = np.zeros(height, bool)
    rows[y_from - y0 : y_to - y0] = run
    return rows


def _slot_part(ink: np.ndarray, x0: int, y0: int, width: int, height: int) -> np.ndarray:
    """The ``width`` x ``height`` px of ``ink`` from ``x0``, ``y0``, blank where that runs off it."""
    part = np.zeros((height, width), bool)
    y_from, x_from = max(0, y0), max(0, x0)
    got = ink[y_from : y0 + height, x_from : x0 + width]
    part[y_from - y0 : y_from - y0 + got.shape[0], x_from - x0 : x_from - x0 + got.shape[1]] = got
    return part


def _dotted(ink: np.ndarray, px_per_mm: float) -> bool:
    """Whether ``ink`` holds as many pieces the size of a drum's specks as a streak leaves (the streaks down
    the page are looked for only then: it takes a few milliseconds a page)."""
    return len(_specks(ink, ink, px_per_mm)) >= DRUM_STREAK_SPECKS_MIN


def _pieces_within(ink: np.ndarray, band: np.ndarray, px_per_mm: float) -> np.ndarray:
    """The connected pieces of ``ink`` that lie mostly (``THROUGH_STREAK_PIECE_SHARE_MIN``) in ``band`` and
    are no longer than a streak's blots (``THROUGH_STREAK_PIECE_MAX_MM``), grown by a pixel: a streak's dots,
    not a pen's stroke that crosses the band or runs along it."""
    count, labels, stats, _centroids = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    total = stats[:, cv2.CC_STAT_AREA]
    inside = np.bincount(labels[band], minlength=count)
    longest = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    mostly = (inside >= THROUGH_STREAK_PIECE_SHARE_MIN * np.maximum(total, 1)) & (
        longest < THROUGH_STREAK_PIECE_MAX_MM * px_per_mm)
    mostly[0] = False
    return np.asarray(cv2.dilate(mostly[labels].astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool))


def _streak_inside(ink: np.ndarray, x0: int, y0: int, width: int, height: int,
                   px_per_mm: float) -> np.ndarray | None:
    """A drum streak's line of specks across the slot itself (``width`` x ``height`` px from ``x0``, ``y0`` in
    the row's context), found as on the bare paper (``_drum_streaks``) with the whole slot looked at; None if
    none. Stress seed 128461 (drum_copy, a gray copy at 288 dpi): a thin streak along the row, too sparse
    in the margins for either run, and in the empty 督查组成员 slot its dots with a stray stroke made 37 mm
    of "name". A name is read again without it, and nothing else is."""
    part = _slot_part(ink, x0, y0, width, height)
    return _drum_streaks(part, np.ones(part.shape, bool), px_per_mm)


def _dense_run(ink: np.ndarray, bare: np.ndarray, axis: int, px_per_mm: float) -> np.ndarray | None:
    """For each line across ``axis`` (columns for 0, rows for 1), whether ink lies within
    ``DENSE_STREAK_REACH_MM`` of it on ``DENSE_STREAK_ROWS_MIN_SHARE`` of its bare paper, over at least
    ``DENSE_STREAK_MIN_MM`` of it, grown by ``DENSE_STREAK_GROW_MM``; None if no line is."""
    bare_px = _count_along(bare, axis)
    if bare_px.max(initial=0) < DENSE_STREAK_MIN_MM * px_per_mm:
        return None
    reach = max(1, round(DENSE_STREAK_REACH_MM * px_per_mm))
    kernel = np.ones((1, 2 * reach + 1) if axis == 0 else (2 * reach + 1, 1), np.uint8)
    near = cv2.dilate(np.ascontiguousarray(ink).view(np.uint8), kernel)
    inked_px = _count_along(near.view(bool) & bare, axis)
    run = (bare_px >= DENSE_STREAK_MIN_MM * px_per_mm) & (inked_px >= DENSE_STREAK_ROWS_MIN_SHARE * bare_px)
    if not run.any():
        return None
    grow = max(1, round(DENSE_STREAK_GROW_MM * px_per_mm))
    return np.asarray(np.convolve(run.astype(float), np.ones(2 * grow + 1), mode="same") > 0)


def _unless_banded(
    reading: SignatureReading, area: np.ndarray, paper_level: float, px_per_mm: float,
    seals: list[tuple[float, float, float]], pen_levels: list[float | None], bilevel: bool,
) -> SignatureReading:
    """``reading`` (signed), or uncertain when the name leans on a roller band's ink (SLOT_BAND_*)."""
    light = area.astype(np.float32)
    columns = np.percentile(light, SLOT_BAND_LIGHT_PERCENTILE, axis=0)
    rows = np.percentile(light, SLOT_BAND_LIGHT_PERCENTILE, axis=1)
    column_excess = np.maximum(paper_level - columns, 0.0)
    row_excess = np.maximum(paper_level - rows, 0.0)
    trigger = SLOT_BAND_EXCESS_MIN_SHARE_OF_INK * INK_DARKNESS_MIN_RATIO * paper_level
    if max(float(column_excess.max()), float(row_excess.max())) < trigger:
        return reading
    evened = np.clip(light + column_excess[None, :] + row_excess[:, None], 0, 255).astype(np.uint8)
    return _signed_again(reading, evened, paper_level, px_per_mm, seals, pen_levels, bilevel, SLOT_BAND_REASON)


def _signed_again(
    reading: SignatureReading, cleaned: np.ndarray, paper_level: float, px_per_mm: float,
    seals: list[tuple[float, float, float]], pen_levels: list[float | None], bilevel: bool, reason: str,
) -> SignatureReading:
    """``reading`` (signed) when the slot, ``cleaned`` of a copier's fault, still reads signed; else
    uncertain for ``reason``. It can only turn "signed" into "uncertain", never decide a slot."""
    again = measure_area(cleaned, paper_level, px_per_mm, seals, pen_levels=pen_levels, bilevel=bilevel)
    if again.state == "signed":
        return reading
    return replace(reading, state="uncertain", confidence=0.0, reason=reason)


def _unless_streaked(
    reading: SignatureReading, area: np.ndarray, on_streak: np.ndarray, paper_level: float, px_per_mm: float,
    seals: list[tuple[float, float, float]], pen_levels: list[float | None], bilevel: bool,
) -> SignatureReading:
    """``reading`` (signed), or uncertain when the name leans on a dirty drum's streak (``on_streak``: the
    streak's rows and columns in ``area``). Stress seed 116691 (drum_copy, a gray copy at 201 dpi): a streak
    along the empty 第一书记 slot, its dots merged into 19 pieces, with a short stray stroke made 26 mm of
    "name". A name under a streak is not read without it."""
    if not on_streak.any():
        return reading
    cleaned = np.where(on_streak, np.uint8(min(255, round(paper_level))), area)
    return _signed_again(reading, cleaned, paper_level, px_per_mm, seals, pen_levels, bilevel, SLOT_STREAK_REASON)


def _pen_levels(
    context: np.ndarray, paper_level: float, px_per_mm: float, valid: np.ndarray, bare: np.ndarray,
    inked: np.ndarray, seals: list[tuple[float, float, float]],
) -> list[float | None]:
    """For each seal, the darkness above which ink under it is pen: its own darkest ink, plus a margin.

    Measured on the bare paper of its disc, where neither print nor a signature
    lies, so it is seal ink alone, and on its star, wherever that lies. None when
    too little of the seal shows to judge. ``valid`` is print-free, ``bare`` also
    outside the slots; ``inked`` is the seal-level ink of ``context``.
    """
    darkness = darkness_of(context, paper_level)
    solid = _solid_ink(inked, px_per_mm).astype(np.uint8)
    solids, _ = cv2.findContours(solid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    solids = [c for c in solids if cv2.contourArea(c) >= SEAL_STAR_MIN_MM2 * px_per_mm**2]
    pad = SEAL_RING_PAD_MM * px_per_mm
    levels: list[float | None] = []
    for cx, cy, r in seals:
        disc = np.zeros(context.shape, np.uint8)
        cv2.circle(disc, (round(cx), round(cy)), int(r + pad), 1, thickness=-1)
        seal_ink = darkness[_large((disc > 0) & bare & inked, SEAL_PIECE_MIN_MM2 * px_per_mm**2)]
        if seal_ink.size < SEAL_LEVEL_MIN_PX_MM2 * px_per_mm * px_per_mm:
            levels.append(None)
            continue
        level = float(np.percentile(seal_ink, SEAL_LEVEL_PERCENTILE))
        # Only the solid at the seal's centre is its star: a heavy scribble elsewhere is solid too.
        reach = SEAL_STAR_FROM_CENTRE_MAX_MM * px_per_mm
        stars = [c for c in solids if cv2.pointPolygonTest(c, (float(cx), float(cy)), True) >= -reach]
        star_mask = np.zeros(context.shape, np.uint8)
        cv2.drawContours(star_mask, stars, -1, 1, thickness=-1)
        star = darkness[valid & (star_mask > 0) & (solid > 0)]
        if star.size:
            level = max(level, float(np.percentile(star, SEAL_STAR_LEVEL_PERCENTILE)))
        levels.append(level + PEN_OVER_SEAL_DARKNESS_MARGIN)
    return levels


def _large(mask: np.ndarray, min_px: float) -> np.ndarray:
    """The connected parts of ``mask`` of at least ``min_px`` pixels."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    keep = np.zeros(mask.shape, np.uint8)
    big = [c for c in contours if cv2.contourArea(c) >= min_px]
    if big:
        cv2.drawContours(keep, big, -1, 1, thickness=-1)
    return (keep > 0) & mask


def _solid_ink(inked: np.ndarray, px_per_mm: float, grow_mm: float = 0.0) -> np.ndarray:
    """Ink at least ``SEAL_SOLID_MIN_MM`` thick (a seal's star), grown by ``grow_mm``."""
    side = max(3, round(SEAL_SOLID_MIN_MM * px_per_mm))
    solid = cv2.morphologyEx(inked.astype(np.uint8), cv2.MORPH_OPEN,
                             cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    if grow_mm > 0:
        grow = 2 * round(grow_mm * px_per_mm) + 1
        solid = cv2.dilate(solid, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    return solid > 0


def _stars_among_labels(context: np.ndarray, paper_level: float, px_per_mm: float) -> list[tuple[float, float]]:
    """Centres (``context`` px) of solid blobs of a seal's star in the band above the slots, where the seal
    search does not look; the corner markers and QR code are already painted out of ``context``."""
    band = context[: int(SEAL_SEARCH_MARGIN_MM * px_per_mm)]
    areas, centres, longest = _solid_blobs(_ink_mask(band, paper_level, INK_DARKNESS_MIN_RATIO), px_per_mm)
    return [(float(x), float(y)) for (x, y), area, side in zip(centres, areas, longest)
            if area >= BILEVEL_STAR_MIN_MM2 and side <= LABEL_STAR_MAX_MM]


def _distance_to_rect(x: float, y: float, w: float, h: float) -> float:
    return float(np.hypot(x - min(max(x, 0.0), w), y - min(max(y, 0.0), h)))


def _seal_traces(seal_ink: np.ndarray, px_per_mm: float, bare: np.ndarray,
                 streaks: np.ndarray | None = None) -> list[tuple[float, float]]:
    """Centres of ink blobs on the bare paper around the slots (print-free and outside every slot).
    ``streaks``: a dirty drum's streaks (``_drum_streaks``), where blobs are no seal's."""
    # Masked before lines are removed, as the trace size was tuned: removing lines from the
    # unmasked ink first would change which line pieces count as traces.
    on_bare = seal_ink & bare
    ink = _remove_printed_lines(on_bare.astype(np.uint8) * 255, px_per_mm)
    bands = _roller_bands(on_bare, bare, px_per_mm)
    if streaks is not None:
        bands = streaks if bands is None else bands | streaks
    contours, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    min_px = SEAL_TRACE_MIN_MM2 * px_per_mm * px_per_mm
    speck_px = SEAL_TRACE_SPECK_MAX_MM2 * px_per_mm * px_per_mm
    out = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        inked = cv2.countNonZero(ink[y : y + h, x : x + w])
        if inked < min_px:
            continue
        if max(w, h) < SEAL_TRACE_SPECK_MAX_MM * px_per_mm and inked < speck_px:
            continue
        if bands is not None and bands[y : y + h, x : x + w].any():
            continue
        out.append((x + w / 2.0, y + h / 2.0))
    return out


def _specks(ink: np.ndarray, bare: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Centres (x, y in mm) of the pieces of ``ink`` on ``bare`` paper small enough to be a drum's specks."""
    _count, _labels, stats, centroids = cv2.connectedComponentsWithStats((ink & bare).astype(np.uint8),
                                                                         connectivity=8)
    small = stats[1:, cv2.CC_STAT_AREA] < DRUM_STREAK_SPECK_MAX_MM2 * px_per_mm * px_per_mm
    return np.asarray(centroids[1:][small] / px_per_mm)


def _drum_streaks(ink: np.ndarray, bare: np.ndarray, px_per_mm: float) -> np.ndarray | None:
    """Rows and columns of a dirty drum's streaks of specks (``DRUM_STREAK_*``) in ``ink`` on ``bare``
    paper; None if none."""
    specks = _specks(ink, bare, px_per_mm)
    if len(specks) < DRUM_STREAK_SPECKS_MIN:
        return None
    h, w = ink.shape
    seen = cv2.integral(bare.astype(np.uint8))
    # The integral image of the transposed paper is the transposed integral image.
    rows = _streak_lines(specks[:, 1], specks[:, 0], seen, px_per_mm)
    cols = _streak_lines(specks[:, 0], specks[:, 1], seen.T, px_per_mm)
    if not rows and not cols:
        return None
    half = DRUM_STREAK_WIDTH_MM / 2 * px_per_mm
    row_mask, col_mask = np.zeros(h, bool), np.zeros(w, bool)
    for line, mask in [(r, row_mask) for r in rows] + [(c, col_mask) for c in cols]:
        mask[max(0, int(line * px_per_mm - half)) : int(np.ceil(line * px_per_mm + half)) + 1] = True
    return row_mask[:, None] | col_mask[None, :]


class StreakLine(NamedTuple):
    """A drum streak through the row's context: across = ``slope`` * along + ``offset_mm`` (mm), ``reach_mm``
    either side; down the page (across is x, along is y) or, ``along_row``, along the row (across is y)."""

    slope: float
    offset_mm: float
    reach_mm: float
    along_row: bool = False
    # The band it was found in: wider than the streak rule's own (DRUM_STREAK_WIDTH_MM), its dots merge.
    width_mm: float = DRUM_STREAK_WIDTH_MM


def _streaks_through_the_row(ink: np.ndarray, looked: np.ndarray, px_per_mm: float) -> list[StreakLine]:
    """The drum streaks that run down the row's context or along it (``DRUM_STREAK_*``), each as the line
    fitted through its specks and as wide as they scatter about it. The paper looked at is all of it, the
    slots and the labels above them too, except near print and pen (every piece of ``ink`` larger than a
    speck) and what ``looked`` leaves out (the printed solids). A streak runs along the paper's travel, not
    the form's: on a copy made askew it slants across the form, and its dots scatter as widely as it is
    wide (``THROUGH_STREAK_WIDTHS_MM``)."""
    _count, labels, stats, centroids = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < DRUM_STREAK_SPECK_MAX_MM2 * px_per_mm * px_per_mm
    small[0] = False
    if np.count_nonzero(small) < DRUM_STREAK_SPECKS_MIN:
        return []
    large = ~small
    large[0] = False
    reach = max(1, round(LABEL_PAPER_CLEAR_MM * px_per_mm))
    near = cv2.dilate(large[labels].view(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    paper = (near == 0) & looked
    at = np.rint(centroids).astype(int)
    on_paper = paper[np.clip(at[:, 1], 0, ink.shape[0] - 1), np.clip(at[:, 0], 0, ink.shape[1] - 1)]
    specks = centroids[small & on_paper] / px_per_mm
    if len(specks) < DRUM_STREAK_SPECKS_MIN:
        return []
    seen = cv2.integral(paper.astype(np.uint8))
    lines: list[StreakLine] = []
    for along_row in (False, True):
        across, along = (specks[:, 1], specks[:, 0]) if along_row else (specks[:, 0], specks[:, 1])
        for width_mm in THROUGH_STREAK_WIDTHS_MM if along_row else THROUGH_STREAK_WIDTHS_MM[:1]:
            found = _fitted_streaks(across, along, seen if along_row else seen.T, px_per_mm, width_mm, along_row)
            if found:
                lines += found
                break
    return lines


def _fitted_streaks(across: np.ndarray, along: np.ndarray, seen: np.ndarray, px_per_mm: float, width_mm: float,
                    along_row: bool) -> list[StreakLine]:
    """The streaks ``_streak_lines`` finds in bands ``width_mm`` wide, each fitted as a line through its specks."""
    centres = _streak_lines(across, along, seen, px_per_mm, width_mm)
    half = width_mm / 2
    lines = []
    # Neighbouring centres (0.5 mm apart) are one streak seen from a little to either side.
    for group in np.split(np.asarray(centres), np.nonzero(np.diff(centres) > 2 * DRUM_STREAK_STEP_MM)[0] + 1):
        if not group.size:
            continue
        mine = (across >= float(group[0]) - half) & (across <= float(group[-1]) + half)
        slope, offset = (float(v) for v in np.polyfit(along[mine], across[mine], 1))
        if abs(slope) > THROUGH_STREAK_SLOPE_MAX:
            slope, offset = 0.0, float(np.median(across[mine]))
        # A wide streak's scatter is measured out to twice the band's half-width: the band found cuts its
        # fringe off (142824: 2.5 mm within the band, 3.4 mm out to twice it).
        residual = across - (slope * along + offset)
        spread = float(np.std(residual[mine] if width_mm <= DRUM_STREAK_WIDTH_MM
                              else residual[np.abs(residual) <= width_mm]))
        lines.append(StreakLine(slope, offset, max(half, THROUGH_STREAK_SPREAD_SIGMAS * spread), along_row,
                                width_mm))
    return lines


def _streak_band(lines: list[StreakLine], x0: int, y0: int, width: int, height: int, px_per_mm: float) -> np.ndarray:
    """The pixels of a slot (``width`` x ``height`` px from ``x0``, ``y0`` in the row's context) within reach of
    the ``lines``."""
    ys = (y0 + np.arange(height))[:, None] / px_per_mm
    xs = (x0 + np.arange(width))[None, :] / px_per_mm
    band = np.zeros((height, width), bool)
    for line in lines:
        across, along = (ys, xs) if line.along_row else (xs, ys)
        band |= np.abs(across - (line.slope * along + line.offset_mm)) <= line.reach_mm
    return band


def _streak_lines(across: np.ndarray, along: np.ndarray, seen: np.ndarray, px_per_mm: float,
                  width_mm: float = DRUM_STREAK_WIDTH_MM) -> list[float]:
    """Positions (mm, across) of the lines of specks that are drum streaks in bands ``width_mm`` wide, specks
    given by their ``across`` and ``along`` coordinates in mm; ``seen``: the integral image of the bare paper,
    rows across and columns along."""
    half = width_mm / 2
    across_px, along_px = seen.shape[0] - 1, seen.shape[1] - 1
    centres = np.arange(0.0, across_px / px_per_mm + 1e-6, DRUM_STREAK_STEP_MM)
    offset = across[None, :] - centres[:, None]
    inside = np.abs(offset) <= half
    # Each stretch of the band that is mostly bare paper holds specks, over a run of such stretches
    # (the slots and the labels it crosses neither break nor make the run): dust that happens to lie
    # along one line over a wide row leaves most stretches empty; a name cut into pieces by a copier's
    # light lines stays in its slot.
    stretch = DRUM_STREAK_STRETCH_MM
    bins = int(np.ceil(along_px / px_per_mm / stretch))
    held = np.zeros((len(centres), bins), bool)
    rows, cols = np.nonzero(inside)
    held[rows, np.clip((along[cols] / stretch).astype(int), 0, bins - 1)] = True
    y0 = np.clip(np.rint((centres - half) * px_per_mm).astype(int), 0, across_px)[:, None]
    y1 = np.clip(np.rint((centres + half) * px_per_mm).astype(int), 0, across_px)[:, None]
    x0 = np.clip(np.rint(np.arange(bins) * stretch * px_per_mm).astype(int), 0, along_px)[None, :]
    x1 = np.clip(np.rint((np.arange(bins) + 1) * stretch * px_per_mm).astype(int), 0, along_px)[None, :]
    looked_at = seen[y1, x1] - seen[y0, x1] - seen[y1, x0] + seen[y0, x0] >= 0.5 * np.maximum((y1 - y0) * (x1 - x0), 1)
    run = np.zeros(len(centres), int)
    first = np.full(len(centres), -1)
    long_run = np.zeros(len(centres), bool)
    for j in range(bins):
        broken = looked_at[:, j] & ~held[:, j]
        filled = looked_at[:, j] & held[:, j]
        run = np.where(broken, 0, run + filled)
        first = np.where(broken, -1, np.where(filled & (first < 0), j, first))
        reach = np.where(filled & (first >= 0), (j - first + 1) * stretch, 0.0)
        long_run |= (run * stretch >= DRUM_STREAK_SPAN_MIN_MM) | (
            (run * stretch >= DRUM_STREAK_FAR_SPECKLED_MIN_MM) & (reach >= DRUM_STREAK_FAR_REACH_MIN_MM))
    n_in = inside.sum(axis=1)
    beside_near, beside_far = half + DRUM_STREAK_BESIDE_GAP_MM, 3 * half + DRUM_STREAK_BESIDE_GAP_MM
    above = ((offset > beside_near) & (offset <= beside_far)).sum(axis=1)
    below = ((offset < -beside_near) & (offset >= -beside_far)).sum(axis=1)
    streak = long_run & (n_in >= DRUM_STREAK_SPECKS_MIN) \
        & (np.maximum(above, below) <= DRUM_STREAK_BESIDE_SHARE_MAX * n_in)
    return [float(c) for c in centres[streak]]


def _count_along(mask: np.ndarray, axis: int) -> np.ndarray:
    """``mask.sum(axis=axis)`` of a 2-D boolean mask, by OpenCV: ten times faster than NumPy's on bools."""
    return cv2.reduce(np.ascontiguousarray(mask).view(np.uint8), axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()


def _roller_bands(ink: np.ndarray, bare: np.ndarray, px_per_mm: float) -> np.ndarray | None:
    """Rows and columns that a gray band crosses (most of their bare paper inked, or speckled all along
    it), grown a little; None if none."""
    reach = max(1, round(ROLLER_BAND_SPECKLE_REACH_MM * px_per_mm))
    near = cv2.dilate(ink.view(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).view(bool) & bare

    def banded(axis: int) -> np.ndarray:
        bare_px = _count_along(bare, axis)
        solid = (bare_px >= 10 * px_per_mm) & (_count_along(ink, axis) >= ROLLER_BAND_SHARE_MIN * np.maximum(bare_px, 1))
        speckled = (bare_px >= ROLLER_BAND_RUN_MIN_MM * px_per_mm) \
            & (_count_along(near, axis) >= ROLLER_BAND_RUN_MIN_SHARE * np.maximum(bare_px, 1))
        return np.asarray(solid | speckled)

    rows, cols = banded(1), banded(0)
    if not rows.any() and not cols.any():
        return None
    grow = max(1, round(ROLLER_BAND_GROW_MM * px_per_mm))
    kernel = np.ones(2 * grow + 1)
    rows = np.convolve(rows.astype(float), kernel, mode="same") > 0
    cols = np.convolve(cols.astype(float), kernel, mode="same") > 0
    return rows[:, None] | cols[None, :]


def _star_has_ring(
    inked: np.ndarray, free: np.ndarray, score: np.ndarray, radius: np.ndarray, sx: int, sy: int, px_per_mm: float
) -> bool:
    """Whether the best ring centred near a solid blob runs round it, if faintly."""
    reach = max(1, round(SEAL_STAR_OFFSET_MM * px_per_mm))
    y0, x0 = max(0, sy - reach), max(0, sx - reach)
    window = score[y0 : sy + reach + 1, x0 : sx + reach + 1]
    wy, wx = np.unravel_index(int(np.argmax(window)), window.shape)
    cy, cx = y0 + int(wy), x0 + int(wx)
    return _ring_runs_round(inked, free, cx, cy, float(radius[cy, cx]), SEAL_RING_BAND_MM * px_per_mm, px_per_mm,
                            SEAL_STAR_SECTORS_INKED_MIN_RATIO)

